package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/httpapi"
	"github.com/miniback/miniback/adapters/jwx"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// memTodos answers GetTodo and ListTodos from memory.
type memTodos struct {
	ports.TodoStore
	items []domain.Todo
}

func (m memTodos) GetTodo(context.Context, domain.UserID, domain.TodoID) (domain.Todo, error) {
	return m.items[0], nil
}

func (m memTodos) ListTodos(_ context.Context, q ports.TodoQuery) ([]domain.Todo, error) {
	return m.items[:min(q.Limit, len(m.items))], nil
}

// benchTodos are tasks shaped like the load harness's: three in five with
// a due time (+08:00), a quarter done, tags, notes on a third.
func benchTodos(owner domain.UserID, n int) []domain.Todo {
	at := time.Date(2026, 3, 1, 9, 30, 15, 123456000, time.UTC)
	cst := time.FixedZone("", 8*3600)
	out := make([]domain.Todo, n)
	for i := range out {
		t := domain.Todo{
			ID: domain.TodoID(fmt.Sprintf("0f8e5a1c-2b7d-4e9f-8a6b-%012d", i)), Owner: owner,
			Title: fmt.Sprintf("Buy milk & bread <%d>", i), Priority: domain.Priority("normal"),
			Tags: []string{"home", "errands"}, CreatedAt: at.Add(time.Duration(i) * time.Minute), UpdatedAt: at.Add(time.Hour), Version: 1 + i%3,
		}
		if i%3 == 0 {
			t.Notes = "Two litres, the organic one.\nAsk for a bag."
		}
		if i%5 < 3 {
			due := at.Add(48 * time.Hour).In(cst)
			t.DueAt = &due
		}
		if i%4 == 0 {
			done := at.Add(2 * time.Hour)
			t.Done, t.CompletedAt = true, &done
		}
		out[i] = t
	}
	return out
}

// BenchmarkHotRoutes serves the most frequent reads through the whole
// handler with the stores in memory, so it measures what the HTTP layer
// costs: routing, the middleware, token verification, validation, the
// use-case and encoding the answer. Each request carries the same token.
func BenchmarkHotRoutes(b *testing.B) {
	keyPEM, err := jwx.GenerateEd25519PEM()
	if err != nil {
		b.Fatal(err)
	}
	keys, err := jwx.ParsePrivateKeysPEM(keyPEM)
	if err != nil {
		b.Fatal(err)
	}
	tokens, err := jwx.New(jwx.Config{Keys: keys, Issuer: issuer, Audience: audience, TTL: tokenTTL})
	if err != nil {
		b.Fatal(err)
	}
	cursors, err := app.NewCursorCodec([]byte("a benchmark cursor secret, 32+ bytes"))
	if err != nil {
		b.Fatal(err)
	}
	const userID = "3f8e5a1c-2b7d-4e9f-8a6b-1c2d3e4f5a6b"
	at := time.Date(2026, 3, 1, 9, 30, 15, 0, time.UTC)
	user := domain.User{ID: userID, Nickname: "Alice", AvatarURL: "https://example.com/a.png", Bio: "Likes <b>milk</b>",
		Role: domain.RoleUser, CreatedAt: at, UpdatedAt: at, Username: "alice", Email: "alice@example.com", HasPassword: true}
	h := httpapi.NewHandler(httpapi.Deps{
		App: &app.App{
			Profiles: app.Profiles{Users: memUsers{user: user}},
			Todos:    app.Todos{Store: memTodos{items: benchTodos(userID, 21)}, Cursors: cursors, Clock: app.SystemClock{}},
		},
		Verifier: tokens,
	})
	token, err := tokens.IssueAccess(context.Background(), ports.AccessClaims{UserID: userID, SessionID: "7c1f4e2a-0b9d-4c8e-a5f6-3d2e1b0a9c8d", TokenID: "bench", Role: domain.RoleUser})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct{ name, path string }{
		{"GET /v1/me", "/v1/me"},
		{"GET /v1/todos/{id}", "/v1/todos/0f8e5a1c-2b7d-4e9f-8a6b-000000000000"},
		{"GET /v1/todos page of 20", "/v1/todos"},
		{"GET /v1/todos?sort=due_at&done=false", "/v1/todos?sort=due_at&done=false"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, bc.path, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
