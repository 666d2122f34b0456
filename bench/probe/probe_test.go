package main

import (
	"bytes"
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// stringConsts returns the string constants declared in the Go files
// matching pattern, by name.
func stringConsts(t *testing.T, pattern string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no files match %s (%v)", pattern, err)
	}
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			spec, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, name := range spec.Names {
				if i < len(spec.Values) {
					if lit, ok := spec.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						s, err := strconv.Unquote(lit.Value)
						if err != nil {
							t.Fatal(err)
						}
						out[name.Name] = s
					}
				}
			}
			return true
		})
	}
	return out
}

// probeSQL returns the probe's statements (sql.go), by constant name.
func probeSQL(t *testing.T) map[string]string {
	return stringConsts(t, "sql.go")
}

// TestProbeSQLIsMinibacksSQL holds the probe to miniback's statements:
// each constant of sql.go but the lists must be, byte for byte, the sqlc
// statement of the same name that miniback runs. When queries/*.sql change, this fails until
// sql.go is copied again from adapters/postgres/internal/sqlcgen.
func TestProbeSQLIsMinibacksSQL(t *testing.T) {
	mine := probeSQL(t)
	theirs := stringConsts(t, filepath.Join("..", "..", "adapters", "postgres", "internal", "sqlcgen", "*.sql.go"))
	if len(mine) < 20 {
		t.Fatalf("sql.go declares %d statements; it should hold every statement of the probed routes", len(mine))
	}
	for name, sql := range mine {
		if strings.HasPrefix(name, "list") {
			continue // TestProbeListSQLIsMinibacksSQL
		}
		base, ok := strings.CutPrefix(name, "sql")
		if !ok {
			t.Errorf("%s: probe statements are named sql<SqlcName>", name)
			continue
		}
		sqlcName := strings.ToLower(base[:1]) + base[1:]
		want, ok := theirs[sqlcName]
		if !ok {
			t.Errorf("%s: miniback has no statement %s any more", name, sqlcName)
			continue
		}
		if sql != want {
			t.Errorf("%s differs from miniback's %s: copy it again from sqlcgen.\nprobe:\n%s\nminiback:\n%s", name, sqlcName, sql, want)
		}
	}
}

// TestProbeListSQLIsMinibacksSQL holds the probe's lists to miniback's:
// each list* constant of sql.go must be, byte for byte, a statement that
// miniback's TodoStore sends, and miniback must send it in the pool's exec
// mode (prepared), as the probe does. The store builds its list statements
// (adapters/postgres/todolist.go), so they are taken from the store itself,
// driven through every sort the probe serves, with and without done, page
// by page into and through the undated tail.
func TestProbeListSQLIsMinibacksSQL(t *testing.T) {
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(pgtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{seen: map[string]int{}, own: map[string]int{}}
	cfg.ConnConfig.Tracer = rec
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := postgres.FromPool(pool)
	defer db.Close()
	var owner string
	if err := pool.QueryRow(ctx, "INSERT INTO users DEFAULT VALUES RETURNING id::text").Scan(&owner); err != nil {
		t.Fatal(err)
	}
	// Dated and undated, done and open tasks, two of each.
	_, err = pool.Exec(ctx, `INSERT INTO todos (user_id, title, due_at, due_offset, done, completed_at)
		SELECT $1, 'task ' || g, CASE WHEN g % 2 = 0 THEN now() + g * interval '1 day' END, CASE WHEN g % 2 = 0 THEN 0 END,
		       g % 4 < 2, CASE WHEN g % 4 < 2 THEN now() END
		FROM generate_series(1, 8) g`, owner)
	if err != nil {
		t.Fatal(err)
	}
	rec.seen, rec.own = map[string]int{}, map[string]int{}
	s := postgres.NewTodoStore(db)
	open := false
	for _, sort := range []domain.TodoSort{
		{Field: domain.SortByCreatedAt}, {Field: domain.SortByCreatedAt, Desc: true},
		{Field: domain.SortByDueAt}, {Field: domain.SortByDueAt, Desc: true},
	} {
		for _, f := range []domain.TodoFilter{{}, {Done: &open}} {
			q := ports.TodoQuery{Owner: domain.UserID(owner), Sort: sort, Filter: f, Limit: 1}
			for range 10 {
				page, err := s.ListTodos(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				pos := sort.PositionOf(page[0])
				q.After = &pos
			}
		}
	}
	for name, sql := range probeSQL(t) {
		if !strings.HasPrefix(name, "list") {
			continue
		}
		switch {
		case rec.seen[sql] == 0:
			t.Errorf("%s is no statement miniback sends for the probe's lists: copy it again from the store's.\nprobe:\n%s", name, sql)
		case rec.own[sql] != 0:
			t.Errorf("%s: miniback sends it with an exec mode of its own (planned per execution); the probe sends it prepared", name)
		}
	}
}

// recorder remembers every statement the pool sent, and which came with
// an exec mode of their own.
type recorder struct {
	mu   sync.Mutex
	seen map[string]int
	own  map[string]int
}

func (r *recorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen[data.SQL]++
	for _, a := range data.Args {
		if _, mode := a.(pgx.QueryExecMode); mode {
			r.own[data.SQL]++
		}
	}
	return ctx
}

func (r *recorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

type client struct {
	t    *testing.T
	base string
}

// do sends a request and decodes a JSON answer into out (unless nil),
// failing the test unless the status is want.
func (c client) do(method, path, user string, body any, headers map[string]string, want int, out any) http.Header {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if user != "" {
		req.Header.Set("X-User-ID", user)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		c.t.Fatalf("%s %s = %d %s, want %d", method, path, res.StatusCode, data, want)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
	return res.Header
}

// TestProbeRunsEveryStatementAgainstTheSchema drives every probed route
// against a freshly migrated database, so a schema change that breaks one
// of the probe's statements (or its scans) fails here rather than in the
// middle of a load run; and it checks that each statement of sql.go ran.
func TestProbeRunsEveryStatementAgainstTheSchema(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := pgxpool.ParseConfig(pgtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{seen: map[string]int{}, own: map[string]int{}}
	cfg.ConnConfig.Tracer = rec
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	srv := httptest.NewServer(newHandler(pool))
	defer srv.Close()
	c := client{t: t, base: srv.URL}

	// Login: a new user, then the same user again, then refresh twice in
	// a chain; a used token is refused.
	var first, again tokensJSON
	c.do("POST", "/v1/auth/wechat", "", map[string]string{"code": "dev-alice"}, nil, 200, &first)
	c.do("POST", "/v1/auth/wechat", "", map[string]string{"code": "dev-alice"}, nil, 200, &again)
	if first.User == nil || again.User == nil || first.User.ID != again.User.ID || !*first.IsNewUser || *again.IsNewUser {
		t.Fatalf("logins: %+v then %+v, want one user, new the first time", first, again)
	}
	user := first.User.ID.String()
	var r1, r2 tokensJSON
	c.do("POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": first.RefreshToken}, nil, 200, &r1)
	c.do("POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": r1.RefreshToken}, nil, 200, &r2)
	if r2.RefreshToken == "" || r2.RefreshToken == r1.RefreshToken || r2.AccessToken != user {
		t.Errorf("refresh chain: %+v then %+v", r1, r2)
	}
	c.do("POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": first.RefreshToken}, nil, 401, nil)

	var me userJSON
	c.do("GET", "/v1/me", user, nil, nil, 200, &me)
	if me.ID.String() != user || me.Role != "user" || me.HasPassword {
		t.Errorf("GET /v1/me = %+v", me)
	}

	// Tasks: dated and undated, done and open.
	var tasks []todoJSON
	for i := range 5 {
		d := map[string]any{"title": "task " + strconv.Itoa(i), "priority": "high", "tags": []string{"work"}}
		if i%2 == 0 {
			d["due_at"] = time.Date(2030, 1, 1+i, 18, 0, 0, 0, time.FixedZone("", 8*3600)).Format(time.RFC3339)
		}
		var created todoJSON
		h := c.do("POST", "/v1/todos", user, d, nil, 201, &created)
		if h.Get("ETag") != `"v1"` || created.Title != d["title"] || created.Priority != "high" {
			t.Fatalf("created %+v (ETag %s)", created, h.Get("ETag"))
		}
		tasks = append(tasks, created)
	}
	if tasks[0].DueAt == nil || !strings.HasSuffix(*tasks[0].DueAt, "+08:00") || tasks[1].DueAt != nil {
		t.Errorf("due times: %v, %v", tasks[0].DueAt, tasks[1].DueAt)
	}
	var once, replay todoJSON
	key := map[string]string{"Idempotency-Key": "k-1"}
	c.do("POST", "/v1/todos", user, map[string]any{"title": "once"}, key, 201, &once)
	h := c.do("POST", "/v1/todos", user, map[string]any{"title": "once"}, key, 201, &replay)
	if once.ID != replay.ID || h.Get("Idempotent-Replayed") != "true" {
		t.Errorf("an Idempotency-Key replay made %s after %s (replayed %q)", replay.ID, once.ID, h.Get("Idempotent-Replayed"))
	}

	id := tasks[1].ID.String()
	var got, patched todoJSON
	c.do("GET", "/v1/todos/"+id, user, nil, nil, 200, &got)
	h = c.do("PATCH", "/v1/todos/"+id, user, map[string]any{"title": "renamed", "done": true}, map[string]string{"If-Match": `"v1"`}, 200, &patched)
	if patched.Title != "renamed" || patched.Version != 2 || !patched.Done || patched.CompletedAt == nil || h.Get("ETag") != `"v2"` {
		t.Errorf("PATCH = %+v (ETag %s)", patched, h.Get("ETag"))
	}
	c.do("PATCH", "/v1/todos/"+id, user, map[string]any{"title": "stale"}, map[string]string{"If-Match": `"v1"`}, 412, nil)
	c.do("GET", "/v1/todos/"+id, "00000000-0000-0000-0000-000000000001", nil, nil, 404, nil)

	// Lists: every sort the probe serves, walked page by page, must
	// return each task once, in order.
	for _, q := range []string{"", "done=false", "sort=created_at", "sort=created_at&done=false", "sort=due_at", "sort=due_at&done=false", "sort=-due_at", "sort=-due_at&done=false"} {
		var seen []todoJSON
		cursor := ""
		for pages := 0; ; pages++ {
			path := "/v1/todos?limit=2"
			if q != "" {
				path += "&" + q
			}
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			var page pageJSON
			c.do("GET", path, user, nil, nil, 200, &page)
			seen = append(seen, page.Items...)
			if page.NextCursor == nil || pages > 10 {
				break
			}
			cursor = *page.NextCursor
		}
		want := 6
		if strings.Contains(q, "done=false") {
			want = 5 // the patched task is done
		}
		ids := map[string]bool{}
		for _, s := range seen {
			ids[s.ID.String()] = true
		}
		if len(seen) != want || len(ids) != want {
			t.Errorf("list %q walked %d tasks (%d distinct), want %d", q, len(seen), len(ids), want)
		}
		if q == "sort=due_at&done=false" && (seen[0].DueAt == nil || seen[len(seen)-1].DueAt != nil) {
			t.Errorf("due order does not put dated tasks first and undated last: %+v", seen)
		}
	}

	var vars struct {
		MemStats map[string]uint64 `json:"memstats"`
	}
	c.do("GET", "/debug/vars", "", nil, nil, 200, &vars)
	if vars.MemStats["Mallocs"] == 0 {
		t.Errorf("/debug/vars = %+v", vars)
	}

	for name, sql := range probeSQL(t) {
		if rec.seen[sql] == 0 {
			t.Errorf("%s never ran: drive its route in this test", name)
		}
	}
}
