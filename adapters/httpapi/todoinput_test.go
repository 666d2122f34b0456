package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/miniback/miniback/domain"
)

func TestBadTaskBodiesNameEachField(t *testing.T) {
	e := newEnv(t)
	auth := e.signIn(t, "alice")
	td := e.createTodo(t, auth, map[string]any{"title": "a"})
	long := func(n int) string { return strings.Repeat("界", n) }
	tags := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprint("t", i)
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		method string
		body   any
		want   map[string]string // field → code; every one must be listed
	}{
		{"no title", "POST", map[string]any{}, map[string]string{"body.title": "required"}},
		{"empty title", "POST", map[string]any{"title": ""}, map[string]string{"body.title": "required"}},
		{"blank title", "POST", map[string]any{"title": "   "}, map[string]string{"body.title": "required"}},
		{"title too long", "POST", map[string]any{"title": long(201)}, map[string]string{"body.title": "too_long"}},
		{"title with a control character", "POST", map[string]any{"title": "a\u0007"}, map[string]string{"body.title": "invalid_characters"}},
		{"notes too long", "POST", map[string]any{"title": "a", "notes": strings.Repeat("n", 10_001)}, map[string]string{"body.notes": "too_long"}},
		{"title a number", "POST", map[string]any{"title": 42}, map[string]string{"body.title": "invalid_type"}},
		{"done a string", "POST", map[string]any{"title": "a", "done": "yes"}, map[string]string{"body.done": "invalid_type"}},
		{"tags a string", "POST", map[string]any{"title": "a", "tags": "home"}, map[string]string{"body.tags": "invalid_type"}},
		{"tag a number", "POST", map[string]any{"title": "a", "tags": []any{"ok", 7}}, map[string]string{"body.tags.1": "invalid_type"}},
		{"tag too long", "POST", map[string]any{"title": "a", "tags": []string{strings.Repeat("x", 33)}}, map[string]string{"body.tags.0": "too_long"}},
		{"21 tags", "POST", map[string]any{"title": "a", "tags": tags(21)}, map[string]string{"body.tags": "too_many"}},
		{"blank tag", "POST", map[string]any{"title": "a", "tags": []string{" "}}, map[string]string{"body.tags": "required"}},
		{"unknown priority", "POST", map[string]any{"title": "a", "priority": "urgent"}, map[string]string{"body.priority": "invalid_value"}},
		{"due time not a time", "POST", map[string]any{"title": "a", "due_at": "tomorrow"}, map[string]string{"body.due_at": "invalid_format"}},
		{"due time without a zone", "POST", map[string]any{"title": "a", "due_at": "2026-03-01T18:00:00"}, map[string]string{"body.due_at": "invalid_format"}},
		{"due time in zone +25:00", "POST", map[string]any{"title": "a", "due_at": "2026-03-01T18:00:00+25:00"}, map[string]string{"body.due_at": "invalid_time_zone"}},
		{"due time in zone +14:30", "POST", map[string]any{"title": "a", "due_at": "2026-03-01T18:00:00+14:30"}, map[string]string{"body.due_at": "invalid_time_zone"}},
		{"due time in zone +08:07", "POST", map[string]any{"title": "a", "due_at": "2026-03-01T18:00:00+08:07"}, map[string]string{"body.due_at": "invalid_time_zone"}},
		{"due time on 30 February", "POST", map[string]any{"title": "a", "due_at": "2026-02-30T18:00:00Z"}, map[string]string{"body.due_at": "invalid_format"}},
		{"server fields", "POST", map[string]any{"title": "a", "id": td.ID, "version": 9, "user_id": "x", "completed_at": "2026-01-01T00:00:00Z"},
			map[string]string{"body.id": "unknown_field", "body.version": "unknown_field", "body.user_id": "unknown_field", "body.completed_at": "unknown_field"}},
		{"many at once", "POST", map[string]any{"title": long(201), "priority": 1, "owner": "bob"},
			map[string]string{"body.title": "too_long", "body.priority": "invalid_value", "body.owner": "unknown_field"}},
		{"domain rules at once", "POST", map[string]any{"title": " ", "due_at": "2026-03-01T18:00:00+15:00"},
			map[string]string{"body.title": "required", "body.due_at": "invalid_time_zone"}},
		{"empty patch", "PATCH", map[string]any{}, map[string]string{"body": "empty_patch"}},
		{"patch title null", "PATCH", map[string]any{"title": nil}, map[string]string{"body.title": "invalid_type"}},
		{"patch version", "PATCH", map[string]any{"version": 2}, map[string]string{"body.version": "unknown_field"}},
		{"patch due time in a bad zone", "PATCH", map[string]any{"due_at": "2026-03-01T18:00:00-13:00"}, map[string]string{"body.due_at": "invalid_time_zone"}},
		{"patch tags null", "PATCH", map[string]any{"tags": nil}, map[string]string{"body.tags": "invalid_type"}},
		{"body an array", "PATCH", []any{}, map[string]string{"body": "invalid_type"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/v1/todos"
			if tc.method == "PATCH" {
				path += "/" + td.ID
			}
			res := e.apiFor(t).JSON(tc.method, path, tc.body, auth)
			wantProblem(t, res, 400, domain.CodeInvalid)
			got := fieldCodes(res.Problem())
			for f, c := range tc.want {
				if got[f] != c {
					t.Errorf("%s: code %q, want %q (all: %v)", f, got[f], c, got)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("field errors %v, want %v", got, tc.want)
			}
		})
	}
	if got := e.getTodo(t, auth, td.ID); got.Version != 1 {
		t.Errorf("a refused patch changed the task: %+v", got)
	}
}

func TestBadListParametersNameEachParameter(t *testing.T) {
	e := newEnv(t)
	auth := e.signIn(t, "alice")
	for _, tc := range []struct {
		name, query string
		code        domain.Code
		want        map[string]string
	}{
		{"limit 0", "limit=0", domain.CodeInvalid, map[string]string{"query.limit": "out_of_range"}},
		{"limit 101", "limit=101", domain.CodeInvalid, map[string]string{"query.limit": "out_of_range"}},
		{"limit not a number", "limit=ten", domain.CodeInvalid, map[string]string{"query.limit": "invalid_type"}},
		{"limit a fraction", "limit=2.5", domain.CodeInvalid, map[string]string{"query.limit": "invalid_type"}},
		{"unknown sort", "sort=title", domain.CodeInvalid, map[string]string{"query.sort": "invalid_value"}},
		{"done not a boolean", "done=maybe", domain.CodeInvalid, map[string]string{"query.done": "invalid_type"}},
		{"due_before not a time", "due_before=yesterday", domain.CodeInvalid, map[string]string{"query.due_before": "invalid_format"}},
		// An unencoded + reads as a space: the time is malformed.
		{"due_after with a raw +", "due_after=2026-03-01T00:00:00+08:00", domain.CodeInvalid, map[string]string{"query.due_after": "invalid_format"}},
		{"due_after in a bad zone", "due_after=2026-03-01T00:00:00%2B24:00", domain.CodeInvalid, map[string]string{"query.due_after": "invalid_time_zone"}},
		{"empty due range", "due_after=2026-03-02T00:00:00Z&due_before=2026-03-01T00:00:00Z", domain.CodeInvalid, map[string]string{"query.due_after": "invalid_range"}},
		{"tag too long", "tag=" + strings.Repeat("t", 33), domain.CodeInvalid, map[string]string{"query.tag": "too_long"}},
		{"q too long", "q=" + strings.Repeat("q", 201), domain.CodeInvalid, map[string]string{"query.q": "too_long"}},
		{"several at once", "limit=0&sort=x&done=1x", domain.CodeInvalid,
			map[string]string{"query.limit": "out_of_range", "query.sort": "invalid_value", "query.done": "invalid_type"}},
		{"cursor not ours", "cursor=eyJ2IjoxfQ.AAAA", domain.CodeInvalidCursor, map[string]string{"query.cursor": "invalid_cursor"}},
		{"cursor too long", "cursor=" + strings.Repeat("c", 513), domain.CodeInvalid, map[string]string{"query.cursor": "too_long"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.apiFor(t).Get("/v1/todos?"+tc.query, auth)
			wantProblem(t, res, 400, tc.code)
			got := fieldCodes(res.Problem())
			for f, c := range tc.want {
				if got[f] != c {
					t.Errorf("%s: code %q, want %q (all: %v)", f, got[f], c, got)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("field errors %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBadIdsAndHeadersNameTheirPlace(t *testing.T) {
	e := newEnv(t)
	auth := e.signIn(t, "alice")
	td := e.createTodo(t, auth, map[string]any{"title": "a"})
	for _, tc := range []struct {
		name, method, path string
		body               any
		header             string
		field, code        string
	}{
		{"id not a UUID", "GET", "/v1/todos/42", nil, "", "path.id", "invalid_format"},
		{"id not a UUID on PATCH", "PATCH", "/v1/todos/not-a-uuid", map[string]any{"title": "x"}, "", "path.id", "invalid_format"},
		{"id not a UUID on DELETE", "DELETE", "/v1/todos/zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", nil, "", "path.id", "invalid_format"},
		{"idempotency key with a space", "POST", "/v1/todos", map[string]any{"title": "x"}, "Idempotency-Key: two words", "header.Idempotency-Key", "invalid_format"},
		{"idempotency key too long", "POST", "/v1/todos", map[string]any{"title": "x"}, "Idempotency-Key: " + strings.Repeat("k", 256), "header.Idempotency-Key", "too_long"},
		{"If-Match not a tag", "PATCH", "/v1/todos/" + td.ID, map[string]any{"title": "x"}, "If-Match: v1", "header.If-Match", "invalid_format"},
		{"If-Match unterminated", "DELETE", "/v1/todos/" + td.ID, nil, `If-Match: "v1`, "header.If-Match", "invalid_format"},
		{"If-None-Match not a tag", "GET", "/v1/todos/" + td.ID, nil, "If-None-Match: v1", "header.If-None-Match", "invalid_format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			headers := []string{auth}
			if tc.header != "" {
				headers = append(headers, tc.header)
			}
			res := e.apiFor(t).JSON(tc.method, tc.path, tc.body, headers...)
			wantProblem(t, res, 400, domain.CodeInvalid)
			if got := fieldCodes(res.Problem()); got[tc.field] != tc.code || len(got) != 1 {
				t.Errorf("field errors %v, want %s %s", got, tc.field, tc.code)
			}
		})
	}
	if got := e.getTodo(t, auth, td.ID); got.Version != 1 {
		t.Errorf("a refused request changed the task: %+v", got)
	}
}

func TestTaskBodiesMustBeJSON(t *testing.T) {
	e := newEnv(t)
	auth := e.signIn(t, "alice")
	res := e.api.JSON("POST", "/v1/todos", `{"title":"a"`, auth)
	wantProblem(t, res, 400, domain.CodeMalformedJSON)
	res = e.api.JSON("POST", "/v1/todos", `title=a`, auth, "Content-Type: application/x-www-form-urlencoded")
	wantProblem(t, res, http.StatusUnsupportedMediaType, domain.CodeUnsupportedMediaType)
	res = e.api.JSON("POST", "/v1/todos", `{"title":"`+strings.Repeat("a", 2<<20)+`"}`, auth)
	wantProblem(t, res, http.StatusRequestEntityTooLarge, domain.CodeBodyTooLarge)
}
