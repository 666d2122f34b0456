package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Task reminders on river: the job of one reminder (ReminderArgs), its
// worker (ReminderWorker, which hands each run to app.Reminders.Deliver),
// and the scheduling the task writes do in their own transaction
// (Reminders: postgres.ReminderJobs).

// ReminderKind is the reminder job's kind.
const ReminderKind = "task_reminder"

// ReminderMaxAttempts bounds the runs of one reminder: with river's
// backoff (attempt⁴ seconds) the last is some 5 hours after the first.
const ReminderMaxAttempts = 12

// reminderUniqueStates: one live job per (task, remind time). A finished
// one (completed, cancelled, discarded) does not count, so a reminder set
// again for the same time after it ended gets a job.
var reminderUniqueStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// ReminderArgs is one task reminder: unique per (task, remind time).
type ReminderArgs struct {
	TodoID   string    `json:"todo_id" river:"unique"`
	RemindAt time.Time `json:"remind_at" river:"unique"`
}

// Kind is river's job kind.
func (ReminderArgs) Kind() string { return ReminderKind }

// InsertOpts are every reminder job's.
func (ReminderArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: ReminderMaxAttempts,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: reminderUniqueStates}}
}

// ReminderDeliverer runs one attempt of a reminder (app.Reminders).
type ReminderDeliverer interface {
	Deliver(ctx context.Context, j ports.ReminderJob, last bool) error
}

// ReminderWorker works reminder jobs: a final failure
// (domain.IsFinalReminderFailure) cancels the job, any other error is
// retried with river's backoff.
type ReminderWorker struct {
	river.WorkerDefaults[ReminderArgs]
	Reminders ReminderDeliverer
	Clock     ports.Clock
}

// Work runs one attempt.
func (w *ReminderWorker) Work(ctx context.Context, job *river.Job[ReminderArgs]) error {
	j := ports.ReminderJob{Todo: domain.TodoID(job.Args.TodoID), At: job.Args.RemindAt, JobID: job.ID, Attempt: job.Attempt}
	if w.Clock != nil {
		j.Now = w.Clock.Now()
	}
	err := w.Reminders.Deliver(ctx, j, job.Attempt >= job.MaxAttempts)
	if err != nil && domain.IsFinalReminderFailure(err) {
		return river.JobCancel(err)
	}
	return err
}

// Timeout bounds one attempt: the claim, WeChat's call (with its own
// timeout and retries) and the finish.
func (w *ReminderWorker) Timeout(*river.Job[ReminderArgs]) time.Duration { return time.Minute }

// JobInserter inserts and cancels jobs in a transaction: a
// *river.Client[pgx.Tx] (insert-only or working) is one.
type JobInserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	JobCancelTx(ctx context.Context, tx pgx.Tx, jobID int64) (*rivertype.JobRow, error)
}

// Reminders schedules reminder jobs for the task writes
// (postgres.ReminderJobs), in their transaction.
type Reminders struct {
	Jobs JobInserter
}

// InsertReminder inserts the job of todo's reminder at at (unique per
// task and remind time: an equal live job is reused).
func (r Reminders) InsertReminder(ctx context.Context, tx pgx.Tx, todo domain.TodoID, at time.Time) (int64, error) {
	res, err := r.Jobs.InsertTx(ctx, tx, ReminderArgs{TodoID: string(todo), RemindAt: at.UTC()}, &river.InsertOpts{ScheduledAt: at})
	if err != nil {
		return 0, fmt.Errorf("insert reminder job: %w", err)
	}
	return res.Job.ID, nil
}

// CancelReminder cancels a reminder's job; one already finished or gone
// is no error.
func (r Reminders) CancelReminder(ctx context.Context, tx pgx.Tx, jobID int64) error {
	_, err := r.Jobs.JobCancelTx(ctx, tx, jobID)
	if err != nil && !errors.Is(err, rivertype.ErrNotFound) {
		return fmt.Errorf("cancel reminder job %d: %w", jobID, err)
	}
	return nil
}

// AddReminderWorker registers the reminder worker, delivering with d, on
// workers (before the queue starts).
func AddReminderWorker(workers *Workers, d ReminderDeliverer) {
	river.AddWorker(workers, &ReminderWorker{Reminders: d})
}
