package jobs_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/miniback/miniback/adapters/jobs"
	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/app"
)

// noteArgs is a test job that counts its runs.
type noteArgs struct {
	Note string `json:"note"`
}

func (noteArgs) Kind() string { return "test_note" }

type noteWorker struct {
	river.WorkerDefaults[noteArgs]
	runs *atomic.Int64
}

func (w *noteWorker) Work(context.Context, *river.Job[noteArgs]) error {
	w.runs.Add(1)
	return nil
}

// newQueue returns a queue on db working the note jobs with workers at
// once (0: insert-only), stopped when the test ends.
func newQueue(t *testing.T, db *postgres.DB, workers int, runs *atomic.Int64, maintenance ...app.Task) *jobs.Queue {
	t.Helper()
	reg := jobs.NewWorkers()
	river.AddWorker(reg, &noteWorker{runs: runs})
	q, err := jobs.New(db.Pool(), reg, jobs.Config{Workers: workers, FetchPollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.AddMaintenance(maintenance); err != nil {
		t.Fatal(err)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := q.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return q
}

// waitFor polls cond every 20 ms for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func countJobs(t *testing.T, db *postgres.DB, kind string) int {
	t.Helper()
	var n int
	if err := db.Pool().QueryRow(context.Background(), "SELECT count(*) FROM river_job WHERE kind = $1", kind).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAJobInsertedInATransactionExistsOnlyIfItCommits(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	var runs atomic.Int64
	q := newQueue(t, db, 2, &runs)

	insert := func(note string) pgx.Tx {
		tx, err := db.Pool().Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := q.InsertTx(ctx, tx, noteArgs{Note: note}, nil); err != nil {
			t.Fatal(err)
		}
		return tx
	}
	if err := insert("rolled back").Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := insert("committed").Commit(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the committed job to run", func() bool { return runs.Load() == 1 })
	if n := countJobs(t, db, "test_note"); n != 1 {
		t.Fatalf("river_job holds %d note jobs, want only the committed one", n)
	}
}

func TestAJobCancelledInATransactionNeverRuns(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	var runs atomic.Int64
	q := newQueue(t, db, 2, &runs)

	tx, err := db.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := q.InsertTx(ctx, tx, noteArgs{Note: "later"}, &river.InsertOpts{ScheduledAt: time.Now().Add(300 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.CancelTx(ctx, tx, res.Job.ID); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// Cancelling an unknown job is no error either.
	tx, _ = db.Pool().Begin(ctx)
	if err := q.CancelTx(ctx, tx, 1<<40); err != nil {
		t.Fatalf("CancelTx of an unknown job: %v", err)
	}
	_ = tx.Rollback(ctx)

	// A job scheduled after the cancelled one runs, so the cancelled one
	// had its chance.
	if _, err := q.Client().Insert(ctx, noteArgs{Note: "after"}, &river.InsertOpts{ScheduledAt: time.Now().Add(400 * time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the later job to run", func() bool { return runs.Load() >= 1 })
	var state string
	if err := db.Pool().QueryRow(ctx, "SELECT state FROM river_job WHERE id = $1", res.Job.ID).Scan(&state); err != nil {
		t.Fatal(err)
	}
	if state != "cancelled" || runs.Load() != 1 {
		t.Fatalf("cancelled job is %s after %d runs, want cancelled and only the other job run", state, runs.Load())
	}
}

func TestAnInsertOnlyQueueWorksNothing(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	var insertOnlyRuns, workerRuns atomic.Int64
	q := newQueue(t, db, 0, &insertOnlyRuns)
	if _, err := q.Client().Insert(ctx, noteArgs{Note: "x"}, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // six polls of a working queue
	if insertOnlyRuns.Load() != 0 {
		t.Fatal("an insert-only queue worked a job")
	}
	newQueue(t, db, 1, &workerRuns)
	waitFor(t, "a working replica to run the job", func() bool { return workerRuns.Load() == 1 })
}

func TestMaintenanceRunsOncePerPeriodForTheWholeDeploymentNotOncePerReplica(t *testing.T) {
	db := pgtest.NewDB(t)
	var runs atomic.Int64
	task := app.Task{Name: "count runs", Every: time.Second, AtStart: true, Run: func(context.Context) error {
		runs.Add(1)
		return nil
	}}
	started := time.Now()
	for range 3 { // three replicas on one database
		var notes atomic.Int64
		newQueue(t, db, 2, &notes, task)
	}
	waitFor(t, "the maintenance to run", func() bool { return runs.Load() >= 3 })
	time.Sleep(500 * time.Millisecond)
	periods := int64(time.Since(started)/time.Second) + 1 // +1: the run at start
	if got := runs.Load(); got > periods+1 {
		t.Fatalf("maintenance ran %d times in %d periods with 3 replicas, want at most once a period (+1 for a leader change)", got, periods)
	}
}

func TestAFailingMaintenanceTaskIsRetriedAndLogged(t *testing.T) {
	db := pgtest.NewDB(t)
	var attempts atomic.Int64
	task := app.Task{Name: "fails once", Every: time.Hour, AtStart: true, Run: func(context.Context) error {
		if attempts.Add(1) == 1 {
			return errors.New("database busy")
		}
		return nil
	}}
	var notes atomic.Int64
	newQueue(t, db, 1, &notes, task)
	waitFor(t, "the first attempt", func() bool { return attempts.Load() >= 1 })
	var errs int
	waitFor(t, "the failure to be recorded on the job", func() bool {
		_ = db.Pool().QueryRow(context.Background(), "SELECT coalesce(max(cardinality(errors)), 0) FROM river_job WHERE kind = 'maintenance'").Scan(&errs)
		return errs == 1
	})
}
