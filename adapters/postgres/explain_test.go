//go:build explain

package postgres_test

// The query plans of the main list queries on 100,000 tasks of 1,000
// users. Slow (it seeds the data), so behind a build tag:
//
//	go test -tags explain -run TestExplainListQueries -v ./adapters/postgres
//
// The store runs its real queries through a pgx tracer that records each
// statement and its arguments; each is then explained twice: as PostgreSQL
// plans it for those values (what the store gets: it runs list queries
// unprepared), and as the generic plan a prepared statement would switch
// to after five executions (what the store avoids).

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

type recordedQuery struct {
	sql  string
	args []any
}

// recorder is a pgx tracer that keeps the statements it sees.
type recorder struct {
	mu      sync.Mutex
	queries []recordedQuery
}

func (r *recorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	var args []any
	for _, a := range d.Args {
		if _, mode := a.(pgx.QueryExecMode); !mode {
			args = append(args, a)
		}
	}
	r.queries = append(r.queries, recordedQuery{d.SQL, args})
	return ctx
}

func (r *recorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *recorder) take() []recordedQuery {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.queries
	r.queries = nil
	return q
}

func TestExplainListQueries(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewURL(t)
	plain, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	start := time.Now()
	users := pgtest.SeedTodos(t, plain, 1000, 100)
	// One heavy user too, where the plan decides whether a page costs
	// reading one page or all of the user's tasks.
	heavy := pgtest.SeedTodos(t, plain, 1, 20_000)[0]
	var tasks, withDue int
	if err := plain.Pool().QueryRow(ctx, "SELECT count(*), count(due_at) FROM todos").Scan(&tasks, &withDue); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("seeded %d tasks (%d with a due time) of %d users (one of them with 20,000 tasks) in %s\n",
		tasks, withDue, len(users)+1, time.Since(start).Round(time.Millisecond))

	rec := &recorder{}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.Tracer = rec
	cfg.MaxConns = 1 // one session, to read its prepared statements' plan counts
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := postgres.FromPool(pool)
	defer db.Close()
	s := postgres.NewTodoStore(db)
	user := users[len(users)/2]
	open := false

	// The third page of the default list, to explain a cursor query.
	newest := ports.TodoQuery{Owner: user, Sort: domain.DefaultTodoSort, Limit: 21}
	var after *domain.TodoPosition
	for range 2 {
		q := newest
		q.After = after
		page, err := s.ListTodos(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		pos := q.Sort.PositionOf(page[19])
		after = &pos
	}
	rec.take()
	dueFrom, dueTo := time.Now().Add(-45*24*time.Hour), time.Now().Add(-15*24*time.Hour)

	// The last page of tasks with a due time, which runs on into the
	// undated tail: both queries of a due order.
	dueWalk := ports.TodoQuery{Owner: user, Sort: domain.TodoSort{Field: domain.SortByDueAt}, Limit: 21}
	dated, err := s.ListTodos(ctx, ports.TodoQuery{Owner: user, Sort: dueWalk.Sort, Filter: domain.TodoFilter{DueAfter: &time.Time{}}, Limit: 1000})
	if err != nil || len(dated) < 10 {
		t.Fatalf("dated tasks: %d, %v", len(dated), err)
	}
	lastDated := dueWalk.Sort.PositionOf(dated[len(dated)-10])
	rec.take()

	// The store runs list queries unprepared, so the server never switches
	// them to a generic plan: after many executions, the session holds no
	// prepared list statement.
	for i := range 30 {
		q := newest
		q.Owner = users[i]
		if _, err := s.ListTodos(ctx, q); err != nil {
			t.Fatal(err)
		}
		q = ports.TodoQuery{Owner: users[i], Sort: domain.TodoSort{Field: domain.SortByDueAt}, Filter: domain.TodoFilter{Done: &open}, Limit: 21}
		if _, err := s.ListTodos(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	rec.take()
	counts, err := pool.Query(ctx, "SELECT split_part(statement, E'\\n', 1), generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE '-- name: List%' ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("\nprepared list statements in the session after 30 executions of two lists (none: each execution is planned for its values):")
	for counts.Next() {
		var name string
		var generic, custom int64
		if err := counts.Scan(&name, &generic, &custom); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("  %s  generic_plans=%d custom_plans=%d\n", name, generic, custom)
	}
	if err := counts.Err(); err != nil {
		t.Fatal(err)
	}
	rec.take()

	for _, tc := range []struct {
		name string
		q    ports.TodoQuery
	}{
		{"first page, newest first (the default list)", newest},
		{"third page, newest first (after a cursor)", func() ports.TodoQuery { q := newest; q.After = after; return q }()},
		{"first page, open tasks by due time", ports.TodoQuery{Owner: user, Sort: domain.TodoSort{Field: domain.SortByDueAt}, Filter: domain.TodoFilter{Done: &open}, Limit: 21}},
		{"page crossing from dated to undated tasks, by due time", func() ports.TodoQuery { q := dueWalk; q.After = &lastDated; return q }()},
		{"first page, most important first", ports.TodoQuery{Owner: user, Sort: domain.TodoSort{Field: domain.SortByPriority, Desc: true}, Limit: 21}},
		{"due in a 30-day window, soonest first", ports.TodoQuery{Owner: user, Sort: domain.TodoSort{Field: domain.SortByDueAt}, Filter: domain.TodoFilter{DueAfter: &dueFrom, DueBefore: &dueTo}, Limit: 21}},
		{"tag work, newest first", ports.TodoQuery{Owner: user, Sort: domain.DefaultTodoSort, Filter: domain.TodoFilter{Tag: "work"}, Limit: 21}},
		{"text search \"milk\", newest first", ports.TodoQuery{Owner: user, Sort: domain.DefaultTodoSort, Filter: domain.TodoFilter{Text: "milk"}, Limit: 21}},
		{"HEAVY USER (20,000 tasks): first page, newest first", ports.TodoQuery{Owner: heavy, Sort: domain.DefaultTodoSort, Limit: 21}},
		{"HEAVY USER: open tasks by due time", ports.TodoQuery{Owner: heavy, Sort: domain.TodoSort{Field: domain.SortByDueAt}, Filter: domain.TodoFilter{Done: &open}, Limit: 21}},
		{"HEAVY USER: tag work, newest first", ports.TodoQuery{Owner: heavy, Sort: domain.DefaultTodoSort, Filter: domain.TodoFilter{Tag: "work"}, Limit: 21}},
		{"HEAVY USER: text search \"bike 1234\" (selective), newest first", ports.TodoQuery{Owner: heavy, Sort: domain.DefaultTodoSort, Filter: domain.TodoFilter{Text: "bike 1234"}, Limit: 21}},
	} {
		if _, err := s.ListTodos(ctx, tc.q); err != nil {
			t.Fatal(err)
		}
		for i, q := range rec.take() {
			name := tc.name
			if i > 0 {
				name += fmt.Sprintf(" (query %d)", i+1)
			}
			fmt.Printf("\n=== %s\n%s\n", name, firstLine(q.sql))
			fmt.Printf("--- custom plan (planned for these values)\n%s", explain(t, plain.Pool(), q, false))
			fmt.Printf("--- generic plan (what a prepared statement may switch to)\n%s", explain(t, plain.Pool(), q, true))
		}
	}
}

// explain runs EXPLAIN ANALYZE on q: with its arguments bound, or as the
// generic plan of a prepared statement executed with them.
func explain(t *testing.T, pool *pgxpool.Pool, q recordedQuery, generic bool) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	const opts = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, SUMMARY ON) "
	var rows pgx.Rows
	if !generic {
		rows, err = conn.Query(ctx, opts+q.sql, append([]any{pgx.QueryExecModeExec}, q.args...)...)
	} else {
		if _, err := conn.Exec(ctx, "PREPARE explained AS "+q.sql); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "SET plan_cache_mode = force_generic_plan"); err != nil {
			t.Fatal(err)
		}
		defer func() {
			_, _ = conn.Exec(ctx, "RESET plan_cache_mode; DEALLOCATE explained", pgx.QueryExecModeSimpleProtocol)
		}()
		literals := make([]string, len(q.args))
		for i, a := range q.args {
			literals[i] = literal(t, a)
		}
		rows, err = conn.Query(ctx, opts+"EXECUTE explained("+strings.Join(literals, ", ")+")", pgx.QueryExecModeSimpleProtocol)
	}
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	var b strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		b.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("explain: %v", err)
	}
	return b.String()
}

// literal writes a recorded argument as SQL.
func literal(t *testing.T, a any) string {
	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	switch v := a.(type) {
	case uuid.UUID:
		return quote(v.String())
	case time.Time:
		return quote(v.UTC().Format(time.RFC3339Nano))
	case int16, int32, int64, int:
		return fmt.Sprint(v)
	case pgtype.Bool:
		if !v.Valid {
			return "NULL"
		}
		return fmt.Sprint(v.Bool)
	case pgtype.Text:
		if !v.Valid {
			return "NULL"
		}
		return quote(v.String)
	case pgtype.Timestamptz:
		if !v.Valid {
			return "NULL"
		}
		return quote(v.Time.UTC().Format(time.RFC3339Nano))
	}
	t.Fatalf("no literal for %T", a)
	return ""
}

func firstLine(sql string) string {
	line, _, _ := strings.Cut(sql, "\n")
	return line
}
