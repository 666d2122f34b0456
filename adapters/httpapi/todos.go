package httpapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/domain"
)

// The task operations. The owner is always the token's subject; the use-
// cases scope every read and write to it, so another user's task answers
// 404 like a missing one.

// CreateTodo creates a task, once per Idempotency-Key.
func (s *Server) CreateTodo(ctx context.Context, req api.CreateTodoRequestObject) (api.CreateTodoResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.createTodoFailure(ctx, errNoClaims)
	}
	if req.Body == nil {
		return s.createTodoFailure(ctx, errNoBody)
	}
	b := req.Body
	d := domain.TodoDraft{Title: b.Title}
	if b.Notes != nil {
		d.Notes = *b.Notes
	}
	if due, err := b.DueAt.Get(); err == nil {
		d.DueAt = due
	}
	if b.Priority != nil {
		d.Priority = string(*b.Priority)
	}
	if b.Done != nil {
		d.Done = *b.Done
	}
	if b.Tags != nil {
		d.Tags = *b.Tags
	}
	if lead, err := b.ReminderLeadMinutes.Get(); err == nil {
		d.ReminderLead = &lead
	}
	var key string
	if req.Params.IdempotencyKey != nil {
		key = *req.Params.IdempotencyKey
	}
	t, replayed, err := s.app.Todos.Create(ctx, claims.UserID, claims.AppID, d, key)
	if err != nil {
		return s.createTodoFailure(ctx, renameFields(err, func(f string) string {
			if f == "idempotency_key" {
				return "header.Idempotency-Key"
			}
			return f
		}))
	}
	return &createdTodoResponse{todo: t, replayed: replayed}, nil
}

// ListTodos returns one page of the caller's tasks.
func (s *Server) ListTodos(ctx context.Context, req api.ListTodosRequestObject) (api.ListTodosResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.listTodosFailure(ctx, errNoClaims)
	}
	p := req.Params
	in := domain.TodoListParams{Limit: p.Limit, Done: p.Done, Tag: p.Tag}
	if p.Cursor != nil {
		in.Cursor = *p.Cursor
	}
	if p.Sort != nil {
		in.Sort = string(*p.Sort)
	}
	if p.DueAfter != nil {
		in.DueAfter = *p.DueAfter
	}
	if p.DueBefore != nil {
		in.DueBefore = *p.DueBefore
	}
	if p.Q != nil {
		in.Text = *p.Q
	}
	page, err := s.app.Todos.List(ctx, claims.UserID, in)
	if err != nil {
		// Every field of a list request is a query parameter.
		return s.listTodosFailure(ctx, renameFields(err, func(f string) string { return "query." + f }))
	}
	return (*todoPageResponse)(&page), nil
}

// GetTodo returns one of the caller's tasks, or 304 when If-None-Match
// holds its current tag.
func (s *Server) GetTodo(ctx context.Context, req api.GetTodoRequestObject) (api.GetTodoResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.getTodoFailure(ctx, errNoClaims)
	}
	t, err := s.app.Todos.Get(ctx, claims.UserID, domain.TodoID(req.Id.String()))
	if err != nil {
		return s.getTodoFailure(ctx, err)
	}
	if noneMatch(req.Params.IfNoneMatch, t.Version) {
		return api.GetTodo304Response{Headers: api.GetTodo304ResponseHeaders{ETag: ptr(etag(t.Version))}}, nil
	}
	return (*todoResponse)(&t), nil
}

// UpdateTodo merge-patches one of the caller's tasks, under If-Match when
// sent.
func (s *Server) UpdateTodo(ctx context.Context, req api.UpdateTodoRequestObject) (api.UpdateTodoResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.updateTodoFailure(ctx, errNoClaims)
	}
	if req.Body == nil {
		return s.updateTodoFailure(ctx, errNoBody)
	}
	b := req.Body
	patch := domain.TodoPatch{Title: b.Title, Done: b.Done, Tags: b.Tags}
	if b.Notes.IsSpecified() {
		notes := "" // null clears
		if v, err := b.Notes.Get(); err == nil {
			notes = v
		}
		patch.Notes = &notes
	}
	if b.DueAt.IsSpecified() {
		if v, err := b.DueAt.Get(); err == nil {
			patch.DueAt = &v
		} else {
			patch.ClearDueAt = true
		}
	}
	if b.Priority != nil {
		patch.Priority = ptr(string(*b.Priority))
	}
	if b.ReminderLeadMinutes.IsSpecified() {
		if v, err := b.ReminderLeadMinutes.Get(); err == nil {
			patch.ReminderLead = &v
		} else {
			patch.ClearReminderLead = true
		}
	}
	t, err := s.app.Todos.Update(ctx, claims.UserID, claims.AppID, domain.TodoID(req.Id.String()), patch, versionMatch(req.Params.IfMatch))
	if err != nil {
		return s.updateTodoFailure(ctx, err)
	}
	return (*todoResponse)(&t), nil
}

// DeleteTodo deletes one of the caller's tasks, under If-Match when sent.
func (s *Server) DeleteTodo(ctx context.Context, req api.DeleteTodoRequestObject) (api.DeleteTodoResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.deleteTodoFailure(ctx, errNoClaims)
	}
	err := s.app.Todos.Delete(ctx, claims.UserID, domain.TodoID(req.Id.String()), versionMatch(req.Params.IfMatch))
	if err != nil {
		return s.deleteTodoFailure(ctx, err)
	}
	return api.DeleteTodo204Response{}, nil
}

// toAPITodo maps a task to the wire type: the due time in the offset it was
// given, the other times in UTC. (todoResponse and todoPageResponse write
// tasks without it, to the same bytes.)
func toAPITodo(t domain.Todo) (api.Todo, error) {
	id, err := uuid.Parse(string(t.ID))
	if err != nil {
		return api.Todo{}, fmt.Errorf("todo id %q is not a UUID: %w", t.ID, err)
	}
	out := api.Todo{
		Id: id, Title: t.Title, Notes: t.Notes, Priority: api.Priority(t.Priority), Done: t.Done,
		Tags: t.Tags, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, Version: t.Version,
	}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	if t.DueAt != nil {
		out.DueAt.Set(t.DueAt.Format(time.RFC3339Nano))
	} else {
		out.DueAt.SetNull()
	}
	if t.CompletedAt != nil {
		out.CompletedAt.Set(*t.CompletedAt)
	} else {
		out.CompletedAt.SetNull()
	}
	out.ReminderLeadMinutes = t.ReminderLead
	if r := t.Reminder; r != nil {
		out.Reminder = &api.Reminder{State: api.ReminderState(r.State), RemindAt: r.At, SentAt: r.SentAt}
		if r.MsgID != "" {
			out.Reminder.Msgid = &r.MsgID
		}
		if r.Reason != "" {
			out.Reminder.Reason = &r.Reason
		}
	}
	return out, nil
}

// renameFields returns err with its field errors renamed, for use-case
// fields that do not come from the JSON body (qualifiedField's default).
func renameFields(err error, rename func(string) string) error {
	var de *domain.Error
	if !errors.As(err, &de) || len(de.Fields) == 0 {
		return err
	}
	out := *de
	out.Fields = make([]domain.FieldError, len(de.Fields))
	for i, f := range de.Fields {
		if !strings.Contains(f.Field, ".") {
			f.Field = rename(f.Field)
		}
		out.Fields[i] = f
	}
	return &out
}

func ptr[T any](v T) *T { return &v }
