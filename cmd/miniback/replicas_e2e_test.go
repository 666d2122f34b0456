package main_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/adapters/httpapi/apitest"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
)

// loadWorkers is how many clients the steady load runs: each has one
// request in flight at a time, so at most this many can fail when a
// replica crashes.
const loadWorkers = 4

// revocationReadSlack is what the bound on revocation adds to the poll
// interval: one read of the revocation feed, which on a loaded CI machine
// with three replicas and HAProxy on two cores takes up to a few hundred
// milliseconds.
const revocationReadSlack = 500 * time.Millisecond

// TestThreeReplicasBehindHAProxy deploys three replicas of the built
// binary behind Debian's HAProxy, on one database, one signing key, one
// WeChat and one Redis, and checks what scaling out must not break. The
// steps share the cluster and run in order: a rolling update's (SIGTERM,
// start again) and a crash's stop a replica each.
func TestThreeReplicasBehindHAProxy(t *testing.T) {
	pgtest.SkipIfShort(t, "builds the binary and starts three replicas and HAProxy")
	c := startCluster(t, clusterConfig{
		replicas: 3,
		env:      []string{"MINIBACK_RATE_LIMITS=" + clusterRateLimits},
		// The third replica reads the revocation feed only every
		// MINIBACK_REVOCATION_POLL, as behind a transaction-mode pooler
		// where LISTEN does not work: the bound the README documents is
		// measured where it is the only thing that holds.
		envOf: func(i int) []string {
			if i == 2 {
				return []string{"MINIBACK_REVOCATION_LISTEN=false"}
			}
			return nil
		},
	})
	lb := apitest.NewRemote(t, c.lb.URL)

	t.Run("a login through the load balancer works on every replica", func(t *testing.T) {
		login := lb.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-replica-alice"})
		if login.Status != http.StatusOK {
			t.Fatalf("login through the load balancer: %s", login)
		}
		var lr api.LoginResponse
		login.Decode(&lr)
		for _, r := range c.replicas {
			res := r.direct.Get("/v1/me", "Authorization: Bearer "+lr.AccessToken)
			if res.Status != http.StatusOK {
				t.Errorf("replica %s refuses the token of a login %s answered: %s", r.name, login.Header.Get("X-Served-By"), res)
				continue
			}
			var me api.User
			res.Decode(&me)
			if me.Id != lr.User.Id {
				t.Errorf("replica %s says the token is user %s, want %s", r.name, me.Id, lr.User.Id)
			}
		}
		// Round robin sends the refresh to another replica: the session
		// is in the database, not in the replica that started it.
		refresh := lb.JSON("POST", "/v1/auth/refresh", map[string]string{"refresh_token": lr.RefreshToken})
		if refresh.Status != http.StatusOK {
			t.Fatalf("refresh through the load balancer: %s", refresh)
		}
		if a, b := login.Header.Get("X-Served-By"), refresh.Header.Get("X-Served-By"); a == b || a == "" {
			t.Errorf("the login and the refresh were both answered by %q; round robin should have moved on", a)
		}
		var pair api.TokenResponse
		refresh.Decode(&pair)
		for _, r := range c.replicas {
			if res := r.direct.Get("/v1/me", "Authorization: Bearer "+pair.AccessToken); res.Status != http.StatusOK {
				t.Errorf("replica %s refuses the refreshed token: %s", r.name, res)
			}
		}
		// The used refresh token is spent everywhere: shown again to any
		// replica, it ends the session (RFC 9700).
		reuse := c.replicas[len(c.replicas)-1].direct.JSON("POST", "/v1/auth/refresh", map[string]string{"refresh_token": lr.RefreshToken})
		if reuse.Status != http.StatusUnauthorized || reuse.Problem().Code != "refresh_token_reused" {
			t.Errorf("the rotated refresh token shown to another replica: %s", reuse)
		}
	})

	t.Run("a logout is refused on every replica within the revocation bound", func(t *testing.T) {
		login := lb.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-replica-bob"})
		if login.Status != http.StatusOK {
			t.Fatalf("login: %s", login)
		}
		var lr api.LoginResponse
		login.Decode(&lr)
		auth := "Authorization: Bearer " + lr.AccessToken
		// Each replica has verified (and cached) the token before the
		// logout, so a refusal comes from the revocation, not from a
		// first look at the token.
		for _, r := range c.replicas {
			if res := r.direct.Get("/v1/me", auth); res.Status != http.StatusOK {
				t.Fatalf("replica %s before the logout: %s", r.name, res)
			}
		}
		logout := lb.JSON("POST", "/v1/auth/logout", nil, auth)
		if logout.Status != http.StatusNoContent {
			t.Fatalf("logout through the load balancer: %s", logout)
		}
		loggedOut := time.Now()
		bound := revocationPoll + revocationReadSlack
		took := refusedAfter(c, lr.AccessToken, loggedOut, bound+5*time.Second)
		for _, r := range c.replicas {
			d, ok := took[r.name]
			switch {
			case !ok:
				t.Errorf("replica %s still accepts the logged-out token %s after the logout", r.name, bound+5*time.Second)
			case d > bound:
				t.Errorf("replica %s refused the logged-out token after %s, past the bound of %s (poll %s + one feed read)", r.name, d, bound, revocationPoll)
			}
			res := r.direct.Get("/v1/me", auth)
			if res.Status != http.StatusUnauthorized || res.Problem().Code != "session_revoked" {
				t.Errorf("replica %s after the logout: %s", r.name, res)
			}
		}
		t.Logf("logout answered by %s; the token was refused after: %v (bound %s; r3 polls only)",
			logout.Header.Get("X-Served-By"), took, bound)
		if res := c.replicas[1].direct.JSON("POST", "/v1/auth/refresh", map[string]string{"refresh_token": lr.RefreshToken}); res.Status != http.StatusUnauthorized {
			t.Errorf("refresh of the logged-out session on another replica: %s", res)
		}
	})

	for _, r := range c.replicas {
		if !strings.Contains(r.logs.String(), "rate limits: shared by every replica through Redis") {
			t.Errorf("replica %s does not announce budgets shared through Redis:\n%s", r.name, tail(r.logs.String(), 30))
		}
	}
	t.Run("one user's budget is shared by the replicas", func(t *testing.T) {
		testSharedUserBudget(t, c, lb)
	})
	t.Run("each client address has its own budget, shared by the replicas behind the proxy", func(t *testing.T) {
		testAddressBudgetThroughTheProxy(t, c)
	})

	// The steady load's user, logged in once for both crash steps.
	login := lb.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-replica-load"})
	if login.Status != http.StatusOK {
		t.Fatalf("login: %s", login)
	}
	var loadUser api.LoginResponse
	login.Decode(&loadUser)

	t.Run("a replica SIGTERMed under load is drained with zero failed requests", func(t *testing.T) {
		victim := c.replica(t, "r3")
		l := startLoad(c.lb.URL, loadUser.AccessToken, loadWorkers)
		waitServed(t, l, time.Now(), 50, c.names()...)
		// A login waiting on (slow) WeChat on the victim when SIGTERM
		// comes: it must get its answer.
		slow := slowLoginOn(t, c, victim.name)
		closed := watchListener(victim.addr)
		before := c.lb.counters(t)
		sigterm := time.Now()
		if err := victim.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		c.lb.waitStates(t, shutdownDrain+5*time.Second, "DOWN", victim.name)
		outAfter := time.Since(sigterm)
		exitErr := waitExit(victim.cmd, slowLogin+20*time.Second)
		exitedAfter := time.Since(sigterm)
		closedAfter := closed().Sub(sigterm)
		// The load goes on a while on the other two.
		waitServed(t, l, time.Now(), 50, "r1", "r2")
		rep := l.Stop()
		inFlight := <-slow
		lbSaw := c.lb.countersSince(t, before)

		t.Logf("drain: %s; HAProxy: %+v", rep.summary(), lbSaw)
		t.Logf("drain: after SIGTERM, HAProxy took %s out at %s, its listener closed at %s, it exited (%s) at %s; its last answer to the load came at %s; the login in flight on it: %s",
			victim.name, outAfter.Round(time.Millisecond), closedAfter.Round(time.Millisecond), exitStatus(exitErr),
			exitedAfter.Round(time.Millisecond), rep.lastAnswerFrom(victim.name).Sub(sigterm).Round(time.Millisecond), inFlight)
		if exitErr != nil {
			t.Errorf("the SIGTERMed replica ended with %s, want exit 0", exitStatus(exitErr))
		}
		if outAfter >= closedAfter {
			t.Errorf("HAProxy took the replica out %s after SIGTERM, when its listener had already closed (%s): "+
				"its /readyz did not say it was stopping while the listener stayed open (MINIBACK_SHUTDOWN_DRAIN=%s)",
				outAfter.Round(time.Millisecond), closedAfter.Round(time.Millisecond), shutdownDrain)
		}
		if inFlight.err != nil || inFlight.status != http.StatusOK || inFlight.servedBy != victim.name {
			t.Errorf("the login in flight on %s at SIGTERM: %s, want its 200 from %s", victim.name, inFlight, victim.name)
		}
		for _, f := range rep.cuts() {
			t.Errorf("cut during the drain: %s", f)
		}
		for name, n := range lbSaw {
			if n.Eresp != 0 || n.Status != 0 || n.Econ != 0 || n.Redisp != 0 {
				t.Errorf("HAProxy counted failed or resent requests on %s during the drain: %+v", name, n)
			}
		}
	})

	t.Run("a replica started again rejoins under load with nothing cut", func(t *testing.T) {
		back := c.replica(t, "r3")
		l := startLoad(c.lb.URL, loadUser.AccessToken, loadWorkers)
		waitServed(t, l, time.Now(), 50, "r1", "r2")
		before := c.lb.counters(t)
		started := time.Now()
		back.start(t)
		ready := time.Since(started)
		c.lb.waitStates(t, 10*time.Second, "UP", back.name)
		inAfter := time.Since(started)
		waitServed(t, l, time.Now(), 50, c.names()...)
		rep := l.Stop()
		lbSaw := c.lb.countersSince(t, before)

		t.Logf("rejoin: %s; %s was ready %s after its start, and HAProxy put it back %s after its start; HAProxy: %+v",
			rep.summary(), back.name, ready.Round(time.Millisecond), inAfter.Round(time.Millisecond), lbSaw)
		for _, f := range rep.cuts() {
			t.Errorf("cut while the replica rejoined: %s", f)
		}
		for name, n := range lbSaw {
			if n.Eresp != 0 || n.Status != 0 || n.Econ != 0 || n.Redisp != 0 {
				t.Errorf("HAProxy counted failed or resent requests on %s while the replica rejoined: %+v", name, n)
			}
		}
	})

	t.Run("a replica killed -9 under load fails only the requests in flight on it", func(t *testing.T) {
		victim := c.replica(t, "r2")
		l := startLoad(c.lb.URL, loadUser.AccessToken, loadWorkers)
		waitServed(t, l, time.Now(), 50, "r1", "r2")
		// A login surely in flight on the victim: it must fail, and
		// HAProxy must not send it to another replica (the one it went
		// to may have acted on it).
		slow := slowLoginOn(t, c, victim.name)
		calls := c.sim.Simulator().CallsFor("err-slow")
		before := c.lb.counters(t)
		killed := time.Now()
		if err := victim.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = victim.cmd.Wait()
		// From here on the process and its sockets are gone: a request
		// sent later was never in flight on it.
		dead := time.Now()
		c.lb.waitStates(t, 10*time.Second, "DOWN", victim.name)
		outAfter := time.Since(dead)
		waitServed(t, l, time.Now(), 50, "r1")
		rep := l.Stop()
		inFlight := <-slow
		lbSaw := c.lb.countersSince(t, before)

		cuts, failures := rep.cuts(), rep.failures()
		t.Logf("kill -9: %s; HAProxy: %+v", rep.summary(), lbSaw)
		t.Logf("kill -9: %d requests in flight on %s when it was killed (HAProxy's count just before), the slow login among them: %s; "+
			"it was gone %s after SIGKILL; HAProxy took it out %s after that, sending %d requests that met its closed port to another replica",
			before[victim.name].InFlight, victim.name, inFlight, dead.Sub(killed).Round(time.Millisecond),
			outAfter.Round(time.Millisecond), lbSaw[victim.name].Redisp)
		if inFlight.err == nil && inFlight.status == http.StatusOK {
			t.Errorf("the login in flight on the killed replica succeeded (%s): it was resent to another replica", inFlight)
		}
		if n := c.sim.Simulator().CallsFor("err-slow"); n != calls {
			t.Errorf("WeChat saw the login in flight on the killed replica %d more times: HAProxy resent a POST", n-calls)
		}
		// A request is cut when it was on the replica, or on its way
		// there, while it died (HAProxy closes the client's connection
		// or answers 502); Go's client sends a cut GET once more, which
		// may meet the dying replica again. None sent after its death may
		// be cut, and each worker has one request at a time: at most
		// loadWorkers fail.
		for _, f := range cuts {
			t.Logf("kill -9: cut: %s", f)
			if !f.start.Before(dead) {
				t.Errorf("a request sent after the replica was gone was cut (HAProxy should have sent it to another): %s", f)
			}
		}
		if len(failures) > loadWorkers {
			t.Errorf("%d requests of the load failed, more than could be in flight (%d workers, one request each)", len(failures), loadWorkers)
		}
		for name, n := range lbSaw {
			if name != victim.name && (n.Eresp != 0 || n.Status != 0) {
				t.Errorf("HAProxy counted failed requests on %s, which stayed up: %+v", name, n)
			}
		}
	})
}

// pinnedAnswer is the answer to a request sent through the load balancer
// to one replica.
type pinnedAnswer struct {
	status   int
	servedBy string
	err      error
}

func (a pinnedAnswer) String() string {
	if a.err != nil {
		return a.err.Error()
	}
	return fmt.Sprintf("%d from %q", a.status, a.servedBy)
}

// slowLoginOn sends a login whose WeChat call is slow (err-slow) through
// the load balancer to the named replica, and returns once that replica
// is waiting on WeChat for it; the answer comes on the channel.
func slowLoginOn(t *testing.T, c *cluster, name string) <-chan pinnedAnswer {
	t.Helper()
	before := c.sim.Simulator().CallsFor("err-slow")
	answer := make(chan pinnedAnswer, 1)
	go func() {
		req, err := http.NewRequest(http.MethodPost, c.lb.URL+"/v1/auth/wechat", strings.NewReader(`{"code":"err-slow"}`))
		if err != nil {
			answer <- pinnedAnswer{err: err}
			return
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Test-Replica", name)
		res, err := (&http.Client{Timeout: slowLogin + 10*time.Second}).Do(req)
		if err != nil {
			answer <- pinnedAnswer{err: err}
			return
		}
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
		answer <- pinnedAnswer{status: res.StatusCode, servedBy: res.Header.Get("X-Served-By")}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for c.sim.Simulator().CallsFor("err-slow") == before {
		if time.Now().After(deadline) {
			t.Fatalf("the slow login sent to %s did not reach WeChat within 10s", name)
		}
		time.Sleep(5 * time.Millisecond) // polling the simulator, not waiting for time to pass
	}
	return answer
}

// watchListener dials addr until a connection is refused; the function it
// returns waits for that and says when.
func watchListener(addr string) func() time.Time {
	done := make(chan time.Time, 1)
	go func() {
		for {
			conn, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				done <- time.Now()
				return
			}
			_ = conn.Close()
			time.Sleep(10 * time.Millisecond) // polling another process's listener
		}
	}()
	return func() time.Time { return <-done }
}

// refusedAfter sends GET /v1/me with the token to every replica over and
// over until each refuses it as revoked, and returns how long after
// loggedOut each did; a replica missing from the answer still accepted it
// when timeout ran out.
func refusedAfter(c *cluster, accessToken string, loggedOut time.Time, timeout time.Duration) map[string]time.Duration {
	var mu sync.Mutex
	took := map[string]time.Duration{}
	var wg sync.WaitGroup
	for _, r := range c.replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 5 * time.Second}
			for time.Since(loggedOut) < timeout {
				if revoked(client, "http://"+r.addr+"/v1/me", accessToken) {
					mu.Lock()
					took[r.name] = time.Since(loggedOut).Round(time.Millisecond)
					mu.Unlock()
					return
				}
				time.Sleep(5 * time.Millisecond) // polling another process, not waiting for time to pass
			}
		}()
	}
	wg.Wait()
	return took
}

// revoked reports whether url refuses the token as a revoked session.
func revoked(client *http.Client, url, accessToken string) bool {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	res, err := client.Do(req)
	if err != nil {
		return false
	}
	defer res.Body.Close()
	var p struct {
		Code string `json:"code"`
	}
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode == http.StatusUnauthorized && json.Unmarshal(body, &p) == nil && p.Code == "session_revoked"
}

// waitServed waits until each named replica has answered at least n of
// the load's requests sent since since.
func waitServed(t *testing.T, l *steadyLoad, since time.Time, n int, names ...string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		served := l.servedSince(since)
		done := true
		for _, name := range names {
			if served[name] < n {
				done = false
			}
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			rep := l.Stop()
			t.Fatalf("the load did not reach %d answers from each of %v within 15s: %v; %s", n, names, served, rep.summary())
		}
		time.Sleep(10 * time.Millisecond) // polling the load's record, not waiting for time to pass
	}
}
