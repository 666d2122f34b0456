package metrics

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/miniback/miniback/adapters/wechat"
	"github.com/miniback/miniback/domain"
)

// WeChatBuckets are the bounds (seconds) of the WeChat call histogram:
// WeChat answers in tens of milliseconds from mainland China, in
// hundreds from abroad; the client gives up at MINIBACK_WECHAT_TIMEOUT
// (5 s by default).
var WeChatBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// maxErrcodes bounds the distinct errcode labels per API: WeChat's codes
// are a finite list, but a proxy or a misbehaving server could send any
// number; past the bound they are counted as "other".
const maxErrcodes = 32

var _ wechat.Observer = (*Metrics)(nil)

func (m *Metrics) newWeChat() {
	m.wechatCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "wechat", Name: "calls_total",
		Help: "Exchanges with WeChat's server APIs (each attempt of a retried call counts), by API, outcome (ok, errcode, timeout, unreachable, bad_response, canceled, error; breaker_open: refused by the open circuit breaker, nothing sent) and errcode (\"\" unless the outcome is errcode).",
	}, []string{"api", "outcome", "errcode"})
	m.wechatDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "wechat", Name: "call_duration_seconds",
		Help:    "Time of an exchange with WeChat, by API and outcome.",
		Buckets: WeChatBuckets,
	}, []string{"api", "outcome"})
	m.tokenRefreshes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "wechat", Name: "token_refreshes_total",
		Help: "Access-token refreshes this replica attempted through stable_token, by AppID, mode (normal, forced), reason (first, expired, ahead, refused) and outcome (ok, failed, denied: a forced refresh the shared budget refused).",
	}, []string{"appid", "mode", "reason", "outcome"})
	m.wechatBreakers = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Subsystem: "wechat", Name: "breaker_state",
		Help: "State of this replica's circuit breaker of each AppID and API that has changed state: 0 closed, 1 half-open (probing), 2 open (calls answer wechat_unavailable without reaching WeChat).",
	}, []string{"appid", "api"})
	m.wechatErrcodes.seen = map[string]map[int]struct{}{}
	m.reg.MustRegister(m.wechatCalls, m.wechatDuration, m.tokenRefreshes, m.wechatBreakers)
}

// breakerStates are the values of the breaker_state gauge.
var breakerStates = map[string]float64{"closed": 0, "half-open": 1, "open": 2}

// WeChatBreaker records a breaker's new state (wechat.Resilience's
// OnBreakerChange).
func (m *Metrics) WeChatBreaker(app domain.AppID, api, _, to string) {
	if m == nil {
		return
	}
	m.wechatBreakers.WithLabelValues(string(app), api).Set(breakerStates[to])
}

// WeChatCall counts one exchange with WeChat (wechat.Observer).
func (m *Metrics) WeChatCall(c wechat.Call) {
	if m == nil {
		return
	}
	code := ""
	if c.Outcome == wechat.CallErrcode {
		code = m.wechatErrcodes.label(c.API, c.Errcode)
	}
	m.wechatCalls.WithLabelValues(c.API, c.Outcome, code).Inc()
	m.wechatDuration.WithLabelValues(c.API, c.Outcome).Observe(c.Duration.Seconds())
}

// TokenRefresh counts one refresh attempt (wechat.Observer).
func (m *Metrics) TokenRefresh(r wechat.Refresh) {
	if m == nil {
		return
	}
	m.tokenRefreshes.WithLabelValues(string(r.App), r.Mode, r.Reason, r.Outcome).Inc()
}

// errcodeLabels keeps the errcodes seen per API, up to maxErrcodes.
type errcodeLabels struct {
	mu   sync.Mutex
	seen map[string]map[int]struct{}
}

// label is code's label value for api: the code, or "other" once api has
// maxErrcodes others.
func (e *errcodeLabels) label(api string, code int) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	codes := e.seen[api]
	if codes == nil {
		codes = map[int]struct{}{}
		e.seen[api] = codes
	}
	if _, ok := codes[code]; !ok {
		if len(codes) >= maxErrcodes {
			return "other"
		}
		codes[code] = struct{}{}
	}
	return strconv.Itoa(code)
}
