package jobs_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/miniback/miniback/adapters/jobs"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/domain"
)

// fail marks job id as failed at attempt with msg at at, as a worker's
// error would (state, attempt and the errors array).
func fail(t *testing.T, admin interface{ Exec(string, ...any) }, id int64, state domain.JobState, attempt int, msg string, at time.Time) {
	t.Helper()
	admin.Exec(`UPDATE river_job SET state = $2::text::river_job_state, attempt = $3::int,
	errors = coalesce(errors, '{}') || jsonb_build_object('at', $5::timestamptz, 'attempt', $3::int, 'error', $4::text),
	finalized_at = CASE WHEN $2::text = 'discarded' THEN $5::timestamptz END
	WHERE id = $1`, id, string(state), attempt, msg, at)
}

type execer struct {
	t  *testing.T
	fn func(ctx context.Context, sql string, args ...any) error
}

func (e execer) Exec(sql string, args ...any) {
	e.t.Helper()
	if err := e.fn(context.Background(), sql, args...); err != nil {
		e.t.Fatal(err)
	}
}

func TestAdminCountsJobsByKindAndStateAndListsTheLastErrorsNewestFirst(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	var runs atomic.Int64
	q := newQueue(t, db, 0, &runs)
	admin := jobs.NewAdmin(db.Pool(), q)
	ex := execer{t, func(ctx context.Context, sql string, args ...any) error {
		_, err := db.Pool().Exec(ctx, sql, args...)
		return err
	}}
	var ids []int64
	for _, note := range []string{"a", "b", "c"} {
		res, err := q.Client().Insert(ctx, noteArgs{Note: note}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.Job.ID)
	}
	later := time.Now().Add(time.Hour)
	if _, err := q.Client().Insert(ctx, noteArgs{Note: "later"}, &river.InsertOpts{ScheduledAt: later}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	fail(t, ex, ids[0], domain.JobRetryable, 1, "first failure", t0)
	fail(t, ex, ids[1], domain.JobDiscarded, 1, "older failure", t0.Add(-time.Second))
	fail(t, ex, ids[1], domain.JobDiscarded, 2, "newest failure", t0.Add(time.Second))

	st, err := admin.JobStats(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	by := st.ByState()
	// ids[0] is retryable and due (scheduled_at in the past), ids[2] is
	// available: both count in the depth; "later" is scheduled, not due.
	if by[domain.JobAvailable] != 1 || by[domain.JobRetryable] != 1 || by[domain.JobDiscarded] != 1 || by[domain.JobScheduled] != 1 {
		t.Fatalf("by state = %v", by)
	}
	if st.Depth != 2 {
		t.Fatalf("depth = %d, want 2 (one available, one retryable past its time)", st.Depth)
	}
	for _, c := range st.ByKind {
		if c.Kind != "test_note" {
			t.Fatalf("kind %q counted", c.Kind)
		}
	}
	if len(st.Errors) != 2 || st.Errors[0].Error != "newest failure" || st.Errors[1].Error != "first failure" {
		t.Fatalf("errors = %+v, want the newest two, newest first", st.Errors)
	}
	if e := st.Errors[0]; e.JobID != ids[1] || e.Attempt != 2 || e.Kind != "test_note" || !e.At.Equal(t0.Add(time.Second)) {
		t.Fatalf("newest error = %+v", e)
	}
	counts, err := admin.CountJobs(ctx)
	if err != nil || counts["available"] != 1 || counts["discarded"] != 1 {
		t.Fatalf("CountJobs = %v, %v", counts, err)
	}
}

func TestAdminRetryMakesADiscardedJobAvailableAndCancelStopsAScheduledOne(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	var runs atomic.Int64
	q := newQueue(t, db, 0, &runs)
	admin := jobs.NewAdmin(db.Pool(), q)
	ex := execer{t, func(ctx context.Context, sql string, args ...any) error {
		_, err := db.Pool().Exec(ctx, sql, args...)
		return err
	}}
	res, err := q.Client().Insert(ctx, noteArgs{Note: "x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := res.Job.ID
	fail(t, ex, id, domain.JobDiscarded, 1, "boom", time.Now())
	j, err := admin.Job(ctx, id)
	if err != nil || j.State != domain.JobDiscarded || j.LastError != "boom" || j.FinalizedAt == nil {
		t.Fatalf("Job = %+v, %v", j, err)
	}
	j, err = admin.RetryJob(ctx, id)
	if err != nil || j.State != domain.JobAvailable {
		t.Fatalf("RetryJob = %+v, %v; want available", j, err)
	}

	res, err = q.Client().Insert(ctx, noteArgs{Note: "y"}, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	j, err = admin.CancelJob(ctx, res.Job.ID)
	if err != nil || j.State != domain.JobCancelled {
		t.Fatalf("CancelJob = %+v, %v; want cancelled", j, err)
	}
	// Again: answered unchanged.
	if j, err = admin.CancelJob(ctx, res.Job.ID); err != nil || j.State != domain.JobCancelled {
		t.Fatalf("CancelJob again = %+v, %v", j, err)
	}
}

func TestAdminAnUnknownJobIsJobNotFound(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	var runs atomic.Int64
	admin := jobs.NewAdmin(db.Pool(), newQueue(t, db, 0, &runs))
	for name, call := range map[string]func() (domain.Job, error){
		"Job":       func() (domain.Job, error) { return admin.Job(ctx, 987654) },
		"RetryJob":  func() (domain.Job, error) { return admin.RetryJob(ctx, 987654) },
		"CancelJob": func() (domain.Job, error) { return admin.CancelJob(ctx, 987654) },
	} {
		_, err := call()
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.CodeJobNotFound {
			t.Errorf("%s of an unknown job: %v, want %s", name, err, domain.CodeJobNotFound)
		}
	}
}
