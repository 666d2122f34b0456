package wechat_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/wechat"
	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/domain"
)

// front serves the simulator behind faults of the network: the next
// drops[path] requests to a path reach the simulator (which counts and
// acts on them) and then lose their answer (the connection is closed
// without a reply), as when WeChat acted and the reply was cut off.
type front struct {
	sim   *wechatsim.Simulator
	mu    sync.Mutex
	drops map[string]int
}

func (f *front) dropNext(path string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drops[path] += n
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	drop := f.drops[r.URL.Path] > 0
	if drop {
		f.drops[r.URL.Path]--
	}
	f.mu.Unlock()
	if !drop {
		f.sim.ServeHTTP(w, r)
		return
	}
	f.sim.ServeHTTP(httptest.NewRecorder(), r)
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

// rig is a simulator for appA and appB behind a front, and the address of
// a port that refuses connections.
type rig struct {
	sim     *wechatsim.Simulator
	front   *front
	url     string
	refused string // host:port nothing listens on
}

func newRig(t *testing.T) *rig {
	t.Helper()
	sim := wechatsim.New(wechatsim.Config{
		Apps:      map[string]string{string(appA): secretA, string(appB): secretB},
		SlowDelay: time.Minute, // err-slow outlasts any client timeout here
	})
	f := &front{sim: sim, drops: make(map[string]int)}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	_ = ln.Close()
	return &rig{sim: sim, front: f, url: srv.URL, refused: refused}
}

// guardName is the client's name of a simulator's API: its breaker's,
// the log's and the metrics' (code2Session is "code2session" there).
func guardName(simAPI string) string {
	if simAPI == wechatsim.APICode2Session {
		return "code2session"
	}
	return simAPI
}

// sleeps records the backoffs a client waited out, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return ctx.Err()
}

func (s *sleeps) waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// frozenClock is the retry budget's clock, moved by hand.
type frozenClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *frozenClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *frozenClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// guarded is the configuration under test: retries as a deployment has
// them (no waiting), a frozen budget clock, no breaker unless set.
func guarded(s *sleeps, clock *frozenClock) wechat.Resilience {
	r := wechat.DefaultResilience()
	r.Breaker = wechat.BreakerSettings{}
	r.Sleep, r.Now = s.sleep, clock.Now
	return r
}

// withBreaker adds a breaker that opens after failures in a row and stays
// open for openFor.
func withBreaker(r wechat.Resilience, failures int, openFor time.Duration) wechat.Resilience {
	r.Breaker = wechat.BreakerSettings{ConsecutiveFailures: failures, OpenFor: openFor, Probes: 1}
	return r
}

// client returns a client of r's simulator for appA and appB.
func (r *rig) client(t *testing.T, res wechat.Resilience, timeout time.Duration, hc *http.Client) *wechat.Client {
	t.Helper()
	c, err := wechat.NewClient(wechat.Config{
		BaseURL: r.url, Apps: map[domain.AppID]string{appA: secretA, appB: secretB},
		Timeout: timeout, HTTPClient: hc, Resilience: res,
	})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func TestRetry_BusyTwiceThenSuccessIsOneLoginAfterTwoRetries(t *testing.T) {
	r, s := newRig(t), &sleeps{}
	c := r.client(t, guarded(s, &frozenClock{now: time.Now()}), 0, nil)
	r.sim.InjectError(wechatsim.APICode2Session, string(appA), -1, 2)

	id, err := login(t, c, appA, "dev-alice")
	if err != nil {
		t.Fatalf("Code2Session: %v", err)
	}
	if id.OpenID != domain.OpenID(wechatsim.OpenID(string(appA), "alice")) {
		t.Errorf("openid %q", id.OpenID)
	}
	if n := r.sim.CallsTo(wechatsim.APICode2Session); n != 3 {
		t.Errorf("code2Session called %d times, want 3 (two -1, one success)", n)
	}
	// Exponential backoff with jitter: the first wait in [50ms, 100ms],
	// the second in [100ms, 200ms].
	w := s.waits()
	if len(w) != 2 || w[0] < 50*time.Millisecond || w[0] > 100*time.Millisecond || w[1] < 100*time.Millisecond || w[1] > 200*time.Millisecond {
		t.Errorf("backoffs %v, want one in [50ms,100ms] then one in [100ms,200ms]", w)
	}
}

func TestRetry_BusyOnEveryAttemptStopsAfterTheRetriesAsWeChatBusy(t *testing.T) {
	r, s := newRig(t), &sleeps{}
	c := r.client(t, guarded(s, &frozenClock{now: time.Now()}), 0, nil)
	r.sim.InjectError(wechatsim.APICode2Session, string(appA), -1, 10)

	_, err := login(t, c, appA, "dev-alice")
	if e := domainError(t, err); e.Code != domain.CodeWeChatBusy || e.RetryAfter <= 0 {
		t.Fatalf("err %v, want wechat_busy with a retry hint", err)
	}
	if n := r.sim.CallsTo(wechatsim.APICode2Session); n != 3 {
		t.Errorf("code2Session called %d times, want 3 (1 + 2 retries)", n)
	}
}

// quotaCall is a call of one API in the quota tests: code2Session, whose
// 45011 quota is per user, or one whose quota is the AppID's.
type quotaCall struct {
	name string
	api  string // the simulator's name
	call func(ctx context.Context, c *wechat.Client) error
}

func quotaCalls() []quotaCall {
	return []quotaCall{
		{"code2Session (quota per user)", wechatsim.APICode2Session, func(ctx context.Context, c *wechat.Client) error {
			_, err := c.Code2Session(ctx, appA, "dev-alice")
			return err
		}},
		{"getuserphonenumber (quota per AppID)", wechatsim.APIGetUserPhoneNumber, func(ctx context.Context, c *wechat.Client) error {
			_, err := c.API(wechat.NewProcessTokens(c)).PhoneNumber(ctx, appA, "phone-13800138000")
			return err
		}},
		{"msgSecCheck (quota per AppID)", wechatsim.APIMsgSecCheck, func(ctx context.Context, c *wechat.Client) error {
			_, err := wechat.NewContentSecurity(c.API(wechat.NewProcessTokens(c))).CheckText(ctx,
				domain.TextCheck{App: appA, OpenID: domain.OpenID(wechatsim.OpenID(string(appA), "alice")), Scene: 2, Content: "hello"})
			return err
		}},
	}
}

func TestRetry_Quota45011OnceThenSuccessSucceedsAfterOneRetry(t *testing.T) {
	for _, q := range quotaCalls() {
		t.Run(q.name, func(t *testing.T) {
			r, s := newRig(t), &sleeps{}
			c := r.client(t, withBreaker(guarded(s, &frozenClock{now: time.Now()}), 5, time.Hour), 0, nil)
			r.sim.Visit(string(appA), "alice") // msgSecCheck wants a recent visitor
			r.sim.InjectError(q.api, string(appA), 45011, 1)

			if err := q.call(context.Background(), c); err != nil {
				t.Fatalf("err %v, want a success after one retry", err)
			}
			if n := r.sim.CallsTo(q.api); n != 2 {
				t.Errorf("%s reached %d times, want 2 (45011, then the success)", q.api, n)
			}
			if w := s.waits(); len(w) != 1 || w[0] < 50*time.Millisecond || w[0] > 100*time.Millisecond {
				t.Errorf("backoffs %v, want one in [50ms,100ms]", w)
			}
		})
	}
}

func TestRetry_Quota45011OnEveryAttemptStopsAfterTheRetriesAsWeChatRateLimited(t *testing.T) {
	for _, q := range quotaCalls() {
		t.Run(q.name, func(t *testing.T) {
			r, s := newRig(t), &sleeps{}
			c := r.client(t, guarded(s, &frozenClock{now: time.Now()}), 0, nil)
			r.sim.Visit(string(appA), "alice")
			r.sim.InjectError(q.api, string(appA), 45011, 10)

			err := q.call(context.Background(), c)
			if e := domainError(t, err); e.Code != domain.CodeWeChatRateLimited || e.RetryAfter != time.Minute {
				t.Fatalf("err %v (Retry-After %s), want wechat_rate_limited with Retry-After 1m", err, e.RetryAfter)
			}
			if n := r.sim.CallsTo(q.api); n != 3 {
				t.Errorf("%s reached %d times, want 3 (1 + 2 retries)", q.api, n)
			}
			if w := s.waits(); len(w) != 2 {
				t.Errorf("backoffs %v, want 2", w)
			}
		})
	}
}

func TestRetry_Quota45011IsNotRetriedWhenTheDeadlineLeavesNoRoom(t *testing.T) {
	r := newRig(t)
	res := wechat.DefaultResilience()
	res.Breaker = wechat.BreakerSettings{}
	res.Retry.Backoff, res.Retry.MaxBackoff = 10*time.Second, 10*time.Second // real waits, were they taken
	c := r.client(t, res, 0, nil)
	r.sim.InjectError(wechatsim.APICode2Session, string(appA), 45011, 3)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := c.Code2Session(ctx, appA, "dev-alice"); domain.ErrorCode(err) != domain.CodeWeChatRateLimited {
		t.Fatalf("err %v, want wechat_rate_limited", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("took %s: it waited for a retry the deadline could not fit", took)
	}
	if n := r.sim.CallsTo(wechatsim.APICode2Session); n != 1 {
		t.Errorf("code2Session called %d times, want 1", n)
	}
}

func TestRetry_PermanentErrcodesAreSentExactlyOnce(t *testing.T) {
	tests := []struct {
		name string
		call func(c *wechat.Client, r *rig) error
		api  string
		want domain.Code
	}{
		{"code2Session 40029 invalid code", func(c *wechat.Client, _ *rig) error {
			_, err := c.Code2Session(context.Background(), appA, "err-40029")
			return err
		}, wechatsim.APICode2Session, domain.CodeWeChatCodeInvalid},
		{"code2Session 40163 code used", func(c *wechat.Client, _ *rig) error {
			_, err := c.Code2Session(context.Background(), appA, "err-40163")
			return err
		}, wechatsim.APICode2Session, domain.CodeWeChatCodeUsed},
		{"code2Session 40226 user blocked", func(c *wechat.Client, _ *rig) error {
			_, err := c.Code2Session(context.Background(), appA, "err-40226")
			return err
		}, wechatsim.APICode2Session, domain.CodeWeChatUserBlocked},
		{"phone 40029 invalid code", func(c *wechat.Client, _ *rig) error {
			_, err := c.API(wechat.NewProcessTokens(c)).PhoneNumber(context.Background(), appA, "err-40029")
			return err
		}, wechatsim.APIGetUserPhoneNumber, domain.CodePhoneCodeInvalid},
		{"msgSecCheck 40003 bad openid", func(c *wechat.Client, r *rig) error {
			r.sim.InjectError(wechatsim.APIMsgSecCheck, string(appA), 40003, 1)
			_, err := wechat.NewContentSecurity(c.API(wechat.NewProcessTokens(c))).CheckText(context.Background(),
				domain.TextCheck{App: appA, OpenID: "o-nobody", Scene: 2, Content: "hello"})
			return err
		}, wechatsim.APIMsgSecCheck, domain.CodeWeChatBadResponse},
		{"msgSecCheck 40129 bad scene", func(c *wechat.Client, r *rig) error {
			r.sim.InjectError(wechatsim.APIMsgSecCheck, string(appA), 40129, 1)
			_, err := wechat.NewContentSecurity(c.API(wechat.NewProcessTokens(c))).CheckText(context.Background(),
				domain.TextCheck{App: appA, OpenID: "o-nobody", Scene: 2, Content: "hello"})
			return err
		}, wechatsim.APIMsgSecCheck, domain.CodeWeChatBadResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, s := newRig(t), &sleeps{}
			c := r.client(t, withBreaker(guarded(s, &frozenClock{now: time.Now()}), 1, time.Hour), 0, nil)
			err := tt.call(c, r)
			if got := domain.ErrorCode(err); got != tt.want {
				t.Fatalf("err %v, want %s", err, tt.want)
			}
			if n := r.sim.CallsTo(tt.api); n != 1 {
				t.Errorf("%s called %d times, want exactly 1", tt.api, n)
			}
			if len(s.waits()) != 0 {
				t.Errorf("waited %v before a retry of a permanent failure", s.waits())
			}
			// A breaker that opens on the first failure is still closed:
			// an answer about the request is not WeChat failing.
			if st := c.BreakerState(appA, guardName(tt.api)); st != "closed" {
				t.Errorf("breaker %s after a permanent errcode, want closed", st)
			}
		})
	}
}

// TestRetry_OnlyFailuresThatCannotActTwiceAreRetried is the retry-safety
// table: a request that never left (connection refused), errcode -1,
// errcode 45011 and HTTP 503 are retried for every API; one that may have
// reached WeChat (answer lost, HTTP 500, a timeout) only for the
// idempotent APIs.
func TestRetry_OnlyFailuresThatCannotActTwiceAreRetried(t *testing.T) {
	type call func(ctx context.Context, c *wechat.Client) error
	login := func(ctx context.Context, c *wechat.Client) error {
		_, err := c.Code2Session(ctx, appA, "dev-alice")
		return err
	}
	phone := func(ctx context.Context, c *wechat.Client) error {
		_, err := c.API(wechat.NewProcessTokens(c)).PhoneNumber(ctx, appA, "phone-13800138000")
		return err
	}
	text := func(ctx context.Context, c *wechat.Client) error {
		_, err := wechat.NewContentSecurity(c.API(wechat.NewProcessTokens(c))).CheckText(ctx,
			domain.TextCheck{App: appA, OpenID: domain.OpenID(wechatsim.OpenID(string(appA), "alice")), Scene: 2, Content: "hello"})
		return err
	}
	media := func(ctx context.Context, c *wechat.Client) error {
		_, err := wechat.NewContentSecurity(c.API(wechat.NewProcessTokens(c))).CheckMedia(ctx,
			domain.MediaCheck{App: appA, OpenID: domain.OpenID(wechatsim.OpenID(string(appA), "alice")), Scene: 1, URL: "https://example.com/a.png"})
		return err
	}
	qr := func(ctx context.Context, c *wechat.Client) error {
		_, err := c.API(wechat.NewProcessTokens(c)).WxaCodeUnlimited(ctx, appA,
			domain.WxaCode{Scene: "id=1", Width: 430, EnvVersion: domain.WxaEnvRelease, AutoColor: true})
		return err
	}
	token := func(force bool) call {
		return func(ctx context.Context, c *wechat.Client) error {
			_, err := c.StableToken(ctx, appA, force)
			return err
		}
	}
	const (
		pathLogin = "/sns/jscode2session"
		pathPhone = "/wxa/business/getuserphonenumber"
		pathText  = "/wxa/msg_sec_check"
		pathMedia = "/wxa/media_check_async"
		pathToken = "/cgi-bin/stable_token"
		pathQR    = "/wxa/getwxacodeunlimit"
	)
	tests := []struct {
		name  string
		api   string
		path  string
		call  call
		fault string // refused, busy, quota (45011), 503, 500, 502, lost
		calls int    // requests that reached the simulator
		ok    bool   // the call succeeds in the end
	}{
		{"code2Session: connection refused is retried", wechatsim.APICode2Session, pathLogin, login, "refused", 1, true},
		{"code2Session: -1 is retried", wechatsim.APICode2Session, pathLogin, login, "busy", 2, true},
		{"code2Session: HTTP 503 is retried", wechatsim.APICode2Session, pathLogin, login, "503", 2, true},
		{"code2Session: 45011 is retried (refused before the code was used)", wechatsim.APICode2Session, pathLogin, login, "quota", 2, true},
		{"code2Session: HTTP 500 may have used the code: not retried", wechatsim.APICode2Session, pathLogin, login, "500", 1, false},
		{"code2Session: HTTP 502 may come after the code was used: not retried", wechatsim.APICode2Session, pathLogin, login, "502", 1, false},
		{"code2Session: a lost answer may have used the code: not retried", wechatsim.APICode2Session, pathLogin, login, "lost", 1, false},
		{"getuserphonenumber: -1 is retried", wechatsim.APIGetUserPhoneNumber, pathPhone, phone, "busy", 2, true},
		{"getuserphonenumber: 45011 is retried (refused before the code was used)", wechatsim.APIGetUserPhoneNumber, pathPhone, phone, "quota", 2, true},
		{"getuserphonenumber: a lost answer may have used the code: not retried", wechatsim.APIGetUserPhoneNumber, pathPhone, phone, "lost", 1, false},
		{"msgSecCheck: HTTP 500 is retried (a check has no effect)", wechatsim.APIMsgSecCheck, pathText, text, "500", 2, true},
		{"msgSecCheck: a lost answer is retried", wechatsim.APIMsgSecCheck, pathText, text, "lost", 2, true},
		{"mediaCheckAsync: a lost answer may have started a check: not retried", wechatsim.APIMediaCheckAsync, pathMedia, media, "lost", 1, false},
		{"mediaCheckAsync: -1 is retried", wechatsim.APIMediaCheckAsync, pathMedia, media, "busy", 2, true},
		{"mediaCheckAsync: 45011 is retried (refused before a check started)", wechatsim.APIMediaCheckAsync, pathMedia, media, "quota", 2, true},
		{"msgSecCheck: 45011 is retried", wechatsim.APIMsgSecCheck, pathText, text, "quota", 2, true},
		{"getwxacodeunlimit: 45011 is retried", wechatsim.APIWxaCodeUnlimit, pathQR, qr, "quota", 2, true},
		{"getwxacodeunlimit: a lost answer is retried (the same image)", wechatsim.APIWxaCodeUnlimit, pathQR, qr, "lost", 2, true},
		{"getwxacodeunlimit: HTTP 502 is retried", wechatsim.APIWxaCodeUnlimit, pathQR, qr, "502", 2, true},
		{"stable_token: HTTP 500 is retried in normal mode", wechatsim.APIStableToken, pathToken, token(false), "500", 2, true},
		{"stable_token: a lost answer is retried in normal mode", wechatsim.APIStableToken, pathToken, token(false), "lost", 2, true},
		{"stable_token: a forced refresh is never replayed", wechatsim.APIStableToken, pathToken, token(true), "lost", 1, false},
		{"stable_token: a forced refresh that never left is retried", wechatsim.APIStableToken, pathToken, token(true), "refused", 1, true},
		{"stable_token: a forced refresh refused over the quota (45011) is retried", wechatsim.APIStableToken, pathToken, token(true), "quota", 2, true},
		{"stable_token: 45011 is retried in normal mode", wechatsim.APIStableToken, pathToken, token(false), "quota", 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, s := newRig(t), &sleeps{}
			var refuseNext atomic.Bool
			var dials atomic.Int32
			hc := &http.Client{Transport: &http.Transport{
				DisableKeepAlives: true,
				DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
					var d net.Dialer
					dials.Add(1)
					if refuseNext.Swap(false) {
						return d.DialContext(ctx, network, r.refused) // ECONNREFUSED: nothing left
					}
					return d.DialContext(ctx, network, addr)
				},
			}}
			c := r.client(t, guarded(s, &frozenClock{now: time.Now()}), 0, hc)
			if tt.api != wechatsim.APIStableToken {
				// Log alice in (msgSecCheck wants a recent visitor) before
				// the fault, so that only the API under test sees it.
				if _, err := c.Code2Session(context.Background(), appA, "dev-alice"); err != nil {
					t.Fatal(err)
				}
			}
			before := r.sim.CallsTo(tt.api)
			dials.Store(0)
			switch tt.fault {
			case "refused":
				refuseNext.Store(true)
			case "busy":
				r.sim.InjectError(tt.api, string(appA), -1, 1)
			case "quota":
				r.sim.InjectError(tt.api, string(appA), 45011, 1)
			case "503":
				r.sim.InjectStatus(tt.api, string(appA), http.StatusServiceUnavailable, 1)
			case "500":
				r.sim.InjectStatus(tt.api, string(appA), http.StatusInternalServerError, 1)
			case "502":
				r.sim.InjectStatus(tt.api, string(appA), http.StatusBadGateway, 1)
			case "lost":
				r.front.dropNext(tt.path, 1)
			}
			err := tt.call(context.Background(), c)
			if tt.ok && err != nil {
				t.Fatalf("err %v, want a success after a retry", err)
			}
			if !tt.ok && err == nil {
				t.Fatal("succeeded; want the first failure, not retried")
			}
			if calls := r.sim.CallsTo(tt.api) - before; calls != tt.calls {
				t.Errorf("%s reached %d times, want %d", tt.api, calls, tt.calls)
			}
			if tt.fault == "refused" && dials.Load() != 2 {
				t.Errorf("%d connection attempts, want 2", dials.Load())
			}
		})
	}
}

func TestRetry_ATimeoutOfASingleUseCodeIsNotRetried(t *testing.T) {
	r, s := newRig(t), &sleeps{}
	c := r.client(t, guarded(s, &frozenClock{now: time.Now()}), 50*time.Millisecond, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := c.Code2Session(ctx, appA, "err-slow")
	if got := domain.ErrorCode(err); got != domain.CodeWeChatTimeout {
		t.Fatalf("err %v, want wechat_timeout", err)
	}
	if n := r.sim.CallsTo(wechatsim.APICode2Session); n != 1 {
		t.Errorf("code2Session called %d times after a timeout, want 1: the code may be used", n)
	}
}

func TestRetry_ATimeoutIsRetriedOnlyWhenTheDeadlineLeavesAWholeAttempt(t *testing.T) {
	const timeout = 50 * time.Millisecond
	tests := []struct {
		name     string
		deadline time.Duration // 0: none
		calls    int
	}{
		{"a minute left: retried", time.Minute, 2},
		{"no deadline (a background refresh): not retried", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, s := newRig(t), &sleeps{}
			// An answer slower than the timeout (WeChat acted, and its
			// answer came too late), then a prompt one.
			var slow atomic.Bool
			slow.Store(true)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				if slow.Swap(false) {
					r.sim.ServeHTTP(httptest.NewRecorder(), req) // reads the body: the server then sees the client leave
					<-req.Context().Done()
					return
				}
				r.sim.ServeHTTP(w, req)
			}))
			t.Cleanup(srv.Close)
			c, err := wechat.NewClient(wechat.Config{BaseURL: srv.URL, Apps: map[domain.AppID]string{appA: secretA},
				Timeout: timeout, Resilience: guarded(s, &frozenClock{now: time.Now()})})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			_, err = c.StableToken(ctx, appA, false)
			if n := r.sim.CallsTo(wechatsim.APIStableToken); n != tt.calls {
				t.Errorf("stable_token reached %d times, want %d (err %v)", n, tt.calls, err)
			}
		})
	}
}

func TestRetry_NeverPastTheCallersDeadline(t *testing.T) {
	r := newRig(t)
	res := wechat.DefaultResilience()
	res.Breaker = wechat.BreakerSettings{}
	res.Retry.Backoff, res.Retry.MaxBackoff = 10*time.Second, 10*time.Second // real waits, were they taken
	c := r.client(t, res, 0, nil)
	r.sim.InjectError(wechatsim.APICode2Session, string(appA), -1, 3)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.Code2Session(ctx, appA, "dev-alice")
	if got := domain.ErrorCode(err); got != domain.CodeWeChatBusy {
		t.Fatalf("err %v, want wechat_busy", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("took %s: it waited for a retry the deadline could not fit", took)
	}
	if n := r.sim.CallsTo(wechatsim.APICode2Session); n != 1 {
		t.Errorf("code2Session called %d times, want 1", n)
	}
}

func TestRetry_ACallerWhoGivesUpDuringTheBackoffEndsTheCall(t *testing.T) {
	r := newRig(t)
	res := wechat.DefaultResilience()
	res.Breaker = wechat.BreakerSettings{}
	ctx, cancel := context.WithCancel(context.Background())
	res.Sleep = func(ctx context.Context, _ time.Duration) error { cancel(); return ctx.Err() }
	c := r.client(t, res, 0, nil)
	r.sim.InjectError(wechatsim.APICode2Session, string(appA), -1, 3)
	_, err := c.Code2Session(ctx, appA, "dev-alice")
	if err == nil {
		t.Fatal("succeeded")
	}
	if n := r.sim.CallsTo(wechatsim.APICode2Session); n != 1 {
		t.Errorf("code2Session called %d times, want 1", n)
	}
}

func TestBreaker_SustainedFailuresOpenItAndItAnswersAtOnceWithoutCallingWeChat(t *testing.T) {
	r, s := newRig(t), &sleeps{}
	var changes []string
	res := withBreaker(guarded(s, &frozenClock{now: time.Now()}), 5, time.Hour)
	res.OnBreakerChange = func(app domain.AppID, api, from, to string) {
		changes = append(changes, string(app)+" "+api+" "+from+"→"+to)
	}
	c := r.client(t, res, 0, nil)
	r.sim.InjectError(wechatsim.APICode2Session, string(appA), -1, 1000)

	// Each call makes 1 + 2 attempts: the fifth failure in a row (the
	// second attempt of the second call) opens the breaker, which then
	// refuses that call's last retry, so the call answers its -1.
	for i := range 2 {
		if _, err := login(t, c, appA, "dev-alice"); domain.ErrorCode(err) != domain.CodeWeChatBusy {
			t.Fatalf("call %d: err %v, want wechat_busy", i+1, err)
		}
	}
	if n := r.sim.CallsTo(wechatsim.APICode2Session); n != 5 {
		t.Fatalf("code2Session called %d times before the breaker opened, want 5", n)
	}
	for i := range 20 {
		_, err := login(t, c, appA, "dev-alice")
		e := domainError(t, err)
		if e.Code != domain.CodeWeChatUnavailable {
			t.Fatalf("call %d with the breaker open: err %v, want wechat_unavailable", i+3, err)
		}
		if e.RetryAfter < 59*time.Minute || e.RetryAfter > time.Hour {
			t.Fatalf("Retry-After %s, want the breaker's remaining open time (just under 1h)", e.RetryAfter)
		}
		if strings.Contains(err.Error(), secretA) {
			t.Fatalf("error text shows the secret: %v", err)
		}
	}
	if n := r.sim.CallsTo(wechatsim.APICode2Session); n != 5 {
		t.Errorf("code2Session called %d times in all, want 5: an open breaker calls no one", n)
	}
	if st := c.BreakerState(appA, guardName(wechatsim.APICode2Session)); st != "open" {
		t.Errorf("breaker %s, want open", st)
	}
	if want := []string{string(appA) + " code2session closed→open"}; strings.Join(changes, ";") != want[0] {
		t.Errorf("state changes %q, want %q", changes, want)
	}

	// The breaker is per AppID and API: appB logs in, and appA's phone
	// API (another API of the same app) still works.
	if _, err := login(t, c, appB, "dev-bob"); err != nil {
		t.Errorf("appB while appA's code2Session breaker is open: %v", err)
	}
	if _, err := c.API(wechat.NewProcessTokens(c)).PhoneNumber(context.Background(), appA, "phone-13800138000"); err != nil {
		t.Errorf("appA's phone API while its code2Session breaker is open: %v", err)
	}
	if st := c.BreakerState(appB, guardName(wechatsim.APICode2Session)); st != "closed" {
		t.Errorf("appB's breaker %s, want closed", st)
	}
}

// waitForState polls the breaker until it reports want: gobreaker reads
// the real clock, so the test gives it a short open time and waits for
// that, bounded, instead of sleeping a guess.
func waitForState(t *testing.T, c *wechat.Client, app domain.AppID, api, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for c.BreakerState(app, api) != want {
		if time.Now().After(deadline) {
			t.Fatalf("breaker still %s after 5s, want %s", c.BreakerState(app, api), want)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestBreaker_AfterTheOpenTimeAProbeClosesItOrOpensItAgain(t *testing.T) {
	r, s := newRig(t), &sleeps{}
	res := withBreaker(guarded(s, &frozenClock{now: time.Now()}), 3, 20*time.Millisecond)
	res.Retry.Retries = 0
	c := r.client(t, res, 0, nil)
	trip := func() {
		t.Helper()
		r.sim.InjectError(wechatsim.APICode2Session, string(appA), -1, 3)
		for range 3 {
			_, _ = login(t, c, appA, "dev-alice")
		}
		if st := c.BreakerState(appA, guardName(wechatsim.APICode2Session)); st != "open" {
			t.Fatalf("breaker %s after 3 failures, want open", st)
		}
	}

	trip()
	waitForState(t, c, appA, guardName(wechatsim.APICode2Session), "half-open")
	r.sim.InjectError(wechatsim.APICode2Session, string(appA), -1, 1)
	before := r.sim.CallsTo(wechatsim.APICode2Session)
	if _, err := login(t, c, appA, "dev-alice"); domain.ErrorCode(err) != domain.CodeWeChatBusy {
		t.Fatalf("failing probe: err %v, want wechat_busy", err)
	}
	if st := c.BreakerState(appA, guardName(wechatsim.APICode2Session)); st != "open" {
		t.Fatalf("breaker %s after a failed probe, want open again", st)
	}

	waitForState(t, c, appA, guardName(wechatsim.APICode2Session), "half-open")
	if _, err := login(t, c, appA, "dev-alice"); err != nil {
		t.Fatalf("probe: %v", err)
	}
	if st := c.BreakerState(appA, guardName(wechatsim.APICode2Session)); st != "closed" {
		t.Fatalf("breaker %s after a successful probe, want closed", st)
	}
	if n := r.sim.CallsTo(wechatsim.APICode2Session) - before; n != 2 {
		t.Errorf("%d calls for two probes, want 2", n)
	}
}

// code2Session's 45011 quota is per user (retry.go: perUserQuota): one
// user's burst must not open the breaker for every user of the AppID. A
// breaker that opens on the first failure stays closed through 45011s on
// every attempt (each retried) and through callers who gave up.
func TestBreaker_Code2SessionQuotasAndCallerCancellationsNeverOpenIt(t *testing.T) {
	r, s := newRig(t), &sleeps{}
	res := withBreaker(guarded(s, &frozenClock{now: time.Now()}), 1, time.Hour)
	res.Retry.BudgetRatio, res.Retry.BudgetMin = 100, 0 // every call gets its 2 retries
	c := r.client(t, res, 0, nil)
	const logins = 10
	r.sim.InjectError(wechatsim.APICode2Session, string(appA), 45011, 3*logins)
	for i := range logins {
		if _, err := login(t, c, appA, "dev-alice"); domain.ErrorCode(err) != domain.CodeWeChatRateLimited {
			t.Fatalf("login %d: err %v, want wechat_rate_limited (never wechat_unavailable)", i+1, err)
		}
	}
	if n := r.sim.CallsTo(wechatsim.APICode2Session); n != 3*logins {
		t.Errorf("code2Session called %d times, want %d: every login reached WeChat, with its retries", n, 3*logins)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 3 {
		_, _ = c.Code2Session(ctx, appA, "dev-alice")
	}
	if st := c.BreakerState(appA, guardName(wechatsim.APICode2Session)); st != "closed" {
		t.Errorf("breaker %s after per-user quotas and cancellations, want closed", st)
	}
	if _, err := login(t, c, appA, "dev-alice"); err != nil {
		t.Errorf("login: %v", err)
	}
}

// The 45011 of an API whose quota is the AppID's counts against its
// breaker: while the quota is spent every user's call gets 45011, and the
// open breaker answers wechat_unavailable without sending them.
func TestBreaker_Quota45011OfAnAppIDWideAPIOpensItThenItAnswersAtOnce(t *testing.T) {
	for _, q := range quotaCalls() {
		if q.api == wechatsim.APICode2Session {
			continue
		}
		t.Run(q.name, func(t *testing.T) {
			r, s := newRig(t), &sleeps{}
			c := r.client(t, withBreaker(guarded(s, &frozenClock{now: time.Now()}), 5, time.Hour), 0, nil)
			r.sim.Visit(string(appA), "alice")
			r.sim.InjectError(q.api, string(appA), 45011, 1000)

			// 1 + 2 attempts, then 2 more: the fifth 45011 in a row opens
			// the breaker, which refuses that call's last retry; the call
			// answers its 45011.
			for i := range 2 {
				if err := q.call(context.Background(), c); domain.ErrorCode(err) != domain.CodeWeChatRateLimited {
					t.Fatalf("call %d: err %v, want wechat_rate_limited", i+1, err)
				}
			}
			if n := r.sim.CallsTo(q.api); n != 5 {
				t.Fatalf("%s reached %d times before the breaker opened, want 5", q.api, n)
			}
			if st := c.BreakerState(appA, guardName(q.api)); st != "open" {
				t.Fatalf("breaker %s after five 45011s in a row, want open", st)
			}
			for i := range 10 {
				err := q.call(context.Background(), c)
				if e := domainError(t, err); e.Code != domain.CodeWeChatUnavailable || e.RetryAfter < 59*time.Minute {
					t.Fatalf("call %d with the breaker open: err %v, want wechat_unavailable with the open time", i+3, err)
				}
			}
			if n := r.sim.CallsTo(q.api); n != 5 {
				t.Errorf("%s reached %d times in all, want 5: an open breaker sends nothing", q.api, n)
			}
			// Per (AppID, API): code2Session of the same app still works.
			if _, err := login(t, c, appA, "dev-alice"); err != nil {
				t.Errorf("appA's login while its %s breaker is open: %v", q.api, err)
			}
		})
	}
}

// outage runs n logins of appA against a code2Session that answers
// errcode to every call and returns how many requests reached WeChat.
func outage(t *testing.T, n int, res wechat.Resilience, errcode int) int {
	t.Helper()
	r := newRig(t)
	c := r.client(t, res, 0, nil)
	r.sim.InjectError(wechatsim.APICode2Session, string(appA), errcode, 10*n)
	for range n {
		if _, err := login(t, c, appA, "dev-alice"); err == nil {
			t.Fatal("a login succeeded during the outage")
		}
	}
	return r.sim.CallsTo(wechatsim.APICode2Session)
}

func TestRetryBudget_BoundsTheCallsDuringAnOutage(t *testing.T) {
	const n = 50
	clock := &frozenClock{now: time.Now()}
	unbudgeted := guarded(&sleeps{}, clock)
	unbudgeted.Retry.BudgetRatio, unbudgeted.Retry.BudgetMin = 100, 0
	budgeted := guarded(&sleeps{}, clock) // 5 + 10% of calls per 10 s

	without := outage(t, n, unbudgeted, -1)
	with := outage(t, n, budgeted, -1)
	breaker := outage(t, n, withBreaker(guarded(&sleeps{}, clock), 5, time.Hour), -1)
	t.Logf("outage of %d logins: %d calls to WeChat with retries and no budget, %d with the budget, %d with the budget and the breaker",
		n, without, with, breaker)
	if without != 3*n {
		t.Errorf("without a budget: %d calls, want %d (3 attempts each)", without, 3*n)
	}
	// At most BudgetMin + BudgetRatio × calls retries: 5 + 5.
	if with != n+10 {
		t.Errorf("with the budget: %d calls, want %d", with, n+10)
	}
	if breaker != 5 {
		t.Errorf("with the breaker: %d calls, want 5", breaker)
	}
}

// A quota that stays spent: the logins' 45011s are retried within the
// same budget as -1 (5 + 10 % of the calls per 10 s), and code2Session's
// breaker, which a per-user quota never opens, sends every login once.
func TestRetryBudget_BoundsTheRetriesOfAPersistentQuota45011(t *testing.T) {
	const n = 50
	clock := &frozenClock{now: time.Now()}
	with := outage(t, n, guarded(&sleeps{}, clock), 45011)
	breaker := outage(t, n, withBreaker(guarded(&sleeps{}, clock), 5, time.Hour), 45011)
	t.Logf("%d logins over a spent code2Session quota: %d calls to WeChat with the budget, %d with the budget and the breaker", n, with, breaker)
	if with != n+10 {
		t.Errorf("with the budget: %d calls, want %d", with, n+10)
	}
	if breaker != n+10 {
		t.Errorf("with the breaker: %d calls, want %d (a per-user quota does not open it)", breaker, n+10)
	}
}

func TestRetryBudget_RefillsAsTheWindowSlides(t *testing.T) {
	r, s := newRig(t), &sleeps{}
	clock := &frozenClock{now: time.Now()}
	res := guarded(s, clock)
	res.Retry.BudgetMin, res.Retry.BudgetRatio = 2, 0
	c := r.client(t, res, 0, nil)
	r.sim.InjectError(wechatsim.APICode2Session, string(appA), -1, 1000)
	for range 3 {
		_, _ = login(t, c, appA, "dev-alice")
	}
	if n := r.sim.CallsTo(wechatsim.APICode2Session); n != 5 {
		t.Fatalf("%d calls, want 3 + 2 retries", n)
	}
	clock.Advance(10 * time.Second)
	_, _ = login(t, c, appA, "dev-alice")
	if n := r.sim.CallsTo(wechatsim.APICode2Session); n != 8 {
		t.Errorf("%d calls, want 5 + 1 + 2 retries once the window moved on", n)
	}
}

func TestResilience_ValidateRefusesNonsense(t *testing.T) {
	bad := []func(r *wechat.Resilience){
		func(r *wechat.Resilience) { r.Breaker.FailureRatio = 1.5 },
		func(r *wechat.Resilience) { r.Breaker.OpenFor = 0 },
		func(r *wechat.Resilience) { r.Breaker.Probes = 0 },
		func(r *wechat.Resilience) { r.Breaker.MinCalls = 0 },
		func(r *wechat.Resilience) { r.Retry.Retries = -1 },
		func(r *wechat.Resilience) { r.Retry.MaxBackoff = r.Retry.Backoff / 2 },
		func(r *wechat.Resilience) { r.Retry.BudgetRatio, r.Retry.BudgetMin = 0, 0 },
		func(r *wechat.Resilience) { r.Retry.BudgetWindow = 0 },
	}
	for i, f := range bad {
		r := wechat.DefaultResilience()
		f(&r)
		if err := r.Validate(); err == nil {
			t.Errorf("case %d: %+v validated", i, r)
		}
		if _, err := wechat.NewClient(wechat.Config{Apps: map[domain.AppID]string{appA: secretA}, Resilience: r}); err == nil {
			t.Errorf("case %d: NewClient accepted it", i)
		}
	}
	if err := wechat.DefaultResilience().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	if err := (wechat.Resilience{}).Validate(); err != nil {
		t.Errorf("zero (off): %v", err)
	}
}

func TestObserver_IsToldOfEachAttemptAndOfEachRefusalOfTheBreaker(t *testing.T) {
	r, rec := newRig(t), &recorder{}
	c, err := wechat.NewClient(wechat.Config{
		BaseURL: r.url, Apps: map[domain.AppID]string{appA: secretA}, Observer: rec,
		Resilience: withBreaker(guarded(&sleeps{}, &frozenClock{now: time.Now()}), 3, time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	r.sim.InjectError(wechatsim.APICode2Session, string(appA), -1, 1)
	if _, err := login(t, c, appA, "dev-alice"); err != nil {
		t.Fatal(err)
	}
	r.sim.InjectError(wechatsim.APICode2Session, string(appA), -1, 3)
	_, _ = login(t, c, appA, "dev-alice") // three attempts: the third failure in a row opens the breaker
	_, _ = login(t, c, appA, "dev-alice") // refused
	want := []string{
		"code2session errcode -1", "code2session ok 0",
		"code2session errcode -1", "code2session errcode -1", "code2session errcode -1",
		"code2session breaker_open 0",
	}
	if got := rec.seen(); !slices.Equal(got, want) {
		t.Errorf("observed\n  %q\nwant\n  %q", got, want)
	}
}
