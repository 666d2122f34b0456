package httpapi_test

import (
	"net/http"
	"regexp"
	"slices"
	"testing"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/domain"
)

func TestNullIsRefusedForTaskFieldsTheSpecDoesNotMakeNullable(t *testing.T) {
	e := newEnv(t)
	auth := e.signIn(t, "alice")
	for _, field := range []string{"notes", "done", "title", "priority", "tags"} {
		res := e.apiFor(t).JSON("POST", "/v1/todos", `{"title":"a","`+field+`":null}`, auth)
		wantProblem(t, res, http.StatusBadRequest, domain.CodeInvalid)
		if codes := fieldCodes(res.Problem()); codes["body."+field] == "" || len(codes) != 1 {
			t.Errorf("POST with %s null: field errors %v, want one for body.%s", field, codes, field)
		}
	}
	// due_at is nullable on create (no due time), and a patch clears notes
	// and due_at with null.
	td := e.createTodo(t, auth, map[string]any{"title": "a", "notes": "n", "due_at": nil})
	if td.Notes != "n" || td.DueAt != nil {
		t.Fatalf("created %+v", td)
	}
	res := e.api.JSON("PATCH", "/v1/todos/"+td.ID, `{"notes":null,"due_at":null}`, auth)
	if res.Status != http.StatusOK {
		t.Fatalf("patch clearing notes and due_at: want 200\n%s", res)
	}
	for _, field := range []string{"done", "title", "priority", "tags"} {
		res := e.apiFor(t).JSON("PATCH", "/v1/todos/"+td.ID, `{"`+field+`":null}`, auth)
		wantProblem(t, res, http.StatusBadRequest, domain.CodeInvalid)
		if codes := fieldCodes(res.Problem()); codes["body."+field] == "" {
			t.Errorf("PATCH with %s null: field errors %v, want one for body.%s", field, codes, field)
		}
	}
}

// Every JSON request body of the spec refuses null for each property the
// spec does not make nullable, whatever the property's other rules (a
// default, say, which the validator would write over the null).
func TestEveryRequestBodyRefusesNullWhereTheSpecDoesNotAllowIt(t *testing.T) {
	e := newEnv(t)
	auth := e.signIn(t, "alice")
	doc, err := api.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\{[^}]+\}`)
	checked := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody == nil || op.RequestBody.Value == nil {
				continue
			}
			media := op.RequestBody.Value.Content.Get("application/json")
			if media == nil || media.Schema == nil || media.Schema.Value == nil {
				continue
			}
			target := param.ReplaceAllString(path, "3f8e5a1c-2b7d-4e9f-8a6b-1c2d3e4f5a6b")
			props := media.Schema.Value.Properties
			names := make([]string, 0, len(props))
			for name := range props {
				names = append(names, name)
			}
			slices.Sort(names)
			for _, name := range names {
				if props[name].Value.Nullable {
					continue
				}
				checked++
				// The console's header too, which the console's operations
				// require before they look at a body (console.go).
				res := e.apiFor(t).JSON(method, target, `{"`+name+`":null}`, auth, csrfOK)
				if res.Status != http.StatusBadRequest {
					t.Errorf("%s %s with %s null: want 400\n%s", method, path, name, res)
					continue
				}
				if codes := fieldCodes(res.Problem()); codes["body."+name] == "" {
					t.Errorf("%s %s with %s null: field errors %v name no body.%s", method, path, name, codes, name)
				}
			}
		}
	}
	if checked < 20 {
		t.Errorf("only %d properties checked; the spec walk is broken", checked)
	}
	t.Logf("%d non-nullable request properties refuse null", checked)
}
