package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/miniback/miniback/adapters/metrics"
	"github.com/miniback/miniback/adapters/wechat"
	"github.com/miniback/miniback/domain"
)

// Prometheus metrics are served on a listener of their own,
// MINIBACK_METRICS_ADDR, never on the API's: a route the load balancer
// does not forward cannot become public by accident, and a scrape never
// competes with the API's connection limits. The listener serves /metrics
// alone.
//
//   - development: 127.0.0.1:9090 unless set; when that port is taken
//     (Prometheus itself, a second miniback), a free loopback port instead,
//     announced at start-up.
//   - production: :9090 unless set (every interface: Prometheus scrapes the
//     pod from outside it; the Helm chart names the port "metrics"). Keep
//     it off the public load balancer.
//   - "off" serves no metrics and records none.

// Default metrics addresses.
const (
	devMetricsAddr  = "127.0.0.1:9090"
	prodMetricsAddr = ":9090"
	metricsOff      = "off"
)

// metricsAddr is the metrics listener's address, "" when off, and whether
// it is the default rather than configured.
func (c Config) metricsAddr() (addr string, isDefault bool) {
	switch c.MetricsAddr {
	case metricsOff:
		return "", false
	case "":
		if c.Production() {
			return prodMetricsAddr, true
		}
		return devMetricsAddr, true
	}
	return c.MetricsAddr, false
}

// validateMetrics checks MINIBACK_METRICS_ADDR: off, or a host:port that
// is neither the API's nor the debug listener's.
func (c Config) validateMetrics() []error {
	addr, isDefault := c.metricsAddr()
	if addr == "" || isDefault {
		return nil
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return []error{fmt.Errorf("MINIBACK_METRICS_ADDR must be host:port like 127.0.0.1:9090 or :9090, or off, not %q", addr)}
	}
	if port == "0" { // ":0" picks a different free port each
		return nil
	}
	if addr == c.Addr {
		return []error{errors.New("MINIBACK_METRICS_ADDR must differ from MINIBACK_ADDR: metrics never go on the public port")}
	}
	if addr == c.DebugAddr {
		return []error{errors.New("MINIBACK_METRICS_ADDR must differ from MINIBACK_DEBUG_ADDR")}
	}
	return nil
}

// newMetrics makes the registry when metrics are on; Run makes it first,
// so that every component built after it records into it.
func (m *Main) newMetrics() {
	if addr, _ := m.Config.metricsAddr(); addr != "" {
		m.metrics = metrics.New()
	}
}

// wechatObserver is the WeChat client's observer: the metrics, or none (a
// nil *metrics.Metrics must not become a non-nil interface).
func (m *Main) wechatObserver() wechat.Observer {
	if m.metrics == nil {
		return nil
	}
	return m.metrics
}

// wechatBreakerObserver is told of the WeChat breakers' state changes:
// the metrics' gauge, or none.
func (m *Main) wechatBreakerObserver() func(app domain.AppID, api, from, to string) {
	if m.metrics == nil {
		return nil
	}
	return m.metrics.WeChatBreaker
}

// startMetrics opens the metrics listener, unless metrics are off.
func (m *Main) startMetrics() error {
	if m.metrics == nil {
		return nil
	}
	addr, isDefault := m.Config.metricsAddr()
	ln, err := net.Listen("tcp", addr)
	if err != nil && isDefault && !m.Config.Production() {
		// The development default is a convenience: a port taken by
		// Prometheus or another miniback must not stop this one.
		taken := err
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err == nil {
			m.Logger.Warn("metrics: the default address is taken; serving on a free loopback port instead",
				"default", addr, "error", taken.Error(), "listen", ln.Addr().String(), "set", "MINIBACK_METRICS_ADDR")
		}
	}
	if err != nil {
		return fmt.Errorf("metrics listener on %s (MINIBACK_METRICS_ADDR; off to serve none): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.metrics.Handler())
	if err := m.mountRiverUI(mux); err != nil {
		_ = ln.Close()
		return err
	}
	m.metricsServer = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	go func() { _ = m.metricsServer.Serve(ln) }()
	m.metricsAddr = ln.Addr()
	attrs := []any{"listen", "http://" + displayAddr(ln.Addr()) + "/metrics", "set", "MINIBACK_METRICS_ADDR"}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		m.Logger.Info("metrics: Prometheus /metrics on every interface; keep this port off the public load balancer", attrs...)
	} else {
		m.Logger.Info("metrics: Prometheus /metrics on loopback", attrs...)
	}
	return nil
}

// closeMetrics stops the metrics listener, if it runs.
func (m *Main) closeMetrics() error {
	m.stopRiverUI()
	if m.metricsServer == nil {
		return nil
	}
	return m.metricsServer.Close()
}

// MetricsAddr is the metrics listener's address, nil when metrics are off.
func (m *Main) MetricsAddr() net.Addr { return m.metricsAddr }
