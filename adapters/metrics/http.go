package metrics

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// RequestBuckets are the bounds (seconds) of the request duration
// histogram: from a cached GET (well under 1 ms in process) through a
// login that waits on WeChat (its timeout is 5 s by default) to a file
// through the local-disk storage.
var RequestBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

func (m *Metrics) newHTTP() {
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "http", Name: "requests_total",
		Help: "HTTP requests answered, by route template, method and status code.",
	}, []string{"route", "method", "code"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
		Help:    "Time from the request reaching the router to its answer, by route template, method and status class (2xx, 4xx...).",
		Buckets: RequestBuckets,
	}, []string{"route", "method", "status_class"})
	m.inFlight = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Subsystem: "http", Name: "requests_in_flight",
		Help: "HTTP requests being served, by route template and method.",
	}, []string{"route", "method"})
	m.reg.MustRegister(m.requests, m.duration, m.inFlight)
}

// UnmatchedRoute is the route label of a request that matched no route
// (a 404 or 405, a CORS preflight): the raw path would let any caller
// make new series.
const UnmatchedRoute = "unmatched"

// Route records the requests of one route and method. The HTTP adapter
// gets one per route when it builds its router, so that a request costs
// no label lookup: its series are made on first use (an unused route
// exports nothing) and then found in a short list.
type Route struct {
	m             *Metrics
	route, method string

	once     sync.Once
	inFlight prometheus.Gauge // set by once

	mu     sync.Mutex                   // serialises adding a status code
	series atomic.Pointer[[]codeSeries] // copy on write: readers take no lock
}

// codeSeries is the counter of one status code and the histogram of its
// class.
type codeSeries struct {
	code     int
	requests prometheus.Counter
	duration prometheus.Observer
}

// Route returns the recorder of requests to route (a template such as
// /v1/todos/{id}, or UnmatchedRoute) with method, which the caller keeps
// to a known set.
func (m *Metrics) Route(method, route string) *Route {
	return &Route{m: m, route: route, method: method}
}

// Begin counts a request in flight.
func (r *Route) Begin() {
	r.once.Do(r.init)
	r.inFlight.Inc()
}

func (r *Route) init() { r.inFlight = r.m.inFlight.WithLabelValues(r.route, r.method) }

// End records a request that Begin counted, answered with status after
// elapsed.
func (r *Route) End(status int, elapsed time.Duration) {
	r.once.Do(r.init) // done by Begin: a load and a compare
	r.inFlight.Dec()
	s := r.of(status)
	s.requests.Inc()
	s.duration.Observe(elapsed.Seconds())
}

// of returns the series of status, making them on its first use.
func (r *Route) of(status int) codeSeries {
	if p := r.series.Load(); p != nil {
		for _, s := range *p {
			if s.code == status {
				return s
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var old []codeSeries
	if p := r.series.Load(); p != nil {
		old = *p
		for _, s := range old {
			if s.code == status {
				return s
			}
		}
	}
	s := codeSeries{
		code:     status,
		requests: r.m.requests.WithLabelValues(r.route, r.method, strconv.Itoa(status)),
		duration: r.m.duration.WithLabelValues(r.route, r.method, statusClass(status)),
	}
	next := append(append(make([]codeSeries, 0, len(old)+1), old...), s)
	r.series.Store(&next)
	return s
}

// statusClass is "2xx" for 200 to 299 and so on; "other" outside 100 to
// 599.
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return string(rune('0'+status/100)) + "xx"
}
