package metrics_test

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/miniback/miniback/adapters/metrics"
	"github.com/miniback/miniback/adapters/metrics/metricstest"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/adapters/wechat"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// populated returns metrics with a series in every family of miniback's
// own instruments.
func populated() *metrics.Metrics {
	m := metrics.New()
	r := m.Route("GET", "/v1/me")
	r.Begin()
	r.End(200, time.Millisecond)
	m.WeChatCall(wechat.Call{API: "code2session", Outcome: wechat.CallErrcode, Errcode: 40029, Duration: 80 * time.Millisecond})
	m.TokenRefresh(wechat.Refresh{App: "wx00000000000000a1", Mode: wechat.RefreshNormal, Reason: "ahead", Outcome: wechat.RefreshOK})
	m.WeChatBreaker("wx00000000000000a1", "code2session", "closed", "open")
	m.UploadCompleted("avatar", 2048)
	m.RateLimits().Rejected("login")
	m.RateLimits().FailedOpen("login")
	m.WatchRevocations(time.Now)
	return m
}

func TestEveryMetricFollowsPrometheusConventions(t *testing.T) {
	problems, err := testutil.GatherAndLint(populated().Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
	s := metricstest.ScrapeHandler(t, populated().Handler())
	for _, name := range s.Names() {
		if !strings.HasPrefix(name, "miniback_") && !strings.HasPrefix(name, "go_") &&
			!strings.HasPrefix(name, "process_") && !strings.HasPrefix(name, "promhttp_") {
			t.Errorf("metric %s has none of the prefixes miniback_, go_, process_, promhttp_", name)
		}
	}
	for _, want := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "go_gc_duration_seconds", "process_cpu_seconds_total",
		"process_resident_memory_bytes", "go_build_info"} {
		if !s.Has(want) {
			t.Errorf("the runtime's %s is not exposed", want)
		}
	}
}

func TestHandlerServesTheTextFormatAndOpenMetricsOnRequest(t *testing.T) {
	h := populated().Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q, want the text format", ct)
	}
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text") || !strings.HasSuffix(rec.Body.String(), "# EOF\n") {
		t.Errorf("OpenMetrics: Content-Type %q, body ends %q", ct, rec.Body.String()[max(0, rec.Body.Len()-20):])
	}
}

func TestARouteExportsNothingUntilUsedThenCountsByCodeAndClass(t *testing.T) {
	m := metrics.New()
	r := m.Route("POST", "/v1/todos")
	if s := metricstest.ScrapeHandler(t, m.Handler()); s.Has("miniback_http_requests_in_flight") || s.Has("miniback_http_requests_total") {
		t.Fatal("an unused route exports series")
	}
	r.Begin()
	r.Begin()
	if got := metricstest.ScrapeHandler(t, m.Handler()).Value("miniback_http_requests_in_flight", "route", "/v1/todos"); got != 2 {
		t.Errorf("in flight = %v, want 2", got)
	}
	r.End(201, 3*time.Millisecond)
	r.End(422, 40*time.Millisecond)
	for range 3 {
		r.Begin()
		r.End(201, time.Millisecond)
	}
	s := metricstest.ScrapeHandler(t, m.Handler())
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"miniback_http_requests_in_flight", []string{"route", "/v1/todos", "method", "POST"}, 0},
		{"miniback_http_requests_total", []string{"route", "/v1/todos", "method", "POST", "code", "201"}, 4},
		{"miniback_http_requests_total", []string{"route", "/v1/todos", "method", "POST", "code", "422"}, 1},
		{"miniback_http_request_duration_seconds", []string{"route", "/v1/todos", "status_class", "2xx"}, 4},
		{"miniback_http_request_duration_seconds", []string{"route", "/v1/todos", "status_class", "4xx"}, 1},
	} {
		if got := s.Value(c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// A second recorder of the same route adds to the same series.
	r2 := m.Route("POST", "/v1/todos")
	r2.Begin()
	r2.End(201, time.Millisecond)
	if got := metricstest.ScrapeHandler(t, m.Handler()).Value("miniback_http_requests_total", "code", "201"); got != 5 {
		t.Errorf("after a second recorder: %v, want 5", got)
	}
}

func TestWeChatCallsAreCountedByAPIOutcomeAndABoundedSetOfErrcodes(t *testing.T) {
	m := metrics.New()
	m.WeChatCall(wechat.Call{API: "stable_token", Outcome: wechat.CallOK, Duration: 30 * time.Millisecond})
	m.WeChatCall(wechat.Call{API: "stable_token", Outcome: wechat.CallTimeout, Duration: 5 * time.Second})
	for code := range 100 { // a misbehaving proxy's made-up errcodes
		m.WeChatCall(wechat.Call{API: "msg_sec_check", Outcome: wechat.CallErrcode, Errcode: 90000 + code})
	}
	m.WeChatCall(wechat.Call{API: "msg_sec_check", Outcome: wechat.CallErrcode, Errcode: 90000}) // seen: still its own
	s := metricstest.ScrapeHandler(t, m.Handler())
	const calls = "miniback_wechat_calls_total"
	if got := s.Value(calls, "api", "stable_token", "outcome", "timeout", "errcode", ""); got != 1 {
		t.Errorf("stable_token timeouts = %v, want 1", got)
	}
	codes := s.LabelValues(calls, "errcode")
	if len(codes) > 32+2 { // the bound, "other" and "" (stable_token's)
		t.Errorf("%d errcode labels, want at most 34: %v", len(codes), codes)
	}
	if got := s.Value(calls, "api", "msg_sec_check", "errcode", "other"); got != 100-32 {
		t.Errorf("errcodes past the bound = %v, want %d", got, 100-32)
	}
	if got := s.Value(calls, "api", "msg_sec_check", "errcode", strconv.Itoa(90000)); got != 2 {
		t.Errorf("errcode 90000 = %v, want 2", got)
	}
	if got := s.Value(calls, "api", "msg_sec_check"); got != 101 {
		t.Errorf("msg_sec_check calls = %v, want 101", got)
	}
	if got := s.Value("miniback_wechat_call_duration_seconds", "api", "stable_token"); got != 2 {
		t.Errorf("stable_token durations = %v, want 2", got)
	}
}

func TestTokenRefreshesAreCountedByAppModeReasonAndOutcome(t *testing.T) {
	m := metrics.New()
	m.TokenRefresh(wechat.Refresh{App: "wxa", Mode: wechat.RefreshNormal, Reason: "first", Outcome: wechat.RefreshOK})
	m.TokenRefresh(wechat.Refresh{App: "wxa", Mode: wechat.RefreshForced, Reason: "refused", Outcome: wechat.RefreshDenied})
	m.TokenRefresh(wechat.Refresh{App: "wxb", Mode: wechat.RefreshNormal, Reason: "ahead", Outcome: wechat.RefreshFailed})
	s := metricstest.ScrapeHandler(t, m.Handler())
	const refreshes = "miniback_wechat_token_refreshes_total"
	if got := s.Value(refreshes, "appid", "wxa"); got != 2 {
		t.Errorf("wxa refreshes = %v, want 2", got)
	}
	if got := s.Value(refreshes, "mode", "forced", "outcome", "denied"); got != 1 {
		t.Errorf("denied forced refreshes = %v, want 1", got)
	}
	if got := s.Value(refreshes, "appid", "wxb", "reason", "ahead", "outcome", "failed"); got != 1 {
		t.Errorf("wxb failed = %v, want 1", got)
	}
}

func TestRevocationFeedLagIsTheTimeSinceTheLastReadAtScrapeTime(t *testing.T) {
	m := metrics.New()
	last := time.Time{}
	m.WatchRevocations(func() time.Time { return last })
	const lag = "miniback_revocation_feed_lag_seconds"
	if got := metricstest.ScrapeHandler(t, m.Handler()).Value(lag); !math.IsNaN(got) {
		t.Errorf("before the first read: %v, want NaN", got)
	}
	last = time.Now().Add(-90 * time.Second)
	if got := metricstest.ScrapeHandler(t, m.Handler()).Value(lag); got < 90 || got > 100 {
		t.Errorf("90 s after the last read: %v", got)
	}
}

func TestRateLimitsCountRejectionsAndFailOpensByGroup(t *testing.T) {
	m := metrics.New()
	rl := m.RateLimits()
	rl.Rejected("login")
	rl.Rejected("login")
	rl.Rejected("api")
	rl.FailedOpen("api")
	s := metricstest.ScrapeHandler(t, m.Handler())
	if got := s.Value("miniback_ratelimit_rejections_total", "group", "login"); got != 2 {
		t.Errorf("login rejections = %v, want 2", got)
	}
	if got := s.Value("miniback_ratelimit_fail_open_total", "group", "api"); got != 1 {
		t.Errorf("api fail-opens = %v, want 1", got)
	}
}

func TestANilMetricsRecordsNothingAndDoesNotPanic(t *testing.T) {
	var m *metrics.Metrics
	m.WeChatCall(wechat.Call{API: "code2session", Outcome: wechat.CallOK})
	m.TokenRefresh(wechat.Refresh{App: "wxa"})
	m.UploadCompleted("avatar", 1)
	m.RateLimits().Rejected("login")
	m.RateLimits().FailedOpen("login")
}

func TestPoolStatisticsAreReadFromThePoolAtScrapeTime(t *testing.T) {
	pgtest.SkipIfShort(t, "needs PostgreSQL")
	db := pgtest.NewDB(t)
	m := metrics.New()
	m.WatchPool(db.Pool())
	ctx := context.Background()
	conn, err := db.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := metricstest.ScrapeHandler(t, m.Handler())
	if got := s.Value("miniback_db_pool_acquired_connections"); got != 1 {
		t.Errorf("acquired with one connection held = %v, want 1", got)
	}
	acquires := s.Value("miniback_db_pool_acquires_total")
	if acquires < 1 || s.Value("miniback_db_pool_max_connections") < 1 || s.Value("miniback_db_pool_total_connections") < 1 {
		t.Errorf("acquires %v, max %v, total %v", acquires, s.Value("miniback_db_pool_max_connections"), s.Value("miniback_db_pool_total_connections"))
	}
	conn.Release()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := db.Pool().Acquire(canceled); err == nil {
		t.Fatal("acquired with a canceled context")
	}
	s = metricstest.ScrapeHandler(t, m.Handler())
	if got := s.Value("miniback_db_pool_acquired_connections"); got != 0 {
		t.Errorf("acquired after release = %v, want 0", got)
	}
	if got := s.Value("miniback_db_pool_idle_connections"); got < 1 {
		t.Errorf("idle after release = %v, want at least 1", got)
	}
	if got := s.Value("miniback_db_pool_acquires_total"); got < acquires {
		t.Errorf("acquires went from %v to %v", acquires, got)
	}
	for _, name := range []string{"miniback_db_pool_acquire_duration_seconds_total", "miniback_db_pool_empty_acquires_total",
		"miniback_db_pool_canceled_acquires_total", "miniback_db_pool_empty_acquire_wait_seconds_total", "miniback_db_pool_constructing_connections",
		"miniback_db_pool_new_connections_total", "miniback_db_pool_max_lifetime_closed_total", "miniback_db_pool_max_idle_closed_total"} {
		if !s.Has(name) {
			t.Errorf("%s is not exposed", name)
		}
	}
}
