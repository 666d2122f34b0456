package httpapi_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/wechat"
	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/domain"
)

// TestOpenWeChatBreakerAnswers503WechatUnavailableWithRetryAfter drives
// logins through the real router while WeChat answers -1: once the
// breaker of (appA, code2Session) opens, a login is 503
// wechat_unavailable with Retry-After (the breaker's remaining open time)
// and reaches WeChat no more; apitest checks each answer against the spec.
func TestOpenWeChatBreakerAnswers503WechatUnavailableWithRetryAfter(t *testing.T) {
	r := wechat.DefaultResilience()
	r.Retry.Retries = 0
	r.Breaker = wechat.BreakerSettings{ConsecutiveFailures: 3, OpenFor: 10 * time.Minute, Probes: 1}
	e := newEnv(t, withWeChatResilience(r))
	sim := e.sim.Simulator()
	sim.InjectError(wechatsim.APICode2Session, appA, -1, 100)

	for i := range 3 {
		res := e.api.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-alice"})
		if res.Status != http.StatusServiceUnavailable || res.Problem().Code != string(domain.CodeWeChatBusy) {
			t.Fatalf("login %d: want 503 wechat_busy\n%s", i+1, res)
		}
	}
	res := e.api.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-alice"})
	if res.Status != http.StatusServiceUnavailable {
		t.Fatalf("want 503\n%s", res)
	}
	p := res.Problem()
	if p.Code != string(domain.CodeWeChatUnavailable) || p.Title != "WeChat unavailable" ||
		p.Type != "https://miniback.dev/problems/wechat_unavailable" || p.Detail == nil || *p.Detail == "" {
		t.Errorf("problem %+v, want wechat_unavailable with a detail", p)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q", ct)
	}
	secs, err := strconv.Atoi(res.Header.Get("Retry-After"))
	if err != nil || secs < 590 || secs > 600 {
		t.Errorf("Retry-After %q, want the breaker's remaining open time (about 600 s)", res.Header.Get("Retry-After"))
	}
	if n := sim.CallsTo(wechatsim.APICode2Session); n != 3 {
		t.Errorf("code2Session called %d times, want 3: the open breaker sent nothing", n)
	}
}

// TestWeChatQuota45011IsRetriedThenAnswers429AndOpensOnlyAnAppIDWideBreaker
// runs the deployed retries and breakers (wechat.DefaultResilience, real
// backoffs) through the router against WeChat answering 45011 to every
// attempt: a login (code2Session, a per-user quota) is sent three times
// and answers 429 wechat_rate_limited with Retry-After 60 however often it
// is tried; binding a phone (getuserphonenumber, the AppID's quota) does
// too until five 45011s in a row open its breaker, and then answers 503
// wechat_unavailable at once, sending nothing.
func TestWeChatQuota45011IsRetriedThenAnswers429AndOpensOnlyAnAppIDWideBreaker(t *testing.T) {
	e := newEnv(t, withWeChatResilience(wechat.DefaultResilience()))
	sim := e.sim.Simulator()
	l := e.login(t, "dev-alice")
	logins := sim.CallsTo(wechatsim.APICode2Session)

	for i := range 3 {
		res := e.api.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "err-45011"})
		if res.Status != http.StatusTooManyRequests || res.Problem().Code != string(domain.CodeWeChatRateLimited) || res.Header.Get("Retry-After") != "60" {
			t.Fatalf("login %d: want 429 wechat_rate_limited with Retry-After 60\n%s", i+1, res)
		}
		if i == 0 {
			if n := sim.CallsTo(wechatsim.APICode2Session) - logins; n != 3 {
				t.Errorf("code2Session reached %d times by one login, want 3 (1 + 2 retries)", n)
			}
		}
	}

	phones := sim.CallsTo(wechatsim.APIGetUserPhoneNumber)
	for i := range 2 {
		res := e.bindPhone(l.AccessToken, "err-45011")
		if res.Status != http.StatusTooManyRequests || res.Problem().Code != string(domain.CodeWeChatRateLimited) || res.Header.Get("Retry-After") != "60" {
			t.Fatalf("phone %d: want 429 wechat_rate_limited with Retry-After 60\n%s", i+1, res)
		}
	}
	if n := sim.CallsTo(wechatsim.APIGetUserPhoneNumber) - phones; n != 5 {
		t.Errorf("getuserphonenumber reached %d times, want 5 (3, then 2 until the breaker opened)", n)
	}
	res := e.bindPhone(l.AccessToken, "phone-13800138000")
	if res.Status != http.StatusServiceUnavailable || res.Problem().Code != string(domain.CodeWeChatUnavailable) {
		t.Fatalf("phone with the breaker open: want 503 wechat_unavailable\n%s", res)
	}
	if secs, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || secs < 20 || secs > 30 {
		t.Errorf("Retry-After %q, want the breaker's remaining open time (under 30 s)", res.Header.Get("Retry-After"))
	}
	if n := sim.CallsTo(wechatsim.APIGetUserPhoneNumber) - phones; n != 5 {
		t.Errorf("getuserphonenumber reached %d times, want still 5: the open breaker sent nothing", n)
	}
	// The login breaker stayed closed through the per-user quota.
	e.login(t, "dev-bob")
}
