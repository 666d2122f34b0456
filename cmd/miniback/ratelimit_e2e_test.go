package main_test

import (
	"context"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/httpapi/apitest"
	"github.com/miniback/miniback/adapters/metrics/metricstest"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/adapters/ratelimit/redistest"
)

// TestRateLimitsSharedThroughRedisAgainstTheBuiltBinary starts two
// replicas of the built binary on one database and one Redis (with a
// password): together they let exactly the budget through, each answering
// 429 past it; with Redis killed both go on serving (fail open) and say
// so in their logs, which never hold the Redis password. Their metrics
// count both.
func TestRateLimitsSharedThroughRedisAgainstTheBuiltBinary(t *testing.T) {
	pgtest.SkipIfShort(t, "builds and starts the binary twice")
	srv := redistest.Start(t)
	const password = "s3cret-redis-pw"
	if err := redistest.Client(t, srv.URL).ConfigSet(context.Background(), "requirepass", password).Err(); err != nil {
		t.Fatal(err)
	}
	redisURL := "redis://:" + password + "@" + srv.Addr + "/0"
	bin := buildBinary(t)
	db := pgtest.NewURL(t)
	var replicas []*apitest.Client
	var logs []*syncBuffer
	var cmds []*exec.Cmd
	var metricsURLs []string
	for range 2 {
		addr, metricsAddr := freeAddr(t), freeAddr(t)
		metricsURLs = append(metricsURLs, "http://"+metricsAddr+"/metrics")
		cmd := exec.Command(bin)
		cmd.Env = append(cleanEnv(),
			"MINIBACK_ADDR="+addr,
			"MINIBACK_METRICS_ADDR="+metricsAddr,
			"MINIBACK_DATA_DIR="+filepath.Join(t.TempDir(), "data"),
			"DATABASE_URL="+db,
			"MINIBACK_REDIS_URL="+redisURL,
			"MINIBACK_RATE_LIMITS=auth:ip=4/m",
		)
		logs = append(logs, startAndWait(t, cmd, "miniback is ready"))
		cmds = append(cmds, cmd)
		replicas = append(replicas, apitest.NewRemote(t, "http://"+addr))
	}
	for i, l := range logs {
		if !strings.Contains(l.String(), "rate limits: shared by every replica through Redis") {
			t.Errorf("replica %d does not announce the shared limits:\n%s", i+1, l)
		}
	}
	login := map[string]string{"code": "dev-dora"}
	var statuses []int
	for i := range 8 {
		statuses = append(statuses, replicas[i%2].JSON("POST", "/v1/auth/wechat", login).Status)
	}
	ok, limited := 0, map[int]bool{}
	for i, s := range statuses {
		switch s {
		case http.StatusOK:
			ok++
		case http.StatusTooManyRequests:
			limited[i%2] = true
		default:
			t.Errorf("login %d: status %d", i+1, s)
		}
	}
	if ok != 4 || !limited[0] || !limited[1] {
		t.Errorf("8 logins through 2 replicas against auth:ip=4/m: %v, want 4 admitted and both replicas answering 429", statuses)
	}

	srv.Stop()
	for i, c := range replicas {
		if res := c.JSON("POST", "/v1/auth/wechat", login); res.Status != http.StatusOK {
			t.Errorf("replica %d with Redis down: want 200 (fail open)\n%s", i+1, res)
		}
	}
	for i, u := range metricsURLs {
		s := metricstest.ScrapeURL(t, u)
		if got := s.Value("miniback_ratelimit_rejections_total", "group", "auth"); got < 1 {
			t.Errorf("replica %d counted %v rejections in group auth, want at least 1", i+1, got)
		}
		// Each budget check let through unchecked counts: the login's address
		// budget and its mini-program's (auth:app, on by default).
		if got := s.Value("miniback_ratelimit_fail_open_total", "group", "auth"); got != 2 {
			t.Errorf("replica %d counted %v budget checks failed open in group auth, want 2 (one login: ip and app)", i+1, got)
		}
	}
	for i, cmd := range cmds {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := waitExit(cmd, 20*time.Second); err != nil {
			t.Errorf("replica %d exit: %v", i+1, err)
		}
		if !strings.Contains(logs[i].String(), "the shared backend (Redis) failed") {
			t.Errorf("replica %d did not log the Redis failure:\n%s", i+1, logs[i])
		}
		if strings.Contains(logs[i].String(), password) {
			t.Errorf("replica %d logged the Redis password", i+1)
		}
	}
}
