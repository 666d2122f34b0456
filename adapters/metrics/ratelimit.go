package metrics

import "github.com/prometheus/client_golang/prometheus"

func (m *Metrics) newRateLimits() {
	m.rateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "ratelimit", Name: "rejections_total",
		Help: "Requests refused with 429 by a rate limit, by limit group.",
	}, []string{"group"})
	m.rateFailOpen = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "ratelimit", Name: "fail_open_total",
		Help: "Budget checks let through unchecked because the rate limiter's store (Redis) failed, by limit group (a request checks one to three budgets).",
	}, []string{"group"})
	m.reg.MustRegister(m.rateLimited, m.rateFailOpen)
}

// RateLimits is what a rate limiter records: the requests it refused and
// those it let through because its store failed. Group is the limit
// group's configured name (a bounded set: never an address or a user).
// The zero RateLimits (from a nil *Metrics) records nothing.
type RateLimits struct{ m *Metrics }

// RateLimits returns the rate limiters' recorder.
func (m *Metrics) RateLimits() RateLimits { return RateLimits{m: m} }

// Rejected counts a request refused by group's limit.
func (r RateLimits) Rejected(group string) {
	if r.m != nil {
		r.m.rateLimited.WithLabelValues(group).Inc()
	}
}

// FailedOpen counts a request let through because group's store failed.
func (r RateLimits) FailedOpen(group string) {
	if r.m != nil {
		r.m.rateFailOpen.WithLabelValues(group).Inc()
	}
}
