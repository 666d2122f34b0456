//go:build explain

package postgres_test

// The query plans of the list queries on 100,000 tasks of 1,000 users and
// one user with 20,000. Slow (it seeds the data), so behind a build tag:
//
//	go test -tags explain -run TestExplainListQueries -v ./adapters/postgres
//
// The store runs its real queries through a pgx tracer that records each
// statement, its arguments and whether it was prepared. Every prepared
// statement is then explained as the generic plan PostgreSQL keeps after
// five executions (plan_cache_mode = force_generic_plan, PREPARE and
// EXECUTE), for a user with 100 tasks and for the one with 20,000, and
// must be a range scan of its walk's index in sort order under a Limit.
// The statements planned per execution (tag, text search, a due range in
// another order) are shown with the plan they get and the generic plan
// they avoid.

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

type recordedQuery struct {
	sql  string
	args []any
	// prepared: sent in the pool's mode (pgx prepares and caches it), not
	// with an exec mode of its own.
	prepared bool
}

// recorder is a pgx tracer that keeps the statements it sees.
type recorder struct {
	mu      sync.Mutex
	queries []recordedQuery
}

func (r *recorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := recordedQuery{sql: d.SQL, prepared: true}
	for _, a := range d.Args {
		if _, mode := a.(pgx.QueryExecMode); mode {
			q.prepared = false
		} else {
			q.args = append(q.args, a)
		}
	}
	r.queries = append(r.queries, q)
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

// positions are keys to start pages from in a due order: near the end of
// the dated tasks (so the page runs on into the undated tail) and inside
// the undated tail, for each direction.
type positions struct {
	lastDated, undated [2]domain.TodoPosition // [asc, desc]
}

func positionsOf(t *testing.T, pool *pgxpool.Pool, owner domain.UserID) positions {
	t.Helper()
	var p positions
	for i, dir := range [][2]string{{"ASC", "DESC"}, {"DESC", "ASC"}} {
		// The 10th task from the end of the dated walk in this direction
		// is the 10th from the start of the other direction.
		dir, other := dir[0], dir[1]
		var due, created time.Time
		var id uuid.UUID
		err := pool.QueryRow(context.Background(), "SELECT due_at, created_at, id FROM todos WHERE user_id = $1 AND due_at IS NOT NULL ORDER BY due_at "+other+", id "+other+" OFFSET 9 LIMIT 1", owner).Scan(&due, &created, &id)
		if err != nil {
			t.Fatal(err)
		}
		p.lastDated[i] = domain.TodoPosition{DueAt: due, CreatedAt: created, ID: domain.TodoID(id.String())}
		err = pool.QueryRow(context.Background(), "SELECT created_at, id FROM todos WHERE user_id = $1 AND due_at IS NULL ORDER BY created_at "+dir+", id "+dir+" OFFSET 5 LIMIT 1", owner).Scan(&created, &id)
		if err != nil {
			t.Fatal(err)
		}
		p.undated[i] = domain.TodoPosition{Undated: true, CreatedAt: created, ID: domain.TodoID(id.String())}
	}
	return p
}

// preparedShapes runs and returns the requests that run every prepared
// shape: each
// sort with and without done (and, in due order, every due range), a first
// page, a cursor page, and in due order a page into the undated tail and
// one inside it.
func preparedShapes(t *testing.T, s *postgres.TodoStore, owner domain.UserID, pos positions, dueFrom, dueTo *time.Time) []ports.TodoQuery {
	t.Helper()
	open := false
	var out []ports.TodoQuery
	for _, sort := range []domain.TodoSort{
		{Field: domain.SortByCreatedAt}, {Field: domain.SortByCreatedAt, Desc: true},
		{Field: domain.SortByPriority}, {Field: domain.SortByPriority, Desc: true},
		{Field: domain.SortByDueAt}, {Field: domain.SortByDueAt, Desc: true},
	} {
		filters := []domain.TodoFilter{{}, {Done: &open}}
		if sort.Field == domain.SortByDueAt {
			filters = append(filters,
				domain.TodoFilter{DueAfter: dueFrom}, domain.TodoFilter{DueBefore: dueTo}, domain.TodoFilter{DueAfter: dueFrom, DueBefore: dueTo},
				domain.TodoFilter{Done: &open, DueAfter: dueFrom}, domain.TodoFilter{Done: &open, DueBefore: dueTo}, domain.TodoFilter{Done: &open, DueAfter: dueFrom, DueBefore: dueTo})
		}
		for _, f := range filters {
			first := ports.TodoQuery{Owner: owner, Sort: sort, Filter: f, Limit: 21}
			page, err := s.ListTodos(context.Background(), first)
			if err != nil || len(page) < 2 {
				t.Fatalf("%s %+v: %d tasks, %v", sort, f, len(page), err)
			}
			second := first
			at := sort.PositionOf(page[min(19, len(page)-2)])
			second.After = &at
			out = append(out, first, second)
			if sort.Field == domain.SortByDueAt && !f.Dated() {
				dir := 0
				if sort.Desc {
					dir = 1
				}
				crossing, inTail := first, first
				crossing.After, inTail.After = &pos.lastDated[dir], &pos.undated[dir]
				out = append(out, crossing, inTail)
			}
		}
	}
	for _, q := range out {
		if _, err := s.ListTodos(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// walkIndex is the index a list statement's walk reads, from its first
// line ("-- ListTodos (created_at, id) desc undated +after").
func walkIndex(sql string) string {
	line := firstLine(sql)
	switch {
	case strings.Contains(line, " undated"):
		return "todos_user_undated_idx"
	case strings.HasPrefix(line, "-- ListTodos (created_at"):
		return "todos_user_created_idx"
	case strings.HasPrefix(line, "-- ListTodos (due_at"):
		return "todos_user_due_idx"
	case strings.HasPrefix(line, "-- ListTodos (priority"):
		return "todos_user_priority_idx"
	}
	return "(not a list statement)"
}

var (
	executionTime = regexp.MustCompile(`Execution Time: ([0-9.]+ ms)`)
	ownerFirst    = regexp.MustCompile(`Index Cond: \(+user_id = \$1\)`)
)

// checkWalkPlan fails unless plan is a Limit over a scan of the walk's
// index in the walk's direction, with the owner in the index condition
// and nothing read any other way or sorted.
func checkWalkPlan(t *testing.T, sql, plan string) {
	t.Helper()
	scan := "Index Scan using " + walkIndex(sql)
	if strings.Contains(firstLine(sql), ") desc") {
		scan = "Index Scan Backward using " + walkIndex(sql)
	}
	// The walk itself is one node; the reminder flag of each returned row
	// is a subplan of its own, which must probe reminders' primary key
	// (never scan or hash the table).
	walk, subplan, _ := strings.Cut(plan, "SubPlan")
	nodes := 0
	for _, line := range strings.Split(walk, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "->") {
			nodes++
		}
	}
	if subplan != "" && !strings.Contains(subplan, "reminders_pkey") {
		t.Errorf("the reminder flag of\n%s\ndoes not probe reminders_pkey:\n%s", sql, plan)
	}
	if !strings.HasPrefix(plan, "Limit") || !strings.Contains(plan, "->  "+scan+" on todos") ||
		!ownerFirst.MatchString(plan) || nodes != 1 {
		t.Errorf("the generic plan of\n%s\nis not a Limit over %s:\n%s", sql, scan, plan)
	}
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
	dueFrom, dueTo := time.Now().Add(-45*24*time.Hour), time.Now().Add(-15*24*time.Hour)

	// Every prepared shape, for both users: its generic plan must walk
	// its index.
	type run struct {
		who string
		q   recordedQuery
	}
	var prepared []run
	seen, statements := map[string]bool{}, map[string]bool{}
	var requests [][]ports.TodoQuery
	for _, u := range []struct {
		who   string
		owner domain.UserID
	}{{"100 tasks", user}, {"20,000 tasks", heavy}} {
		// A wide due range, so that the light user's pages have a cursor
		// too (the generic plan does not depend on the values).
		from, to := time.Now().Add(-300*24*time.Hour), time.Now().Add(-30*24*time.Hour)
		reqs := preparedShapes(t, s, u.owner, positionsOf(t, plain.Pool(), u.owner), &from, &to)
		requests = append(requests, reqs)
		for _, q := range rec.take() {
			if !q.prepared {
				t.Errorf("planned per execution, though it has only common filters:\n%s", q.sql)
			}
			statements[q.sql] = true
			if !seen[u.who+q.sql] {
				seen[u.who+q.sql] = true
				prepared = append(prepared, run{u.who, q})
			}
		}
	}
	fmt.Printf("\n=== the generic plan of every prepared list statement (%d statements, each for both users)\n", len(statements))
	for _, r := range prepared {
		plan := explain(t, plain.Pool(), r.q, true)
		checkWalkPlan(t, r.q.sql, plan)
		var scan string
		for _, line := range strings.Split(plan, "\n") {
			if strings.Contains(line, "->") {
				scan = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "->"))
				scan, _, _ = strings.Cut(scan, " on todos")
			}
		}
		took := "?"
		if m := executionTime.FindStringSubmatch(plan); m != nil {
			took = m[1]
		}
		fmt.Printf("%-12s %9s  Limit -> %-47s %s\n", r.who, took, scan, strings.TrimPrefix(firstLine(r.q.sql), "-- ListTodos "))
	}

	// PostgreSQL keeps the generic plan of each: after the requests ran a
	// few times more on this one session, every prepared list statement
	// has switched to it.
	for range 3 {
		for _, reqs := range requests {
			for _, q := range reqs {
				if _, err := s.ListTodos(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	rec.take()
	counts, err := pool.Query(ctx, "SELECT split_part(statement, E'\\n', 1), generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE '-- ListTodos%' ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("\n=== the session's prepared list statements after the requests ran four times")
	var inSession int
	for counts.Next() {
		var name string
		var generic, custom int64
		if err := counts.Scan(&name, &generic, &custom); err != nil {
			t.Fatal(err)
		}
		inSession++
		fmt.Printf("  generic_plans=%-3d custom_plans=%-3d %s\n", generic, custom, name)
		if generic == 0 {
			t.Errorf("%s: PostgreSQL plans it for each execution (%d custom plans), not once", name, custom)
		}
	}
	if err := counts.Err(); err != nil {
		t.Fatal(err)
	}
	if inSession != len(statements) {
		t.Errorf("%d prepared list statements in the session, want the %d shapes", inSession, len(statements))
	}
	rec.take()

	// The main lists in full, and the shapes planned per execution: the
	// plan they get, and the generic plan a prepared statement would keep.
	open := false
	newest := ports.TodoQuery{Owner: user, Sort: domain.DefaultTodoSort, Limit: 21}
	page, err := s.ListTodos(ctx, newest)
	if err != nil {
		t.Fatal(err)
	}
	after := newest.Sort.PositionOf(page[19])
	rec.take()
	for _, tc := range []struct {
		name string
		q    ports.TodoQuery
	}{
		{"first page, newest first (the default list)", newest},
		{"second page, newest first (after a cursor)", func() ports.TodoQuery { q := newest; q.After = &after; return q }()},
		{"first page, open tasks by due time", ports.TodoQuery{Owner: user, Sort: domain.TodoSort{Field: domain.SortByDueAt}, Filter: domain.TodoFilter{Done: &open}, Limit: 21}},
		{"due in a 30-day window, soonest first", ports.TodoQuery{Owner: user, Sort: domain.TodoSort{Field: domain.SortByDueAt}, Filter: domain.TodoFilter{DueAfter: &dueFrom, DueBefore: &dueTo}, Limit: 21}},
		{"due in a 30-day window, newest first (planned per execution)", ports.TodoQuery{Owner: user, Sort: domain.DefaultTodoSort, Filter: domain.TodoFilter{DueAfter: &dueFrom, DueBefore: &dueTo}, Limit: 21}},
		{"tag work, newest first (planned per execution)", ports.TodoQuery{Owner: user, Sort: domain.DefaultTodoSort, Filter: domain.TodoFilter{Tag: "work"}, Limit: 21}},
		{"text search \"milk\", newest first (planned per execution)", ports.TodoQuery{Owner: user, Sort: domain.DefaultTodoSort, Filter: domain.TodoFilter{Text: "milk"}, Limit: 21}},
		{"HEAVY USER (20,000 tasks): first page, newest first", ports.TodoQuery{Owner: heavy, Sort: domain.DefaultTodoSort, Limit: 21}},
		{"HEAVY USER: open tasks by due time", ports.TodoQuery{Owner: heavy, Sort: domain.TodoSort{Field: domain.SortByDueAt}, Filter: domain.TodoFilter{Done: &open}, Limit: 21}},
		{"HEAVY USER: due in a 30-day window, newest first (planned per execution)", ports.TodoQuery{Owner: heavy, Sort: domain.DefaultTodoSort, Filter: domain.TodoFilter{DueAfter: &dueFrom, DueBefore: &dueTo}, Limit: 21}},
		{"HEAVY USER: overdue (due before now), newest first (planned per execution)", ports.TodoQuery{Owner: heavy, Sort: domain.DefaultTodoSort, Filter: domain.TodoFilter{DueBefore: &start}, Limit: 21}},
		{"HEAVY USER: tag work, newest first (planned per execution)", ports.TodoQuery{Owner: heavy, Sort: domain.DefaultTodoSort, Filter: domain.TodoFilter{Tag: "work"}, Limit: 21}},
		{"HEAVY USER: text search \"bike 1234\" (selective), newest first (planned per execution)", ports.TodoQuery{Owner: heavy, Sort: domain.DefaultTodoSort, Filter: domain.TodoFilter{Text: "bike 1234"}, Limit: 21}},
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
			if q.prepared {
				fmt.Printf("--- generic plan (what the prepared statement runs)\n%s", explain(t, plain.Pool(), q, true))
				continue
			}
			fmt.Printf("--- custom plan (planned for these values: what runs)\n%s", explain(t, plain.Pool(), q, false))
			fmt.Printf("--- generic plan (what a prepared statement would keep)\n%s", explain(t, plain.Pool(), q, true))
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
	case nil:
		return "NULL"
	case uuid.UUID:
		return quote(v.String())
	case time.Time:
		return quote(v.UTC().Format(time.RFC3339Nano))
	case int16, int32, int64, int, bool:
		return fmt.Sprint(v)
	case string:
		return quote(v)
	}
	t.Fatalf("no literal for %T", a)
	return ""
}

func firstLine(sql string) string {
	line, _, _ := strings.Cut(sql, "\n")
	return line
}
