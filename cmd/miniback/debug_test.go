package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/postgres/pgtest"
)

// startMain runs miniback in-process on a fresh database with extra
// environment, and returns it with its API's base URL.
func startMain(t *testing.T, extra ...string) (*Main, string) {
	t.Helper()
	environ := append([]string{
		"DATABASE_URL=" + pgtest.NewURL(t),
		"MINIBACK_ADDR=127.0.0.1:0",
		"MINIBACK_DATA_DIR=" + t.TempDir(),
		"MINIBACK_LOG_LEVEL=error",
	}, extra...)
	cfg, err := LoadConfig(environ)
	if err != nil {
		t.Fatal(err)
	}
	m := NewMain(cfg, io.Discard)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := m.Run(ctx); err != nil {
		t.Fatal(errors.Join(err, m.Close()))
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return m, "http://" + m.Addr().String()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(body)
}

func TestDebugListenerIsOffByDefault(t *testing.T) {
	cfg, err := LoadConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DebugAddr != "" {
		t.Fatalf("MINIBACK_DEBUG_ADDR defaults to %q, want empty (off)", cfg.DebugAddr)
	}
	pgtest.SkipIfShort(t, "starts miniback")
	m, api := startMain(t)
	if m.DebugAddr() != nil {
		t.Errorf("a debug listener runs on %s with MINIBACK_DEBUG_ADDR unset", m.DebugAddr())
	}
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/profile?seconds=1", "/debug/pprof/allocs", "/debug/vars"} {
		if status, _ := get(t, api+path); status != http.StatusNotFound {
			t.Errorf("public GET %s = %d, want 404", path, status)
		}
	}
}

func TestDebugListenerServesPprofAndMemStatsOnlyOnItsOwnAddress(t *testing.T) {
	pgtest.SkipIfShort(t, "starts miniback")
	m, api := startMain(t, "MINIBACK_DEBUG_ADDR=127.0.0.1:0")
	if m.DebugAddr() == nil {
		t.Fatal("no debug listener with MINIBACK_DEBUG_ADDR set")
	}
	debug := "http://" + m.DebugAddr().String()
	if debug == api {
		t.Fatalf("the debug listener shares the API's address %s", api)
	}

	status, body := get(t, debug+"/debug/vars")
	var v debugVars
	if err := json.Unmarshal([]byte(body), &v); status != http.StatusOK || err != nil {
		t.Fatalf("GET /debug/vars = %d %q (%v)", status, body, err)
	}
	if v.MemStats.Mallocs == 0 || v.MemStats.HeapAlloc == 0 || v.MemStats.Sys == 0 || v.Goroutines == 0 {
		t.Errorf("/debug/vars = %+v, want the runtime's counters", v)
	}
	if status, body := get(t, debug+"/debug/pprof/"); status != http.StatusOK || !strings.Contains(body, "allocs") {
		t.Errorf("debug GET /debug/pprof/ = %d %.200q", status, body)
	}
	if status, _ := get(t, debug+"/debug/pprof/allocs"); status != http.StatusOK {
		t.Errorf("debug GET /debug/pprof/allocs = %d", status)
	}
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/allocs", "/debug/vars"} {
		if status, _ := get(t, api+path); status != http.StatusNotFound {
			t.Errorf("public GET %s = %d, want 404", path, status)
		}
	}
	// The debug listener serves nothing of the API.
	if status, _ := get(t, debug+"/v1/me"); status != http.StatusNotFound {
		t.Errorf("debug GET /v1/me = %d, want 404", status)
	}
}

func TestLoadConfigRefusesADebugAddressOnThePublicPort(t *testing.T) {
	for _, tt := range []struct {
		env  []string
		want string
	}{
		{[]string{"MINIBACK_DEBUG_ADDR=6060"}, "MINIBACK_DEBUG_ADDR must be host:port"},
		{[]string{"MINIBACK_ADDR=127.0.0.1:8080", "MINIBACK_DEBUG_ADDR=127.0.0.1:8080"}, "MINIBACK_DEBUG_ADDR must differ from MINIBACK_ADDR"},
	} {
		_, err := LoadConfig(tt.env)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("LoadConfig(%v) = %v, want %q", tt.env, err, tt.want)
		}
	}
	if _, err := LoadConfig([]string{"MINIBACK_DEBUG_ADDR=127.0.0.1:6060"}); err != nil {
		t.Errorf("a loopback debug address is refused: %v", err)
	}
}
