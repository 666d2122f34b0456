package app

import (
	"context"
	"fmt"
	"strconv"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Jobs is the job queue's administration: what the console shows of the
// queue, and an administrator's retry and cancel of one job.
type Jobs struct {
	// Admin is the queue; nil when this server runs none (every call is
	// then CodeUnavailable).
	Admin ports.JobAdmin
	// Audit records the administrators' retries and cancels (job.retry,
	// job.cancel) right after the queue's own update commits; nil records
	// nothing.
	Audit *Audit
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
func (uc Jobs) Retry(ctx context.Context, actor domain.Actor, id int64) (domain.Job, error) {
	if err := uc.check(actor.Role); err != nil {
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
	done, err := uc.Admin.RetryJob(ctx, id)
	if err != nil {
		return domain.Job{}, err
	}
	return done, uc.audit(ctx, actor, domain.AuditJobRetry, j, done)
}

// Cancel cancels job id: it will not run (again). A finished job is
// returned unchanged. Administrators only.
func (uc Jobs) Cancel(ctx context.Context, actor domain.Actor, id int64) (domain.Job, error) {
	if err := uc.check(actor.Role); err != nil {
		return domain.Job{}, err
	}
	before, err := uc.Admin.Job(ctx, id)
	if err != nil {
		return domain.Job{}, err
	}
	done, err := uc.Admin.CancelJob(ctx, id)
	if err != nil {
		return domain.Job{}, err
	}
	if before.State == done.State {
		return done, nil // a finished job, unchanged: nothing to audit
	}
	return done, uc.audit(ctx, actor, domain.AuditJobCancel, before, done)
}

// audit records an administrator's action on a job: its kind and the state
// it moved from and to (never its arguments, which may hold user data).
// The queue's update has committed by then: a failure to record is
// reported, and the action stands.
func (uc Jobs) audit(ctx context.Context, actor domain.Actor, action domain.AuditAction, before, after domain.Job) error {
	if uc.Audit == nil || uc.Audit.Log == nil {
		return nil
	}
	e := uc.Audit.Entry(actor, action, domain.AuditTargetJob, strconv.FormatInt(after.ID, 10),
		map[string]any{"kind": after.Kind, "from_state": string(before.State), "to_state": string(after.State)})
	if err := uc.Audit.Record(ctx, e); err != nil {
		return fmt.Errorf("audit %s of job %d: %w", action, after.ID, err)
	}
	return nil
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
