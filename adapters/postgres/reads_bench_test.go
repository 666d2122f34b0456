package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/domain"
)

// BenchmarkGetUser reads one user through the store, as GET /v1/me does:
// a uuid parameter, one row of text, timestamptz and bool columns.
func BenchmarkGetUser(b *testing.B) {
	db := pgtest.NewDB(b)
	users := pgtest.SeedTodos(b, db, 1000, 0)
	s := postgres.NewUserStore(db)
	i := 0
	for b.Loop() {
		if _, err := s.GetUser(context.Background(), users[i%len(users)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkGetTodo reads one task through the store, as GET
// /v1/todos/{id} does: two uuid parameters, one row with nullable
// timestamptz and int columns and a text array of tags.
func BenchmarkGetTodo(b *testing.B) {
	db := pgtest.NewDB(b)
	pgtest.SeedTodos(b, db, 100, 10)
	rows, err := db.Pool().Query(context.Background(), "SELECT user_id::text, id::text FROM todos ORDER BY id")
	if err != nil {
		b.Fatal(err)
	}
	type key struct{ Owner, ID string }
	keys, err := pgx.CollectRows(rows, pgx.RowToStructByPos[key])
	if err != nil {
		b.Fatal(err)
	}
	s := postgres.NewTodoStore(db)
	i := 0
	for b.Loop() {
		k := keys[i%len(keys)]
		i++
		if _, err := s.GetTodo(context.Background(), domain.UserID(k.Owner), domain.TodoID(k.ID)); err != nil {
			b.Fatal(err)
		}
	}
}
