package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/httpapi/apitest"
	"github.com/miniback/miniback/adapters/metrics"
	"github.com/miniback/miniback/adapters/metrics/metricstest"
	"github.com/miniback/miniback/adapters/ratelimit"
	"github.com/miniback/miniback/adapters/ratelimit/redistest"
	"github.com/miniback/miniback/domain"
)

// The per-AppID budget of the wx.login code exchanges (POST
// /v1/auth/wechat, POST /v1/me/wechat): counted against the mini-program
// the code is for, whatever the address or the token, before WeChat is
// called, and only for a mini-program the deployment serves.

// keysSeen is a limiter backend that remembers every budget key it is
// asked about.
type keysSeen struct {
	ratelimit.Backend
	mu   sync.Mutex
	keys []ratelimit.Key
}

func (k *keysSeen) Allow(ctx context.Context, key ratelimit.Key, r ratelimit.Rule) (ratelimit.Decision, error) {
	k.mu.Lock()
	k.keys = append(k.keys, key)
	k.mu.Unlock()
	return k.Backend.Allow(ctx, key, r)
}

// apps returns the values of the app-scope keys asked about, sorted, once
// each.
func (k *keysSeen) apps() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for _, key := range k.keys {
		if key.Scope == ratelimit.App && !slices.Contains(out, key.Value) {
			out = append(out, key.Value)
		}
	}
	slices.Sort(out)
	return out
}

// wechatLogin sends POST /v1/auth/wechat from the client address ip, for
// appid ("" sends none).
func wechatLogin(t *testing.T, c *apitest.Client, ip, code, appid string) *apitest.Response {
	t.Helper()
	body := map[string]string{"code": code}
	if appid != "" {
		body["appid"] = appid
	}
	return from(t, c, ip, "POST", "/v1/auth/wechat", body)
}

// N+1 logins to one mini-program, each from its own address: the last is
// refused with the auth-app budget's 429 and never reaches WeChat, while
// the other mini-program still logs in from that same address. Invalid
// bodies and AppIDs the deployment does not serve spend nothing and make
// no budget key. The refusal is counted in the metrics under its group.
func TestPerAppLoginBudgetIsSharedByEveryAddressOfOneMiniProgram(t *testing.T) {
	frozen := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { return frozen }
	keys := &keysSeen{Backend: ratelimit.NewMemory(ratelimit.MemoryOptions{Now: now})}
	m := metrics.New()
	e := newEnv(t, withApps(appA, appB),
		withRateLimits(t, "auth:app=3/m", ratelimit.Options{Backend: keys, Now: now, Observer: m.RateLimits()}))

	// Refused by validation or by the use-case, before any budget of the
	// AppID is spent, however many.
	for i := range 5 {
		ip := fmt.Sprintf("198.51.100.%d", 100+i)
		wantProblem(t, from(t, e.api, ip, "POST", "/v1/auth/wechat", map[string]string{"appid": appA}), http.StatusBadRequest, domain.CodeInvalid)
		wantProblem(t, wechatLogin(t, e.api, ip, "dev-mallory", fmt.Sprintf("wx%016d", i)), http.StatusBadRequest, domain.CodeUnknownApp)
		wantProblem(t, wechatLogin(t, e.api, ip, "dev-mallory", ""), http.StatusBadRequest, domain.CodeAppIDRequired)
	}
	if got := keys.apps(); len(got) != 0 {
		t.Fatalf("budget keys of AppIDs %v before any valid login, want none", got)
	}

	const n = 3
	for i := range n {
		if res := wechatLogin(t, e.api, fmt.Sprintf("198.51.100.%d", 10+i), fmt.Sprintf("dev-user%d", i), appA); res.Status != http.StatusOK {
			t.Fatalf("login %d of %s: want 200\n%s", i+1, appA, res)
		}
	}
	calls := e.sim.Simulator().Calls()
	const last = "198.51.100.99"
	// 3/m gives one back every 20 s.
	wantRateLimited(t, wechatLogin(t, e.api, last, "dev-user9", appA), "auth-app", "q=3;w=60", 20)
	if got := e.sim.Simulator().Calls(); got != calls {
		t.Errorf("the refused login called WeChat (%d calls, want %d)", got, calls)
	}
	if res := wechatLogin(t, e.api, last, "dev-user9", appB); res.Status != http.StatusOK {
		t.Errorf("a login to the other mini-program from the same address: want 200\n%s", res)
	}
	// Still refused for appA however the AppID is spelt in a valid body;
	// an unknown AppID is still the use-case's 400, not a 429.
	wantRateLimited(t, from(t, e.api, "198.51.100.98", "POST", "/v1/auth/wechat", `{"appid":"`+appA+`","code":"dev-user8"}`),
		"auth-app", "q=3;w=60", 20)
	wantProblem(t, wechatLogin(t, e.api, last, "dev-mallory", "wx00000000000000ff"), http.StatusBadRequest, domain.CodeUnknownApp)

	if got, want := keys.apps(), []string{appA, appB}; !slices.Equal(got, want) {
		t.Errorf("budget keys of AppIDs %v, want only the served ones %v", got, want)
	}
	s := metricstest.ScrapeHandler(t, m.Handler())
	if got := s.Value("miniback_ratelimit_rejections_total", "group", "auth"); got != 2 {
		t.Errorf("rejections counted in group auth: %v, want 2", got)
	}
}

// With one mini-program served, a login that names no AppID is that
// mini-program's, and shares its budget with the logins that name it.
func TestALoginWithoutAppIDSpendsTheOnlyMiniProgramsBudget(t *testing.T) {
	e := newEnv(t, withRateLimits(t, "auth:app=2/m"))
	if res := wechatLogin(t, e.api, "198.51.100.1", "dev-alice", ""); res.Status != http.StatusOK {
		t.Fatalf("want 200\n%s", res)
	}
	if res := wechatLogin(t, e.api, "198.51.100.2", "dev-bob", appA); res.Status != http.StatusOK {
		t.Fatalf("want 200\n%s", res)
	}
	wantRateLimited(t, wechatLogin(t, e.api, "198.51.100.3", "dev-carol", ""), "auth-app", "q=2;w=60", 30)
	wantRateLimited(t, wechatLogin(t, e.api, "198.51.100.4", "dev-carol", appA), "auth-app", "q=2;w=60", 30)
}

// The address budget still comes first: one address cannot spend a
// mini-program's budget by itself, and a client over its address budget
// is refused by that one.
func TestTheAddressBudgetComesBeforeTheLoginsAppBudget(t *testing.T) {
	e := newEnv(t, withRateLimits(t, "auth:ip=2/m,app=3/m"))
	const ip = "198.51.100.7"
	for i := range 2 {
		if res := wechatLogin(t, e.api, ip, fmt.Sprintf("dev-user%d", i), ""); res.Status != http.StatusOK {
			t.Fatalf("login %d: want 200\n%s", i+1, res)
		}
	}
	wantRateLimited(t, wechatLogin(t, e.api, ip, "dev-user2", ""), "auth-ip", "q=2;w=60", 30)
	// The refused one spent nothing of the app budget: one is left.
	if res := wechatLogin(t, e.api, "198.51.100.8", "dev-user3", ""); res.Status != http.StatusOK {
		t.Fatalf("another address: want 200\n%s", res)
	}
	wantRateLimited(t, wechatLogin(t, e.api, "198.51.100.9", "dev-user4", ""), "auth-app", "q=3;w=60", 20)
}

// A Cloud Hosting login calls no WeChat API (the gateway vouched for the
// caller): it spends nothing of the WeChat login's per-AppID budget, and
// is not refused by it.
func TestCloudRunLoginsDoNotSpendTheWeChatLoginBudget(t *testing.T) {
	e := newEnv(t, withCloudRun(), withRateLimits(t, "auth:app=1/m"))
	if res := wechatLogin(t, e.api, "198.51.100.1", "dev-alice", ""); res.Status != http.StatusOK {
		t.Fatalf("want 200\n%s", res)
	}
	for _, name := range []string{"alice", "bob", "carol"} {
		e.cloudRunLogin(t, gateway(appA, name)...)
	}
	wantRateLimited(t, wechatLogin(t, e.api, "198.51.100.2", "dev-bob", ""), "auth-app", "q=1;w=60", 60)
}

// Binding WeChat (POST /v1/me/wechat) exchanges a code for the
// mini-program its body names: the wechat group's app budget counts it
// against that AppID, even for a password account, whose token names no
// mini-program.
func TestBindingWeChatSpendsTheBoundMiniProgramsBudget(t *testing.T) {
	e := newEnv(t, withApps(appA, appB), withRateLimits(t, "wechat:ip=off,user=off,app=1/m"))
	alice := e.register(t, "alice", "alice@example.com", alicePassword)
	bob := e.register(t, "bob", "bob@example.com", alicePassword)
	bind := func(token, code, appid string) *apitest.Response {
		return e.api.JSON("POST", "/v1/me/wechat", map[string]string{"code": code, "appid": appid}, bearer(token))
	}
	if res := bind(alice.AccessToken, "dev-alicewx", appA); res.Status != http.StatusOK {
		t.Fatalf("alice binds %s: want 200\n%s", appA, res)
	}
	calls := e.sim.Simulator().Calls()
	wantRateLimited(t, bind(bob.AccessToken, "dev-bobwx", appA), "wechat-app", "q=1;w=60", 60)
	if got := e.sim.Simulator().Calls(); got != calls {
		t.Errorf("the refused bind called WeChat (%d calls, want %d)", got, calls)
	}
	if res := bind(bob.AccessToken, "dev-bobwx", appB); res.Status != http.StatusOK {
		t.Errorf("bob binds %s: want 200\n%s", appB, res)
	}
	// Nor is the token's own AppID what a bind spends: a WeChat user of
	// appB binding appA is refused by appA's budget.
	res := e.api.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-carol", "appid": appB})
	if res.Status != http.StatusOK {
		t.Fatalf("carol logs in to %s: want 200\n%s", appB, res)
	}
	var carol loginResponse
	res.Decode(&carol)
	wantRateLimited(t, bind(carol.AccessToken, "dev-carolwx", appA), "wechat-app", "q=1;w=60", 60)
}

// Through Redis, the replicas share one budget per mini-program: N logins
// spread over two replicas and N addresses fill it, the next is refused on
// either, and the other mini-program still logs in.
func TestPerAppLoginBudgetIsSharedThroughRedisByReplicas(t *testing.T) {
	url, prefix := redistest.Shared(t)
	limiter := func() ratelimit.Options {
		client, err := ratelimit.OpenRedis(url, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = client.Close() })
		return ratelimit.Options{Backend: ratelimit.NewRedis(client, ratelimit.RedisOptions{Prefix: prefix}), Shared: true}
	}
	const policy = "auth:app=4/m"
	e := newEnv(t, withApps(appA, appB), withRateLimits(t, policy, limiter()))
	// The second replica has its own limiter on the same Redis.
	withRateLimits(t, policy, limiter())(&e.cfg)
	replicas := []*apitest.Client{e.api, e.newInstance(t, e.keys).api}
	for i := range 4 {
		if res := wechatLogin(t, replicas[i%2], fmt.Sprintf("198.51.100.%d", 10+i), fmt.Sprintf("dev-user%d", i), appA); res.Status != http.StatusOK {
			t.Fatalf("login %d through replica %d: want 200\n%s", i+1, i%2+1, res)
		}
	}
	calls := e.sim.Simulator().Calls()
	for i, c := range replicas {
		wantRateLimited(t, wechatLogin(t, c, fmt.Sprintf("198.51.100.%d", 50+i), "dev-user9", appA), "auth-app", "q=4;w=60", 0)
	}
	if got := e.sim.Simulator().Calls(); got != calls {
		t.Errorf("the refused logins called WeChat (%d calls, want %d)", got, calls)
	}
	for i, c := range replicas {
		if res := wechatLogin(t, c, "198.51.100.60", fmt.Sprintf("dev-other%d", i), appB); res.Status != http.StatusOK {
			t.Errorf("a login to the other mini-program through replica %d: want 200\n%s", i+1, res)
		}
	}
}
