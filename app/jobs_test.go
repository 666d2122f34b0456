package app_test

import (
	"context"
	"errors"
	"testing"

	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
)

// fakeJobAdmin holds one job per id, and records the retries.
type fakeJobAdmin struct {
	jobs    map[int64]domain.Job
	retried []int64
	asked   int
}

func (f *fakeJobAdmin) JobStats(_ context.Context, n int) (domain.JobStats, error) {
	f.asked = n
	return domain.JobStats{}, nil
}

func (f *fakeJobAdmin) Job(_ context.Context, id int64) (domain.Job, error) {
	j, ok := f.jobs[id]
	if !ok {
		return domain.Job{}, domain.Errorf(domain.CodeJobNotFound, "no job")
	}
	return j, nil
}

func (f *fakeJobAdmin) RetryJob(ctx context.Context, id int64) (domain.Job, error) {
	f.retried = append(f.retried, id)
	j, err := f.Job(ctx, id)
	j.State = domain.JobAvailable
	return j, err
}

func (f *fakeJobAdmin) CancelJob(ctx context.Context, id int64) (domain.Job, error) {
	return f.Job(ctx, id)
}

func code(err error) domain.Code {
	var de *domain.Error
	if errors.As(err, &de) {
		return de.Code
	}
	return ""
}

func TestJobsRetryOnlyAFailedCancelledOrWaitingJob(t *testing.T) {
	ctx := context.Background()
	f := &fakeJobAdmin{jobs: map[int64]domain.Job{}}
	states := []domain.JobState{domain.JobAvailable, domain.JobScheduled, domain.JobPending, domain.JobRunning,
		domain.JobRetryable, domain.JobCompleted, domain.JobCancelled, domain.JobDiscarded}
	for i, s := range states {
		f.jobs[int64(i+1)] = domain.Job{ID: int64(i + 1), State: s}
	}
	uc := app.Jobs{Admin: f}
	for i, s := range states {
		_, err := uc.Retry(ctx, domain.Actor{Role: domain.RoleAdmin}, int64(i+1))
		want := s == domain.JobDiscarded || s == domain.JobCancelled || s == domain.JobRetryable || s == domain.JobScheduled
		if want && err != nil {
			t.Errorf("retry of a %s job: %v", s, err)
		}
		if !want && code(err) != domain.CodeJobNotRetryable {
			t.Errorf("retry of a %s job: %v, want %s", s, err, domain.CodeJobNotRetryable)
		}
	}
	if len(f.retried) != 4 {
		t.Errorf("retried %v, want the four retryable jobs only", f.retried)
	}
	if _, err := uc.Retry(ctx, domain.Actor{Role: domain.RoleAdmin}, 99); code(err) != domain.CodeJobNotFound {
		t.Errorf("retry of an unknown job: %v", err)
	}
}

func TestJobsAreForAdministratorsOnlyAndBoundTheErrorsListed(t *testing.T) {
	ctx := context.Background()
	f := &fakeJobAdmin{jobs: map[int64]domain.Job{1: {ID: 1, State: domain.JobDiscarded}}}
	uc := app.Jobs{Admin: f}
	if _, err := uc.Stats(ctx, domain.RoleUser, 5); code(err) != domain.CodeForbidden {
		t.Errorf("stats for a user: %v", err)
	}
	if _, err := uc.Retry(ctx, domain.Actor{Role: domain.RoleUser}, 1); code(err) != domain.CodeForbidden {
		t.Errorf("retry by a user: %v", err)
	}
	if _, err := uc.Cancel(ctx, domain.Actor{Role: domain.RoleUser}, 1); code(err) != domain.CodeForbidden {
		t.Errorf("cancel by a user: %v", err)
	}
	if _, err := uc.Stats(ctx, domain.RoleAdmin, 10_000); err != nil || f.asked != app.MaxJobErrors {
		t.Errorf("stats asked for %d errors (%v), want at most %d", f.asked, err, app.MaxJobErrors)
	}
	if _, err := (app.Jobs{}).Stats(ctx, domain.RoleAdmin, 5); code(err) != domain.CodeUnavailable {
		t.Errorf("stats with no queue: %v", err)
	}
}

// memAudit keeps the audit entries recorded.
type memAudit struct{ entries []domain.AuditEntry }

func (m *memAudit) RecordAudit(_ context.Context, e domain.AuditEntry) error {
	m.entries = append(m.entries, e)
	return nil
}

func (m *memAudit) ListAudit(context.Context, domain.AuditQuery, int) ([]domain.AuditEntry, error) {
	return m.entries, nil
}

func TestAJobRetryIsAuditedWithWhoAndTheStatesAndAnUnchangedCancelIsNot(t *testing.T) {
	ctx := context.Background()
	f := &fakeJobAdmin{jobs: map[int64]domain.Job{7: {ID: 7, Kind: "task_reminder", State: domain.JobDiscarded}}}
	log := &memAudit{}
	uc := app.Jobs{Admin: f, Audit: &app.Audit{Log: log}}
	admin := domain.Actor{User: "u-admin", Role: domain.RoleAdmin, Address: "203.0.113.9", RequestID: "r1"}
	if _, err := uc.Retry(ctx, admin, 7); err != nil {
		t.Fatal(err)
	}
	// The fake's cancel changes nothing (a finished job): no entry.
	if _, err := uc.Cancel(ctx, admin, 7); err != nil {
		t.Fatal(err)
	}
	if len(log.entries) != 1 {
		t.Fatalf("audit has %d entries, want the retry only: %+v", len(log.entries), log.entries)
	}
	e := log.entries[0]
	if e.Action != domain.AuditJobRetry || e.TargetKind != domain.AuditTargetJob || e.TargetID != "7" ||
		e.Actor != "u-admin" || e.Address != "203.0.113.9" ||
		e.Details["from_state"] != "discarded" || e.Details["to_state"] != "available" || e.Details["kind"] != "task_reminder" {
		t.Fatalf("audit entry %+v", e)
	}
}
