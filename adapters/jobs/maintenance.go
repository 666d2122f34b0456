package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/miniback/miniback/app"
)

// MaintenanceArgs is one run of one maintenance task, by its name.
type MaintenanceArgs struct {
	Task string `json:"task"`
}

// Kind names the job kind in river_job.
func (MaintenanceArgs) Kind() string { return "maintenance" }

// maintenanceWorker runs the task the job names.
type maintenanceWorker struct {
	river.WorkerDefaults[MaintenanceArgs]
	tasks map[string]app.Task
	log   *slog.Logger
}

func (w *maintenanceWorker) Work(ctx context.Context, job *river.Job[MaintenanceArgs]) error {
	t, ok := w.tasks[job.Args.Task]
	if !ok {
		// A task this version no longer has (a job enqueued by an older
		// replica during a rolling update): nothing to do, ever.
		return river.JobCancel(fmt.Errorf("no maintenance task %q", job.Args.Task))
	}
	if err := t.Run(ctx); err != nil {
		w.log.Warn(t.Name+" failed", "error", err.Error(), "attempt", job.Attempt)
		return err
	}
	return nil
}

// Maintenance tasks never pile up: one attempt per period is enough, the
// next period runs it again.
const maintenanceAttempts = 3

// add makes tasks known to the worker and returns the periodic jobs that
// enqueue each once per its Every. The leader alone enqueues them;
// uniqueness by period keeps a leader change (a new leader starts its
// schedule afresh) from enqueuing a task twice in one period.
func (w *maintenanceWorker) add(tasks []app.Task) ([]*river.PeriodicJob, error) {
	if w.tasks == nil {
		w.tasks = make(map[string]app.Task, len(tasks))
	}
	periodic := make([]*river.PeriodicJob, 0, len(tasks))
	for _, t := range tasks {
		if t.Every <= 0 {
			continue
		}
		if _, dup := w.tasks[t.Name]; dup {
			return nil, fmt.Errorf("job queue: two maintenance tasks named %q", t.Name)
		}
		w.tasks[t.Name] = t
		args := MaintenanceArgs{Task: t.Name}
		opts := &river.InsertOpts{
			MaxAttempts: maintenanceAttempts,
			UniqueOpts:  river.UniqueOpts{ByArgs: true, ByPeriod: uniquePeriod(t.Every)},
		}
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(t.Every),
			func() (river.JobArgs, *river.InsertOpts) { return args, opts },
			&river.PeriodicJobOpts{ID: "maintenance:" + strings.ReplaceAll(t.Name, " ", "-"), RunOnStart: t.AtStart}))
	}
	return periodic, nil
}

// uniquePeriod is the window in which a task is enqueued at most once:
// its interval, at least river's smallest (one second).
func uniquePeriod(every time.Duration) time.Duration {
	return max(every, time.Second)
}
