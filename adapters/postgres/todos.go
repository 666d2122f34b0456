package postgres

import (
	"bytes"
	"context"
	"encoding/json"
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

var _ ports.TodoStore = (*TodoStore)(nil)

// TodoStore keeps tasks and the idempotency keys of their creation in
// PostgreSQL. Every query is scoped to the owner, so another user's task is
// not found.
type TodoStore struct {
	db *DB
	q  *sqlcgen.Queries
	// jobs and clock schedule reminders (ScheduleReminders).
	jobs  ReminderJobs
	clock ports.Clock
}

// NewTodoStore returns a TodoStore backed by db.
func NewTodoStore(db *DB) *TodoStore {
	return &TodoStore{db: db, q: db.queries()}
}

// CreateTodo inserts t for its owner and returns it as stored.
func (s *TodoStore) CreateTodo(ctx context.Context, t domain.Todo) (domain.Todo, error) {
	owner, err := parseUserID(t.Owner)
	if err != nil {
		return domain.Todo{}, err
	}
	if t.ReminderLead != nil {
		var created domain.Todo
		err := inTxWithTx(ctx, s.db, interpretTodoError, func(tx pgx.Tx, q *sqlcgen.Queries) error {
			row, err := q.CreateTodo(ctx, createParams(owner, t))
			if err != nil {
				return fmt.Errorf("insert todo: %w", err)
			}
			if created, err = toTodoOf(row, t.Owner, ""); err != nil {
				return err
			}
			created.ReminderLead, created.RemindVia = t.ReminderLead, t.RemindVia
			return s.syncReminder(ctx, tx, q, owner, row.ID, &created, false)
		})
		created.RemindVia = nil
		return created, err
	}
	row, err := s.q.CreateTodo(ctx, createParams(owner, t))
	if err != nil {
		return domain.Todo{}, interpretTodoError(err)
	}
	return toTodoOf(row, t.Owner, "")
}

// errKeyVanished means the key row that made our claim fail was gone when
// we came to read it (it expired and a third request forgot it).
var errKeyVanished = errors.New("the idempotency key vanished between claim and read")

// CreateTodoOnce creates t under an idempotency key. In one transaction it
// forgets the owner's expired keys, claims the key (waiting while a
// concurrent request with the same key is in flight), and then either
// creates the task and records it as the key's result, or, when another
// request had the key, returns that request's task.
func (s *TodoStore) CreateTodoOnce(ctx context.Context, t domain.Todo, key ports.IdempotencyKey) (domain.Todo, bool, error) {
	owner, err := parseUserID(t.Owner)
	if err != nil {
		return domain.Todo{}, false, err
	}
	created, replayed, err := s.createOnce(ctx, owner, t, key)
	if errors.Is(err, errKeyVanished) {
		created, replayed, err = s.createOnce(ctx, owner, t, key)
	}
	if errors.Is(err, errKeyVanished) {
		return domain.Todo{}, false, domain.ErrIdempotencyKeyBusy(err)
	}
	if err != nil {
		return domain.Todo{}, false, interpretTodoError(err)
	}
	return created, replayed, nil
}

func (s *TodoStore) createOnce(ctx context.Context, owner uuid.UUID, t domain.Todo, key ports.IdempotencyKey) (created domain.Todo, replayed bool, err error) {
	err = inTxWithTx(ctx, s.db, interpretTodoError, func(tx pgx.Tx, q *sqlcgen.Queries) error {
		err := q.ForgetUserIdempotencyKeys(ctx, sqlcgen.ForgetUserIdempotencyKeysParams{
			UserID: owner, Before: key.Now.Add(-domain.IdempotencyKeyTTL),
		})
		if err != nil {
			return fmt.Errorf("forget expired keys: %w", err)
		}
		claimed, err := q.ClaimIdempotencyKey(ctx, sqlcgen.ClaimIdempotencyKeyParams{
			UserID: owner, Key: key.Key, RequestHash: key.RequestHash, CreatedAt: key.Now,
		})
		if err != nil {
			return fmt.Errorf("claim key: %w", err)
		}
		if claimed == 0 {
			created, err = s.replay(ctx, q, owner, key)
			replayed = err == nil
			if err == nil {
				one := []domain.Todo{created}
				err = withReminders(ctx, q, one)
				created = one[0]
			}
			return err
		}
		row, err := q.CreateTodo(ctx, createParams(owner, t))
		if err != nil {
			return fmt.Errorf("insert todo: %w", err)
		}
		if created, err = toTodo(row); err != nil {
			return err
		}
		if t.ReminderLead != nil {
			created.ReminderLead, created.RemindVia = t.ReminderLead, t.RemindVia
			if err := s.syncReminder(ctx, tx, q, owner, row.ID, &created, false); err != nil {
				return err
			}
			created.RemindVia = nil
		}
		result, err := json.Marshal(snapshotOf(created))
		if err != nil {
			return fmt.Errorf("encode key result: %w", err)
		}
		err = q.SetIdempotencyKeyResult(ctx, sqlcgen.SetIdempotencyKeyResultParams{UserID: owner, Key: key.Key, Result: result})
		if err != nil {
			return fmt.Errorf("record key result: %w", err)
		}
		return nil
	})
	return created, replayed, err
}

// replay reads the result of the request that holds the key.
func (s *TodoStore) replay(ctx context.Context, q *sqlcgen.Queries, owner uuid.UUID, key ports.IdempotencyKey) (domain.Todo, error) {
	row, err := q.GetIdempotencyKey(ctx, sqlcgen.GetIdempotencyKeyParams{UserID: owner, Key: key.Key})
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.Todo{}, errKeyVanished
	}
	if err != nil {
		return domain.Todo{}, fmt.Errorf("read key: %w", err)
	}
	if !bytes.Equal(row.RequestHash, key.RequestHash) {
		return domain.Todo{}, domain.ErrIdempotencyKeyReused()
	}
	if len(row.Result) == 0 {
		// The result is written before the claim commits, so a committed
		// key always has one.
		return domain.Todo{}, errors.New("idempotency key has no result")
	}
	var snap todoSnapshot
	if err := json.Unmarshal(row.Result, &snap); err != nil {
		return domain.Todo{}, fmt.Errorf("decode key result: %w", err)
	}
	return snap.todo(domain.UserID(owner.String()))
}

// GetTodo returns the owner's task, or CodeNotFound.
func (s *TodoStore) GetTodo(ctx context.Context, owner domain.UserID, id domain.TodoID) (domain.Todo, error) {
	uid, tid, err := parseTodoKey(owner, id)
	if err != nil {
		return domain.Todo{}, err
	}
	row, err := s.q.GetTodo(ctx, sqlcgen.GetTodoParams{ID: tid, UserID: uid})
	if err != nil {
		return domain.Todo{}, interpretTodoError(err)
	}
	t, err := toTodoOf(row, owner, id)
	if err != nil {
		return domain.Todo{}, err
	}
	one := []domain.Todo{t}
	if err := withReminders(ctx, s.q, one); err != nil {
		return domain.Todo{}, interpretError(err)
	}
	return one[0], nil
}

// UpdateTodo locks the owner's task, lets fn change it and saves the
// result, in one transaction. An error from fn rolls back and is returned
// unchanged. The id, owner and timestamps are the store's.
func (s *TodoStore) UpdateTodo(ctx context.Context, owner domain.UserID, id domain.TodoID, fn func(domain.Todo) (domain.Todo, error)) (domain.Todo, error) {
	uid, tid, err := parseTodoKey(owner, id)
	if err != nil {
		return domain.Todo{}, err
	}
	var saved domain.Todo
	err = inTxWithTx(ctx, s.db, interpretTodoError, func(tx pgx.Tx, q *sqlcgen.Queries) error {
		current, err := lockTodo(ctx, uid, tid)(q)
		if err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		one := []domain.Todo{current}
		if err := withReminders(ctx, q, one); err != nil {
			return err
		}
		next, err := fn(one[0])
		if err != nil {
			return callerError{err}
		}
		p := createParams(uid, next)
		row, err := q.UpdateTodo(ctx, sqlcgen.UpdateTodoParams{
			ID: tid, UserID: uid, Title: p.Title, Notes: p.Notes, DueAt: p.DueAt, DueOffset: p.DueOffset,
			Priority: p.Priority, Done: p.Done, CompletedAt: p.CompletedAt, Tags: p.Tags, Version: int32(next.Version),
		})
		if err != nil {
			return fmt.Errorf("save: %w", err)
		}
		if saved, err = toTodo(row); err != nil {
			return err
		}
		saved.ReminderLead, saved.Reminder, saved.RemindVia = next.ReminderLead, one[0].Reminder, next.RemindVia
		err = s.syncReminder(ctx, tx, q, uid, tid, &saved, false)
		saved.RemindVia = nil
		return err
	})
	if err != nil {
		return domain.Todo{}, err
	}
	return saved, nil
}

// DeleteTodo locks the owner's task, lets check refuse (its error comes
// back unchanged), and deletes it.
func (s *TodoStore) DeleteTodo(ctx context.Context, owner domain.UserID, id domain.TodoID, check func(domain.Todo) error) error {
	uid, tid, err := parseTodoKey(owner, id)
	if err != nil {
		return err
	}
	return inTxWithTx(ctx, s.db, interpretTodoError, func(tx pgx.Tx, q *sqlcgen.Queries) error {
		current, err := lockTodo(ctx, uid, tid)(q)
		if err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if err := check(current); err != nil {
			return callerError{err}
		}
		if err := s.syncReminder(ctx, tx, q, uid, tid, &current, true); err != nil {
			return err
		}
		if _, err := q.DeleteTodo(ctx, sqlcgen.DeleteTodoParams{ID: tid, UserID: uid}); err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		return nil
	})
}

// lockTodo reads the owner's task FOR UPDATE.
func lockTodo(ctx context.Context, owner, id uuid.UUID) func(*sqlcgen.Queries) (domain.Todo, error) {
	return func(q *sqlcgen.Queries) (domain.Todo, error) {
		row, err := q.GetTodoForUpdate(ctx, sqlcgen.GetTodoForUpdateParams{ID: id, UserID: owner})
		if err != nil {
			return domain.Todo{}, err
		}
		return toTodo(row)
	}
}

// ForgetIdempotencyKeys deletes the keys first used before before.
func (s *TodoStore) ForgetIdempotencyKeys(ctx context.Context, before time.Time) (int64, error) {
	n, err := s.q.ForgetIdempotencyKeys(ctx, before)
	if err != nil {
		return 0, interpretError(err)
	}
	return n, nil
}

// createParams maps a task to the columns a write sets.
func createParams(owner uuid.UUID, t domain.Todo) sqlcgen.CreateTodoParams {
	p := sqlcgen.CreateTodoParams{
		UserID: owner, Title: t.Title, Notes: t.Notes, Priority: int16(t.Priority.Rank()),
		Done: t.Done, Tags: t.Tags,
	}
	if p.Tags == nil {
		p.Tags = []string{}
	}
	if t.DueAt != nil {
		_, offset := t.DueAt.Zone()
		p.DueAt = pgtype.Timestamptz{Time: *t.DueAt, Valid: true}
		p.DueOffset = pgtype.Int4{Int32: int32(offset), Valid: true}
	}
	if t.CompletedAt != nil {
		p.CompletedAt = pgtype.Timestamptz{Time: *t.CompletedAt, Valid: true}
	}
	return p
}

// toTodo maps a todos row to a domain.Todo: the due time in the offset it
// was given, every other time in UTC.
func toTodo(row sqlcgen.Todo) (domain.Todo, error) { return toTodoOf(row, "", "") }

// toTodoOf is toTodo for a row whose owner and id the caller already holds
// as strings: when they are the canonical spelling of the row's uuids they
// are used as they are, which saves formatting (and allocating) them again
// on the hot reads and writes.
func toTodoOf(row sqlcgen.Todo, owner domain.UserID, id domain.TodoID) (domain.Todo, error) {
	prio, ok := domain.PriorityOfRank(int(row.Priority))
	if !ok {
		return domain.Todo{}, fmt.Errorf("todo %s has priority rank %d", row.ID, row.Priority)
	}
	if !spells(string(owner), row.UserID) {
		owner = domain.UserID(row.UserID.String())
	}
	if !spells(string(id), row.ID) {
		id = domain.TodoID(row.ID.String())
	}
	t := domain.Todo{
		ID: id, Owner: owner,
		Title: row.Title, Notes: row.Notes, Priority: prio, Done: row.Done, Tags: row.Tags,
		CreatedAt: row.CreatedAt.UTC(), UpdatedAt: row.UpdatedAt.UTC(), Version: int(row.Version),
	}
	if t.Tags == nil {
		t.Tags = []string{}
	}
	if row.DueAt.Valid {
		due := row.DueAt.Time.In(time.FixedZone("", int(row.DueOffset.Int32)))
		t.DueAt = &due
	}
	if row.CompletedAt.Valid {
		done := row.CompletedAt.Time.UTC()
		t.CompletedAt = &done
	}
	return t, nil
}

// todoSnapshot is a task as an idempotency key's result keeps it.
type todoSnapshot struct {
	ID          string     `json:"id"`
	Title       string     `json:"title"`
	Notes       string     `json:"notes"`
	DueAt       *time.Time `json:"due_at,omitempty"`
	DueOffset   int        `json:"due_offset,omitempty"`
	Priority    string     `json:"priority"`
	Done        bool       `json:"done"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
	Tags        []string   `json:"tags"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	Version     int        `json:"version"`
}

func snapshotOf(t domain.Todo) todoSnapshot {
	s := todoSnapshot{
		ID: string(t.ID), Title: t.Title, Notes: t.Notes, Priority: string(t.Priority), Done: t.Done,
		CompletedAt: t.CompletedAt, Tags: t.Tags, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, Version: t.Version,
	}
	if t.DueAt != nil {
		_, s.DueOffset = t.DueAt.Zone()
		due := t.DueAt.UTC()
		s.DueAt = &due
	}
	return s
}

func (s todoSnapshot) todo(owner domain.UserID) (domain.Todo, error) {
	if domain.Priority(s.Priority).Rank() < 0 {
		return domain.Todo{}, fmt.Errorf("snapshot of todo %s has priority %q", s.ID, s.Priority)
	}
	t := domain.Todo{
		ID: domain.TodoID(s.ID), Owner: owner, Title: s.Title, Notes: s.Notes, Priority: domain.Priority(s.Priority),
		Done: s.Done, Tags: s.Tags, CreatedAt: s.CreatedAt.UTC(), UpdatedAt: s.UpdatedAt.UTC(), Version: s.Version,
	}
	if t.Tags == nil {
		t.Tags = []string{}
	}
	if s.DueAt != nil {
		due := s.DueAt.In(time.FixedZone("", s.DueOffset))
		t.DueAt = &due
	}
	if s.CompletedAt != nil {
		done := s.CompletedAt.UTC()
		t.CompletedAt = &done
	}
	return t, nil
}

// parseTodoKey parses an owner and a task id. Ids that are not UUIDs name
// no task.
func parseTodoKey(owner domain.UserID, id domain.TodoID) (uuid.UUID, uuid.UUID, error) {
	uid, err := parseUserID(owner)
	if err != nil {
		return uuid.Nil, uuid.Nil, domain.ErrTodoNotFound(err)
	}
	tid, err := uuid.Parse(string(id))
	if err != nil {
		return uuid.Nil, uuid.Nil, domain.ErrTodoNotFound(fmt.Errorf("parse todo id: %w", err))
	}
	return uid, tid, nil
}

// interpretTodoError is interpretError for tasks: no row is a task that is
// not found (or not the owner's), and a missing owner is a user not found.
func interpretTodoError(err error) error {
	if isViolation(err, pgFKViolation, "") {
		return domain.ErrUserNotFound(err)
	}
	return notFoundAs(err, domain.ErrTodoNotFound)
}

// spells reports whether s is u's canonical string form (what u.String()
// returns: lower-case hex with dashes), without allocating.
func spells(s string, u uuid.UUID) bool {
	const hex = "0123456789abcdef"
	if len(s) != 36 {
		return false
	}
	j := 0
	for i, b := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			if s[j] != '-' {
				return false
			}
			j++
		}
		if s[j] != hex[b>>4] || s[j+1] != hex[b&0x0f] {
			return false
		}
		j += 2
	}
	return true
}
