package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

const (
	alice domain.UserID = "7c1e3a52-9d0b-4f5e-8a61-2b3c4d5e6f70"
	bob   domain.UserID = "0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a"
)

func cursors(t *testing.T) app.CursorCodec {
	t.Helper()
	c, err := app.NewCursorCodec([]byte(strings.Repeat("s", 32)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func todosWith(t *testing.T, store fakeTodos) app.Todos {
	return app.Todos{Store: store, Cursors: cursors(t), Clock: fixedClock{t0}}
}

func TestCreateStoresTheNormalisedTaskOfTheCaller(t *testing.T) {
	var stored domain.Todo
	uc := todosWith(t, fakeTodos{create: func(_ context.Context, td domain.Todo) (domain.Todo, error) {
		stored = td
		td.ID = "new"
		return td, nil
	}})
	got, replayed, err := uc.Create(context.Background(), alice, "", domain.TodoDraft{Title: " Buy milk ", Tags: []string{"Home"}, Done: true}, "")
	if err != nil || replayed {
		t.Fatalf("Create: %v, replayed %v", err, replayed)
	}
	if stored.Owner != alice || stored.Title != "Buy milk" || !reflect.DeepEqual(stored.Tags, []string{"home"}) ||
		stored.Priority != domain.PriorityNormal || stored.Version != 1 || stored.CompletedAt == nil || !stored.CompletedAt.Equal(t0) {
		t.Errorf("stored %+v", stored)
	}
	if got.ID != "new" {
		t.Errorf("returned %+v", got)
	}
}

func TestCreateReportsBadKeyAndBadBodyTogether(t *testing.T) {
	uc := todosWith(t, fakeTodos{})
	_, _, err := uc.Create(context.Background(), alice, "", domain.TodoDraft{Title: ""}, "bad key")
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.CodeInvalid || len(de.Fields) != 2 {
		t.Fatalf("got %v, want two field errors", err)
	}
}

func TestCreateWithAKeyHashesTheNormalisedRequest(t *testing.T) {
	var keys []ports.IdempotencyKey
	uc := todosWith(t, fakeTodos{createOnce: func(_ context.Context, td domain.Todo, k ports.IdempotencyKey) (domain.Todo, bool, error) {
		keys = append(keys, k)
		return td, len(keys) > 1, nil
	}})
	create := func(d domain.TodoDraft) bool {
		t.Helper()
		_, replayed, err := uc.Create(context.Background(), alice, "", d, "k-1")
		if err != nil {
			t.Fatal(err)
		}
		return replayed
	}
	create(domain.TodoDraft{Title: "Buy milk", Tags: []string{"home"}, DueAt: "2026-03-02T09:00:00+08:00"})
	if !create(domain.TodoDraft{Title: "  Buy milk", Tags: []string{"HOME", "home"}, DueAt: "2026-03-02T09:00:00.000+08:00", Priority: "normal"}) {
		t.Error("the store's replay flag was lost")
	}
	create(domain.TodoDraft{Title: "Buy milk", Tags: []string{"home"}, DueAt: "2026-03-02T01:00:00Z"})
	if keys[0].Key != "k-1" || !keys[0].Now.Equal(t0) || len(keys[0].RequestHash) != 32 {
		t.Errorf("key %+v", keys[0])
	}
	if !bytes.Equal(keys[0].RequestHash, keys[1].RequestHash) {
		t.Error("the same task spelt differently hashes differently")
	}
	if bytes.Equal(keys[0].RequestHash, keys[2].RequestHash) {
		t.Error("a due time in another offset hashes the same")
	}
}

func TestUpdateChecksIfMatchAgainstTheLockedVersion(t *testing.T) {
	current := domain.Todo{ID: "t1", Owner: alice, Title: "old", Priority: domain.PriorityNormal, Version: 3}
	var fnErr error
	uc := todosWith(t, fakeTodos{update: func(_ context.Context, owner domain.UserID, id domain.TodoID, fn func(domain.Todo) (domain.Todo, error)) (domain.Todo, error) {
		if owner != alice || id != "t1" {
			t.Errorf("update of %s/%s", owner, id)
		}
		next, err := fn(current)
		fnErr = err
		return next, err
	}})
	patch := domain.TodoPatch{Title: ptr("new")}

	_, err := uc.Update(context.Background(), alice, "", "t1", patch, &domain.VersionMatch{Versions: []int{2}})
	if domain.ErrorCode(err) != domain.CodePreconditionFailed || fnErr == nil {
		t.Fatalf("stale If-Match: %v", err)
	}
	got, err := uc.Update(context.Background(), alice, "", "t1", patch, &domain.VersionMatch{Versions: []int{3}})
	if err != nil || got.Title != "new" || got.Version != 4 {
		t.Fatalf("current If-Match: %+v, %v", got, err)
	}
	if got, err := uc.Update(context.Background(), alice, "", "t1", patch, nil); err != nil || got.Version != 4 {
		t.Fatalf("no If-Match: %+v, %v", got, err)
	}
}

func TestUpdateRefusesABadPatchBeforeTouchingTheStore(t *testing.T) {
	uc := todosWith(t, fakeTodos{}) // any store call panics
	_, err := uc.Update(context.Background(), alice, "", "t1", domain.TodoPatch{}, nil)
	if domain.ErrorCode(err) != domain.CodeInvalid {
		t.Fatalf("got %v", err)
	}
}

func TestDeleteChecksIfMatch(t *testing.T) {
	uc := todosWith(t, fakeTodos{delete: func(_ context.Context, _ domain.UserID, _ domain.TodoID, check func(domain.Todo) error) error {
		return check(domain.Todo{Version: 5})
	}})
	if err := uc.Delete(context.Background(), alice, "t1", &domain.VersionMatch{Versions: []int{4}}); domain.ErrorCode(err) != domain.CodePreconditionFailed {
		t.Errorf("stale: %v", err)
	}
	if err := uc.Delete(context.Background(), alice, "t1", &domain.VersionMatch{Versions: []int{5}}); err != nil {
		t.Errorf("current: %v", err)
	}
}

// listOf serves q from tasks already in q's order (ascending creation),
// honouring After on creation time and Limit: enough of a store to walk.
func listOf(tasks []domain.Todo, seen *[]ports.TodoQuery) fakeTodos {
	return fakeTodos{list: func(_ context.Context, q ports.TodoQuery) ([]domain.Todo, error) {
		*seen = append(*seen, q)
		var out []domain.Todo
		for _, td := range tasks {
			if q.After != nil && !td.CreatedAt.After(q.After.CreatedAt) {
				continue
			}
			if len(out) == q.Limit {
				break
			}
			out = append(out, td)
		}
		return out, nil
	}}
}

func tasks(n int) []domain.Todo {
	out := make([]domain.Todo, n)
	for i := range out {
		out[i] = domain.Todo{ID: domain.TodoID(fmt.Sprintf("00000000-0000-4000-8000-%012d", i)), Owner: alice,
			CreatedAt: t0.Add(time.Duration(i) * time.Second), Priority: domain.PriorityNormal}
	}
	return out
}

func TestListWalksPagesWithSignedCursors(t *testing.T) {
	var queries []ports.TodoQuery
	uc := todosWith(t, listOf(tasks(5), &queries))
	params := domain.TodoListParams{Limit: ptr(2), Sort: "created_at", Tag: ptr("Home")}
	var ids []domain.TodoID
	for page := 0; ; page++ {
		got, err := uc.List(context.Background(), alice, params)
		if err != nil {
			t.Fatal(err)
		}
		for _, td := range got.Items {
			ids = append(ids, td.ID)
		}
		if got.NextCursor == "" {
			break
		}
		if page > 5 {
			t.Fatal("the walk does not end")
		}
		params.Cursor = got.NextCursor
	}
	if len(ids) != 5 || len(queries) != 3 {
		t.Fatalf("walked %v in %d queries", ids, len(queries))
	}
	q := queries[1]
	if q.Owner != alice || q.Limit != 3 || q.Filter.Tag != "home" || q.After == nil || q.After.ID != ids[1] || !q.After.CreatedAt.Equal(t0.Add(time.Second)) {
		t.Errorf("second query %+v", q)
	}
}

func TestLastPageHasNoCursor(t *testing.T) {
	var queries []ports.TodoQuery
	uc := todosWith(t, listOf(tasks(3), &queries))
	got, err := uc.List(context.Background(), alice, domain.TodoListParams{Limit: ptr(3)})
	if err != nil || len(got.Items) != 3 || got.NextCursor != "" {
		t.Fatalf("got %d items, cursor %q, %v", len(got.Items), got.NextCursor, err)
	}
}

func TestCursorIsRefusedForAnotherUserOtherFiltersOrWhenTampered(t *testing.T) {
	var queries []ports.TodoQuery
	uc := todosWith(t, listOf(tasks(5), &queries))
	params := domain.TodoListParams{Limit: ptr(2), Sort: "-due_at", Done: ptr(false), DueAfter: "2026-01-01T00:00:00+08:00"}
	first, err := uc.List(context.Background(), alice, params)
	if err != nil || first.NextCursor == "" {
		t.Fatalf("first page: %v", err)
	}
	cursor := first.NextCursor

	// The same filters, written differently, are the same list.
	same := params
	same.Cursor, same.DueAfter = cursor, "2025-12-31T16:00:00Z"
	if _, err := uc.List(context.Background(), alice, same); err != nil {
		t.Errorf("same list, other offset: %v", err)
	}

	other := func(change func(*domain.TodoListParams)) domain.TodoListParams {
		p := params
		p.Cursor = cursor
		change(&p)
		return p
	}
	tampered := []byte(cursor)
	tampered[3] ^= 1
	otherCodec, _ := app.NewCursorCodec([]byte(strings.Repeat("t", 32)))
	for name, tc := range map[string]struct {
		user   domain.UserID
		params domain.TodoListParams
		uc     app.Todos
	}{
		"another user":    {bob, other(func(*domain.TodoListParams) {}), uc},
		"another sort":    {alice, other(func(p *domain.TodoListParams) { p.Sort = "due_at" }), uc},
		"another filter":  {alice, other(func(p *domain.TodoListParams) { p.Done = ptr(true) }), uc},
		"a filter less":   {alice, other(func(p *domain.TodoListParams) { p.DueAfter = "" }), uc},
		"a filter more":   {alice, other(func(p *domain.TodoListParams) { p.Text = "milk" }), uc},
		"tampered":        {alice, other(func(p *domain.TodoListParams) { p.Cursor = string(tampered) }), uc},
		"truncated":       {alice, other(func(p *domain.TodoListParams) { p.Cursor = cursor[:len(cursor)-2] }), uc},
		"not a cursor":    {alice, other(func(p *domain.TodoListParams) { p.Cursor = "abc" }), uc},
		"another secret":  {alice, other(func(*domain.TodoListParams) {}), app.Todos{Store: uc.Store, Cursors: otherCodec, Clock: uc.Clock}},
		"limit is no use": {alice, other(func(p *domain.TodoListParams) { p.Limit = ptr(3) }), uc},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tc.uc.List(context.Background(), tc.user, tc.params)
			if name == "limit is no use" {
				// The page size is not part of the list: changing it is fine.
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != domain.CodeInvalidCursor || len(de.Fields) != 1 || de.Fields[0].Field != "cursor" {
				t.Fatalf("got %v, want invalid_cursor on cursor", err)
			}
		})
	}
}

func TestCursorSecretMustBeLongEnough(t *testing.T) {
	if _, err := app.NewCursorCodec(make([]byte, 31)); err == nil {
		t.Error("a 31-byte secret was accepted")
	}
}

func TestExpiredKeysAreThoseOlderThanADay(t *testing.T) {
	var before time.Time
	uc := todosWith(t, fakeTodos{forget: func(_ context.Context, b time.Time) (int64, error) {
		before = b
		return 2, nil
	}})
	n, err := uc.ForgetExpiredIdempotencyKeys(context.Background())
	if err != nil || n != 2 || !before.Equal(t0.Add(-24*time.Hour)) {
		t.Errorf("forgot %d before %v: %v", n, before, err)
	}
}

func ptr[T any](v T) *T { return &v }
