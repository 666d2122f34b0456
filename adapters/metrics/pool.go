package metrics

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// WatchPool exports the database pool's statistics, read from
// pool.Stat() at each scrape (no goroutine, nothing on the query path).
func (m *Metrics) WatchPool(pool *pgxpool.Pool) {
	m.reg.MustRegister(newPoolCollector(pool.Stat))
}

// poolCollector turns a pgxpool.Stat into metrics at scrape time.
type poolCollector struct {
	stat func() *pgxpool.Stat

	acquired, idle, constructing, total, max   *prometheus.Desc
	acquires, acquireSeconds, emptyAcquires    *prometheus.Desc
	emptyAcquireWaitSeconds, canceledAcquires  *prometheus.Desc
	newConns, lifetimeDestroyed, idleDestroyed *prometheus.Desc
}

func newPoolCollector(stat func() *pgxpool.Stat) *poolCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "db_pool", name), help, nil, nil)
	}
	return &poolCollector{
		stat:                    stat,
		acquired:                d("acquired_connections", "Connections in use by a query or transaction."),
		idle:                    d("idle_connections", "Connections open and idle in the pool."),
		constructing:            d("constructing_connections", "Connections being opened."),
		total:                   d("total_connections", "Connections open or being opened (acquired + idle + constructing)."),
		max:                     d("max_connections", "The pool's size limit (MINIBACK_DB_MAX_CONNS)."),
		acquires:                d("acquires_total", "Connections acquired from the pool."),
		acquireSeconds:          d("acquire_duration_seconds_total", "Time spent acquiring connections (divide by acquires_total for the mean)."),
		emptyAcquires:           d("empty_acquires_total", "Acquires that found no idle connection and waited for one to be opened or released."),
		emptyAcquireWaitSeconds: d("empty_acquire_wait_seconds_total", "Time the empty acquires spent waiting."),
		canceledAcquires:        d("canceled_acquires_total", "Acquires given up because their context ended (a request deadline or a client gone)."),
		newConns:                d("new_connections_total", "Connections opened."),
		lifetimeDestroyed:       d("max_lifetime_closed_total", "Connections closed for reaching their maximum lifetime."),
		idleDestroyed:           d("max_idle_closed_total", "Connections closed for idling too long."),
	}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.acquired, c.idle, c.constructing, c.total, c.max,
		c.acquires, c.acquireSeconds, c.emptyAcquires, c.emptyAcquireWaitSeconds, c.canceledAcquires,
		c.newConns, c.lifetimeDestroyed, c.idleDestroyed} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stat()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.acquired, float64(s.AcquiredConns()))
	gauge(c.idle, float64(s.IdleConns()))
	gauge(c.constructing, float64(s.ConstructingConns()))
	gauge(c.total, float64(s.TotalConns()))
	gauge(c.max, float64(s.MaxConns()))
	counter(c.acquires, float64(s.AcquireCount()))
	counter(c.acquireSeconds, s.AcquireDuration().Seconds())
	counter(c.emptyAcquires, float64(s.EmptyAcquireCount()))
	counter(c.emptyAcquireWaitSeconds, s.EmptyAcquireWaitTime().Seconds())
	counter(c.canceledAcquires, float64(s.CanceledAcquireCount()))
	counter(c.newConns, float64(s.NewConnsCount()))
	counter(c.lifetimeDestroyed, float64(s.MaxLifetimeDestroyCount()))
	counter(c.idleDestroyed, float64(s.MaxIdleDestroyCount()))
}
