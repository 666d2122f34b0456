package httpapi_test

import (
	"fmt"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/miniback/miniback/domain"
)

// todo mirrors api.Todo loosely, so a test sees every member sent.
type todo struct {
	ID          string     `json:"id"`
	Title       string     `json:"title"`
	Notes       string     `json:"notes"`
	DueAt       *string    `json:"due_at"`
	Priority    string     `json:"priority"`
	Done        bool       `json:"done"`
	CompletedAt *time.Time `json:"completed_at"`
	Tags        []string   `json:"tags"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	Version     int        `json:"version"`
}

type todoPage struct {
	Items      []todo  `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// signIn logs name in and returns its Authorization header.
func (e *env) signIn(t *testing.T, name string) string {
	t.Helper()
	return bearer(e.login(t, "dev-"+name).AccessToken)
}

// createTodo creates a task and checks the 201.
func (e *env) createTodo(t *testing.T, auth string, body any, headers ...string) todo {
	t.Helper()
	res := e.api.JSON("POST", "/v1/todos", body, append([]string{auth}, headers...)...)
	if res.Status != http.StatusCreated {
		t.Fatalf("create: want 201\n%s", res)
	}
	var td todo
	res.Decode(&td)
	return td
}

func (e *env) getTodo(t *testing.T, auth, id string) todo {
	t.Helper()
	res := e.api.Get("/v1/todos/"+id, auth)
	if res.Status != http.StatusOK {
		t.Fatalf("get: want 200\n%s", res)
	}
	var td todo
	res.Decode(&td)
	return td
}

func TestCreateTodoAnswersTheTaskWithItsETagAndLocation(t *testing.T) {
	e := newEnv(t)
	auth := e.signIn(t, "alice")
	res := e.api.JSON("POST", "/v1/todos", map[string]any{
		"title": "  Pay rent ", "notes": "to the landlord\nby transfer", "due_at": "2026-03-05T18:30:00-09:30",
		"priority": "high", "tags": []string{"Home", "money", "home"},
	}, auth)
	if res.Status != http.StatusCreated {
		t.Fatalf("want 201\n%s", res)
	}
	var td todo
	res.Decode(&td)
	if td.Title != "Pay rent" || td.Notes != "to the landlord\nby transfer" || td.DueAt == nil || *td.DueAt != "2026-03-05T18:30:00-09:30" ||
		td.Priority != "high" || td.Done || td.CompletedAt != nil || !reflect.DeepEqual(td.Tags, []string{"home", "money"}) || td.Version != 1 {
		t.Errorf("created %+v", td)
	}
	if res.Header.Get("ETag") != `"v1"` || res.Header.Get("Location") != "/v1/todos/"+td.ID || res.Header.Get("Idempotent-Replayed") != "" {
		t.Errorf("headers %v", res.Header)
	}
	if got := e.getTodo(t, auth, td.ID); !reflect.DeepEqual(got, td) {
		t.Errorf("GET answers\n%+v\nPOST answered\n%+v", got, td)
	}

	minimal := e.createTodo(t, auth, map[string]any{"title": "Call mum", "due_at": nil, "done": true})
	if minimal.Priority != "normal" || minimal.Notes != "" || minimal.DueAt != nil || len(minimal.Tags) != 0 || !minimal.Done || minimal.CompletedAt == nil {
		t.Errorf("minimal task %+v", minimal)
	}
}

func TestPatchTodoMergesClearsAndCompletes(t *testing.T) {
	e := newEnv(t)
	auth := e.signIn(t, "alice")
	td := e.createTodo(t, auth, map[string]any{"title": "a", "notes": "n", "due_at": "2026-03-01T09:00:00+08:00", "tags": []string{"x"}})

	patch := func(body any) todo {
		t.Helper()
		res := e.api.JSON("PATCH", "/v1/todos/"+td.ID, body, auth)
		if res.Status != http.StatusOK {
			t.Fatalf("want 200\n%s", res)
		}
		var got todo
		res.Decode(&got)
		if res.Header.Get("ETag") != fmt.Sprintf(`"v%d"`, got.Version) {
			t.Errorf("ETag %s for version %d", res.Header.Get("ETag"), got.Version)
		}
		return got
	}

	got := patch(map[string]any{"title": "b", "priority": "low"})
	if got.Title != "b" || got.Priority != "low" || got.Notes != "n" || *got.DueAt != "2026-03-01T09:00:00+08:00" || got.Version != 2 ||
		!got.CreatedAt.Equal(td.CreatedAt) || got.UpdatedAt.Before(td.UpdatedAt) {
		t.Errorf("merge: %+v", got)
	}
	got = patch(map[string]any{"due_at": nil, "notes": nil, "tags": []string{}})
	if got.DueAt != nil || got.Notes != "" || len(got.Tags) != 0 || got.Title != "b" || got.Version != 3 {
		t.Errorf("clear: %+v", got)
	}
	got = patch(map[string]any{"done": true, "due_at": "2026-04-01T00:00:00+05:45"})
	if !got.Done || got.CompletedAt == nil || *got.DueAt != "2026-04-01T00:00:00+05:45" {
		t.Errorf("done: %+v", got)
	}
	got = patch(map[string]any{"done": false})
	if got.Done || got.CompletedAt != nil || got.Version != 5 {
		t.Errorf("reopened: %+v", got)
	}
}

func TestDeleteTodoRemovesIt(t *testing.T) {
	e := newEnv(t)
	auth := e.signIn(t, "alice")
	td := e.createTodo(t, auth, map[string]any{"title": "a"})
	if res := e.api.JSON("DELETE", "/v1/todos/"+td.ID, nil, auth); res.Status != http.StatusNoContent || len(res.Body) != 0 {
		t.Fatalf("want 204 and no body\n%s", res)
	}
	res := e.api.Get("/v1/todos/"+td.ID, auth)
	wantProblem(t, res, 404, domain.CodeNotFound)
	res = e.api.JSON("DELETE", "/v1/todos/"+td.ID, nil, auth)
	wantProblem(t, res, 404, domain.CodeNotFound)
}

func TestAnotherUsersTaskIsNotFoundOnEveryRoute(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.signIn(t, "alice"), e.signIn(t, "bob")
	secret := e.createTodo(t, alice, map[string]any{"title": "alice's secret", "tags": []string{"private"}},
		"Idempotency-Key: shared-key")
	missing := "6f1c1a8e-2b7d-4e9f-8a6b-1c2d3e4f5a6b" // no such task

	routes := []struct {
		name, method string
		body         any
		headers      []string
	}{
		{"GET", "GET", nil, nil},
		{"GET If-None-Match", "GET", nil, []string{`If-None-Match: "v1"`}},
		{"PATCH", "PATCH", map[string]any{"title": "mine now"}, nil},
		{"PATCH If-Match current", "PATCH", map[string]any{"done": true}, []string{`If-Match: "v1"`}},
		{"PATCH If-Match stale", "PATCH", map[string]any{"done": true}, []string{`If-Match: "v7"`}},
		{"DELETE", "DELETE", nil, nil},
		{"DELETE If-Match current", "DELETE", nil, []string{`If-Match: "v1"`}},
		{"DELETE If-Match *", "DELETE", nil, []string{`If-Match: *`}},
	}
	for _, r := range routes {
		t.Run(r.name, func(t *testing.T) {
			c := e.apiFor(t)
			theirs := c.JSON(r.method, "/v1/todos/"+secret.ID, r.body, append([]string{bob}, r.headers...)...)
			none := c.JSON(r.method, "/v1/todos/"+missing, r.body, append([]string{bob}, r.headers...)...)
			wantProblem(t, theirs, 404, domain.CodeNotFound)
			// Nothing tells bob's 404 for alice's task from a missing one.
			if pt, pn := theirs.Problem(), none.Problem(); pt.Status != pn.Status || pt.Code != pn.Code || *pt.Detail != *pn.Detail || pt.Title != pn.Title {
				t.Errorf("another user's task answers\n%s\na missing one\n%s", theirs, none)
			}
			if theirs.Header.Get("ETag") != "" {
				t.Errorf("the 404 leaks an ETag: %s", theirs.Header.Get("ETag"))
			}
		})
	}

	t.Run("list", func(t *testing.T) {
		var page todoPage
		e.apiFor(t).Get("/v1/todos?tag=private", bob).Decode(&page)
		if len(page.Items) != 0 {
			t.Errorf("bob lists %+v", page.Items)
		}
	})
	t.Run("list with alice's cursor", func(t *testing.T) {
		e.createTodo(t, alice, map[string]any{"title": "another"})
		var page todoPage
		e.apiFor(t).Get("/v1/todos?limit=1", alice).Decode(&page)
		if page.NextCursor == nil {
			t.Fatal("alice has no second page")
		}
		res := e.apiFor(t).Get("/v1/todos?limit=1&cursor="+*page.NextCursor, bob)
		wantProblem(t, res, 400, domain.CodeInvalidCursor)
	})
	t.Run("POST with alice's idempotency key", func(t *testing.T) {
		res := e.apiFor(t).JSON("POST", "/v1/todos", map[string]any{"title": "alice's secret", "tags": []string{"private"}}, bob, "Idempotency-Key: shared-key")
		if res.Status != http.StatusCreated || res.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("want a fresh 201\n%s", res)
		}
		var td todo
		res.Decode(&td)
		if td.ID == secret.ID {
			t.Fatal("bob's create replayed alice's task")
		}
	})

	// After all that, alice's task is as she left it.
	if got := e.getTodo(t, alice, secret.ID); !reflect.DeepEqual(got, secret) {
		t.Errorf("alice's task is now %+v, was %+v", got, secret)
	}
}

func TestETagIfNoneMatchAnswers304(t *testing.T) {
	e := newEnv(t)
	auth := e.signIn(t, "alice")
	td := e.createTodo(t, auth, map[string]any{"title": "a"})
	for _, tc := range []struct {
		ifNoneMatch string
		status      int
	}{
		{`"v1"`, 304},
		{`W/"v1"`, 304}, // If-None-Match compares weakly
		{`"v0", "v1"`, 304},
		{`*`, 304},
		{`"v2"`, 200},
		{`"something-else"`, 200},
		{`"v1"x`, 400}, // not an entity tag list
	} {
		res := e.api.Get("/v1/todos/"+td.ID, auth, "If-None-Match: "+tc.ifNoneMatch)
		if tc.status == http.StatusBadRequest {
			if res.Status != tc.status || fieldCodes(res.Problem())["header.If-None-Match"] != "invalid_format" {
				t.Errorf("If-None-Match %s: want 400 naming the header\n%s", tc.ifNoneMatch, res)
			}
			continue
		}
		if res.Status != tc.status || res.Header.Get("ETag") != `"v1"` {
			t.Errorf("If-None-Match %s: want %d with ETag \"v1\"\n%s", tc.ifNoneMatch, tc.status, res)
		}
		if tc.status == 304 && len(res.Body) != 0 {
			t.Errorf("If-None-Match %s: a 304 with a body", tc.ifNoneMatch)
		}
	}
}

func TestIfMatchRefusesStaleWritesWith412(t *testing.T) {
	e := newEnv(t)
	auth := e.signIn(t, "alice")
	td := e.createTodo(t, auth, map[string]any{"title": "a"})
	path := "/v1/todos/" + td.ID

	// Two clients read v1; the first write wins, the second is refused.
	first := e.api.JSON("PATCH", path, map[string]any{"title": "first"}, auth, `If-Match: "v1"`)
	if first.Status != http.StatusOK || first.Header.Get("ETag") != `"v2"` {
		t.Fatalf("first write: want 200 with ETag \"v2\"\n%s", first)
	}
	second := e.api.JSON("PATCH", path, map[string]any{"title": "second"}, auth, `If-Match: "v1"`)
	wantProblem(t, second, 412, domain.CodePreconditionFailed)
	if got := e.getTodo(t, auth, td.ID); got.Title != "first" || got.Version != 2 {
		t.Errorf("after the refused write: %+v", got)
	}

	for _, tc := range []struct {
		ifMatch string
		status  int
	}{
		{`W/"v2"`, 412},      // If-Match compares strongly
		{`"v1", "v9"`, 412},  // none current
		{`"abc"`, 412},       // not one of ours
		{`"v1", "v2"`, 200},  // one current
		{`*`, 200},           // any version
		{`"v4"`, 200},        // after the two writes above
		{`  "v5"  `, 200},    // spaces around
		{`"v6",W/"v6"`, 200}, // no space after the comma
		{`"v07"`, 412},       // not how we write versions
		{`"v99999999999"`, 412},
	} {
		res := e.api.JSON("PATCH", path, map[string]any{"notes": tc.ifMatch}, auth, "If-Match: "+tc.ifMatch)
		if res.Status != tc.status {
			t.Errorf("If-Match %s: want %d\n%s", tc.ifMatch, tc.status, res)
		}
	}

	stale := e.api.JSON("DELETE", path, nil, auth, `If-Match: "v1"`)
	wantProblem(t, stale, 412, domain.CodePreconditionFailed)
	current := e.getTodo(t, auth, td.ID)
	if res := e.api.JSON("DELETE", path, nil, auth, fmt.Sprintf(`If-Match: "v%d"`, current.Version)); res.Status != http.StatusNoContent {
		t.Fatalf("delete with the current ETag: want 204\n%s", res)
	}
}

func TestIdempotentCreateReplaysTheFirstResult(t *testing.T) {
	e := newEnv(t)
	auth := e.signIn(t, "alice")
	body := map[string]any{"title": "Buy milk", "tags": []string{"home"}, "due_at": "2026-03-02T09:00:00+08:00"}
	first := e.api.JSON("POST", "/v1/todos", body, auth, "Idempotency-Key: 3f0c6d8e-6a8b-4a59-9d3c-2f1f8f7e2b10")
	if first.Status != http.StatusCreated {
		t.Fatalf("want 201\n%s", first)
	}
	var created todo
	first.Decode(&created)
	// The task changes; a retry still answers the first result.
	e.api.JSON("PATCH", "/v1/todos/"+created.ID, map[string]any{"done": true}, auth)

	// The same request, spelt differently: a retry.
	retry := e.api.JSON("POST", "/v1/todos", `{"due_at":"2026-03-02T09:00:00.000+08:00","tags":["HOME"],"title":" Buy milk "}`,
		auth, "Idempotency-Key: 3f0c6d8e-6a8b-4a59-9d3c-2f1f8f7e2b10")
	if retry.Status != http.StatusCreated || retry.Header.Get("Idempotent-Replayed") != "true" ||
		retry.Header.Get("ETag") != first.Header.Get("ETag") || retry.Header.Get("Location") != first.Header.Get("Location") {
		t.Fatalf("retry: want the first 201 replayed\n%s", retry)
	}
	var replayed todo
	retry.Decode(&replayed)
	if !reflect.DeepEqual(replayed, created) {
		t.Errorf("replay\n%+v\nfirst\n%+v", replayed, created)
	}

	other := e.api.JSON("POST", "/v1/todos", map[string]any{"title": "Buy bread"}, auth, "Idempotency-Key: 3f0c6d8e-6a8b-4a59-9d3c-2f1f8f7e2b10")
	wantProblem(t, other, 422, domain.CodeIdempotencyKeyReused)

	var page todoPage
	e.api.Get("/v1/todos", auth).Decode(&page)
	if len(page.Items) != 1 {
		t.Errorf("%d tasks, want 1", len(page.Items))
	}
}

func TestConcurrentIdempotentCreatesMakeOneTask(t *testing.T) {
	e := newEnv(t)
	auth := e.signIn(t, "alice")
	const n = 10
	var wg sync.WaitGroup
	start := make(chan struct{})
	type result struct {
		status   int
		id       string
		replayed bool
	}
	results := make([]result, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res := e.api.JSON("POST", "/v1/todos", map[string]any{"title": "once", "priority": "high"}, auth, "Idempotency-Key: race-1")
			var td todo
			if res.Status == http.StatusCreated {
				res.Decode(&td)
			}
			results[i] = result{res.Status, td.ID, res.Header.Get("Idempotent-Replayed") == "true"}
		}()
	}
	close(start)
	wg.Wait()
	fresh := 0
	for i, r := range results {
		if r.status != http.StatusCreated || r.id != results[0].id {
			t.Errorf("request %d: %+v, request 0: %+v", i, r, results[0])
		}
		if !r.replayed {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d requests were not replays, want 1", fresh)
	}
	var page todoPage
	e.api.Get("/v1/todos", auth).Decode(&page)
	if len(page.Items) != 1 {
		t.Errorf("%d tasks stored, want 1", len(page.Items))
	}
}

func TestIdempotencyKeyExpiresAfterADay(t *testing.T) {
	e := newEnv(t)
	auth := e.signIn(t, "alice")
	first := e.createTodo(t, auth, map[string]any{"title": "a"}, "Idempotency-Key: daily")
	e.clock.Advance(23 * time.Hour)
	if again := e.createTodo(t, auth, map[string]any{"title": "a"}, "Idempotency-Key: daily"); again.ID != first.ID {
		t.Fatalf("within a day: a new task %s", again.ID)
	}
	e.clock.Advance(2 * time.Hour)
	res := e.api.JSON("POST", "/v1/todos", map[string]any{"title": "b"}, auth, "Idempotency-Key: daily")
	if res.Status != http.StatusCreated || res.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("after a day: want a fresh 201\n%s", res)
	}
}

func TestTaskRoutesNeedAToken(t *testing.T) {
	e := newEnv(t)
	id := "6f1c1a8e-2b7d-4e9f-8a6b-1c2d3e4f5a6b"
	for _, r := range []struct{ method, path string }{
		{"POST", "/v1/todos"}, {"GET", "/v1/todos"}, {"GET", "/v1/todos?limit=0&sort=bad"},
		{"GET", "/v1/todos/" + id}, {"GET", "/v1/todos/not-a-uuid"}, {"PATCH", "/v1/todos/" + id}, {"DELETE", "/v1/todos/" + id},
	} {
		var body any
		if r.method == "POST" || r.method == "PATCH" {
			body = map[string]any{"title": 42}
		}
		// Bad parameters and bodies too: without a token, nothing is
		// validated.
		res := e.api.JSON(r.method, r.path, body, `If-Match: not a tag`)
		wantProblem(t, res, 401, domain.CodeTokenMissing)
		if res.Problem().Errors != nil {
			t.Errorf("%s %s: a 401 with field errors", r.method, r.path)
		}
	}
}
