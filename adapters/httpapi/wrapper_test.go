package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/miniback/miniback/adapters/httpapi/api"
)

// listTodosRecorder is the generated wrapper's handler: it keeps the
// parameters ListTodos was called with. The other operations are never
// called here.
type listTodosRecorder struct {
	api.ServerInterface
	called bool
	got    api.ListTodosParams
}

func (r *listTodosRecorder) ListTodos(_ *gin.Context, p api.ListTodosParams) {
	r.called, r.got = true, p
}

// wrapperFor returns the generated ListTodos wrapper over a recorder, and
// where the wrapper reports a binding failure.
func wrapperFor(t testing.TB) (*api.ServerInterfaceWrapper, *listTodosRecorder, *int) {
	t.Helper()
	rec := &listTodosRecorder{}
	failed := new(int)
	return &api.ServerInterfaceWrapper{
		Handler: rec,
		ErrorHandler: func(_ *gin.Context, _ error, status int) {
			*failed = status
		},
	}, rec, failed
}

func ginContext(target string) *gin.Context {
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest(http.MethodGet, target, nil)
	return c
}

// The wrapper generated from adapters/httpapi/api/templates binds every
// ListTodos query parameter as upstream's template does: present ones
// parsed into their types, absent ones left nil, a malformed one a 400.
func TestListTodosWrapperBindsQueryParameters(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	ptr := func(s string) *string { return &s }
	limit, done, sort := 5, false, api.ListTodosParamsSort("due_at")
	for _, tc := range []struct {
		name, query string
		want        api.ListTodosParams
	}{
		{"none", "", api.ListTodosParams{}},
		{"unrelated only", "?x=1", api.ListTodosParams{}},
		{"all", "?limit=5&cursor=abc&sort=due_at&done=false&due_after=2026-01-01T00:00:00Z&due_before=2026-02-01T00:00:00%2B08:00&tag=home&q=milk%20%26%20bread",
			api.ListTodosParams{Limit: &limit, Cursor: ptr("abc"), Sort: &sort, Done: &done, DueAfter: ptr("2026-01-01T00:00:00Z"),
				DueBefore: ptr("2026-02-01T00:00:00+08:00"), Tag: ptr("home"), Q: ptr("milk & bread")}},
		{"some", "?done=false&q=", api.ListTodosParams{Done: &done, Q: ptr("")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, rec, failed := wrapperFor(t)
			w.ListTodos(ginContext("/v1/todos" + tc.query))
			if *failed != 0 || !rec.called {
				t.Fatalf("failed with %d, handler called %v", *failed, rec.called)
			}
			if !reflect.DeepEqual(rec.got, tc.want) {
				t.Errorf("bound %+v, want %+v", rec.got, tc.want)
			}
		})
	}
	for _, query := range []string{"?limit=five", "?done=maybe", "?limit=1&limit=2"} {
		w, rec, failed := wrapperFor(t)
		w.ListTodos(ginContext("/v1/todos" + query))
		if *failed != http.StatusBadRequest || rec.called {
			t.Errorf("%s: failed with %d, handler called %v; want 400 and no call", query, *failed, rec.called)
		}
	}
}

// querySink keeps the benchmark's parsed query on the heap, as the
// wrapper's is.
var querySink url.Values

// The wrapper parses the query once, not once per parameter, and an absent
// optional parameter costs nothing: binding a query that names none of
// ListTodos's eight parameters allocates what one url.ParseQuery does, plus
// the parameter struct (it escapes into the runtime's binder). Upstream's
// template parsed the query eight times here and allocated for each
// absent parameter.
func TestListTodosWrapperParsesQueryOnce(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	const raw = "x=1&y=2"
	parse := testing.AllocsPerRun(100, func() { querySink, _ = url.ParseQuery(raw) })
	w, _, _ := wrapperFor(t)
	c := ginContext("/v1/todos?" + raw)
	got := testing.AllocsPerRun(100, func() { w.ListTodos(c) })
	if got > parse+1 {
		t.Errorf("the wrapper allocates %v times per request, one query parse %v", got, parse)
	}
}
