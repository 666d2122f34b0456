package main

import (
	"github.com/miniback/miniback/adapters/jobs"
	"github.com/miniback/miniback/app"
)

// wireJobAdmin gives the use-cases the queue's administration (GET
// /v1/admin/jobs, retry, cancel; the health page's counts) and the metrics
// its gauges and counters. Call it after newJobQueue, before the queue
// starts.
func (m *Main) wireJobAdmin(p *app.Ports) {
	admin := jobs.NewAdmin(m.db.Pool(), m.Jobs)
	p.JobAdmin = admin
	if p.Jobs == nil {
		p.Jobs = admin
	}
	if m.metrics != nil {
		m.metrics.WatchJobs(admin.Counts)
		m.Jobs.OnFinished(m.metrics.JobFinished)
	}
}
