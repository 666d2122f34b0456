package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/miniback/miniback/domain"
)

// An operation without a request body is validated by its parameters'
// plan (params.go); these pin, through the router, cases its own tests
// reach only beside the router.

// TestBadIfNoneMatchIsAFieldError: a header parameter breaking its
// pattern is a field error of its own, beside a bad path parameter.
func TestBadIfNoneMatchIsAFieldError(t *testing.T) {
	e := newEnv(t)
	auth := e.signIn(t, "alice")
	td := e.createTodo(t, auth, map[string]any{"title": "Buy milk"})
	for _, tc := range []struct {
		name, path string
		fields     map[string]string
	}{
		{"bad tag", "/v1/todos/" + td.ID, map[string]string{"header.If-None-Match": "invalid_format"}},
		{"bad tag and id", "/v1/todos/42", map[string]string{"header.If-None-Match": "invalid_format", "path.id": "invalid_format"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.api.Get(tc.path, auth, "If-None-Match: v1")
			if res.Status != http.StatusBadRequest || res.Problem().Code != string(domain.CodeInvalid) {
				t.Fatalf("want 400 validation_failed\n%s", res)
			}
			if got := fieldCodes(res.Problem()); len(got) != len(tc.fields) {
				t.Fatalf("field errors %v, want %v", got, tc.fields)
			}
			for field, code := range tc.fields {
				if !hasFieldError(res.Problem(), field, code) {
					t.Errorf("no %s %s in\n%s", field, code, res)
				}
			}
		})
	}
	if res := e.api.Get("/v1/todos/"+td.ID, auth, `If-None-Match: W/"v9", "v1"`); res.Status != http.StatusNotModified {
		t.Fatalf("a list holding the current tag: want 304\n%s", res)
	}
}

// TestEscapedQueryValuesAreDecodedBeforeTheyAreChecked: a value the plan
// cannot read as it is (escaped) is checked decoded, like any other.
func TestEscapedQueryValuesAreDecodedBeforeTheyAreChecked(t *testing.T) {
	e := newEnv(t)
	auth := e.signIn(t, "alice")
	e.createTodo(t, auth, map[string]any{"title": "Buy oat milk"})
	for _, q := range []string{"q=oat+milk", "q=oat%20milk", "sort=%2Dcreated_at&limit=%35"} {
		res := e.api.Get("/v1/todos?"+q, auth)
		if res.Status != http.StatusOK {
			t.Fatalf("?%s: want 200\n%s", q, res)
		}
		var page todoPage
		res.Decode(&page)
		if len(page.Items) != 1 {
			t.Errorf("?%s: %d tasks, want 1", q, len(page.Items))
		}
	}
	res := e.api.Get("/v1/todos?sort=%2Dtitle", auth)
	if res.Status != http.StatusBadRequest || !hasFieldError(res.Problem(), "query.sort", "invalid_value") {
		t.Fatalf("an escaped unknown sort: want 400 query.sort invalid_value\n%s", res)
	}
}
