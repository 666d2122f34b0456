package metrics_test

import (
	"testing"

	"github.com/miniback/miniback/adapters/metrics"
	"github.com/miniback/miniback/adapters/metrics/metricstest"
)

func TestWeChatBreakerStateIsAGaugeByAppAndAPI(t *testing.T) {
	m := metrics.New()
	m.WeChatBreaker("wxa", "code2session", "closed", "open")
	m.WeChatBreaker("wxb", "msg_sec_check", "closed", "open")
	m.WeChatBreaker("wxb", "msg_sec_check", "open", "half-open")
	s := metricstest.ScrapeHandler(t, m.Handler())
	const state = "miniback_wechat_breaker_state"
	if got := s.Value(state, "appid", "wxa", "api", "code2session"); got != 2 {
		t.Errorf("wxa code2session = %v, want 2 (open)", got)
	}
	if got := s.Value(state, "appid", "wxb", "api", "msg_sec_check"); got != 1 {
		t.Errorf("wxb msg_sec_check = %v, want 1 (half-open)", got)
	}
	m.WeChatBreaker("wxa", "code2session", "half-open", "closed")
	if got := metricstest.ScrapeHandler(t, m.Handler()).Value(state, "appid", "wxa", "api", "code2session"); got != 0 {
		t.Errorf("closed again = %v, want 0", got)
	}
	var none *metrics.Metrics
	none.WeChatBreaker("wxa", "code2session", "closed", "open") // a nil Metrics records nothing
}
