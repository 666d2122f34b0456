package ports

import (
	"context"

	"github.com/miniback/miniback/domain"
)

// JobAdmin reads and steers the job queue for administrators (the
// adapters/jobs adapter, on river's tables).
type JobAdmin interface {
	// JobStats counts the jobs by kind and state, the queue depth, and the
	// last lastErrors errors, newest first.
	JobStats(ctx context.Context, lastErrors int) (domain.JobStats, error)
	// Job returns job id; CodeJobNotFound when there is none.
	Job(ctx context.Context, id int64) (domain.Job, error)
	// RetryJob makes job id available now and returns it;
	// CodeJobNotFound when there is none.
	RetryJob(ctx context.Context, id int64) (domain.Job, error)
	// CancelJob cancels job id and returns it (a finished job unchanged);
	// CodeJobNotFound when there is none.
	CancelJob(ctx context.Context, id int64) (domain.Job, error)
}
