package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/miniback/miniback/domain"
)

// JobCounts reads the queue's jobs by kind and state and its depth (jobs
// due and not started): adapters/jobs' Admin.Counts.
type JobCounts func(ctx context.Context) (counts []domain.JobCount, depth int, err error)

// jobScrapeTimeout bounds the count a scrape runs.
const jobScrapeTimeout = 2 * time.Second

// WatchJobs exports the job queue: miniback_jobs{kind,state} and
// miniback_jobs_queue_depth, counted in the database at each scrape (the
// whole deployment's jobs, the same on every replica: aggregate with max,
// not sum), and miniback_jobs_finished_total{kind,outcome}, the attempts
// this process's workers finished (JobFinished). A failed count leaves
// the gauges out of that scrape and counts miniback_jobs_scrape_errors_total.
func (m *Metrics) WatchJobs(count JobCounts) {
	c := &jobCollector{
		count: count,
		jobs: prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "jobs"),
			"Jobs of the queue by kind and state (the whole deployment's).", []string{"kind", "state"}, nil),
		depth: prometheus.NewDesc(prometheus.BuildFQName(namespace, "jobs", "queue_depth"),
			"Jobs due now that no worker has started yet.", nil, nil),
		errors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Subsystem: "jobs",
			Name: "scrape_errors_total", Help: "Scrapes that could not count the jobs."}),
	}
	m.reg.MustRegister(c, c.errors)
	m.jobsFinished = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "jobs",
		Name: "finished_total",
		Help: "Job attempts this process finished, by kind and outcome (completed, failed, cancelled)."},
		[]string{"kind", "outcome"})
	m.reg.MustRegister(m.jobsFinished)
}

// JobFinished counts one attempt of a job of kind that ended with outcome
// (adapters/jobs' Queue.OnFinished). Nothing before WatchJobs.
func (m *Metrics) JobFinished(kind, outcome string) {
	if m == nil || m.jobsFinished == nil {
		return
	}
	m.jobsFinished.WithLabelValues(kind, outcome).Inc()
}

type jobCollector struct {
	count       JobCounts
	jobs, depth *prometheus.Desc
	errors      prometheus.Counter
}

func (c *jobCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.jobs
	ch <- c.depth
}

func (c *jobCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), jobScrapeTimeout)
	defer cancel()
	counts, depth, err := c.count(ctx)
	if err != nil {
		c.errors.Inc()
		return
	}
	for _, k := range counts {
		ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, float64(k.Count), k.Kind, string(k.State))
	}
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(depth))
}
