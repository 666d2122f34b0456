// Package jobs is the deployment's durable job queue: river
// (github.com/riverqueue/river) on the application's PostgreSQL. Jobs are
// rows in river_job, so a job inserted in the transaction of the change
// that causes it (InsertTx) exists exactly when that change commits;
// every replica works jobs, river elects one leader per database, and the
// leader alone enqueues the periodic jobs (the deployment's maintenance).
//
// River's tables are created by postgres.Migrate, after ours and under the
// same advisory lock.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/miniback/miniback/app"
)

// Config is how one process runs the queue.
type Config struct {
	// Workers is how many jobs this process works at once; zero makes an
	// insert-only queue (it inserts and cancels jobs, and works none).
	Workers int
	// Logger receives river's own log lines (warnings and up) and the
	// maintenance failures; nil discards them.
	Logger *slog.Logger
	// Now, when set, is the queue's clock (tests travel in time with it);
	// nil is the wall clock.
	Now func() time.Time
	// FetchPollInterval is how often a worker looks for due jobs besides
	// the notifications of new ones: scheduled jobs start at most this
	// late. Zero is river's default (1 s).
	FetchPollInterval time.Duration
	// JobTimeout bounds one run of a job; zero is river's default (1 min).
	JobTimeout time.Duration
}

// Queue is river's client on the application's pool.
type Queue struct {
	client      *river.Client[pgx.Tx]
	working     bool
	log         *slog.Logger
	maintenance *maintenanceWorker
}

// Workers is the registry of job kinds a working queue runs: the packages
// that define jobs add theirs with river.AddWorker before New.
type Workers = river.Workers

// NewWorkers returns an empty registry.
func NewWorkers() *Workers { return river.NewWorkers() }

// New returns the queue of pool, working the kinds in workers (nil: none
// but maintenance) with cfg.Workers at once, or insert-only when
// cfg.Workers is zero. Start starts working.
func New(pool *pgxpool.Pool, workers *Workers, cfg Config) (*Queue, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	q := &Queue{working: cfg.Workers > 0, log: log}
	rc := &river.Config{
		Logger:            riverLogger(log),
		FetchPollInterval: cfg.FetchPollInterval,
		JobTimeout:        cfg.JobTimeout,
		// Jobs keep their history for the admin's view of failures.
		CompletedJobRetentionPeriod: 24 * time.Hour,
		DiscardedJobRetentionPeriod: 7 * 24 * time.Hour,
	}
	if cfg.FetchPollInterval > 0 && cfg.FetchPollInterval < 100*time.Millisecond {
		rc.FetchCooldown = cfg.FetchPollInterval
	}
	if cfg.Now != nil {
		rc.Test.Time = clock(cfg.Now)
	}
	if q.working {
		if workers == nil {
			workers = NewWorkers()
		}
		q.maintenance = &maintenanceWorker{log: log}
		if err := river.AddWorkerSafely(workers, q.maintenance); err != nil {
			return nil, fmt.Errorf("job queue: %w", err)
		}
		rc.Workers = workers
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}}
	}
	client, err := river.NewClient(riverpgxv5.New(pool), rc)
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	q.client = client
	return q, nil
}

// AddMaintenance makes the deployment's periodic tasks (app.App.Maintenance)
// jobs: the leader enqueues each once per its Every, any replica works it.
// Call it before Start; an insert-only queue ignores it.
func (q *Queue) AddMaintenance(tasks []app.Task) error {
	if !q.working {
		return nil
	}
	periodic, err := q.maintenance.add(tasks)
	if err != nil {
		return err
	}
	if _, err := q.client.PeriodicJobs().AddManySafely(periodic); err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	return nil
}

// Start starts working jobs (a no-op on an insert-only queue); Stop ends
// it.
func (q *Queue) Start(ctx context.Context) error {
	if !q.working {
		return nil
	}
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("start job queue: %w", err)
	}
	return nil
}

// Stop stops fetching jobs and waits for the running ones until ctx ends;
// past it their contexts are cancelled and Stop waits for them to return
// (river then retries those jobs later, on any replica).
func (q *Queue) Stop(ctx context.Context) error {
	if !q.working {
		return nil
	}
	err := q.client.Stop(ctx)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return err
	}
	q.log.Warn("job queue: jobs still running at the shutdown timeout were cancelled; they run again later")
	return q.client.StopAndCancel(context.WithoutCancel(ctx))
}

// Client is river's client, for the adapters that insert, cancel or list
// jobs inside their own transactions:
//
//	res, err := q.Client().InsertTx(ctx, tx, ReminderArgs{TaskID: id, At: at}, &river.InsertOpts{
//		ScheduledAt: at,
//		UniqueOpts:  river.UniqueOpts{ByArgs: true}, // one job per (task, time)
//	})
//	...
//	_, err = q.Client().JobCancelTx(ctx, tx, jobID) // in the transaction that moves the time
func (q *Queue) Client() *river.Client[pgx.Tx] { return q.client }

// InsertTx inserts a job in tx: it exists, and a worker can see it, only
// once tx commits. River's unique options (river.UniqueOpts) make a second
// insert of the same job return the first (JobInsertResult.UniqueSkippedAsDuplicate).
func (q *Queue) InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	res, err := q.client.InsertTx(ctx, tx, args, opts)
	if err != nil {
		return nil, fmt.Errorf("insert %s job: %w", args.Kind(), err)
	}
	return res, nil
}

// CancelTx cancels job id in tx: a queued job never runs, a running one's
// context is cancelled and it is not retried. A finished or unknown job is
// no error.
func (q *Queue) CancelTx(ctx context.Context, tx pgx.Tx, id int64) error {
	if _, err := q.client.JobCancelTx(ctx, tx, id); err != nil && !errors.Is(err, river.ErrNotFound) {
		return fmt.Errorf("cancel job %d: %w", id, err)
	}
	return nil
}

// clock adapts a func to river's time generator.
type clock func() time.Time

func (c clock) Now() time.Time { return c() }

func (c clock) NowOrNil() *time.Time {
	t := c()
	return &t
}

// riverLogger is log at warning and above: river logs each job at info.
func riverLogger(log *slog.Logger) *slog.Logger {
	return slog.New(minLevel{log.Handler(), slog.LevelWarn})
}

type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(a), h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
}
