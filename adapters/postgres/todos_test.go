package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
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

// newTaskOwner creates a user to own tasks.
func newTaskOwner(t testing.TB, db *postgres.DB, name string) domain.UserID {
	t.Helper()
	u, _, err := postgres.NewUserStore(db).UpsertWeChatUser(context.Background(), identity("wxapp", "open-"+name, "", "key"))
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func at(s string) *time.Time {
	due, ferr := domain.ParseDueTime("due_at", s)
	if ferr != nil {
		panic(ferr.Message)
	}
	return &due
}

func createTodo(t testing.TB, s *postgres.TodoStore, td domain.Todo) domain.Todo {
	t.Helper()
	if td.Priority == "" {
		td.Priority = domain.PriorityNormal
	}
	if td.Version == 0 {
		td.Version = 1
	}
	got, err := s.CreateTodo(context.Background(), td)
	if err != nil {
		t.Fatalf("CreateTodo: %v", err)
	}
	return got
}

// sameTodo compares tasks field by field, times as instants, due times
// with their offsets.
func sameTodo(t *testing.T, got, want domain.Todo) {
	t.Helper()
	if got.ID != want.ID || got.Owner != want.Owner || got.Title != want.Title || got.Notes != want.Notes ||
		got.Priority != want.Priority || got.Done != want.Done || !reflect.DeepEqual(got.Tags, want.Tags) ||
		got.Version != want.Version || !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) ||
		!sameTime(got.DueAt, want.DueAt) || !sameTime(got.CompletedAt, want.CompletedAt) {
		t.Errorf("task\n got %+v\nwant %+v", got, want)
	}
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	_, oa := a.Zone()
	_, ob := b.Zone()
	return a.Equal(*b) && oa == ob
}

func TestCreateTodoKeepsEveryFieldAndTheDueOffset(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewTodoStore(db)
	owner := newTaskOwner(t, db, "alice")
	done := time.Date(2026, 3, 1, 2, 3, 4, 567000, time.UTC)
	in := domain.Todo{Owner: owner, Title: "Pay rent", Notes: "line 1\nline 2", DueAt: at("2026-03-05T18:30:00.25-09:30"),
		Priority: domain.PriorityHigh, Done: true, CompletedAt: &done, Tags: []string{"home", "工作"}, Version: 1}
	got := createTodo(t, s, in)
	if got.ID == "" || got.CreatedAt.IsZero() || !got.UpdatedAt.Equal(got.CreatedAt) {
		t.Fatalf("created %+v", got)
	}
	if got.DueAt.Format(time.RFC3339Nano) != "2026-03-05T18:30:00.25-09:30" {
		t.Errorf("due time reads back as %s", got.DueAt.Format(time.RFC3339Nano))
	}
	in.ID, in.CreatedAt, in.UpdatedAt = got.ID, got.CreatedAt, got.UpdatedAt
	sameTodo(t, got, in)

	read, err := s.GetTodo(context.Background(), owner, got.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameTodo(t, read, got)
}

func TestAnotherUsersTaskIsNotFoundForEveryOperation(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewTodoStore(db)
	alice, bob := newTaskOwner(t, db, "alice"), newTaskOwner(t, db, "bob")
	task := createTodo(t, s, domain.Todo{Owner: alice, Title: "secret"})
	ctx := context.Background()

	_, err := s.GetTodo(ctx, bob, task.ID)
	wantCode(t, err, domain.CodeNotFound)
	_, err = s.UpdateTodo(ctx, bob, task.ID, func(td domain.Todo) (domain.Todo, error) {
		t.Error("fn ran on another user's task")
		return td, nil
	})
	wantCode(t, err, domain.CodeNotFound)
	err = s.DeleteTodo(ctx, bob, task.ID, func(domain.Todo) error {
		t.Error("check ran on another user's task")
		return nil
	})
	wantCode(t, err, domain.CodeNotFound)
	list, err := s.ListTodos(ctx, ports.TodoQuery{Owner: bob, Sort: domain.DefaultTodoSort, Limit: 10})
	if err != nil || len(list) != 0 {
		t.Errorf("bob lists %v, %v", list, err)
	}
	if got, err := s.GetTodo(ctx, alice, task.ID); err != nil || got.Title != "secret" || got.Version != 1 {
		t.Errorf("alice's task after bob's attempts: %+v, %v", got, err)
	}
	_, err = s.GetTodo(ctx, alice, "not-a-uuid")
	wantCode(t, err, domain.CodeNotFound)
}

func TestUpdateTodoSavesWhatFnReturnsAndRollsBackOnItsError(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewTodoStore(db)
	owner := newTaskOwner(t, db, "alice")
	task := createTodo(t, s, domain.Todo{Owner: owner, Title: "a", DueAt: at("2026-03-01T09:00:00+08:00"), Tags: []string{"x"}})
	ctx := context.Background()

	refusal := domain.Errorf(domain.CodePreconditionFailed, "stale")
	_, err := s.UpdateTodo(ctx, owner, task.ID, func(td domain.Todo) (domain.Todo, error) {
		td.Title = "never saved"
		return domain.Todo{}, refusal
	})
	if err != refusal {
		t.Fatalf("fn's error came back as %v", err)
	}

	completed := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	got, err := s.UpdateTodo(ctx, owner, task.ID, func(td domain.Todo) (domain.Todo, error) {
		td.Title, td.Notes, td.DueAt, td.Priority = "b", "n", nil, domain.PriorityLow
		td.Done, td.CompletedAt, td.Tags, td.Version = true, &completed, []string{}, td.Version+1
		td.ID, td.Owner = "ignored", "ignored" // the store keeps its own
		return td, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != task.ID || got.Owner != owner || got.Title != "b" || got.DueAt != nil || got.Version != 2 || !got.Done ||
		len(got.Tags) != 0 || !got.CompletedAt.Equal(completed) || !got.CreatedAt.Equal(task.CreatedAt) || got.UpdatedAt.Before(task.UpdatedAt) {
		t.Errorf("updated %+v", got)
	}
}

func TestDeleteTodoLetsCheckRefuse(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewTodoStore(db)
	owner := newTaskOwner(t, db, "alice")
	task := createTodo(t, s, domain.Todo{Owner: owner, Title: "a"})
	ctx := context.Background()

	refusal := errors.New("no")
	if err := s.DeleteTodo(ctx, owner, task.ID, func(domain.Todo) error { return refusal }); err != refusal {
		t.Fatalf("check's error came back as %v", err)
	}
	if _, err := s.GetTodo(ctx, owner, task.ID); err != nil {
		t.Fatalf("refused delete deleted: %v", err)
	}
	if err := s.DeleteTodo(ctx, owner, task.ID, func(domain.Todo) error { return nil }); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetTodo(ctx, owner, task.ID)
	wantCode(t, err, domain.CodeNotFound)
	err = s.DeleteTodo(ctx, owner, task.ID, func(domain.Todo) error { return nil })
	wantCode(t, err, domain.CodeNotFound)
}

func TestCreateTodoForAMissingUserIsNotFound(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewTodoStore(db)
	ghost := domain.UserID("3f8e5a1c-2b7d-4e9f-8a6b-1c2d3e4f5a6b")
	_, err := s.CreateTodo(context.Background(), domain.Todo{Owner: ghost, Title: "a", Priority: domain.PriorityLow, Version: 1})
	wantCode(t, err, domain.CodeNotFound)
	_, _, err = s.CreateTodoOnce(context.Background(), domain.Todo{Owner: ghost, Title: "a", Priority: domain.PriorityLow, Version: 1},
		ports.IdempotencyKey{Key: "k", RequestHash: []byte{1}, Now: time.Now()})
	wantCode(t, err, domain.CodeNotFound)
}

func countTodos(t *testing.T, db *postgres.DB, owner domain.UserID) int {
	t.Helper()
	var n int
	if err := db.Pool().QueryRow(context.Background(), "SELECT count(*) FROM todos WHERE user_id = $1", owner).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCreateTodoOnceReplaysTheFirstTaskAndRefusesAnotherRequest(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewTodoStore(db)
	alice, bob := newTaskOwner(t, db, "alice"), newTaskOwner(t, db, "bob")
	ctx := context.Background()
	key := ports.IdempotencyKey{Key: "k-1", RequestHash: []byte("hash-1"), Now: time.Now()}
	draft := domain.Todo{Owner: alice, Title: "once", DueAt: at("2026-03-01T09:00:00+05:45"), Priority: domain.PriorityHigh, Tags: []string{"a"}, Version: 1}

	first, replayed, err := s.CreateTodoOnce(ctx, draft, key)
	if err != nil || replayed {
		t.Fatalf("first: %v, replayed %v", err, replayed)
	}
	// The task changes after its creation; a replay still answers the
	// first result.
	if _, err := s.UpdateTodo(ctx, alice, first.ID, func(td domain.Todo) (domain.Todo, error) {
		td.Title, td.Version = "changed", td.Version+1
		return td, nil
	}); err != nil {
		t.Fatal(err)
	}
	again, replayed, err := s.CreateTodoOnce(ctx, draft, key)
	if err != nil || !replayed {
		t.Fatalf("retry: %v, replayed %v", err, replayed)
	}
	sameTodo(t, again, first)

	other := key
	other.RequestHash = []byte("hash-2")
	_, _, err = s.CreateTodoOnce(ctx, draft, other)
	wantCode(t, err, domain.CodeIdempotencyKeyReused)

	// Keys are per user: bob's k-1 is his own.
	bobs, replayed, err := s.CreateTodoOnce(ctx, domain.Todo{Owner: bob, Title: "bob's", Priority: domain.PriorityLow, Version: 1}, key)
	if err != nil || replayed || bobs.ID == first.ID || bobs.Owner != bob {
		t.Fatalf("bob's create with alice's key: %+v, replayed %v, %v", bobs, replayed, err)
	}
	if n := countTodos(t, db, alice); n != 1 {
		t.Errorf("alice has %d tasks, want 1", n)
	}
}

func TestCreateTodoOnceConcurrentRequestsMakeOneTask(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewTodoStore(db)
	owner := newTaskOwner(t, db, "alice")
	key := ports.IdempotencyKey{Key: "race", RequestHash: []byte("h"), Now: time.Now()}
	const n = 12
	var wg sync.WaitGroup
	results := make([]domain.Todo, n)
	replays := make([]bool, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], replays[i], errs[i] = s.CreateTodoOnce(context.Background(),
				domain.Todo{Owner: owner, Title: "race", Priority: domain.PriorityNormal, Tags: []string{}, Version: 1}, key)
		}()
	}
	close(start)
	wg.Wait()
	fresh := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		if results[i].ID != results[0].ID {
			t.Errorf("request %d got task %s, request 0 got %s", i, results[i].ID, results[0].ID)
		}
		if !replays[i] {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d requests created, want 1", fresh)
	}
	if c := countTodos(t, db, owner); c != 1 {
		t.Errorf("%d tasks stored, want 1", c)
	}
}

func TestExpiredIdempotencyKeyCreatesAnew(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewTodoStore(db)
	owner := newTaskOwner(t, db, "alice")
	ctx := context.Background()
	t0 := time.Now()
	draft := domain.Todo{Owner: owner, Title: "t", Priority: domain.PriorityNormal, Version: 1}
	key := ports.IdempotencyKey{Key: "k", RequestHash: []byte("h"), Now: t0}
	first, _, err := s.CreateTodoOnce(ctx, draft, key)
	if err != nil {
		t.Fatal(err)
	}
	key.Now = t0.Add(domain.IdempotencyKeyTTL - time.Second)
	if again, replayed, err := s.CreateTodoOnce(ctx, draft, key); err != nil || !replayed || again.ID != first.ID {
		t.Fatalf("just before expiry: %+v, replayed %v, %v", again, replayed, err)
	}
	// Expired: the key is forgotten and even another request may use it.
	key.Now, key.RequestHash = t0.Add(domain.IdempotencyKeyTTL+time.Second), []byte("other")
	second, replayed, err := s.CreateTodoOnce(ctx, draft, key)
	if err != nil || replayed || second.ID == first.ID {
		t.Fatalf("after expiry: %+v, replayed %v, %v", second, replayed, err)
	}
}

func TestForgetIdempotencyKeysDeletesOnlyOldOnes(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewTodoStore(db)
	ctx := context.Background()
	t0 := time.Now()
	// One user each: a user's own expired keys are forgotten on their next
	// create already.
	for i, age := range []time.Duration{48 * time.Hour, 25 * time.Hour, time.Hour} {
		owner := newTaskOwner(t, db, fmt.Sprint("user-", i))
		key := ports.IdempotencyKey{Key: fmt.Sprint("k", i), RequestHash: []byte("h"), Now: t0.Add(-age)}
		if _, _, err := s.CreateTodoOnce(ctx, domain.Todo{Owner: owner, Title: "t", Priority: domain.PriorityNormal, Version: 1}, key); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.ForgetIdempotencyKeys(ctx, t0.Add(-domain.IdempotencyKeyTTL))
	if err != nil || n != 2 {
		t.Fatalf("forgot %d, %v; want 2", n, err)
	}
	var left []string
	rows, _ := db.Pool().Query(ctx, "SELECT key FROM todo_idempotency_keys")
	for rows.Next() {
		var k string
		_ = rows.Scan(&k)
		left = append(left, k)
	}
	if rows.Err() != nil || !reflect.DeepEqual(left, []string{"k2"}) {
		t.Errorf("keys left: %v, %v", left, rows.Err())
	}
}

func TestAUsersExpiredKeysAreForgottenOnTheirNextCreate(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewTodoStore(db)
	owner := newTaskOwner(t, db, "alice")
	ctx := context.Background()
	t0 := time.Now()
	for i, when := range []time.Time{t0.Add(-30 * time.Hour), t0} {
		key := ports.IdempotencyKey{Key: fmt.Sprint("k", i), RequestHash: []byte("h"), Now: when}
		if _, _, err := s.CreateTodoOnce(ctx, domain.Todo{Owner: owner, Title: "t", Priority: domain.PriorityNormal, Version: 1}, key); err != nil {
			t.Fatal(err)
		}
	}
	var keys []string
	rows, _ := db.Pool().Query(ctx, "SELECT key FROM todo_idempotency_keys WHERE user_id = $1", owner)
	for rows.Next() {
		var k string
		_ = rows.Scan(&k)
		keys = append(keys, k)
	}
	if rows.Err() != nil || !reflect.DeepEqual(keys, []string{"k1"}) {
		t.Errorf("keys: %v, %v; want only k1", keys, rows.Err())
	}
}

func TestDeletingTheUserDeletesTheirTasksAndKeys(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewTodoStore(db)
	alice, bob := newTaskOwner(t, db, "alice"), newTaskOwner(t, db, "bob")
	ctx := context.Background()
	for _, owner := range []domain.UserID{alice, bob} {
		createTodo(t, s, domain.Todo{Owner: owner, Title: "plain"})
		if _, _, err := s.CreateTodoOnce(ctx, domain.Todo{Owner: owner, Title: "keyed", Priority: domain.PriorityLow, Version: 1},
			ports.IdempotencyKey{Key: "k", RequestHash: []byte("h"), Now: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Pool().Exec(ctx, "DELETE FROM users WHERE id = $1", alice); err != nil {
		t.Fatal(err)
	}
	var keys int
	if err := db.Pool().QueryRow(ctx, "SELECT count(*) FROM todo_idempotency_keys WHERE user_id = $1", alice).Scan(&keys); err != nil {
		t.Fatal(err)
	}
	if n := countTodos(t, db, alice); n != 0 || keys != 0 {
		t.Errorf("after deleting alice: %d tasks and %d keys left", n, keys)
	}
	if n := countTodos(t, db, bob); n != 2 {
		t.Errorf("bob has %d tasks, want 2", n)
	}
}

// reference sorts tasks as the store must: the spec's order, computed
// here from the tasks themselves.
func reference(tasks []domain.Todo, s domain.TodoSort, f domain.TodoFilter) []domain.Todo {
	var out []domain.Todo
	for _, td := range tasks {
		if matches(td, f) {
			out = append(out, td)
		}
	}
	cmpTime := func(a, b time.Time) int { return a.Compare(b) }
	slices.SortFunc(out, func(a, b domain.Todo) int {
		var c int
		switch s.Field {
		case domain.SortByCreatedAt:
			c = cmpTime(a.CreatedAt, b.CreatedAt)
		case domain.SortByPriority:
			c = a.Priority.Rank() - b.Priority.Rank()
			if c == 0 {
				c = cmpTime(a.CreatedAt, b.CreatedAt)
			}
		case domain.SortByDueAt:
			switch {
			case a.DueAt == nil && b.DueAt == nil:
				c = cmpTime(a.CreatedAt, b.CreatedAt)
			case a.DueAt == nil:
				return 1 // undated last, whatever the direction
			case b.DueAt == nil:
				return -1
			default:
				c = cmpTime(*a.DueAt, *b.DueAt)
			}
		}
		if c == 0 {
			c = strings.Compare(string(a.ID), string(b.ID))
		}
		if s.Desc {
			c = -c
		}
		return c
	})
	return out
}

func matches(td domain.Todo, f domain.TodoFilter) bool {
	if f.Done != nil && td.Done != *f.Done {
		return false
	}
	if f.DueAfter != nil && (td.DueAt == nil || td.DueAt.Before(*f.DueAfter)) {
		return false
	}
	if f.DueBefore != nil && (td.DueAt == nil || !td.DueAt.Before(*f.DueBefore)) {
		return false
	}
	if f.Tag != "" && !slices.Contains(td.Tags, f.Tag) {
		return false
	}
	q := strings.ToLower(f.Text)
	return q == "" || strings.Contains(strings.ToLower(td.Title), q) || strings.Contains(strings.ToLower(td.Notes), q)
}

// walk lists every page of q, limit tasks at a time.
func walk(t *testing.T, s *postgres.TodoStore, q ports.TodoQuery, limit int) []domain.Todo {
	t.Helper()
	var out []domain.Todo
	for range 1000 {
		q.Limit = limit
		page, err := s.ListTodos(context.Background(), q)
		if err != nil {
			t.Fatalf("ListTodos: %v", err)
		}
		out = append(out, page...)
		if len(page) < limit {
			return out
		}
		pos := q.Sort.PositionOf(page[len(page)-1])
		q.After = &pos
	}
	t.Fatal("the walk does not end")
	return nil
}

func ids(tasks []domain.Todo) []domain.TodoID {
	out := make([]domain.TodoID, len(tasks))
	for i, td := range tasks {
		out[i] = td.ID
	}
	return out
}

func TestListTodosWalksEverySortAndFilterInTheReferenceOrder(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewTodoStore(db)
	owner, other := newTaskOwner(t, db, "alice"), newTaskOwner(t, db, "bob")
	ctx := context.Background()

	dues := []*time.Time{nil, at("2026-03-01T09:00:00+08:00"), at("2026-03-01T01:00:00Z"), at("2026-02-01T00:00:00-05:00"), at("2026-04-01T00:00:00+14:00")}
	words := []string{"milk", "Bread", "50% off", "under_score", "牛奶"}
	var tasks []domain.Todo
	for i := range 60 {
		td := domain.Todo{Owner: owner, Title: fmt.Sprintf("%s %d", words[i%5], i), Notes: words[(i+2)%5],
			DueAt: dues[i%len(dues)], Priority: []domain.Priority{domain.PriorityLow, domain.PriorityNormal, domain.PriorityHigh}[i%3],
			Done: i%4 == 0, Tags: [][]string{{}, {"home"}, {"work", "home"}}[i%3], Version: 1}
		if td.Done {
			c := time.Now().UTC()
			td.CompletedAt = &c
		}
		tasks = append(tasks, createTodo(t, s, td))
		createTodo(t, s, domain.Todo{Owner: other, Title: "bob's " + words[i%5], DueAt: dues[i%len(dues)], Tags: []string{"home"}})
	}
	// Ties in every sort key: a third of the tasks share one creation time.
	tie := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := db.Pool().Exec(ctx, "UPDATE todos SET created_at = $1 WHERE user_id = $2 AND title ~ '[0369]$'", tie, owner); err != nil {
		t.Fatal(err)
	}
	for i := range tasks {
		if got, err := s.GetTodo(ctx, owner, tasks[i].ID); err == nil {
			tasks[i] = got
		} else {
			t.Fatal(err)
		}
	}

	no, yes := false, true
	filters := map[string]domain.TodoFilter{
		"none":           {},
		"open":           {Done: &no},
		"done":           {Done: &yes},
		"due after":      {DueAfter: at("2026-03-01T01:00:00Z")},
		"due before":     {DueBefore: at("2026-03-01T09:00:00+08:00")},
		"due range":      {DueAfter: at("2026-02-01T00:00:00Z"), DueBefore: at("2026-03-31T00:00:00Z")},
		"tag":            {Tag: "work"},
		"text in title":  {Text: "bread"},
		"text in notes":  {Text: "MILK"},
		"percent":        {Text: "50%"},
		"underscore":     {Text: "r_s"},
		"literal _":      {Text: "_"},
		"cjk":            {Text: "牛奶"},
		"open in range":  {Done: &no, DueAfter: at("2026-02-01T00:00:00Z"), DueBefore: at("2026-03-31T00:00:00Z")},
		"done, before":   {Done: &yes, DueBefore: at("2026-03-01T09:00:00+08:00")},
		"all of them":    {Done: &no, Tag: "home", Text: "o", DueAfter: at("2026-01-01T00:00:00Z")},
		"nothing at all": {Text: "no such text"},
	}
	for _, field := range []domain.TodoSortField{domain.SortByCreatedAt, domain.SortByDueAt, domain.SortByPriority} {
		for _, desc := range []bool{false, true} {
			sort := domain.TodoSort{Field: field, Desc: desc}
			for name, f := range filters {
				t.Run(sort.String()+"/"+name, func(t *testing.T) {
					want := ids(reference(tasks, sort, f))
					for _, limit := range []int{1, 7, 100} {
						got := ids(walk(t, s, ports.TodoQuery{Owner: owner, Sort: sort, Filter: f}, limit))
						if !slices.Equal(got, want) {
							t.Fatalf("limit %d:\n got %v\nwant %v", limit, got, want)
						}
					}
				})
			}
		}
	}
	if n := len(reference(tasks, domain.DefaultTodoSort, filters["literal _"])); n != 24 {
		t.Errorf("the literal _ filter matches %d tasks; the fixture is off", n)
	}
}

// sentStatement is a statement the store sent, and whether it came with an
// exec mode of its own (planned per execution) or in the pool's (prepared).
type sentStatement struct {
	sql      string
	prepared bool
}

// statementLog is a pgx tracer that keeps the statements sent.
type statementLog struct {
	mu   sync.Mutex
	sent []sentStatement
}

func (l *statementLog) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := sentStatement{sql: d.SQL, prepared: true}
	for _, a := range d.Args {
		if _, mode := a.(pgx.QueryExecMode); mode {
			st.prepared = false
		}
	}
	l.sent = append(l.sent, st)
	return ctx
}

func (l *statementLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (l *statementLog) take() []sentStatement {
	l.mu.Lock()
	defer l.mu.Unlock()
	sent := l.sent
	l.sent = nil
	return sent
}

// listPredicates are the conditions a list statement may hold beyond the
// owner and the walk's own due_at IS [NOT] NULL, as the store writes them.
var listPredicates = map[string]*regexp.Regexp{
	"after":      regexp.MustCompile(`\) [<>] \(\$`),
	"done":       regexp.MustCompile(`done = \$`),
	"due_after":  regexp.MustCompile(`due_at >= \$`),
	"due_before": regexp.MustCompile(`due_at < \$`),
	"tag":        regexp.MustCompile(`tags @> `),
	"text":       regexp.MustCompile(`ILIKE`),
}

// listStatements leaves out the read of the page's reminders (one
// statement after the list's, by id, when a task on the page has one).
func listStatements(sts []sentStatement) []sentStatement {
	out := sts[:0]
	for _, st := range sts {
		if !strings.HasPrefix(st.sql, "-- name: ListReminders") {
			out = append(out, st)
		}
	}
	return out
}

// A list statement holds only the predicates the request uses, so that
// its generic plan is its index walk (TestExplainListQueries): the
// common shapes (done, a due range in due order, a cursor) are prepared,
// and a tag, a text search or a due range in another order are planned
// for each execution's values.
func TestListStatementsHoldOnlyTheFiltersInUseAndTheCommonShapesArePrepared(t *testing.T) {
	log := &statementLog{}
	cfg, err := pgxpool.ParseConfig(pgtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.Tracer = log
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := postgres.FromPool(pool)
	defer db.Close()
	s := postgres.NewTodoStore(db)
	owner := newTaskOwner(t, db, "alice")
	for i := range 6 {
		due := at("2026-03-01T09:00:00+08:00")
		if i%2 == 0 {
			due = nil
		}
		createTodo(t, s, domain.Todo{Owner: owner, Title: fmt.Sprintf("task %d", i), DueAt: due, Tags: []string{"home"}})
	}
	ctx := context.Background()

	no := false
	from, to := at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z")
	filters := []domain.TodoFilter{
		{}, {Done: &no}, {DueAfter: from}, {DueBefore: to}, {DueAfter: from, DueBefore: to}, {Done: &no, DueAfter: from, DueBefore: to},
		{Tag: "home"}, {Text: "task"}, {Done: &no, Tag: "home", Text: "task", DueAfter: from, DueBefore: to},
	}
	for _, field := range []domain.TodoSortField{domain.SortByCreatedAt, domain.SortByDueAt, domain.SortByPriority} {
		for _, desc := range []bool{false, true} {
			sort := domain.TodoSort{Field: field, Desc: desc}
			for _, f := range filters {
				// Two tasks a page: a first page, then pages after a
				// cursor (in due order, into and inside the undated tail).
				q := ports.TodoQuery{Owner: owner, Sort: sort, Filter: f, Limit: 2}
				log.take()
				for pages := 0; pages < 4; pages++ {
					page, err := s.ListTodos(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					for i, st := range listStatements(log.take()) {
						want := map[string]bool{
							"done": f.Done != nil, "due_after": f.DueAfter != nil, "due_before": f.DueBefore != nil,
							"tag": f.Tag != "", "text": f.Text != "",
							// The undated tail that follows a dated walk on
							// the same page starts from its beginning.
							"after": q.After != nil && i == 0,
						}
						for name, re := range listPredicates {
							if re.MatchString(st.sql) != want[name] {
								t.Errorf("%s %+v, page %d: %s in the statement is %v, want %v:\n%s", sort, f, pages+1, name, !want[name], want[name], st.sql)
							}
						}
						if strings.Contains(st.sql, "IS NULL OR") {
							t.Errorf("a catch-all predicate in\n%s", st.sql)
						}
						perExecution := f.Tag != "" || f.Text != "" || (f.Dated() && field != domain.SortByDueAt)
						if st.prepared == perExecution {
							t.Errorf("%s %+v: prepared is %v, want %v:\n%s", sort, f, st.prepared, !perExecution, st.sql)
						}
					}
					if len(page) < q.Limit {
						break
					}
					pos := sort.PositionOf(page[len(page)-1])
					q.After = &pos
				}
			}
		}
	}
}

func TestATaskReadOrCreatedUnderAnOddlySpelledIDComesBackCanonical(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewTodoStore(db)
	owner := newTaskOwner(t, db, "alice")
	ctx := context.Background()
	upper := domain.UserID(strings.ToUpper(string(owner)))
	created := createTodo(t, s, domain.Todo{Owner: upper, Title: "t"})
	if created.Owner != owner {
		t.Errorf("created owner = %q, want %q", created.Owner, owner)
	}
	for _, id := range []domain.TodoID{created.ID, domain.TodoID(strings.ToUpper(string(created.ID))), "{" + created.ID + "}"} {
		got, err := s.GetTodo(ctx, upper, id)
		if err != nil {
			t.Fatalf("GetTodo(%q): %v", id, err)
		}
		if got.ID != created.ID || got.Owner != owner {
			t.Errorf("GetTodo(%q) = id %q owner %q, want %q %q", id, got.ID, got.Owner, created.ID, owner)
		}
	}
}
