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
