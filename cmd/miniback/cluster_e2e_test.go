package main_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/httpapi/apitest"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/adapters/ratelimit/redistest"
	"github.com/miniback/miniback/adapters/wechat/wechatsim"
)

// cluster is miniback deployed as the README's "Scale-out" section
// describes: several replicas of the built binary on one database, one
// signing key, one cursor secret, one WeChat (the simulator standing in
// for api.weixin.qq.com) and one Redis for the rate-limit budgets, behind
// HAProxy.
type cluster struct {
	replicas []*replica
	lb       *haproxy
	sim      *wechatsim.Server
}

// replica is one miniback process of the cluster.
type replica struct {
	owner  testing.TB // the test the cluster lives for
	name   string     // its server name in HAProxy (and in X-Served-By)
	addr   string
	bin    string
	env    []string
	cmd    *exec.Cmd
	logs   *syncBuffer
	direct *apitest.Client // talks to this replica alone, not through the load balancer
}

// clusterConfig holds what a test varies between replicas or runs.
type clusterConfig struct {
	replicas int
	// env is added to every replica's environment.
	env []string
	// envOf, when set, adds variables to replica i's environment.
	envOf func(i int) []string
}

// Scale-out settings every replica of the tests gets.
const (
	// revocationPoll is MINIBACK_REVOCATION_POLL, the documented bound on
	// how long another replica accepts a revoked session's tokens.
	revocationPoll = time.Second
	// shutdownDrain is MINIBACK_SHUTDOWN_DRAIN: how long a SIGTERMed
	// replica keeps its listener open with /readyz answering 503. It must
	// exceed the time HAProxy takes to see that (checkInter +
	// (checkFall-1)×checkFastInter, 750 ms, plus a check's own duration).
	shutdownDrain = 2 * time.Second
	// slowLogin is how long WeChat takes to answer the code err-slow: a
	// login that is still in flight when a replica is stopped. It
	// outlasts the drain, so the request is still running when the
	// listener closes.
	slowLogin = shutdownDrain + time.Second
)

// startCluster starts the simulator, the replicas and HAProxy, and
// returns once HAProxy reports every replica up. Everything is stopped
// when the test ends.
func startCluster(t *testing.T, cfg clusterConfig) *cluster {
	t.Helper()
	requireTool(t, "haproxy", "apt-get install haproxy")
	bin := buildBinary(t)
	db := pgtest.NewURL(t)

	// One WeChat for every replica: a code works once, wherever it is
	// sent, and a user's openid is the same on each.
	sim, err := wechatsim.Start("127.0.0.1:0", wechatsim.Config{SlowDelay: slowLogin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })

	// One Redis for every replica's rate-limit budgets: a private
	// redis-server (the budgets' keys have a fixed prefix).
	redis := redistest.Start(t)

	c := &cluster{sim: sim}
	lbAddr := freeAddr(t)
	shared := append([]string{
		"DATABASE_URL=" + db,
		"MINIBACK_REDIS_URL=" + redis.URL,
		"MINIBACK_WECHAT_APPS=" + wechatsim.DefaultAppID + ":" + wechatsim.DefaultSecret,
		"MINIBACK_WECHAT_BASE_URL=" + sim.URL(),
		"MINIBACK_JWT_PRIVATE_KEYS=" + signingKeyPEM(t),
		"MINIBACK_CURSOR_SECRET=" + randomSecret(t),
		"MINIBACK_PUBLIC_URL=http://" + lbAddr,
		"MINIBACK_TRUSTED_PROXIES=127.0.0.1",
		"MINIBACK_REVOCATION_POLL=" + revocationPoll.String(),
		"MINIBACK_SHUTDOWN_DRAIN=" + shutdownDrain.String(),
		"MINIBACK_SHUTDOWN_TIMEOUT=10s",
	}, cfg.env...)

	var servers []haproxyServer
	for i := range cfg.replicas {
		r := &replica{owner: t, name: fmt.Sprintf("r%d", i+1), addr: freeAddr(t), bin: bin}
		r.env = append(append(cleanEnv(), shared...),
			"MINIBACK_ADDR="+r.addr,
			"MINIBACK_METRICS_ADDR="+freeAddr(t),
			"MINIBACK_DATA_DIR="+filepath.Join(t.TempDir(), "data"),
		)
		if cfg.envOf != nil {
			r.env = append(r.env, cfg.envOf(i)...)
		}
		r.start(t)
		r.direct = apitest.NewRemote(t, "http://"+r.addr)
		c.replicas = append(c.replicas, r)
		servers = append(servers, haproxyServer{Name: r.name, Addr: r.addr})
	}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, r := range c.replicas {
			t.Logf("replica %s's log (last 30 lines):\n%s", r.name, tail(r.logs.String(), 30))
		}
	})
	c.lb = startHAProxy(t, lbAddr, servers)
	return c
}

// start starts the replica's process (again, after it stopped) and waits
// until it is ready. The process lives until the cluster's test ends, not
// just the step t that starts it.
func (r *replica) start(t *testing.T) {
	t.Helper()
	r.cmd = exec.Command(r.bin)
	r.cmd.Env = r.env
	r.logs = startAndWaitUntil(t, r.owner, r.cmd, "miniback is ready")
}

// signingKeyPEM is a fresh Ed25519 key, as openssl genpkey writes it: the
// one key every replica signs and verifies access tokens with.
func signingKeyPEM(t *testing.T) string {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// randomSecret is 32 random bytes in base64, as openssl rand -base64 32.
func randomSecret(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// replica returns the replica HAProxy calls name.
func (c *cluster) replica(t *testing.T, name string) *replica {
	t.Helper()
	for _, r := range c.replicas {
		if r.name == name {
			return r
		}
	}
	t.Fatalf("no replica %q", name)
	return nil
}

// names lists the replicas' names.
func (c *cluster) names() []string {
	out := make([]string, len(c.replicas))
	for i, r := range c.replicas {
		out[i] = r.name
	}
	return out
}

// exitStatus describes how a process ended, for messages.
func exitStatus(err error) string {
	if err == nil {
		return "exit 0"
	}
	return strings.TrimSpace(err.Error())
}
