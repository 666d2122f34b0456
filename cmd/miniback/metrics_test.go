package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/riverqueue/river"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/adapters/httpapi/apitest"
	"github.com/miniback/miniback/adapters/jobs"
	"github.com/miniback/miniback/adapters/metrics/metricstest"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/adapters/wechat/wechatsim"
)

func TestMetricsAddressDefaultsAndValidation(t *testing.T) {
	for _, tt := range []struct {
		env         []string
		addr        string
		isDefault   bool
		wantErr     string
		description string
	}{
		{nil, "127.0.0.1:9090", true, "", "development: loopback"},
		{productionEnv, ":9090", true, "", "production: every interface, for the scraper"},
		{[]string{"MINIBACK_METRICS_ADDR=off"}, "", false, "", "off"},
		{append(slices.Clone(productionEnv), "MINIBACK_METRICS_ADDR=off"), "", false, "", "off in production"},
		{[]string{"MINIBACK_METRICS_ADDR=10.0.0.5:9102"}, "10.0.0.5:9102", false, "", "an explicit address"},
		{[]string{"MINIBACK_METRICS_ADDR=9090"}, "", false, "MINIBACK_METRICS_ADDR must be host:port", "a bare port"},
		{[]string{"MINIBACK_ADDR=:8080", "MINIBACK_METRICS_ADDR=:8080"}, "", false, "MINIBACK_METRICS_ADDR must differ from MINIBACK_ADDR", "the API's port"},
		{[]string{"MINIBACK_DEBUG_ADDR=127.0.0.1:6060", "MINIBACK_METRICS_ADDR=127.0.0.1:6060"}, "", false, "must differ from MINIBACK_DEBUG_ADDR", "the debug port"},
	} {
		cfg, err := LoadConfig(tt.env)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: LoadConfig = %v, want %q", tt.description, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.description, err)
			continue
		}
		if addr, isDefault := cfg.metricsAddr(); addr != tt.addr || isDefault != tt.isDefault {
			t.Errorf("%s: metrics address %q (default %t), want %q (%t)", tt.description, addr, isDefault, tt.addr, tt.isDefault)
		}
	}
}

func TestMetricsListenerServesOnlyMetricsOnItsOwnAddress(t *testing.T) {
	pgtest.SkipIfShort(t, "starts miniback")
	m, apiURL := startMain(t, "MINIBACK_METRICS_ADDR=127.0.0.1:0")
	if m.MetricsAddr() == nil {
		t.Fatal("no metrics listener with MINIBACK_METRICS_ADDR set")
	}
	metricsURL := "http://" + m.MetricsAddr().String()
	if metricsURL == apiURL {
		t.Fatalf("the metrics listener shares the API's address %s", apiURL)
	}
	c := apitest.NewRemote(t, apiURL)
	if login := c.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-alice"}); login.Status != http.StatusOK {
		t.Fatalf("login: %s", login)
	}

	s := metricstest.ScrapeURL(t, metricsURL+"/metrics")
	if got := s.Value("miniback_http_requests_total", "route", "/v1/auth/wechat", "method", "POST", "code", "200"); got != 1 {
		t.Errorf("logins counted: %v, want 1", got)
	}
	if got := s.Value("miniback_wechat_calls_total", "api", "code2session", "outcome", "ok"); got != 1 {
		t.Errorf("code2session calls counted: %v, want 1", got)
	}
	if got := s.Value("miniback_db_pool_max_connections"); got < 1 {
		t.Errorf("pool max connections: %v", got)
	}
	if lag := s.Value("miniback_revocation_feed_lag_seconds"); !(lag >= 0 && lag < 60) {
		t.Errorf("revocation feed lag %v s, want a fresh read", lag)
	}
	if !s.Has("go_goroutines") || !s.Has("process_resident_memory_bytes") {
		t.Error("the Go runtime's and the process's metrics are missing")
	}

	// Metrics never go on the API, and the metrics listener serves
	// nothing of the API.
	for _, path := range []string{"/metrics", "/metrics/", "/debug/vars"} {
		if status, _ := get(t, apiURL+path); status != http.StatusNotFound {
			t.Errorf("API GET %s = %d, want 404", path, status)
		}
	}
	for _, path := range []string{"/v1/me", "/healthz", "/", "/debug/pprof/"} {
		if status, _ := get(t, metricsURL+path); status != http.StatusNotFound {
			t.Errorf("metrics GET %s = %d, want 404", path, status)
		}
	}
}

func TestMetricsOffServesAndRecordsNothing(t *testing.T) {
	pgtest.SkipIfShort(t, "starts miniback")
	m, apiURL := startMain(t, "MINIBACK_METRICS_ADDR=off")
	if m.MetricsAddr() != nil || m.metrics != nil {
		t.Errorf("metrics on %v with MINIBACK_METRICS_ADDR=off", m.MetricsAddr())
	}
	if status, _ := get(t, apiURL+"/metrics"); status != http.StatusNotFound {
		t.Errorf("API GET /metrics = %d, want 404", status)
	}
}

func TestTheDevelopmentDefaultMovesToAFreePortWhenItsPortIsTaken(t *testing.T) {
	pgtest.SkipIfShort(t, "starts miniback")
	// Hold the default port (or find it held already: by Prometheus, or
	// another miniback).
	if ln, err := net.Listen("tcp", devMetricsAddr); err == nil {
		t.Cleanup(func() { _ = ln.Close() })
	}
	m, _ := startMain(t)
	if m.MetricsAddr() == nil {
		t.Fatal("no metrics listener on the development default")
	}
	if m.MetricsAddr().String() == devMetricsAddr {
		t.Fatalf("listening on the taken %s", devMetricsAddr)
	}
	if tcp := m.MetricsAddr().(*net.TCPAddr); !tcp.IP.IsLoopback() {
		t.Errorf("the fallback listens on %s, want loopback", tcp)
	}
	metricstest.ScrapeURL(t, "http://"+m.MetricsAddr().String()+"/metrics")
}

func TestAnExplicitMetricsAddressThatIsTakenStopsTheStart(t *testing.T) {
	pgtest.SkipIfShort(t, "starts miniback")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg, err := LoadConfig([]string{"DATABASE_URL=" + pgtest.NewURL(t), "MINIBACK_ADDR=127.0.0.1:0",
		"MINIBACK_DATA_DIR=" + t.TempDir(), "MINIBACK_METRICS_ADDR=" + ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	m := NewMain(cfg, &bytes.Buffer{})
	err = m.Run(t.Context())
	if closeErr := m.Close(); closeErr != nil {
		t.Errorf("close: %v", closeErr)
	}
	if err == nil || !strings.Contains(err.Error(), "MINIBACK_METRICS_ADDR") {
		t.Fatalf("Run with a taken metrics address = %v, want an error naming MINIBACK_METRICS_ADDR", err)
	}
}

// dashboardPath is the Grafana dashboard, from this package's directory.
const dashboardPath = "../../deploy/grafana/miniback.json"

// metricName finds the metric names in a PromQL expression: every one of
// ours starts with one of these prefixes, and no label name does.
var metricName = regexp.MustCompile(`\b(?:miniback|go|process|promhttp)_[a-zA-Z0-9_]+`)

// TestTheGrafanaDashboardQueriesOnlyMetricsMinibackExposes drives a real
// miniback through everything it measures, scrapes its /metrics, and
// checks every query of deploy/grafana/miniback.json against what was
// exposed (a renamed metric leaves an empty panel, not an error), and
// that every miniback_ metric has a panel.
func TestTheGrafanaDashboardQueriesOnlyMetricsMinibackExposes(t *testing.T) {
	pgtest.SkipIfShort(t, "starts miniback")
	raw, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	exprs, err := dashboardExprs(raw)
	if err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}

	m, apiURL := startMain(t, "MINIBACK_METRICS_ADDR=127.0.0.1:0")
	metricsURL := "http://" + m.MetricsAddr().String() + "/metrics"
	exerciseEverythingMeasured(t, m, apiURL, metricsURL)
	s := metricstest.ScrapeURL(t, metricsURL)

	used := map[string]bool{}
	for _, e := range exprs {
		names := metricName.FindAllString(e, -1)
		if len(names) == 0 {
			t.Errorf("query %q names no metric", e)
		}
		for _, n := range names {
			family, ok := familyOf(s, n)
			if !ok {
				t.Errorf("query %q uses %s, which miniback does not expose", e, n)
			}
			used[family] = true
		}
	}
	for _, name := range s.Names() {
		if strings.HasPrefix(name, "miniback_") && !used[name] {
			t.Errorf("miniback exposes %s, which no panel shows", name)
		}
	}
}

// familyOf returns the family a name in a query belongs to: itself, or a
// histogram's or summary's _bucket, _sum or _count series.
func familyOf(s *metricstest.Scrape, name string) (string, bool) {
	if s.Has(name) {
		return name, true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok || !s.Has(base) {
			continue
		}
		switch s.Families[base].GetType() {
		case dto.MetricType_HISTOGRAM:
			return base, true
		case dto.MetricType_SUMMARY:
			return base, suffix != "_bucket"
		}
	}
	return name, false
}

// dashboardExprs returns every PromQL expression of a dashboard: the
// panels' targets (rows' nested panels included) and the variables'
// queries. A dashboard that is not Grafana's JSON model fails.
func dashboardExprs(raw []byte) ([]string, error) {
	type target struct {
		Expr string `json:"expr"`
	}
	type panel struct {
		Type    string   `json:"type"`
		Title   string   `json:"title"`
		Targets []target `json:"targets"`
		Panels  []panel  `json:"panels"`
	}
	var d struct {
		UID        string  `json:"uid"`
		Title      string  `json:"title"`
		Panels     []panel `json:"panels"`
		Templating struct {
			List []struct {
				Type  string          `json:"type"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&d); err != nil {
		return nil, err
	}
	if d.UID == "" || d.Title == "" || len(d.Panels) == 0 {
		return nil, errDashboard("no uid, title or panels")
	}
	var exprs []string
	var walk func([]panel) error
	walk = func(ps []panel) error {
		for _, p := range ps {
			if p.Type != "row" && len(p.Targets) == 0 {
				return errDashboard("panel " + p.Title + " has no query")
			}
			for _, t := range p.Targets {
				if strings.TrimSpace(t.Expr) == "" {
					return errDashboard("panel " + p.Title + " has an empty query")
				}
				exprs = append(exprs, t.Expr)
			}
			if err := walk(p.Panels); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(d.Panels); err != nil {
		return nil, err
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			var s string
			if json.Unmarshal(v.Query, &s) != nil {
				return nil, errDashboard("a variable's query is neither a string nor an object")
			}
			q.Query = s
		}
		exprs = append(exprs, q.Query)
	}
	return exprs, nil
}

type errDashboard string

func (e errDashboard) Error() string { return string(e) }

// exerciseEverythingMeasured makes a running miniback record into every
// instrument: requests (success, client error), a WeChat login and a
// token-bearing API call (phone number), an errcode, a completed upload,
// the access-token refresh the background makes at start. Rate-limit
// rejections are recorded through the limiter's observer, as the limiter
// records them (the limiter itself is driven in the rate-limit e2e tests).
func exerciseEverythingMeasured(t *testing.T, m *Main, apiURL, metricsURL string) {
	t.Helper()
	c := apitest.NewRemote(t, apiURL)
	login := c.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-alice"})
	if login.Status != http.StatusOK {
		t.Fatalf("login: %s", login)
	}
	var lr api.LoginResponse
	login.Decode(&lr)
	auth := "Authorization: Bearer " + lr.AccessToken
	if res := c.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "err-40029"}); res.Status != http.StatusUnauthorized {
		t.Fatalf("login with an invalid code: %s", res)
	}
	if res := c.JSON("POST", "/v1/me/phone", map[string]string{"code": "phone-13800138000"}, auth); res.Status != http.StatusOK {
		t.Fatalf("bind a phone: %s", res)
	}

	file := []byte("hello, metrics")
	r := c.JSON("POST", "/v1/uploads", map[string]any{"purpose": "attachment", "content_type": "text/plain", "size": len(file)}, auth)
	if r.Status != http.StatusCreated {
		t.Fatalf("ticket: %s", r)
	}
	var tk api.UploadTicket
	r.Decode(&tk)
	req, err := http.NewRequest(http.MethodPut, tk.PutUrl, bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range tk.PutHeaders {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		t.Fatalf("PUT the file: %d", res.StatusCode)
	}
	if done := c.JSON("POST", "/v1/uploads/"+tk.Id.String()+"/complete", nil, auth); done.Status != http.StatusOK {
		t.Fatalf("complete: %s", done)
	}

	// A job due in an hour (miniback_jobs) and one finished attempt
	// (miniback_jobs_finished_total, which river's events feed).
	if _, err := m.Jobs.Client().Insert(context.Background(), jobs.MaintenanceArgs{Task: "metrics test"},
		&river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	m.metrics.JobFinished(jobs.MaintenanceArgs{}.Kind(), jobs.OutcomeCompleted)
	m.metrics.RateLimits().Rejected("login")
	m.metrics.RateLimits().FailedOpen("login")

	// The background fetched the simulator app's token at start; wait
	// (bounded) for that refresh to be recorded.
	deadline := time.Now().Add(20 * time.Second)
	for metricstest.ScrapeURL(t, metricsURL).Value("miniback_wechat_token_refreshes_total",
		"appid", wechatsim.DefaultAppID, "outcome", "ok") < 1 {
		if time.Now().After(deadline) {
			t.Fatal("no access-token refresh recorded 20 s after start")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
