package metrics

import (
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// WatchRevocations exports how long ago this replica last read the
// revocation feed (lastRead: app.Revocations.LastRead), computed at each
// scrape. It should stay near MINIBACK_REVOCATION_POLL; when it grows,
// this replica accepts revoked sessions' tokens for that long (the
// database is unreachable, or the poller is stuck). Before the first read
// it is NaN.
func (m *Metrics) WatchRevocations(lastRead func() time.Time) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: namespace, Subsystem: "revocation", Name: "feed_lag_seconds",
		Help: "Seconds since this replica last read the revocation feed successfully: how stale its refusal of revoked sessions may be.",
	}, func() float64 {
		t := lastRead()
		if t.IsZero() {
			return math.NaN()
		}
		return time.Since(t).Seconds()
	}))
}
