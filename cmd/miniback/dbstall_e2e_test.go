package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/adapters/httpapi/apitest"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
)

// frozenCluster freezes and thaws the PostgreSQL server of a data
// directory for real: SIGSTOP to the postmaster and every backend, so
// sockets stay open, the kernel still accepts connections, and nothing
// answers.
type frozenCluster struct {
	pids []int
}

// freezeCluster stops the server of dataDir and its children, the
// postmaster first so that it forks no new backend meanwhile. It thaws
// them when the test ends, whatever happens.
func freezeCluster(t *testing.T, dataDir string) *frozenCluster {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	postmaster, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		t.Fatal(err)
	}
	f := &frozenCluster{pids: []int{postmaster}}
	t.Cleanup(f.thaw)
	if err := syscall.Kill(postmaster, syscall.SIGSTOP); err != nil {
		t.Fatalf("SIGSTOP postmaster %d: %v", postmaster, err)
	}
	for _, pid := range childrenOf(t, postmaster) {
		if err := syscall.Kill(pid, syscall.SIGSTOP); err == nil {
			f.pids = append(f.pids, pid)
		}
	}
	return f
}

// thaw continues the backends, then the postmaster.
func (f *frozenCluster) thaw() {
	for i := len(f.pids) - 1; i >= 0; i-- {
		_ = syscall.Kill(f.pids[i], syscall.SIGCONT)
	}
	f.pids = nil
}

// childrenOf lists the processes whose parent is pid, from /proc.
func childrenOf(t *testing.T, pid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}

// timedAnswer is one request's answer during the stall.
type timedAnswer struct {
	what        string
	status      int
	contentType string
	code        string
	retryAfter  string
	took        time.Duration
	err         error
}

func (a timedAnswer) String() string {
	return fmt.Sprintf("%s: %d %s %s after %s (%v)", a.what, a.status, a.contentType, a.code, a.took.Round(time.Millisecond), a.err)
}

// timedRequest sends a request and times its answer.
func timedRequest(what, method, url, token, body string) timedAnswer {
	start := time.Now()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return timedAnswer{what: what, err: err}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		return timedAnswer{what: what, took: time.Since(start), err: err}
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var p struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(b, &p)
	return timedAnswer{what: what, status: res.StatusCode, contentType: res.Header.Get("Content-Type"), code: p.Code,
		retryAfter: res.Header.Get("Retry-After"), took: time.Since(start)}
}

// TestADatabaseStallAnswers503WithinTheDeadlineAgainstTheBuiltBinary is
// issue 13's frozen database, for real: the embedded PostgreSQL server,
// every process of it stopped with SIGSTOP, under miniback on its
// default time bounds. Requests that need the database answer 503
// problem+json with Retry-After after MINIBACK_DB_TIMEOUT (5s), never
// hang; /readyz goes not-ready within 2 s and ready again once the server
// is continued; the API then serves as before, and stops cleanly.
func TestADatabaseStallAnswers503WithinTheDeadlineAgainstTheBuiltBinary(t *testing.T) {
	pgtest.SkipIfShort(t, "builds the binary and freezes a PostgreSQL server")
	if runtime.GOOS != "linux" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI must run on Linux: the stall test finds the server's processes in /proc")
		}
		t.Skip("finds the server's processes in /proc")
	}
	const dbTimeout = 5 * time.Second // the default
	bin := buildBinary(t)
	addr := freeAddr(t)
	data := filepath.Join(t.TempDir(), "data")
	cmd := exec.Command(bin)
	cmd.Env = append(cleanEnv(), "MINIBACK_ADDR="+addr, "MINIBACK_DATA_DIR="+data)
	logs := startAndWait(t, cmd, "miniback is ready")
	base := "http://" + addr

	c := apitest.NewRemote(t, base)
	login := c.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-stall"})
	if login.Status != http.StatusOK {
		t.Fatalf("login: %s", login)
	}
	var lr api.LoginResponse
	login.Decode(&lr)
	auth := "Authorization: Bearer " + lr.AccessToken
	if r := c.JSON("POST", "/v1/todos", map[string]string{"title": "before the stall"}, auth); r.Status != http.StatusCreated {
		t.Fatalf("create before the stall: %s", r)
	}
	if r := c.Get("/readyz"); r.Status != http.StatusOK {
		t.Fatalf("ready before the stall: %s", r)
	}

	cluster := freezeCluster(t, filepath.Join(data, "pgdata"))
	stalled := time.Now()

	// Readiness, polled as a load balancer does, every 100 ms.
	notReady := make(chan time.Duration, 1)
	go func() {
		for time.Since(stalled) < 30*time.Second {
			if s, _ := status(addr, "/readyz"); s == http.StatusServiceUnavailable {
				notReady <- time.Since(stalled)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		close(notReady)
	}()
	var wg sync.WaitGroup
	answers := make([]timedAnswer, 4)
	for i, req := range []struct{ what, method, path, body string }{
		{"list tasks", "GET", "/v1/todos", ""},
		{"create a task", "POST", "/v1/todos", `{"title":"during the stall"}`},
		{"read the profile", "GET", "/v1/me", ""},
		{"list sessions", "GET", "/v1/auth/sessions", ""},
	} {
		wg.Go(func() { answers[i] = timedRequest(req.what, req.method, base+req.path, lr.AccessToken, req.body) })
	}
	wg.Wait()
	for _, a := range answers {
		t.Logf("stalled database: %s", a)
		if a.err != nil || a.status != http.StatusServiceUnavailable || a.contentType != "application/problem+json" ||
			a.code != "unavailable" || a.retryAfter == "" {
			t.Errorf("%s; want a 503 unavailable problem with Retry-After", a)
		}
		if a.took > dbTimeout+2*time.Second {
			t.Errorf("%s: answered after %s, past MINIBACK_DB_TIMEOUT (%s)", a.what, a.took, dbTimeout)
		}
	}
	flip, ok := <-notReady
	if !ok || flip > 2*time.Second {
		t.Errorf("/readyz not-ready %s after the stall (answered: %t); want within 2s", flip, ok)
	}

	cluster.thaw()
	back := waitFor(t, 30*time.Second, "/readyz ready after the server continued", func() bool {
		s, _ := status(addr, "/readyz")
		return s == http.StatusOK
	})
	if r := c.Get("/v1/todos", auth); r.Status != http.StatusOK {
		t.Errorf("after the stall: %s", r)
	}
	t.Logf("database stall: requests 503 after %s-%s (MINIBACK_DB_TIMEOUT %s); /readyz 503 %s after the stall, 200 again %s after it ended",
		minTook(answers).Round(time.Millisecond), maxTook(answers).Round(time.Millisecond), dbTimeout,
		flip.Round(time.Millisecond), back.Round(time.Millisecond))

	_ = cmd.Process.Signal(syscall.SIGTERM)
	if code := exitCode(t, cmd, 30*time.Second, logs); code != 0 {
		t.Fatalf("exit code %d after the stall\n%s", code, logs.String())
	}
}

func minTook(as []timedAnswer) time.Duration {
	m := as[0].took
	for _, a := range as {
		m = min(m, a.took)
	}
	return m
}

func maxTook(as []timedAnswer) time.Duration {
	m := as[0].took
	for _, a := range as {
		m = max(m, a.took)
	}
	return m
}
