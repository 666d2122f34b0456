package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"time"
)

// The debug listener is an opt-in second HTTP server for measuring a
// running miniback (bench/load uses it): net/http/pprof and a JSON of the
// runtime's memory statistics. It is off unless MINIBACK_DEBUG_ADDR names an
// address, and it never shares the API's listener or handler: profiles
// show code paths and an allocation history that are nobody's business on
// the public port. Bind it to loopback.

// validateDebug checks MINIBACK_DEBUG_ADDR: empty (off), or a host:port that
// is not the API's own address.
func (c Config) validateDebug() []error {
	if c.DebugAddr == "" {
		return nil
	}
	_, port, err := net.SplitHostPort(c.DebugAddr)
	if err != nil {
		return []error{fmt.Errorf("MINIBACK_DEBUG_ADDR must be host:port like 127.0.0.1:6060, not %q", c.DebugAddr)}
	}
	if c.DebugAddr == c.Addr && port != "0" { // ":0" picks a different free port each
		return []error{errors.New("MINIBACK_DEBUG_ADDR must differ from MINIBACK_ADDR: the debug endpoints never go on the public port")}
	}
	return nil
}

// debugHandler serves the debug endpoints on a mux of its own (not
// http.DefaultServeMux, which net/http/pprof also registers on).
func debugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // named profiles: allocs, heap, goroutine, ...
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/vars", serveMemStats)
	return mux
}

// debugVars is the /debug/vars answer: expvar's "memstats" shape, cut to
// the counters a load test reads (allocations per request is the Mallocs
// delta over the requests served).
type debugVars struct {
	MemStats struct {
		Mallocs      uint64
		Frees        uint64
		TotalAlloc   uint64
		HeapAlloc    uint64
		HeapInuse    uint64
		HeapObjects  uint64
		Sys          uint64
		NumGC        uint32
		PauseTotalNs uint64
	} `json:"memstats"`
	Goroutines int `json:"goroutines"`
}

func serveMemStats(w http.ResponseWriter, _ *http.Request) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var v debugVars
	m := &v.MemStats
	m.Mallocs, m.Frees, m.TotalAlloc = ms.Mallocs, ms.Frees, ms.TotalAlloc
	m.HeapAlloc, m.HeapInuse, m.HeapObjects, m.Sys = ms.HeapAlloc, ms.HeapInuse, ms.HeapObjects, ms.Sys
	m.NumGC, m.PauseTotalNs = ms.NumGC, ms.PauseTotalNs
	v.Goroutines = runtime.NumGoroutine()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// startDebug opens the debug listener when MINIBACK_DEBUG_ADDR is set.
func (m *Main) startDebug() error {
	if m.Config.DebugAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", m.Config.DebugAddr)
	if err != nil {
		return fmt.Errorf("debug listener on %s: %w", m.Config.DebugAddr, err)
	}
	m.debug = &http.Server{
		Handler:           debugHandler(),
		ReadHeaderTimeout: 10 * time.Second,
		// No WriteTimeout: a CPU profile or trace streams for its
		// ?seconds= before it answers.
	}
	go func() { _ = m.debug.Serve(ln) }()
	m.debugAddr = ln.Addr()
	m.Logger.Warn("debug listener on: pprof and memory statistics; keep it on loopback",
		"listen", "http://"+ln.Addr().String()+"/debug/pprof/", "vars", "/debug/vars", "replace_with", "MINIBACK_DEBUG_ADDR=")
	return nil
}

// closeDebug stops the debug listener, if it runs.
func (m *Main) closeDebug() error {
	if m.debug == nil {
		return nil
	}
	return m.debug.Close()
}

// DebugAddr is the debug listener's address, nil when it is off.
func (m *Main) DebugAddr() net.Addr { return m.debugAddr }
