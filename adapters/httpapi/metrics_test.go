package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/adapters/metrics"
	"github.com/miniback/miniback/adapters/metrics/metricstest"
	"github.com/miniback/miniback/adapters/wechat"
	"github.com/miniback/miniback/domain"
)

// withMetrics records the API's requests and its WeChat calls into m.
func withMetrics(m *metrics.Metrics) option { return func(c *config) { c.metrics = m } }

// observer is the WeChat client's observer: the metrics, or none (a nil
// *metrics.Metrics must not become a non-nil interface).
func (c config) observer() wechat.Observer {
	if c.metrics == nil {
		return nil
	}
	return c.metrics
}

// serve sends a request straight to the handler, for what apitest does
// not send (an unknown method).
func serve(e *env, method, path string) int {
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Code
}

func TestMetricsCountEveryRequestByRouteTemplateMethodAndStatus(t *testing.T) {
	m := metrics.New()
	e := newEnv(t, withMetrics(m))
	l := e.login(t, "dev-alice")
	for range 2 {
		if res := e.api.Get("/v1/me", bearer(l.AccessToken)); res.Status != http.StatusOK {
			t.Fatalf("GET /v1/me: %s", res)
		}
	}
	if res := e.api.Head("/v1/me", bearer(l.AccessToken)); res.Status != http.StatusOK {
		t.Fatalf("HEAD /v1/me: %s", res)
	}
	if res := e.api.Get("/v1/me"); res.Status != http.StatusUnauthorized {
		t.Fatalf("GET /v1/me without a token: %s", res)
	}
	const todoID = "5b0c7a52-1d3e-4f6a-9b8c-7d6e5f4a3b2c"
	if res := e.api.Get("/v1/todos/"+todoID, bearer(l.AccessToken)); res.Status != http.StatusNotFound {
		t.Fatalf("GET someone's todo: %s", res)
	}
	const rawPath = "/no-such-path/4f1e9a77c3"
	if res := e.api.Get(rawPath); res.Status != http.StatusNotFound {
		t.Fatalf("GET %s: %s", rawPath, res)
	}
	if status := serve(e, "BREW", "/v1/me"); status != http.StatusMethodNotAllowed {
		t.Fatalf("BREW /v1/me = %d, want 405", status)
	}
	// Metrics are never served on the API.
	if res := e.api.Get("/metrics"); res.Status != http.StatusNotFound {
		t.Fatalf("GET /metrics on the API = %d, want 404", res.Status)
	}

	s := metricstest.ScrapeHandler(t, m.Handler())
	const requests, duration = "miniback_http_requests_total", "miniback_http_request_duration_seconds"
	for _, c := range []struct {
		route, method, code string
		want                float64
	}{
		{"/v1/auth/wechat", "POST", "200", 1},
		{"/v1/me", "GET", "200", 2},
		{"/v1/me", "HEAD", "200", 1},
		{"/v1/me", "GET", "401", 1},
		{"/v1/todos/{id}", "GET", "404", 1},
		{metrics.UnmatchedRoute, "GET", "404", 2}, // the raw path, and /metrics
		{metrics.UnmatchedRoute, "other", "405", 1},
	} {
		if got := s.Value(requests, "route", c.route, "method", c.method, "code", c.code); got != c.want {
			t.Errorf("%s{route=%q,method=%q,code=%q} = %v, want %v", requests, c.route, c.method, c.code, got, c.want)
		}
	}
	if got := s.Value(duration, "route", "/v1/me", "method", "GET", "status_class", "2xx"); got != 2 {
		t.Errorf("%s{route=/v1/me,GET,2xx} counted %v, want 2", duration, got)
	}
	if got := s.Value(duration, "route", "/v1/me", "method", "GET", "status_class", "4xx"); got != 1 {
		t.Errorf("%s{route=/v1/me,GET,4xx} counted %v, want 1", duration, got)
	}
	if got := s.Value("miniback_http_requests_in_flight"); got != 0 {
		t.Errorf("requests in flight after every answer: %v, want 0", got)
	}

	// Labels are templates: no raw path, id or identity reaches them.
	spec, err := api.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	for _, route := range s.LabelValues(requests, "route") {
		if route != metrics.UnmatchedRoute && spec.Paths.Find(route) == nil && !strings.HasPrefix(route, "/docs") {
			t.Errorf("route label %q is neither a path of the spec nor %q", route, metrics.UnmatchedRoute)
		}
	}
	for _, method := range s.LabelValues(requests, "method") {
		if !slices.Contains([]string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}, method) {
			t.Errorf("method label %q", method)
		}
	}
	for _, secret := range []string{todoID, "no-such-path", "4f1e9a77c3", "BREW", l.User.ID, l.AccessToken, l.RefreshToken} {
		if strings.Contains(s.Text, secret) {
			t.Errorf("the scrape contains %q", secret)
		}
	}
}

func TestMetricsCountARecoveredPanicAsA500(t *testing.T) {
	m := metrics.New()
	e := newEnv(t, expecting500(), withMetrics(m), withProfileStore(storeFake{
		getUser: func(context.Context, domain.UserID) (domain.User, error) { panic("boom") },
	}))
	token := e.login(t, "dev-alice").AccessToken
	if res := e.api.Get("/v1/me", bearer(token)); res.Status != http.StatusInternalServerError {
		t.Fatalf("GET /v1/me with a panicking store: %s", res)
	}
	s := metricstest.ScrapeHandler(t, m.Handler())
	if got := s.Value("miniback_http_requests_total", "route", "/v1/me", "method", "GET", "code", "500"); got != 1 {
		t.Errorf("the panic's 500 counted %v times, want 1", got)
	}
	if got := s.Value("miniback_http_request_duration_seconds", "route", "/v1/me", "status_class", "5xx"); got != 1 {
		t.Errorf("the panic's duration observed %v times, want 1", got)
	}
	if got := s.Value("miniback_http_requests_in_flight", "route", "/v1/me"); got != 0 {
		t.Errorf("in flight after the panic: %v, want 0", got)
	}
}

func TestMetricsCountWeChatCallsByAPIOutcomeAndErrcode(t *testing.T) {
	m := metrics.New()
	e := newEnv(t, withMetrics(m))
	l := e.login(t, "dev-alice")
	if res := e.api.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "err-40029"}); res.Status != http.StatusUnauthorized {
		t.Fatalf("login with an invalid code: %s", res)
	}
	if res := e.bindPhone(l.AccessToken, "phone-13800138000"); res.Status != http.StatusOK {
		t.Fatalf("bind a phone: %s", res)
	}
	if res := e.bindPhone(l.AccessToken, "err-40163"); res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bind a phone with a used code: %s", res)
	}

	s := metricstest.ScrapeHandler(t, m.Handler())
	const calls = "miniback_wechat_calls_total"
	for _, c := range []struct {
		api, outcome, errcode string
		want                  float64
	}{
		{"code2session", "ok", "", 1},
		{"code2session", "errcode", "40029", 1},
		{"getuserphonenumber", "ok", "", 1},
		{"getuserphonenumber", "errcode", "40163", 1},
		{"stable_token", "ok", "", 1}, // the phone API's token, fetched once
	} {
		if got := s.Value(calls, "api", c.api, "outcome", c.outcome, "errcode", c.errcode); got != c.want {
			t.Errorf("%s{api=%q,outcome=%q,errcode=%q} = %v, want %v", calls, c.api, c.outcome, c.errcode, got, c.want)
		}
	}
	if got := s.Value("miniback_wechat_call_duration_seconds", "api", "code2session"); got != 2 {
		t.Errorf("code2session durations observed %v, want 2", got)
	}
	// Nothing of the exchange but its API and errcode: no secret, code,
	// openid, session_key or phone number.
	for _, secret := range []string{secretA, "dev-alice", "err-40029", "13800138000", "session_key", "openid", l.User.ID} {
		if strings.Contains(s.Text, secret) {
			t.Errorf("the scrape contains %q", secret)
		}
	}
	e.seen.mu.Lock()
	keys := slices.Clone(e.seen.sessionKeys)
	e.seen.mu.Unlock()
	for _, k := range keys {
		if strings.Contains(s.Text, k) {
			t.Error("the scrape contains a session_key")
		}
	}
}

func TestMetricsCountCompletedUploadBytesOnce(t *testing.T) {
	m := metrics.New()
	e := newEnv(t, withMetrics(m))
	token := e.login(t, "dev-alice").AccessToken
	data := bytes.Repeat([]byte("a"), 1234)
	id := e.readyUpload(t, token, "attachment", "text/plain", data)
	// Completing a ready upload again answers it as it is: not another
	// upload.
	if status, _, code := e.complete(t, token, id); status != http.StatusOK {
		t.Fatalf("complete again: %d %s", status, code)
	}
	s := metricstest.ScrapeHandler(t, m.Handler())
	if got := s.Value("miniback_upload_completed_bytes_total", "purpose", "attachment"); got != float64(len(data)) {
		t.Errorf("upload bytes = %v, want %d", got, len(data))
	}
	if got := s.Value("miniback_uploads_completed_total", "purpose", "attachment"); got != 1 {
		t.Errorf("uploads completed = %v, want 1", got)
	}
	if got := s.Value("miniback_http_requests_total", "route", "/v1/uploads/{id}/complete", "code", "200"); got != 2 {
		t.Errorf("complete requests = %v, want 2", got)
	}
}
