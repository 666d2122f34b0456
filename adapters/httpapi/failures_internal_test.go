package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/domain"
)

// failureFunc is an operation's failure function with its response type
// erased.
type failureFunc func(context.Context, error) (any, error)

func erase[R any](f func(context.Context, error) (R, error)) failureFunc {
	return func(ctx context.Context, err error) (any, error) {
		r, err := f(ctx, err)
		return r, err
	}
}

// failureFuncs lists the generated failure function of every operation
// that declares a problem response. It is written by hand, apart from the
// generator, so TestEveryOperationWithProblemsHasAFailureFunction notices
// an operation the generator skipped.
func failureFuncs(s *Server) map[string]failureFunc {
	return map[string]failureFunc{
		"attachToTodo":          erase(s.attachFailure),
		"bindMyPhone":           erase(s.bindMyPhoneFailure),
		"bindMyWeChat":          erase(s.bindWeChatFailure),
		"completeUpload":        erase(s.completeUploadFailure),
		"createTodo":            erase(s.createTodoFailure),
		"createUpload":          erase(s.createUploadFailure),
		"createWxaCode":         erase(s.createWxaCodeFailure),
		"deleteMe":              erase(s.deleteMeFailure),
		"decryptWeChatData":     erase(s.decryptWeChatDataFailure),
		"deleteTodo":            erase(s.deleteTodoFailure),
		"detachFromTodo":        erase(s.detachFailure),
		"endOtherSessions":      erase(s.endOtherSessionsFailure),
		"endSession":            erase(s.endSessionFailure),
		"getAvatar":             erase(s.getAvatarFailure),
		"getMe":                 erase(s.getMeFailure),
		"getReady":              erase(s.getReadyFailure),
		"getTodo":               erase(s.getTodoFailure),
		"getUpload":             erase(s.getUploadFailure),
		"listSessions":          erase(s.listSessionsFailure),
		"listTodoAttachments":   erase(s.listAttachmentsFailure),
		"listTodos":             erase(s.listTodosFailure),
		"listUsers":             erase(s.listUsersFailure),
		"createConsoleSession":  erase(s.createConsoleSessionFailure),
		"refreshConsoleSession": erase(s.refreshConsoleSessionFailure),
		"endConsoleSession":     erase(s.endConsoleSessionFailure),
		"getAdminHealth":        erase(s.getAdminHealthFailure),
		"getAdminJobs":          erase(s.getAdminJobsFailure),
		"retryAdminJob":         erase(s.retryAdminJobFailure),
		"cancelAdminJob":        erase(s.cancelAdminJobFailure),
		"listModeration":        erase(s.listModerationFailure),
		"resolveModeration":     erase(s.resolveModerationFailure),
		"localStorageGet":       erase(s.localGetFailure),
		"localStoragePost":      erase(s.localPostFailure),
		"localStoragePut":       erase(s.localPutFailure),
		"loginWithPassword":     erase(s.passwordLoginFailure),
		"loginWithCloudRun":     erase(s.loginWithCloudRunFailure),
		"loginWithWeChat":       erase(s.loginFailure),
		"logout":                erase(s.logoutFailure),
		"refreshTokens":         erase(s.refreshFailure),
		"registerWithPassword":  erase(s.registerFailure),
		"setMyPassword":         erase(s.setPasswordFailure),
		"unbindMyPhone":         erase(s.unbindMyPhoneFailure),
		"updateMe":              erase(s.updateMeFailure),
		"updateTodo":            erase(s.updateTodoFailure),
		"verifyWeChatPushURL":   erase(s.verifyPushFailure),
		"receiveWeChatPush":     erase(s.receivePushFailure),
	}
}

// specRoutes returns the operations of openapi.yaml, the generator's
// input, by operationId. (The embedded spec is the same document, but
// oapi-codegen capitalizes its operationIds.)
func specRoutes(t *testing.T) map[string]*routers.Route {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile("../../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*routers.Route{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			byID[op.OperationID] = &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
		}
	}
	return byID
}

// declaredProblems returns the error statuses op declares, 500 aside (the
// error hook answers it), and fails the test for an error response that is
// not a problem document.
func declaredProblems(t *testing.T, op *openapi3.Operation) []int {
	t.Helper()
	var statuses []int
	for status := 400; status < 600; status++ {
		r := op.Responses.Status(status)
		if r == nil || status == http.StatusInternalServerError {
			continue
		}
		if r.Value.Content.Get("application/problem+json") == nil {
			t.Errorf("%s: response %d is not application/problem+json", op.OperationID, status)
			continue
		}
		statuses = append(statuses, status)
	}
	return statuses
}

// codesByStatus inverts the one table from domain code to status.
func codesByStatus() map[int][]domain.Code {
	m := map[int][]domain.Code{}
	for code, k := range kinds {
		m[k.status] = append(m[k.status], code)
	}
	for _, codes := range m {
		slices.Sort(codes)
	}
	return m
}

func allCodes() []domain.Code {
	return slices.Sorted(maps.Keys(kinds))
}

func failureContext(route *routers.Route) context.Context {
	return withRequestInfo(context.Background(), requestInfo{id: "req-failures", path: route.Path})
}

func newFailureServer() *Server { return NewServer(Deps{}) }

// visit writes resp as its operation's Visit method does.
func visit(t *testing.T, opID string, resp any) *httptest.ResponseRecorder {
	t.Helper()
	name := "Visit" + strings.ToUpper(opID[:1]) + opID[1:] + "Response"
	m := reflect.ValueOf(resp).MethodByName(name)
	if !m.IsValid() {
		t.Fatalf("%s: %T has no %s", opID, resp, name)
	}
	rec := httptest.NewRecorder()
	out := m.Call([]reflect.Value{reflect.ValueOf(http.ResponseWriter(rec))})
	if err, _ := out[0].Interface().(error); err != nil {
		t.Fatalf("%s: %s: %v", opID, name, err)
	}
	return rec
}

// validateResponse checks rec against the operation's declared response
// for its status, as the API tests do, failing on an undeclared status.
func validateResponse(route *routers.Route, rec *httptest.ResponseRecorder) error {
	opts := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: httptest.NewRequest(route.Method, "/", nil), Route: route, Options: opts,
		},
		Status:  rec.Code,
		Header:  rec.Header(),
		Options: opts,
	}
	in.SetBodyBytes(rec.Body.Bytes())
	return openapi3filter.ValidateResponse(context.Background(), in)
}

func TestEveryOperationWithProblemsHasAFailureFunction(t *testing.T) {
	funcs := failureFuncs(newFailureServer())
	withProblems := 0
	routes := specRoutes(t)
	for _, id := range slices.Sorted(maps.Keys(routes)) {
		route := routes[id]
		_, listed := funcs[id]
		declares := len(declaredProblems(t, route.Operation)) > 0
		if declares {
			withProblems++
		}
		switch {
		case declares && !listed:
			t.Errorf("%s declares problem responses but failureFuncs lists no failure function for it", id)
		case !declares && listed:
			t.Errorf("%s declares no problem response but failureFuncs lists a failure function for it", id)
		}
	}
	if withProblems != len(funcs) || withProblems == 0 {
		t.Errorf("%d operations declare problems, failureFuncs lists %d", withProblems, len(funcs))
	}
}

// middlewareOnlyHeaders are declared headers no failure function writes:
// the rate limit fields come only with the rate_limited answers of the
// rate limit middleware (ratelimit.go, tested there).
var middlewareOnlyHeaders = map[string]bool{"RateLimit-Policy": true, "RateLimit": true}

// TestEveryDeclaredProblemStatusIsAnswered proves each error status each
// operation declares is reachable: every domain code with that status
// comes out of the operation's failure function as a typed response that
// writes that status, a problem document and the declared headers, and
// conforms to the spec.
func TestEveryDeclaredProblemStatusIsAnswered(t *testing.T) {
	s := newFailureServer()
	funcs := failureFuncs(s)
	byStatus := codesByStatus()
	routes := specRoutes(t)
	checked := 0
	for _, id := range slices.Sorted(maps.Keys(routes)) {
		route := routes[id]
		fail := funcs[id]
		if fail == nil {
			continue // TestEveryOperationWithProblemsHasAFailureFunction reports it
		}
		for _, status := range declaredProblems(t, route.Operation) {
			codes := byStatus[status]
			if len(codes) == 0 {
				t.Errorf("%s declares %d, but no domain code maps to %d in kinds", id, status, status)
				continue
			}
			declared := route.Operation.Responses.Status(status).Value
			for _, code := range codes {
				checked++
				in := domain.Errorf(code, "the %s failure", code)
				resp, err := fail(failureContext(route), in)
				if err != nil || resp == nil {
					t.Errorf("%s, %s (%d): got (%v, %v), want a typed response", id, code, status, resp, err)
					continue
				}
				rec := visit(t, id, resp)
				if rec.Code != status {
					t.Errorf("%s, %s: %T writes %d, want %d", id, code, resp, rec.Code, status)
				}
				if mt, _, _ := mime.ParseMediaType(rec.Header().Get("Content-Type")); mt != "application/problem+json" {
					t.Errorf("%s, %s: Content-Type %q, want application/problem+json", id, code, rec.Header().Get("Content-Type"))
				}
				for name := range declared.Headers {
					if middlewareOnlyHeaders[name] {
						continue
					}
					if rec.Header().Get(name) == "" {
						t.Errorf("%s, %s: the declared %s header is missing", id, code, name)
					}
				}
				if err := validateResponse(route, rec); err != nil {
					t.Errorf("%s, %s: the response does not conform to the spec: %v\n%s", id, code, err, rec.Body)
				}
				var p api.Problem
				if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Code != string(code) || p.Status != status {
					t.Errorf("%s, %s: body %s, want code %s with status %d (%v)", id, code, rec.Body, code, status, err)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no declared problem status was checked")
	}
}

// TestUndeclaredStatusesFallThroughAsTheError proves no domain code is
// answered with a status its operation does not declare: the failure
// function gives the error back, for the error hook's generic 500. The
// codes each operation lets fall through are derived from the spec, and
// the statuses its function answers must be exactly the declared ones.
func TestUndeclaredStatusesFallThroughAsTheError(t *testing.T) {
	s := newFailureServer()
	funcs := failureFuncs(s)
	routes := specRoutes(t)

	// fallThrough is, by operation, every code whose status the operation
	// does not declare.
	fallThrough := map[string][]domain.Code{}
	declared := map[string]map[int]bool{}
	for _, id := range slices.Sorted(maps.Keys(funcs)) {
		route := routes[id]
		if route == nil {
			t.Errorf("failureFuncs lists %s, which the spec does not have", id)
			continue
		}
		declared[id] = map[int]bool{}
		for _, status := range declaredProblems(t, route.Operation) {
			declared[id][status] = true
		}
		for _, code := range allCodes() {
			if !declared[id][kinds[code].status] {
				fallThrough[id] = append(fallThrough[id], code)
			}
		}
	}

	for _, id := range slices.Sorted(maps.Keys(fallThrough)) {
		codes, route, fail := fallThrough[id], routes[id], funcs[id]
		if !slices.Contains(codes, domain.CodeInternal) {
			t.Errorf("%s: internal is not among the codes that fall through", id)
		}
		inputs := []error{errors.New("an unclassified failure"), fmt.Errorf("wrapped: %w", errors.New("cause"))}
		for _, code := range codes {
			inputs = append(inputs, domain.Errorf(code, "the %s failure", code))
		}
		for _, in := range inputs {
			resp, err := fail(failureContext(route), in)
			if resp != nil || err != in {
				t.Errorf("%s, %v: got (%T, %v), want (nil, the error itself)", id, in, resp, err)
			}
		}

		// The statuses the function answers are exactly the declared ones.
		answered := map[int]bool{}
		for _, code := range allCodes() {
			if resp, _ := fail(failureContext(route), domain.Errorf(code, "m")); resp != nil {
				answered[kinds[code].status] = true
			}
		}
		if !maps.Equal(answered, declared[id]) {
			t.Errorf("%s answers statuses %v, declares %v", id, slices.Sorted(maps.Keys(answered)), slices.Sorted(maps.Keys(declared[id])))
		}
	}
	if len(fallThrough) != len(funcs) {
		t.Errorf("checked %d operations, failureFuncs lists %d", len(fallThrough), len(funcs))
	}
}
