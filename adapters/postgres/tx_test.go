package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/domain"
)

// TestCallbackErrorsComeBackUnchangedAndRollBack holds every store method
// that takes a use-case's callback to the ports' promise: the callback's
// error is returned as it is (not wrapped, not classified) and nothing
// the transaction did stays.
func TestCallbackErrorsComeBackUnchangedAndRollBack(t *testing.T) {
	db := pgtest.NewDB(t)
	ctx := context.Background()
	alice := newTaskOwner(t, db, "alice")
	users, todos, uploads, sessions := postgres.NewUserStore(db), postgres.NewTodoStore(db), postgres.NewUploadStore(db), postgres.NewSessionStore(db)
	task := createTodo(t, todos, domain.Todo{Owner: alice, Title: "milk"})
	upload := newUpload(t, uploads, alice, time.Hour)
	_, tok := startSession(t, sessions, alice)
	refused := errors.New("refused by the rule") // no *domain.Error: nothing may classify it

	cases := []struct {
		name      string
		op        func() error
		unchanged func() bool
	}{
		{"update user", func() error {
			_, err := users.UpdateUser(ctx, alice, func(u domain.User) (domain.User, error) { u.Nickname = "Alice"; return u, refused })
			return err
		}, func() bool { u, err := users.GetUser(ctx, alice); return err == nil && u.Nickname == "" }},
		{"update todo", func() error {
			_, err := todos.UpdateTodo(ctx, alice, task.ID, func(td domain.Todo) (domain.Todo, error) { td.Title = "eggs"; return td, refused })
			return err
		}, func() bool { td, err := todos.GetTodo(ctx, alice, task.ID); return err == nil && td.Title == "milk" }},
		{"delete todo", func() error {
			return todos.DeleteTodo(ctx, alice, task.ID, func(domain.Todo) error { return refused })
		}, func() bool { _, err := todos.GetTodo(ctx, alice, task.ID); return err == nil }},
		{"update upload", func() error {
			_, err := uploads.UpdateUpload(ctx, upload.ID, func(u domain.Upload) (domain.Upload, error) { u.Status = domain.UploadReady; return u, refused })
			return err
		}, func() bool {
			u, err := uploads.GetUpload(ctx, upload.ID)
			return err == nil && u.Status == domain.UploadPending
		}},
		{"rotate refresh token", func() error {
			_, err := sessions.RotateRefreshToken(ctx, tok.Hash(), newToken(t).Hash(), t0.Add(time.Hour),
				func(domain.Session) (domain.Session, error) { return domain.Session{}, refused })
			return err
		}, func() bool {
			// The token was not used: rotating it again works.
			rot, err := sessions.RotateRefreshToken(ctx, tok.Hash(), newToken(t).Hash(), t0.Add(time.Hour), refreshAt(t0.Add(time.Hour)))
			return err == nil && !rot.Reused
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.op(); err != refused {
				t.Fatalf("error = %#v; want the callback's own error value", err)
			}
			if !c.unchanged() {
				t.Fatal("the refused change was stored")
			}
		})
	}
}
