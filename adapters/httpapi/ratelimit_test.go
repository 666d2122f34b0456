package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/httpapi/apitest"
	"github.com/miniback/miniback/adapters/ratelimit"
	"github.com/miniback/miniback/adapters/ratelimit/redistest"
	"github.com/miniback/miniback/domain"
)

// withRateLimits applies the policy (MINIBACK_RATE_LIMITS's format) with
// the memory backend, or with the given limiter options.
func withRateLimits(t *testing.T, policy string, opts ...ratelimit.Options) option {
	t.Helper()
	p, err := ratelimit.ParsePolicy(policy)
	if err != nil {
		t.Fatal(err)
	}
	// Time stands still unless a test says otherwise: the Retry-After
	// values are exact.
	frozen := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	o := ratelimit.Options{Now: func() time.Time { return frozen }}
	if len(opts) > 0 {
		o = opts[0]
	}
	l := ratelimit.New(p, o)
	return func(c *config) { c.limiter = l }
}

// from sends a request from the client address ip (port 4711), with a
// JSON body unless body is nil, and "Name: value" headers.
func from(t *testing.T, c *apitest.Client, ip, method, path string, body any, headers ...string) *apitest.Response {
	t.Helper()
	var b []byte
	if body != nil {
		var err error
		if s, ok := body.(string); ok {
			b = []byte(s)
		} else if b, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		req.Header.Set(name, strings.TrimSpace(value))
	}
	req.RemoteAddr = ip + ":4711"
	return c.Do(req)
}

// wantRateLimited checks a 429 rate_limited for the policy named, with
// Retry-After and the draft-ietf-httpapi-ratelimit-headers-10 fields
// (apitest has checked the answer against the spec). A retryAfter of 0
// accepts any from 1 to 60 (with Redis's clock, which tests cannot stop).
func wantRateLimited(t *testing.T, res *apitest.Response, policy, rule string, retryAfter int) {
	t.Helper()
	if res.Status != http.StatusTooManyRequests || res.Problem().Code != string(domain.CodeRateLimited) {
		t.Fatalf("want 429 rate_limited\n%s", res)
	}
	got, err := strconv.Atoi(res.Header.Get("Retry-After"))
	if retryAfter == 0 && err == nil && got >= 1 && got <= 60 {
		retryAfter = got
	}
	if err != nil || got != retryAfter {
		t.Errorf("Retry-After %q, want %d", res.Header.Get("Retry-After"), retryAfter)
	}
	if got, want := res.Header.Get("RateLimit-Policy"), `"`+policy+`";`+rule; got != want {
		t.Errorf("RateLimit-Policy %q, want %q", got, want)
	}
	if got, want := res.Header.Get("RateLimit"), fmt.Sprintf(`"%s";r=0;t=%d`, policy, retryAfter); got != want {
		t.Errorf("RateLimit %q, want %q", got, want)
	}
}

func (e *env) hashesSeen() int {
	e.seen.mu.Lock()
	defer e.seen.mu.Unlock()
	return len(e.seen.passwordSecrets)
}

// The burst measured from outside (12 sign-ups in 0.3 s, each an Argon2id
// hash) stops at the budget, before any hashing.
func TestSignUpBurstIsThrottledBeforeAnyHashing(t *testing.T) {
	e := newEnv(t, withRateLimits(t, "signup:ip=3/h"))
	const ip = "198.51.100.7"
	for i := range 3 {
		res := from(t, e.api, ip, "POST", "/v1/auth/register", map[string]string{
			"username": fmt.Sprintf("burst%d", i), "email": fmt.Sprintf("burst%d@example.com", i), "password": alicePassword})
		if res.Status != http.StatusCreated {
			t.Fatalf("sign-up %d: want 201\n%s", i+1, res)
		}
	}
	hashes := e.hashesSeen()
	for range 9 {
		res := from(t, e.api, ip, "POST", "/v1/auth/register", map[string]string{
			"username": "burst9", "email": "burst9@example.com", "password": alicePassword})
		// 3/h gives one back every 20 minutes.
		wantRateLimited(t, res, "signup-ip", "q=3;w=3600", 1200)
	}
	if e.hashesSeen() != hashes {
		t.Error("a throttled sign-up reached the password hasher")
	}
	// Nothing was made: the name is free, for another address.
	if res := from(t, e.api, "198.51.100.8", "POST", "/v1/auth/register", map[string]string{
		"username": "burst9", "email": "burst9@example.com", "password": alicePassword}); res.Status != http.StatusCreated {
		t.Errorf("another address: want 201\n%s", res)
	}
}

// The address budget comes before authentication and validation: a
// throttled client learns nothing else, and costs nothing else.
func TestAddressBudgetComesBeforeAuthenticationAndValidation(t *testing.T) {
	e := newEnv(t, withRateLimits(t, "write:ip=1/m,user=off"))
	alice := e.login(t, "dev-alice")
	const ip = "198.51.100.7"
	if res := from(t, e.api, ip, "POST", "/v1/todos", map[string]string{"title": "first"}, bearer(alice.AccessToken)); res.Status != http.StatusCreated {
		t.Fatalf("first write: want 201\n%s", res)
	}
	for name, res := range map[string]*apitest.Response{
		"no token":       from(t, e.api, ip, "POST", "/v1/todos", map[string]string{"title": "x"}),
		"a forged token": from(t, e.api, ip, "POST", "/v1/todos", map[string]string{"title": "x"}, "Authorization: Bearer not.a.token"),
		"a bad body":     from(t, e.api, ip, "POST", "/v1/todos", `{"title": `, bearer(alice.AccessToken)),
	} {
		t.Run(name, func(t *testing.T) { wantRateLimited(t, res, "write-ip", "q=1;w=60", 60) })
	}
	if got := res401(from(t, e.api, "198.51.100.8", "POST", "/v1/todos", map[string]string{"title": "x"})); !got {
		t.Error("another address without a token: want 401")
	}
}

func res401(res *apitest.Response) bool { return res.Status == http.StatusUnauthorized }

// X-Forwarded-For names the bucket only from a trusted proxy: from anyone
// else a new header each time changes nothing.
func TestSpoofedForwardedForDoesNotChangeTheBucket(t *testing.T) {
	const proxy = "10.9.8.7"
	e := newEnv(t, withRateLimits(t, "auth:ip=2/m"), withTrustedProxies(proxy))
	login := map[string]string{"code": "dev-alice"}
	for i := range 2 {
		if res := from(t, e.api, "198.51.100.9", "POST", "/v1/auth/wechat", login, fmt.Sprintf("X-Forwarded-For: 203.0.113.%d", i)); res.Status != http.StatusOK {
			t.Fatalf("login %d: want 200\n%s", i+1, res)
		}
	}
	res := from(t, e.api, "198.51.100.9", "POST", "/v1/auth/wechat", login, "X-Forwarded-For: 203.0.113.99")
	wantRateLimited(t, res, "auth-ip", "q=2;w=60", 30)

	// Behind the trusted proxy, each forwarded client has its own budget.
	for i := range 3 {
		for range 2 {
			if res := from(t, e.api, proxy, "POST", "/v1/auth/wechat", login, fmt.Sprintf("X-Forwarded-For: 203.0.113.%d", 10+i)); res.Status != http.StatusOK {
				t.Fatalf("client %d behind the proxy: want 200\n%s", i, res)
			}
		}
	}
	wantRateLimited(t, from(t, e.api, proxy, "POST", "/v1/auth/wechat", login, "X-Forwarded-For: 203.0.113.10"), "auth-ip", "q=2;w=60", 30)
}

// An IPv6 client is counted by its /64: its other addresses share the
// budget.
func TestIPv6ClientsAreCountedByTheirSlash64(t *testing.T) {
	e := newEnv(t, withRateLimits(t, "auth:ip=1/m"))
	login := map[string]string{"code": "dev-alice"}
	if res := from(t, e.api, "[2001:db8:1:2::1]", "POST", "/v1/auth/wechat", login); res.Status != http.StatusOK {
		t.Fatalf("want 200\n%s", res)
	}
	wantRateLimited(t, from(t, e.api, "[2001:db8:1:2:ffff::9]", "POST", "/v1/auth/wechat", login), "auth-ip", "q=1;w=60", 60)
	if res := from(t, e.api, "[2001:db8:1:3::1]", "POST", "/v1/auth/wechat", login); res.Status != http.StatusOK {
		t.Errorf("another /64: want 200\n%s", res)
	}
}

// The user budget follows the token, wherever the user is: from three
// addresses it is one budget, and another user at the same address has
// their own.
func TestPerUserBudgetIsIndependentOfTheAddress(t *testing.T) {
	e := newEnv(t, withRateLimits(t, "read:ip=off,user=3/m"))
	alice, bob := e.login(t, "dev-alice"), e.login(t, "dev-bob")
	for i, ip := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"} {
		if res := from(t, e.api, ip, "GET", "/v1/me", nil, bearer(alice.AccessToken)); res.Status != http.StatusOK {
			t.Fatalf("read %d: want 200\n%s", i+1, res)
		}
	}
	wantRateLimited(t, from(t, e.api, "198.51.100.4", "GET", "/v1/me", nil, bearer(alice.AccessToken)), "read-user", "q=3;w=60", 20)
	// HEAD is the GET's twin, budget included.
	if res := e.api.Do(headFrom(t, "198.51.100.5", "/v1/me", alice.AccessToken)); res.Status != http.StatusTooManyRequests ||
		res.Header.Get("RateLimit") == "" || len(res.Body) != 0 {
		t.Errorf("HEAD: want a bodiless 429 with its headers\n%s", res)
	}
	if res := from(t, e.api, "198.51.100.1", "GET", "/v1/me", nil, bearer(bob.AccessToken)); res.Status != http.StatusOK {
		t.Errorf("another user at a throttled user's address: want 200\n%s", res)
	}
}

func headFrom(t *testing.T, ip, path, token string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodHead, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.RemoteAddr = ip + ":4711"
	return req
}

// The per-AppID budget of the WeChat-backed operations is shared by every
// user of one mini-program and by nobody else; it counts before the body
// is even read.
func TestPerAppBudgetIsSharedByTheMiniProgramsUsers(t *testing.T) {
	e := newEnv(t, withApps(appA, appB), withRateLimits(t, "wechat:ip=off,user=off,app=2/m"))
	loginTo := func(appID, code string) string {
		res := e.api.JSON("POST", "/v1/auth/wechat", map[string]string{"code": code, "appid": appID})
		if res.Status != http.StatusOK {
			t.Fatalf("login to %s: want 200\n%s", appID, res)
		}
		var l loginResponse
		res.Decode(&l)
		return l.AccessToken
	}
	a1, a2, b1 := loginTo(appA, "dev-alice"), loginTo(appA, "dev-bob"), loginTo(appB, "dev-carol")
	bad := `{"encrypted_data": 1}` // refused by validation, after the budget
	for _, token := range []string{a1, a2} {
		if res := e.api.JSON("POST", "/v1/me/wechat-data", bad, bearer(token)); res.Status != http.StatusBadRequest {
			t.Fatalf("want 400\n%s", res)
		}
	}
	wantRateLimited(t, e.api.JSON("POST", "/v1/me/wechat-data", bad, bearer(a1)), "wechat-app", "q=2;w=60", 30)
	if res := e.api.JSON("POST", "/v1/me/wechat-data", bad, bearer(b1)); res.Status != http.StatusBadRequest {
		t.Errorf("a user of the other mini-program: want 400 (not throttled)\n%s", res)
	}
}

// Probes, the JWKS and WeChat's push are never limited.
func TestExemptOperationsAreNeverLimited(t *testing.T) {
	e := newEnv(t, withRateLimits(t, "auth:ip=1/h;signup:ip=1/h;wechat:ip=1/h;write:ip=1/h;read:ip=1/h;upload:ip=1/h"))
	for range 5 {
		for _, path := range []string{"/healthz", "/readyz", "/.well-known/jwks.json"} {
			if res := e.api.Get(path); res.Status != http.StatusOK {
				t.Fatalf("%s: want 200\n%s", path, res)
			}
		}
	}
}

// With Redis as the backend, two replicas share one budget through the
// router; with Redis gone, requests go on (fail open), never a 500.
func TestRedisBudgetIsSharedByReplicasAndFailsOpen(t *testing.T) {
	srv := redistest.Start(t)
	client, err := ratelimit.OpenRedis(srv.URL, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	e := newEnv(t, withRateLimits(t, "read:ip=off,user=2/m", ratelimit.Options{
		Backend: ratelimit.NewRedis(client, ratelimit.RedisOptions{Prefix: redistest.Prefix(t)}), Shared: true,
	}))
	other := e.newInstance(t, e.keys).api
	alice := e.login(t, "dev-alice")
	for i, api := range []*apitest.Client{e.api, other} {
		if res := api.Get("/v1/me", bearer(alice.AccessToken)); res.Status != http.StatusOK {
			t.Fatalf("replica %d: want 200\n%s", i+1, res)
		}
	}
	wantRateLimited(t, e.api.Get("/v1/me", bearer(alice.AccessToken)), "read-user", "q=2;w=60", 0)
	wantRateLimited(t, other.Get("/v1/me", bearer(alice.AccessToken)), "read-user", "q=2;w=60", 0)

	srv.Stop()
	for i, api := range []*apitest.Client{e.api, other} {
		if res := api.Get("/v1/me", bearer(alice.AccessToken)); res.Status != http.StatusOK {
			t.Errorf("replica %d with Redis down: want 200 (fail open)\n%s", i+1, res)
		}
	}
}
