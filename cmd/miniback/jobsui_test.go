package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/miniback/miniback/adapters/metrics/metricstest"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
)

func TestRiverUIIsServedOnTheMetricsListenerOnlyWhenConfigured(t *testing.T) {
	pgtest.SkipIfShort(t, "starts miniback")
	m, apiURL := startMain(t, "MINIBACK_METRICS_ADDR=127.0.0.1:0", "MINIBACK_JOBS_UI=true")
	metricsURL := "http://" + m.MetricsAddr().String()
	status, body := get(t, metricsURL+"/riverui/")
	if status != http.StatusOK || !strings.Contains(strings.ToLower(body), "<html") {
		t.Fatalf("metrics GET /riverui/ = %d %.200q, want the UI's page", status, body)
	}
	if status, body := get(t, metricsURL+"/riverui/api/jobs?state=completed&limit=5"); status != http.StatusOK || !strings.Contains(body, "data") {
		t.Errorf("metrics GET /riverui/api/jobs = %d %.200q, want river's job list", status, body)
	}
	// Never on the public listener.
	if status, _ := get(t, apiURL+"/riverui/"); status != http.StatusNotFound {
		t.Errorf("API GET /riverui/ = %d, want 404", status)
	}
	// The queue's gauges are scraped from the database.
	s := metricstest.ScrapeURL(t, metricsURL+"/metrics")
	if !s.Has("miniback_jobs_queue_depth") {
		t.Error("miniback_jobs_queue_depth missing")
	}

	off, _ := startMain(t, "MINIBACK_METRICS_ADDR=127.0.0.1:0")
	if status, _ := get(t, "http://"+off.MetricsAddr().String()+"/riverui/"); status != http.StatusNotFound {
		t.Errorf("without MINIBACK_JOBS_UI, metrics GET /riverui/ = %d, want 404", status)
	}
}
