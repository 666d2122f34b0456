package app

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Todos is the signed-in user's to-do list. The owner always comes from
// the verified access token; every store call is scoped to it, so another
// user's task is not found.
type Todos struct {
	Store   ports.TodoStore
	Cursors CursorCodec
	Clock   ports.Clock
	// Moderation checks the title and notes when the deployment says so;
	// nil checks nothing.
	Moderation *Moderation
	// Reminders routes the reminders the tasks ask for (Reminders.Route):
	// through the caller's mini-program and its reminder template.
	Reminders Reminders
}

// TodoPage is one page of a list. NextCursor is "" on the last page.
type TodoPage struct {
	Items      []domain.Todo
	NextCursor string
}

// Create checks the draft (the task rules, then content security) and
// creates the task. With an idempotency key, a retry (same key, same
// content) returns the first task with replayed true instead of creating
// another. app is the mini-program of the caller's session ("" for none).
func (uc Todos) Create(ctx context.Context, owner domain.UserID, app domain.AppID, d domain.TodoDraft, idempotencyKey string) (t domain.Todo, replayed bool, err error) {
	fields, err := d.Normalize()
	if idempotencyKey != "" {
		err = joinInvalid(domain.CheckIdempotencyKey(idempotencyKey), err)
	}
	if err != nil {
		return domain.Todo{}, false, err
	}
	screen, err := uc.screen(ctx, owner, app, &fields.Title, &fields.Notes)
	if err != nil {
		return domain.Todo{}, false, err
	}
	now := uc.Clock.Now()
	draft := domain.NewTodo(owner, fields, now)
	if fields.ReminderLead != nil {
		draft.RemindVia = uc.route(app)
	}
	if idempotencyKey == "" {
		t, err = uc.Store.CreateTodo(ctx, draft)
		if err != nil {
			return domain.Todo{}, false, fmt.Errorf("create todo: %w", err)
		}
	} else {
		t, replayed, err = uc.Store.CreateTodoOnce(ctx, draft, ports.IdempotencyKey{
			Key: idempotencyKey, RequestHash: requestHash(fields), Now: now,
		})
		if err != nil {
			return domain.Todo{}, false, fmt.Errorf("create todo once: %w", err)
		}
	}
	// A replay flags again: if the first request's flag was lost with its
	// answer, the retry records it (an open flag is never duplicated).
	if err := screen.Record(ctx, string(t.ID)); err != nil {
		return domain.Todo{}, false, err
	}
	return t, replayed, nil
}

// screen runs content security on a task's title and notes (nil when the
// request leaves them out), when it is on.
func (uc Todos) screen(ctx context.Context, owner domain.UserID, app domain.AppID, title, notes *string) (Screening, error) {
	m := uc.Moderation
	var texts []TextInput
	if title != nil && m.On(domain.FieldTodoTitle) {
		texts = append(texts, TextInput{Field: domain.FieldTodoTitle, Text: *title})
	}
	if notes != nil && m.On(domain.FieldTodoNotes) {
		texts = append(texts, TextInput{Field: domain.FieldTodoNotes, Text: *notes})
	}
	if len(texts) == 0 {
		return Screening{}, nil
	}
	return m.ScreenText(ctx, owner, app, domain.SubjectTodo, texts...)
}

// route is the reminder route of the caller's app, nil for none.
func (uc Todos) route(app domain.AppID) *domain.ReminderRoute {
	if r, ok := uc.Reminders.Route(app); ok {
		return &r
	}
	return nil
}

// Get returns one of the owner's tasks.
func (uc Todos) Get(ctx context.Context, owner domain.UserID, id domain.TodoID) (domain.Todo, error) {
	t, err := uc.Store.GetTodo(ctx, owner, id)
	if err != nil {
		return domain.Todo{}, fmt.Errorf("get todo: %w", err)
	}
	return t, nil
}

// Update applies a merge patch to one of the owner's tasks if match (the
// If-Match precondition, nil for none) holds for its current version. A new
// title or notes goes through content security first; app is the
// mini-program of the caller's session ("" for none).
func (uc Todos) Update(ctx context.Context, owner domain.UserID, app domain.AppID, id domain.TodoID, p domain.TodoPatch, match *domain.VersionMatch) (domain.Todo, error) {
	change, err := p.Normalize()
	if err != nil {
		return domain.Todo{}, err
	}
	screen, err := uc.screen(ctx, owner, app, change.Title, change.Notes)
	if err != nil {
		return domain.Todo{}, err
	}
	now := uc.Clock.Now()
	var via *domain.ReminderRoute
	if change.ReminderLead != nil || change.DueAt != nil {
		via = uc.route(app) // a reminder set or moved goes through this session's app
	}
	t, err := uc.Store.UpdateTodo(ctx, owner, id, func(t domain.Todo) (domain.Todo, error) {
		if err := match.Check(t.Version); err != nil {
			return domain.Todo{}, err
		}
		next := change.Apply(t, now)
		next.RemindVia = via
		return next, nil
	})
	if err != nil {
		return domain.Todo{}, fmt.Errorf("update todo: %w", err)
	}
	if err := screen.Record(ctx, string(t.ID)); err != nil {
		return domain.Todo{}, err
	}
	return t, nil
}

// Delete deletes one of the owner's tasks if match holds for its version.
func (uc Todos) Delete(ctx context.Context, owner domain.UserID, id domain.TodoID, match *domain.VersionMatch) error {
	err := uc.Store.DeleteTodo(ctx, owner, id, func(t domain.Todo) error { return match.Check(t.Version) })
	if err != nil {
		return fmt.Errorf("delete todo: %w", err)
	}
	return nil
}

// List returns one page of the owner's tasks. The cursor of the next page
// is signed and bound to the owner, the filters and the sort.
func (uc Todos) List(ctx context.Context, owner domain.UserID, p domain.TodoListParams) (TodoPage, error) {
	req, err := p.Normalize()
	if err != nil {
		return TodoPage{}, err
	}
	q := ports.TodoQuery{Owner: owner, Filter: req.Filter, Sort: req.Sort, Limit: req.Limit + 1}
	if req.Cursor != "" {
		after, err := uc.Cursors.Decode(owner, req, req.Cursor)
		if err != nil {
			return TodoPage{}, err
		}
		q.After = &after
	}
	items, err := uc.Store.ListTodos(ctx, q)
	if err != nil {
		return TodoPage{}, fmt.Errorf("list todos: %w", err)
	}
	page := TodoPage{Items: items}
	if len(items) > req.Limit {
		page.Items = items[:req.Limit]
		page.NextCursor = uc.Cursors.Encode(owner, req, req.Sort.PositionOf(page.Items[req.Limit-1]))
	}
	return page, nil
}

// ForgetExpiredIdempotencyKeys deletes the keys older than
// domain.IdempotencyKeyTTL, which no request can replay any more.
func (uc Todos) ForgetExpiredIdempotencyKeys(ctx context.Context) (int64, error) {
	n, err := uc.Store.ForgetIdempotencyKeys(ctx, uc.Clock.Now().Add(-domain.IdempotencyKeyTTL))
	if err != nil {
		return 0, fmt.Errorf("forget idempotency keys: %w", err)
	}
	return n, nil
}

// requestHash identifies a create's content in normal form, so a retry
// that differs only in spacing, tag case or member order is the same
// request; a due time in another offset is not.
func requestHash(f domain.TodoFields) []byte {
	canon := struct {
		Title    string   `json:"title"`
		Notes    string   `json:"notes"`
		DueAt    string   `json:"due_at"`
		Priority string   `json:"priority"`
		Done     bool     `json:"done"`
		Tags     []string `json:"tags"`
		Lead     *int     `json:"reminder_lead_minutes,omitempty"`
	}{Title: f.Title, Notes: f.Notes, Priority: string(f.Priority), Done: f.Done, Tags: f.Tags, Lead: f.ReminderLead}
	if f.DueAt != nil {
		canon.DueAt = f.DueAt.Format(time.RFC3339Nano)
	}
	data, _ := json.Marshal(canon) // cannot fail: strings and a bool
	sum := sha256.Sum256(data)
	return sum[:]
}

// joinInvalid merges the field errors of two validation errors, so a
// client learns every broken rule at once. Either may be nil.
func joinInvalid(a, b error) error {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	var ea, eb *domain.Error
	if !errors.As(a, &ea) || !errors.As(b, &eb) {
		return errors.Join(a, b)
	}
	return domain.Invalid(append(append([]domain.FieldError{}, ea.Fields...), eb.Fields...)...)
}
