package app

import (
	"context"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Jobs is the job queue's administration: what the console shows of the
// queue, and an administrator's retry and cancel of one job.
type Jobs struct {
	// Admin is the queue; nil when this server runs none (every call is
	// then CodeUnavailable).
	Admin ports.JobAdmin
}

// DefaultJobErrors is how many of the last errors Stats lists when asked
// for none in particular; MaxJobErrors the most it lists.
const (
	DefaultJobErrors = 20
	MaxJobErrors     = 100
)

// Stats counts the queue's jobs and lists the last errors (lastErrors of
// them, at most MaxJobErrors). Administrators only.
func (uc Jobs) Stats(ctx context.Context, actor domain.Role, lastErrors int) (domain.JobStats, error) {
	if err := uc.check(actor); err != nil {
		return domain.JobStats{}, err
	}
	return uc.Admin.JobStats(ctx, min(max(lastErrors, 0), MaxJobErrors))
}

// Retry runs job id again now, if its state allows it
// (domain.JobState.Retryable): CodeJobNotRetryable otherwise.
// Administrators only.
func (uc Jobs) Retry(ctx context.Context, actor domain.Role, id int64) (domain.Job, error) {
	if err := uc.check(actor); err != nil {
		return domain.Job{}, err
	}
	j, err := uc.Admin.Job(ctx, id)
	if err != nil {
		return domain.Job{}, err
	}
	if !j.State.Retryable() {
		return domain.Job{}, domain.Errorf(domain.CodeJobNotRetryable,
			"Job %d is %s: only a discarded, cancelled, retryable or scheduled job can be retried.", id, j.State)
	}
	// An administrator's action on a job: the place for its audit entry.
	return uc.Admin.RetryJob(ctx, id)
}

// Cancel cancels job id: it will not run (again). A finished job is
// returned unchanged. Administrators only.
func (uc Jobs) Cancel(ctx context.Context, actor domain.Role, id int64) (domain.Job, error) {
	if err := uc.check(actor); err != nil {
		return domain.Job{}, err
	}
	// An administrator's action on a job: the place for its audit entry.
	return uc.Admin.CancelJob(ctx, id)
}

func (uc Jobs) check(actor domain.Role) error {
	if !actor.CanAdminister() {
		return domain.Errorf(domain.CodeForbidden, "Only administrators may see and steer the job queue.")
	}
	if uc.Admin == nil {
		return domain.Errorf(domain.CodeUnavailable, "This server runs no job queue.")
	}
	return nil
}
