package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/httpapi/apitest"
	"github.com/miniback/miniback/domain"
)

// listAll walks every page of /v1/todos?query, limit at a time, and
// returns the tasks in the order the pages gave them.
func listAll(t *testing.T, c *apitest.Client, auth string, query url.Values, limit int) []todo {
	t.Helper()
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("limit", fmt.Sprint(limit))
	var out []todo
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("the walk does not end")
		}
		res := c.Get("/v1/todos?"+q.Encode(), auth)
		if res.Status != http.StatusOK {
			t.Fatalf("list: want 200\n%s", res)
		}
		var page todoPage
		res.Decode(&page)
		if len(page.Items) > limit {
			t.Fatalf("a page of %d tasks for limit %d", len(page.Items), limit)
		}
		out = append(out, page.Items...)
		if page.NextCursor == nil {
			return out
		}
		q.Set("cursor", *page.NextCursor)
	}
}

func dueOf(td todo) *time.Time {
	if td.DueAt == nil {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, *td.DueAt)
	if err != nil {
		panic(err)
	}
	return &t
}

var priorityRank = map[string]int{"low": 0, "normal": 1, "high": 2}

// compareTodos orders tasks as the spec says sort does: ties break on
// creation time (priority), then id; undated tasks come last in both due
// orders.
func compareTodos(sort string) func(a, b todo) int {
	desc := strings.HasPrefix(sort, "-")
	field := strings.TrimPrefix(sort, "-")
	return func(a, b todo) int {
		var c int
		switch field {
		case "created_at":
			c = a.CreatedAt.Compare(b.CreatedAt)
		case "priority":
			if c = priorityRank[a.Priority] - priorityRank[b.Priority]; c == 0 {
				c = a.CreatedAt.Compare(b.CreatedAt)
			}
		case "due_at":
			da, db := dueOf(a), dueOf(b)
			switch {
			case da == nil && db == nil:
				c = a.CreatedAt.Compare(b.CreatedAt)
			case da == nil:
				return 1
			case db == nil:
				return -1
			default:
				c = da.Compare(*db)
			}
		}
		if c == 0 {
			c = strings.Compare(a.ID, b.ID)
		}
		if desc {
			return -c
		}
		return c
	}
}

var sorts = []string{"created_at", "-created_at", "due_at", "-due_at", "priority", "-priority"}

func TestPaginationWalkSeesEveryTaskOnceDespiteConcurrentInserts(t *testing.T) {
	e := newEnv(t)
	auth := e.signIn(t, "alice")
	dues := []any{nil, "2026-03-01T09:00:00+08:00", "2026-03-01T01:00:00Z", "2026-05-01T00:00:00-05:00"}
	seeded := map[string]bool{}
	for i := range 300 {
		td := e.createTodo(t, auth, map[string]any{
			"title": fmt.Sprint("task ", i), "due_at": dues[i%len(dues)], "priority": []string{"low", "normal", "high"}[i%3],
		})
		seeded[td.ID] = true
	}
	for _, sort := range sorts {
		t.Run(sort, func(t *testing.T) {
			c := e.apiFor(t)
			// Tasks keep arriving, in every sort position, while the walk
			// goes on.
			stop := make(chan struct{})
			var inserted atomic.Int64
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					res := c.JSON("POST", "/v1/todos", map[string]any{
						"title": fmt.Sprint("late ", i), "due_at": dues[i%len(dues)], "priority": []string{"high", "low", "normal"}[i%3],
					}, auth)
					if res.Status != http.StatusCreated {
						t.Errorf("concurrent insert: %d", res.Status)
						return
					}
					inserted.Add(1)
				}
			}()
			walked := listAll(t, c, auth, url.Values{"sort": {sort}}, 17)
			close(stop)
			wg.Wait()

			seen := map[string]bool{}
			found := 0
			for i, td := range walked {
				if seen[td.ID] {
					t.Fatalf("task %s listed twice", td.ID)
				}
				seen[td.ID] = true
				if seeded[td.ID] {
					found++
				}
				if i > 0 && compareTodos(sort)(walked[i-1], td) >= 0 {
					t.Fatalf("tasks %d and %d are out of %s order", i-1, i, sort)
				}
			}
			if found != len(seeded) {
				t.Errorf("the walk saw %d of the %d tasks that existed throughout", found, len(seeded))
			}
			if inserted.Load() == 0 {
				t.Error("no insert happened during the walk")
			}
		})
	}
}

func TestEveryFilterAndSortListsTheReferenceSelectionInOrder(t *testing.T) {
	e := newEnv(t)
	auth, bob := e.signIn(t, "alice"), e.signIn(t, "bob")
	dues := []any{nil, "2026-03-01T09:00:00+08:00", "2026-03-01T01:00:00Z", "2026-02-01T00:00:00-05:00", "2026-04-01T00:00:00+14:00"}
	words := []string{"milk", "Bread", "50% off", "under_score", "牛奶"}
	var all []todo
	for i := range 30 {
		all = append(all, e.createTodo(t, auth, map[string]any{
			"title": fmt.Sprintf("%s %d", words[i%5], i), "notes": words[(i+2)%5], "due_at": dues[i%len(dues)],
			"priority": []string{"low", "normal", "high"}[i%3], "done": i%4 == 0, "tags": [][]string{{}, {"home"}, {"Work", "home"}}[i%3],
		}))
		e.createTodo(t, bob, map[string]any{"title": "bob's " + words[i%5], "tags": []string{"home"}})
	}
	// Ties on the creation time, so the id tie-breaker is walked across.
	tie := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := e.db.Pool().Exec(t.Context(), "UPDATE todos SET created_at = $1 WHERE title ~ ' [0-9]*[05]$'", tie); err != nil {
		t.Fatal(err)
	}
	for i := range all {
		all[i] = e.getTodo(t, auth, all[i].ID)
	}

	at := func(s string) time.Time {
		v, _ := time.Parse(time.RFC3339, s)
		return v
	}
	filters := []struct {
		name  string
		query url.Values
		keep  func(todo) bool
	}{
		{"none", url.Values{}, func(todo) bool { return true }},
		{"open", url.Values{"done": {"false"}}, func(td todo) bool { return !td.Done }},
		{"done", url.Values{"done": {"true"}}, func(td todo) bool { return td.Done }},
		{"due at or after", url.Values{"due_after": {"2026-03-01T09:00:00+08:00"}},
			func(td todo) bool { d := dueOf(td); return d != nil && !d.Before(at("2026-03-01T01:00:00Z")) }},
		{"due before", url.Values{"due_before": {"2026-03-01T01:00:00Z"}},
			func(td todo) bool { d := dueOf(td); return d != nil && d.Before(at("2026-03-01T01:00:00Z")) }},
		{"due range", url.Values{"due_after": {"2026-02-01T05:00:00Z"}, "due_before": {"2026-04-01T00:00:00+14:00"}},
			func(td todo) bool {
				d := dueOf(td)
				return d != nil && !d.Before(at("2026-02-01T05:00:00Z")) && d.Before(at("2026-03-31T10:00:00Z"))
			}},
		{"tag", url.Values{"tag": {"WORK"}}, func(td todo) bool { return slices.Contains(td.Tags, "work") }},
		{"text, any case", url.Values{"q": {"bread"}}, func(td todo) bool { return strings.Contains(td.Title, "Bread") || td.Notes == "Bread" }},
		{"text in notes or title", url.Values{"q": {"MILK"}}, func(td todo) bool {
			return strings.Contains(td.Title, "milk") || td.Notes == "milk"
		}},
		{"percent is literal", url.Values{"q": {"50%"}}, func(td todo) bool {
			return strings.Contains(td.Title, "50%") || td.Notes == "50% off"
		}},
		{"underscore is literal", url.Values{"q": {"_"}}, func(td todo) bool {
			return strings.Contains(td.Title, "_") || strings.Contains(td.Notes, "_")
		}},
		{"cjk", url.Values{"q": {"牛奶"}}, func(td todo) bool { return strings.Contains(td.Title+td.Notes, "牛奶") }},
		{"all together", url.Values{"done": {"false"}, "tag": {"home"}, "q": {"o"}, "due_after": {"2026-01-01T00:00:00Z"}},
			func(td todo) bool {
				d := dueOf(td)
				return !td.Done && slices.Contains(td.Tags, "home") && strings.Contains(strings.ToLower(td.Title+"\x00"+td.Notes), "o") &&
					d != nil && !d.Before(at("2026-01-01T00:00:00Z"))
			}},
	}
	for _, sort := range sorts {
		for _, f := range filters {
			t.Run(sort+"/"+f.name, func(t *testing.T) {
				var want []string
				sorted := slices.Clone(all)
				slices.SortFunc(sorted, compareTodos(sort))
				for _, td := range sorted {
					if f.keep(td) {
						want = append(want, td.ID)
					}
				}
				if f.name != "none" && (len(want) == 0 || len(want) == len(all)) {
					t.Fatalf("filter %s keeps %d of %d tasks: the fixture does not test it", f.name, len(want), len(all))
				}
				query := url.Values{"sort": {sort}}
				for k, v := range f.query {
					query[k] = v
				}
				for _, limit := range []int{4, 100} {
					var got []string
					for _, td := range listAll(t, e.apiFor(t), auth, query, limit) {
						got = append(got, td.ID)
					}
					if !slices.Equal(got, want) {
						t.Fatalf("limit %d:\n got %v\nwant %v", limit, got, want)
					}
				}
			})
		}
	}
}

func TestListDefaultsToTwentyNewestFirst(t *testing.T) {
	e := newEnv(t)
	auth := e.signIn(t, "alice")
	var created []todo
	for i := range 22 {
		created = append(created, e.createTodo(t, auth, map[string]any{"title": fmt.Sprint("t", i)}))
	}
	var page todoPage
	e.api.Get("/v1/todos", auth).Decode(&page)
	if len(page.Items) != 20 || page.NextCursor == nil || page.Items[0].ID != created[21].ID {
		t.Fatalf("first page: %d tasks, cursor %v, first %s", len(page.Items), page.NextCursor, page.Items[0].ID)
	}
	res := e.api.Get("/v1/todos?cursor="+url.QueryEscape(*page.NextCursor), auth)
	var last todoPage
	res.Decode(&last)
	if len(last.Items) != 2 || last.NextCursor != nil || last.Items[1].ID != created[0].ID {
		t.Fatalf("last page: %s", res)
	}
}

func TestCursorMadeForOtherFiltersIsRefused(t *testing.T) {
	e := newEnv(t)
	auth := e.signIn(t, "alice")
	for i := range 3 {
		e.createTodo(t, auth, map[string]any{"title": fmt.Sprint("t", i), "tags": []string{"home"}})
	}
	var page todoPage
	e.api.Get("/v1/todos?limit=1&tag=home&sort=due_at", auth).Decode(&page)
	cursor := url.QueryEscape(*page.NextCursor)
	for name, query := range map[string]string{
		"another sort":   "limit=1&tag=home&sort=-due_at&cursor=" + cursor,
		"another filter": "limit=1&tag=work&sort=due_at&cursor=" + cursor,
		"a filter less":  "limit=1&sort=due_at&cursor=" + cursor,
		"tampered":       "limit=1&tag=home&sort=due_at&cursor=" + "x" + cursor[1:],
		"garbage":        "cursor=not-a-cursor",
	} {
		t.Run(name, func(t *testing.T) {
			res := e.apiFor(t).Get("/v1/todos?"+query, auth)
			wantProblem(t, res, 400, domain.CodeInvalidCursor)
			if fieldCodes(res.Problem())["query.cursor"] != "invalid_cursor" {
				t.Errorf("field errors %v", fieldCodes(res.Problem()))
			}
		})
	}
	// The same list with another page size is the same list.
	if res := e.api.Get("/v1/todos?limit=2&tag=Home&sort=due_at&cursor="+cursor, auth); res.Status != http.StatusOK {
		t.Errorf("another limit: want 200\n%s", res)
	}
}
