// Package metrics holds miniback's Prometheus metrics: a registry of its
// own (never prometheus.DefaultRegisterer, which any imported library may
// fill), the instruments the other adapters record into, and the /metrics
// handler, which cmd/miniback serves on a listener of its own
// (MINIBACK_METRICS_ADDR), never on the API's.
//
// Every name starts with miniback_ (the Go runtime's go_ and the process's
// process_ excepted), and every label has a bounded set of values: route
// templates, never raw paths; API names and errcodes, never codes, tokens
// or user identifiers.
//
// The job queue is counted at scrape time (WatchJobs, jobs.go), the way
// WatchRevocations reads the revocation feed's lag.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace prefixes every miniback metric.
const namespace = "miniback"

// Metrics is the registry and its instruments. Its recording methods are
// safe for concurrent use, and do nothing on a nil *Metrics, so that an
// adapter built without metrics needs no check.
type Metrics struct {
	reg *prometheus.Registry

	// The job queue (jobs.go), from WatchJobs.
	jobsFinished *prometheus.CounterVec

	// HTTP (http.go).
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight *prometheus.GaugeVec

	// WeChat (wechat.go).
	wechatCalls    *prometheus.CounterVec
	wechatDuration *prometheus.HistogramVec
	tokenRefreshes *prometheus.CounterVec
	wechatErrcodes errcodeLabels
	wechatBreakers *prometheus.GaugeVec

	uploadBytes  *prometheus.CounterVec
	uploads      *prometheus.CounterVec
	rateLimited  *prometheus.CounterVec
	rateFailOpen *prometheus.CounterVec
}

// New returns the registry with the Go runtime's and the process's
// collectors and every instrument of miniback registered.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
	)
	m.newHTTP()
	m.newWeChat()
	m.uploadBytes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "upload_completed_bytes_total",
		Help: "Bytes of the uploads that became ready (POST /v1/uploads/{id}/complete), by purpose.",
	}, []string{"purpose"})
	m.uploads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "uploads_completed_total",
		Help: "Uploads that became ready, by purpose.",
	}, []string{"purpose"})
	m.newRateLimits()
	m.reg.MustRegister(m.uploadBytes, m.uploads)
	return m
}

// Registry is the registry itself, for collectors of other packages and
// for tests.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format (or
// OpenMetrics when the scraper asks for it), gzipped when asked, with the
// handler's own request and error counts (promhttp_metric_handler_*).
// A scrape is bounded: at most two at once, each within 10 s.
func (m *Metrics) Handler() http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError, // a failed collector costs its metrics, not the scrape
		Registry:            m.reg,
		EnableOpenMetrics:   true,
		MaxRequestsInFlight: 2,
		Timeout:             10 * time.Second,
	})
	return promhttp.InstrumentMetricHandler(m.reg, h)
}

// UploadCompleted counts an upload of size bytes that became ready.
// Purpose is the upload's purpose (avatar, attachment: the configured
// set).
func (m *Metrics) UploadCompleted(purpose string, size int64) {
	if m == nil {
		return
	}
	m.uploads.WithLabelValues(purpose).Inc()
	if size > 0 {
		m.uploadBytes.WithLabelValues(purpose).Add(float64(size))
	}
}
