package main

import (
	"context"

	"github.com/miniback/miniback/adapters/jobs"
)

// The durable job queue: river on the application's database. Every
// replica inserts jobs in the transactions that cause them; the replicas
// with MINIBACK_JOBS_WORKERS > 0 work them, and river's elected leader
// among those enqueues the deployment's maintenance (purges, the upload
// cleaner) once per interval for the whole deployment.

// newJobQueue builds the queue (not started: Run registers the workers
// and the maintenance first).
func (m *Main) newJobQueue() error {
	if m.JobWorkers == nil {
		m.JobWorkers = jobs.NewWorkers()
	}
	q, err := jobs.New(m.db.Pool(), m.JobWorkers, jobs.Config{
		Workers: m.Config.JobsWorkers, Logger: m.Logger, FetchPollInterval: m.Config.JobsPollInterval,
	})
	if err != nil {
		return err
	}
	m.Jobs = q
	return nil
}

// startJobs starts the background work: the replica's own (the
// revocation feed), and the queue with the maintenance as its periodic
// jobs (a replica that works no jobs leaves them to those that do).
func (m *Main) startJobs(ctx context.Context) error {
	m.background = m.App.StartReplicaBackground(m.Logger)
	if err := m.Jobs.AddMaintenance(m.App.Maintenance(m.Logger)); err != nil {
		return err
	}
	if err := m.Jobs.Start(ctx); err != nil {
		return err
	}
	if m.Config.JobsWorkers == 0 {
		m.Logger.Info("jobs: this instance inserts jobs and works none (MINIBACK_JOBS_WORKERS=0); the maintenance runs on the instances that work jobs")
	} else {
		m.Logger.Info("jobs: working the queue in PostgreSQL; the elected leader enqueues the maintenance", "workers", m.Config.JobsWorkers)
	}
	return nil
}

// stopJobs stops working jobs, giving the running ones the shutdown
// timeout to finish.
func (m *Main) stopJobs() error {
	if m.Jobs == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
	defer cancel()
	return m.Jobs.Stop(ctx)
}
