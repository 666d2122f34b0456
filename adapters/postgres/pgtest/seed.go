package pgtest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/domain"
)

// seedTodosSQL gives each user in $1 $2 tasks, in one statement: titles
// from a small vocabulary, half with notes, 70% with a due time within a
// month or so of their creation (in UTC+8), priorities even, 40% done,
// tags "home" (30%) or "work"+"urgent" (20%), created over the past year.
const seedTodosSQL = `
INSERT INTO todos (user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, created_at, updated_at)
SELECT u.id,
       (ARRAY['Buy milk', 'Call mum', 'Pay rent', 'Book flights', 'Water plants', 'Write report', 'Fix bike', 'Read a book'])[1 + floor(r.a * 8)::int] || ' ' || g,
       CASE WHEN r.b < 0.5 THEN '' ELSE 'remember the ' || md5(r.b::text) END,
       CASE WHEN r.c < 0.3 THEN NULL ELSE r.created + (r.c * 60 - 18) * interval '1 day' END,
       CASE WHEN r.c < 0.3 THEN NULL ELSE 28800 END,
       floor(r.d * 3)::smallint,
       r.e < 0.4,
       CASE WHEN r.e < 0.4 THEN r.created + interval '1 hour' END,
       CASE WHEN r.f < 0.3 THEN ARRAY['home'] WHEN r.f < 0.5 THEN ARRAY['work', 'urgent'] ELSE '{}'::text[] END,
       r.created, r.created
FROM unnest($1::uuid[]) AS u(id), generate_series(1, $2) g,
     LATERAL (SELECT random() a, random() b, random() c, random() d, random() e, random() f,
                     now() - random() * interval '365 days' - g * interval '0 s' created) r
`

// SeedTodos makes users new users with perUser tasks each, analyzes the
// tables, and returns the users' ids. It is for benchmarks and query
// plans, which need volume: 1,000 users of 100 tasks take a few seconds.
func SeedTodos(tb testing.TB, db *postgres.DB, users, perUser int) []domain.UserID {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rows, err := db.Pool().Query(ctx, "INSERT INTO users (nickname) SELECT 'seed ' || g FROM generate_series(1, $1) g RETURNING id::text", users)
	if err != nil {
		tb.Fatalf("pgtest: seed users: %v", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		tb.Fatalf("pgtest: seed users: %v", err)
	}
	if _, err := db.Pool().Exec(ctx, seedTodosSQL, ids, perUser); err != nil {
		tb.Fatalf("pgtest: seed todos: %v", err)
	}
	if _, err := db.Pool().Exec(ctx, "ANALYZE users, todos"); err != nil {
		tb.Fatalf("pgtest: analyze: %v", err)
	}
	out := make([]domain.UserID, len(ids))
	for i, id := range ids {
		out[i] = domain.UserID(id)
	}
	return out
}
