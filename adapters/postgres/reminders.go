package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/miniback/miniback/adapters/postgres/internal/sqlcgen"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Task reminders (migrations/00012_reminders.sql). A task write moves its
// reminder in the task's own transaction: it inserts the river job of a
// new remind time and cancels the job of the old one (ReminderJobs), so a
// task acknowledged to the client always has the job its reminder says,
// and a rollback leaves neither. The reminder worker's side is
// ReminderStore.

// ReminderJobs inserts and cancels reminder jobs inside a transaction (the
// job queue's adapter implements it). InsertReminder is unique per (task,
// remind time): the job runs at at, or at once when at has passed.
type ReminderJobs interface {
	InsertReminder(ctx context.Context, tx pgx.Tx, todo domain.TodoID, at time.Time) (jobID int64, err error)
	CancelReminder(ctx context.Context, tx pgx.Tx, jobID int64) error
}

// ScheduleReminders makes the task writes schedule reminders with jobs,
// deciding what is due with clock. Without it a task keeps its lead but
// its reminder is never scheduled.
func (s *TodoStore) ScheduleReminders(jobs ReminderJobs, clock ports.Clock) {
	s.jobs, s.clock = jobs, clock
}

func (s *TodoStore) now() time.Time {
	if s.clock == nil {
		return time.Now()
	}
	return s.clock.Now()
}

const stateNone = ""

func rowState(r sqlcgen.Reminder) string {
	if !r.State.Valid {
		return stateNone
	}
	return r.State.String
}

// syncReminder brings the reminder of the task next (just written, in
// tx) in line with it: the same remind time keeps a live reminder as it
// is, a new one cancels the old job and schedules anew (or says
// no_subscription when no grant is left), and a task done, undated,
// past due or without a lead cancels it. deleted cancels the job of a
// task being deleted (its row goes with the task). It sets next's
// Reminder.
func (s *TodoStore) syncReminder(ctx context.Context, tx pgx.Tx, q *sqlcgen.Queries, owner, id uuid.UUID, next *domain.Todo, deleted bool) error {
	cur, err := q.LockReminder(ctx, id)
	found := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("lock reminder: %w", err)
	}
	state := rowState(cur)
	cancelJob := func() error {
		if state == string(domain.ReminderScheduled) && cur.JobID.Valid && s.jobs != nil {
			if err := s.jobs.CancelReminder(ctx, tx, cur.JobID.Int64); err != nil {
				return fmt.Errorf("cancel reminder job: %w", err)
			}
		}
		cur.JobID = pgtype.Int8{}
		return nil
	}
	if deleted {
		return cancelJob()
	}
	if !found {
		if next.ReminderLead == nil {
			return nil
		}
		cur = sqlcgen.Reminder{TodoID: id, UserID: owner}
	}
	now := s.now()
	cur.LeadMinutes = pgtype.Int4{}
	if next.ReminderLead != nil {
		cur.LeadMinutes = pgtype.Int4{Int32: int32(*next.ReminderLead), Valid: true}
	}
	moved := false
	if v := next.RemindVia; v != nil && (string(v.App) != cur.AppID || v.TemplateID != cur.TemplateID) {
		cur.AppID, cur.TemplateID, moved = string(v.App), v.TemplateID, true
	}
	at, reason, ok := domain.ReminderTarget(*next, now)
	switch {
	case !ok:
		if state == string(domain.ReminderScheduled) || state == string(domain.ReminderNoSubscription) {
			if err := cancelJob(); err != nil {
				return err
			}
			cur.State = pgtype.Text{String: string(domain.ReminderCancelled), Valid: true}
			cur.Reason = pgtype.Text{String: reason, Valid: true}
		}
	case !moved && cur.RemindAt.Valid && cur.RemindAt.Time.Equal(at) && s.jobs != nil &&
		(state == string(domain.ReminderScheduled) || state == string(domain.ReminderSending) ||
			state == string(domain.ReminderSent) || state == string(domain.ReminderFailed)):
		// The same reminder: unique per (task, remind time).
	case s.jobs == nil:
		// No queue wired: the lead is kept, nothing is scheduled.
	default:
		if err := cancelJob(); err != nil {
			return err
		}
		cur.RemindAt = pgtype.Timestamptz{Time: at, Valid: true}
		cur.Attempt, cur.Msgid, cur.Reason, cur.SentAt = 0, pgtype.Text{}, pgtype.Text{}, pgtype.Timestamptz{}
		cur.State = pgtype.Text{String: string(domain.ReminderNoSubscription), Valid: true}
		if cur.AppID != "" {
			left, err := q.GrantsLeft(ctx, sqlcgen.GrantsLeftParams{UserID: owner, AppID: cur.AppID, TemplateID: cur.TemplateID})
			if err != nil {
				return fmt.Errorf("read grants: %w", err)
			}
			if left > 0 {
				job, err := s.jobs.InsertReminder(ctx, tx, domain.TodoID(id.String()), at)
				if err != nil {
					return fmt.Errorf("insert reminder job: %w", err)
				}
				cur.JobID = pgtype.Int8{Int64: job, Valid: true}
				cur.State = pgtype.Text{String: string(domain.ReminderScheduled), Valid: true}
			}
		}
	}
	cur.UpdatedAt = now
	if err := q.SaveReminder(ctx, saveParams(cur)); err != nil {
		return fmt.Errorf("save reminder: %w", err)
	}
	applyReminder(next, cur)
	return nil
}

func saveParams(r sqlcgen.Reminder) sqlcgen.SaveReminderParams { return sqlcgen.SaveReminderParams(r) }

// applyReminder puts a reminder row on its task: the lead, and the
// reminder when there is one.
func applyReminder(t *domain.Todo, r sqlcgen.Reminder) {
	t.ReminderLead, t.Reminder = nil, nil
	if r.LeadMinutes.Valid {
		lead := int(r.LeadMinutes.Int32)
		t.ReminderLead = &lead
	}
	if !r.State.Valid || !r.RemindAt.Valid {
		return
	}
	rem := &domain.Reminder{State: domain.ReminderState(r.State.String), At: r.RemindAt.Time.UTC(), MsgID: r.Msgid.String, Reason: r.Reason.String}
	if r.SentAt.Valid {
		sent := r.SentAt.Time.UTC()
		rem.SentAt = &sent
	}
	t.Reminder = rem
}

// withReminders reads the reminders of tasks (one query) and puts them on.
func withReminders(ctx context.Context, q *sqlcgen.Queries, todos []domain.Todo) error {
	if len(todos) == 0 {
		return nil
	}
	ids := make([]uuid.UUID, 0, len(todos))
	at := make(map[uuid.UUID]int, len(todos))
	for i, t := range todos {
		id, err := uuid.Parse(string(t.ID))
		if err != nil {
			return fmt.Errorf("todo id %q: %w", t.ID, err)
		}
		ids = append(ids, id)
		at[id] = i
	}
	rows, err := q.ListReminders(ctx, ids)
	if err != nil {
		return fmt.Errorf("read reminders: %w", err)
	}
	for _, r := range rows {
		if i, ok := at[r.TodoID]; ok {
			applyReminder(&todos[i], r)
		}
	}
	return nil
}

var _ ports.ReminderStore = (*ReminderStore)(nil)

// ReminderStore is the reminder worker's store: it claims a send (taking
// the grant) and records its outcome.
type ReminderStore struct {
	db *DB
}

// NewReminderStore returns a ReminderStore backed by db.
func NewReminderStore(db *DB) *ReminderStore { return &ReminderStore{db: db} }

// ClaimReminder: see ports.ReminderStore.
func (s *ReminderStore) ClaimReminder(ctx context.Context, j ports.ReminderJob) (ports.ReminderClaim, error) {
	tid, err := uuid.Parse(string(j.Todo))
	if err != nil {
		return ports.ReminderClaim{Outcome: ports.ClaimStale}, nil
	}
	var claim ports.ReminderClaim
	err = inTx(ctx, s.db, interpretError, func(q *sqlcgen.Queries) error {
		claim = ports.ReminderClaim{Outcome: ports.ClaimStale}
		r, err := q.LockReminder(ctx, tid)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // the task was deleted
		}
		if err != nil {
			return fmt.Errorf("lock reminder: %w", err)
		}
		if !r.JobID.Valid || r.JobID.Int64 != j.JobID || !r.RemindAt.Valid || !r.RemindAt.Time.Equal(j.At) {
			return nil // moved, cancelled, or another job's
		}
		save := func(state domain.ReminderState, reason string) error {
			r.State = pgtype.Text{String: string(state), Valid: true}
			r.Reason = pgtype.Text{String: reason, Valid: reason != ""}
			r.UpdatedAt = j.Now
			if state != domain.ReminderScheduled && state != domain.ReminderSending {
				r.JobID = pgtype.Int8{}
			}
			return q.SaveReminder(ctx, saveParams(r))
		}
		switch rowState(r) {
		case string(domain.ReminderScheduled):
		case string(domain.ReminderSending):
			// An earlier attempt took the grant and may have sent.
			claim.Outcome = ports.ClaimUnknown
			return save(domain.ReminderFailed, domain.ReasonOutcomeUnknown)
		default:
			return nil
		}
		key := sqlcgen.TakeGrantParams{UserID: r.UserID, AppID: r.AppID, TemplateID: r.TemplateID}
		openID, err := q.ReminderOpenID(ctx, sqlcgen.ReminderOpenIDParams{UserID: r.UserID, AppID: r.AppID})
		if errors.Is(err, pgx.ErrNoRows) {
			claim.Outcome = ports.ClaimNoUser
			return save(domain.ReminderFailed, domain.ReasonNoWeChatUser)
		}
		if err != nil {
			return fmt.Errorf("read openid: %w", err)
		}
		taken, err := q.TakeGrant(ctx, key)
		if err != nil {
			return fmt.Errorf("take grant: %w", err)
		}
		if taken == 0 {
			claim.Outcome = ports.ClaimNoGrant
			return save(domain.ReminderNoSubscription, "")
		}
		row, err := q.GetTodo(ctx, sqlcgen.GetTodoParams{ID: tid, UserID: r.UserID})
		if err != nil {
			return fmt.Errorf("read todo: %w", err)
		}
		todo, err := toTodo(row)
		if err != nil {
			return err
		}
		applyReminder(&todo, r)
		r.Attempt = int32(j.Attempt)
		if err := save(domain.ReminderSending, ""); err != nil {
			return err
		}
		claim = ports.ReminderClaim{Outcome: ports.ClaimSend, Todo: todo, OpenID: domain.OpenID(openID),
			Route: domain.ReminderRoute{App: domain.AppID(r.AppID), TemplateID: r.TemplateID}}
		return nil
	})
	if err != nil {
		return ports.ReminderClaim{}, err
	}
	return claim, nil
}

// FinishReminder: see ports.ReminderStore.
func (s *ReminderStore) FinishReminder(ctx context.Context, j ports.ReminderJob, f ports.ReminderFinish) error {
	tid, err := uuid.Parse(string(j.Todo))
	if err != nil {
		return nil
	}
	return inTx(ctx, s.db, interpretError, func(q *sqlcgen.Queries) error {
		r, err := q.LockReminder(ctx, tid)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // deleted while sending: the send was claimed before
		}
		if err != nil {
			return fmt.Errorf("lock reminder: %w", err)
		}
		if rowState(r) != string(domain.ReminderSending) || !r.JobID.Valid || r.JobID.Int64 != j.JobID {
			return nil
		}
		key := sqlcgen.ReturnGrantParams{UserID: r.UserID, AppID: r.AppID, TemplateID: r.TemplateID, Max: domain.MaxSubscribeGrants}
		switch f.Grant {
		case ports.GrantReturned:
			err = q.ReturnGrant(ctx, key)
		case ports.GrantsCleared:
			err = q.ClearGrants(ctx, sqlcgen.ClearGrantsParams{UserID: r.UserID, AppID: r.AppID, TemplateID: r.TemplateID})
		}
		if err != nil {
			return fmt.Errorf("settle grant: %w", err)
		}
		r.State = pgtype.Text{String: string(f.State), Valid: true}
		r.Reason = pgtype.Text{String: f.Reason, Valid: f.Reason != ""}
		r.Msgid = pgtype.Text{String: f.MsgID, Valid: f.State == domain.ReminderSent}
		if f.State == domain.ReminderSent {
			r.SentAt = pgtype.Timestamptz{Time: f.SentAt, Valid: true}
		}
		if f.State != domain.ReminderScheduled {
			r.JobID = pgtype.Int8{}
		}
		r.UpdatedAt = j.Now
		return q.SaveReminder(ctx, saveParams(r))
	})
}
