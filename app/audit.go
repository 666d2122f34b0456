package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Audit is the log of admin actions: who did what to which target, when
// and from where. Every admin mutation records itself here. The admin
// operations on users write their entry in the same transaction as the
// change (through ports.AdminStore); the others (a moderation decision,
// the operator's `miniback admin grant`, the job queue's retry and
// cancel) call Record right after their own transaction commits, so a
// crash between the two can lose an entry, never invent one.
type Audit struct {
	Log   ports.AuditLog
	Clock ports.Clock
}

// errNoAuditLog: the wiring gave Audit no log (a bug).
var errNoAuditLog = errors.New("audit: no log is wired")

// Record appends e to the log; a zero e.At is now, nil details are
// empty.
func (a *Audit) Record(ctx context.Context, e domain.AuditEntry) error {
	if a == nil || a.Log == nil {
		return errNoAuditLog
	}
	if e.At.IsZero() {
		e.At = a.now()
	}
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	if err := a.Log.RecordAudit(ctx, e); err != nil {
		return fmt.Errorf("record audit %s: %w", e.Action, err)
	}
	return nil
}

// Entry returns the entry of action by actor on a target, now.
func (a *Audit) Entry(actor domain.Actor, action domain.AuditAction, kind domain.AuditTargetKind, target string, details map[string]any) domain.AuditEntry {
	return domain.NewAuditEntry(actor, a.now(), action, kind, target, details)
}

func (a *Audit) now() time.Time {
	if a == nil || a.Clock == nil {
		return time.Now().Truncate(time.Microsecond)
	}
	return a.Clock.Now().Truncate(time.Microsecond)
}

// AuditPage is one page of the audit log.
type AuditPage struct {
	Entries []domain.AuditEntry
	Next    *domain.AdminCursor
}

// List returns one page of the log, newest first, for administrators.
func (a *Audit) List(ctx context.Context, actor domain.Actor, q domain.AuditQuery) (AuditPage, error) {
	if !actor.CanAdminister() {
		return AuditPage{}, domain.Errorf(domain.CodeForbidden, "Only administrators may read the audit log.")
	}
	if a == nil || a.Log == nil {
		return AuditPage{}, errNoAuditLog
	}
	q, err := q.Normalize()
	if err != nil {
		return AuditPage{}, err
	}
	entries, err := a.Log.ListAudit(ctx, q, q.Page.Limit+1)
	if err != nil {
		return AuditPage{}, fmt.Errorf("list audit: %w", err)
	}
	page := AuditPage{Entries: entries}
	if len(entries) > q.Page.Limit {
		page.Entries = entries[:q.Page.Limit]
		last := page.Entries[q.Page.Limit-1]
		page.Next = &domain.AdminCursor{At: last.At, ID: last.ID}
	}
	return page, nil
}
