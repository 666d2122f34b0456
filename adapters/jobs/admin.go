package jobs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Admin is the queue as administrators see and steer it (ports.JobAdmin),
// and its counts for the health page and the metrics (ports.JobCounter).
// It reads river's tables directly for the counts and the last errors,
// and goes through river's client to retry and cancel.
type Admin struct {
	pool  *pgxpool.Pool
	queue *Queue
}

// NewAdmin returns the administration of q, whose tables are in pool.
func NewAdmin(pool *pgxpool.Pool, q *Queue) *Admin { return &Admin{pool: pool, queue: q} }

var (
	_ ports.JobAdmin   = (*Admin)(nil)
	_ ports.JobCounter = (*Admin)(nil)
)

// Counts returns how many jobs of each kind are in each state, sorted by
// kind then state, and the queue depth (jobs due now that no worker has
// started). One scan of river_job: the table holds the jobs of the last
// day or so (completed jobs are kept a day, discarded ones a week).
func (a *Admin) Counts(ctx context.Context) (counts []domain.JobCount, depth int, err error) {
	rows, err := a.pool.Query(ctx, `
SELECT kind, state::text, count(*),
       count(*) FILTER (WHERE state = 'available'
                           OR (state IN ('scheduled', 'retryable') AND scheduled_at <= now()))
FROM river_job GROUP BY kind, state ORDER BY kind, state`)
	if err != nil {
		return nil, 0, classify(fmt.Errorf("count jobs: %w", err))
	}
	defer rows.Close()
	for rows.Next() {
		var c domain.JobCount
		var due int
		if err := rows.Scan(&c.Kind, &c.State, &c.Count, &due); err != nil {
			return nil, 0, classify(fmt.Errorf("count jobs: %w", err))
		}
		counts = append(counts, c)
		depth += due
	}
	if err := rows.Err(); err != nil {
		return nil, 0, classify(fmt.Errorf("count jobs: %w", err))
	}
	return counts, depth, nil
}

// CountJobs counts the jobs by state (the health page's).
func (a *Admin) CountJobs(ctx context.Context) (map[string]int, error) {
	counts, _, err := a.Counts(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int)
	for _, c := range counts {
		out[string(c.State)] += c.Count
	}
	return out, nil
}

// JobStats is the counts, the depth and the last lastErrors errors.
func (a *Admin) JobStats(ctx context.Context, lastErrors int) (domain.JobStats, error) {
	s := domain.JobStats{CheckedAt: time.Now().UTC(), Errors: []domain.JobFailure{}}
	var err error
	if s.ByKind, s.Depth, err = a.Counts(ctx); err != nil {
		return domain.JobStats{}, err
	}
	if lastErrors <= 0 {
		return s, nil
	}
	// river_job.errors holds one entry per failed attempt, oldest first.
	rows, err := a.pool.Query(ctx, `
SELECT j.id, j.kind, coalesce((e->>'attempt')::int, 0), coalesce(e->>'error', ''), (e->>'at')::timestamptz
FROM river_job j CROSS JOIN LATERAL unnest(j.errors) AS e
WHERE j.errors IS NOT NULL
ORDER BY (e->>'at')::timestamptz DESC, j.id DESC
LIMIT $1`, lastErrors)
	if err != nil {
		return domain.JobStats{}, classify(fmt.Errorf("last job errors: %w", err))
	}
	defer rows.Close()
	for rows.Next() {
		var f domain.JobFailure
		if err := rows.Scan(&f.JobID, &f.Kind, &f.Attempt, &f.Error, &f.At); err != nil {
			return domain.JobStats{}, classify(fmt.Errorf("last job errors: %w", err))
		}
		s.Errors = append(s.Errors, f)
	}
	if err := rows.Err(); err != nil {
		return domain.JobStats{}, classify(fmt.Errorf("last job errors: %w", err))
	}
	return s, nil
}

// Job returns job id.
func (a *Admin) Job(ctx context.Context, id int64) (domain.Job, error) {
	row, err := a.queue.Client().JobGet(ctx, id)
	return toJob(id, row, err)
}

// RetryJob makes job id available now (river's JobRetry: its
// scheduled_at becomes now unless already past; a discarded job gets one
// more attempt).
func (a *Admin) RetryJob(ctx context.Context, id int64) (domain.Job, error) {
	row, err := a.queue.Client().JobRetry(ctx, id)
	return toJob(id, row, err)
}

// CancelJob cancels job id (river's JobCancel).
func (a *Admin) CancelJob(ctx context.Context, id int64) (domain.Job, error) {
	row, err := a.queue.Client().JobCancel(ctx, id)
	return toJob(id, row, err)
}

func toJob(id int64, row *rivertype.JobRow, err error) (domain.Job, error) {
	if errors.Is(err, river.ErrNotFound) {
		return domain.Job{}, domain.Errorf(domain.CodeJobNotFound, "No job %d (jobs are removed some time after they end).", id)
	}
	if err != nil {
		return domain.Job{}, classify(fmt.Errorf("job %d: %w", id, err))
	}
	j := domain.Job{
		ID: row.ID, Kind: row.Kind, Queue: row.Queue, State: domain.JobState(row.State),
		Attempt: row.Attempt, MaxAttempts: row.MaxAttempts,
		ScheduledAt: row.ScheduledAt, CreatedAt: row.CreatedAt, FinalizedAt: row.FinalizedAt,
	}
	if n := len(row.Errors); n > 0 {
		j.LastError = row.Errors[n-1].Error
	}
	return j, nil
}

// classify makes an unreachable database CodeUnavailable; other errors
// stay internal.
func classify(err error) error {
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
		return &domain.Error{Code: domain.CodeUnavailable, Err: err}
	}
	return err
}
