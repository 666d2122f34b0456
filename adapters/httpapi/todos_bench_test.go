package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/miniback/miniback/adapters/httpapi"
	"github.com/miniback/miniback/adapters/jwx"
	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// BenchmarkListTodosPage serves GET /v1/todos (a page of 20) through the
// whole handler: token verification, validation against the spec, the
// use-case with its signed cursor, the Postgres store and JSON encoding.
// 1,000 users have 100 tasks each; each request is another user's.
func BenchmarkListTodosPage(b *testing.B) {
	db := pgtest.NewDB(b)
	users := pgtest.SeedTodos(b, db, 1000, 100)
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
	h := httpapi.NewHandler(httpapi.Deps{
		App:      &app.App{Todos: app.Todos{Store: postgres.NewTodoStore(db), Cursors: cursors, Clock: ports.SystemClock{}}},
		Verifier: tokens,
	})
	auth := make([]string, 100)
	for i := range auth {
		tok, err := tokens.IssueAccess(context.Background(), ports.AccessClaims{UserID: users[i*len(users)/len(auth)],
			SessionID: domain.SessionID(fmt.Sprintf("00000000-0000-4000-8000-%012d", i)), TokenID: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		auth[i] = "Bearer " + tok
	}
	for _, bc := range []struct{ name, query string }{
		{"newest_first", ""},
		{"open_by_due_time", "?sort=due_at&done=false"},
		{"search_milk", "?q=milk"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				req := httptest.NewRequest("GET", "/v1/todos"+bc.query, nil)
				req.Header.Set("Authorization", auth[i%len(auth)])
				i++
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
