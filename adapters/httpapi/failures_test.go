package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/miniback/miniback/adapters/httpapi/apitest"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// storeFake is a UserStore whose methods are the test's functions. Only
// the profile operations use it; logins keep the real store.
type storeFake struct {
	getUser    func(ctx context.Context, id domain.UserID) (domain.User, error)
	updateUser func(ctx context.Context, id domain.UserID, fn func(domain.User) (domain.User, error)) (domain.User, error)
}

var _ ports.UserStore = storeFake{}

func (f storeFake) UpsertWeChatUser(context.Context, domain.WeChatIdentity) (domain.User, bool, error) {
	return domain.User{}, false, errors.New("storeFake: UpsertWeChatUser is not faked")
}

func (f storeFake) GetUser(ctx context.Context, id domain.UserID) (domain.User, error) {
	return f.getUser(ctx, id)
}

func (f storeFake) UpdateUser(ctx context.Context, id domain.UserID, fn func(domain.User) (domain.User, error)) (domain.User, error) {
	return f.updateUser(ctx, id, fn)
}

// internalText is what the failures below carry and no client may see.
const internalText = "pq: relation users_secret_shard_7 does not exist"

func failingGet(err error) storeFake {
	return storeFake{getUser: func(context.Context, domain.UserID) (domain.User, error) { return domain.User{}, err }}
}

// checkInternalProblem checks a 500 that shows nothing internal, and that
// the log has the real error with the request id.
func checkInternalProblem(t *testing.T, e *env, res *apitest.Response, logged string) {
	t.Helper()
	if res.Status != http.StatusInternalServerError {
		t.Fatalf("want 500\n%s", res)
	}
	if body := string(res.Body); strings.Contains(body, logged) || strings.Contains(body, "goroutine") {
		t.Errorf("the 500 shows internal text:\n%s", body)
	}
	requestID := res.Header.Get("X-Request-ID")
	logs := e.logs.String()
	var found bool
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, `"level":"ERROR"`) && strings.Contains(line, logged) && strings.Contains(line, requestID) {
			found = true
		}
	}
	if !found {
		t.Errorf("no error-level log line with %q and request id %s:\n%s", logged, requestID, logs)
	}
}

func TestPanicIsA500WithoutInternalText(t *testing.T) {
	e := newEnv(t, expecting500(), withProfileStore(storeFake{
		getUser: func(context.Context, domain.UserID) (domain.User, error) { panic(internalText) },
	}))
	token := e.login(t, "dev-alice").AccessToken
	res := e.api.Get("/v1/me", bearer(token))
	p := res.Problem()
	checkInternalProblem(t, e, res, internalText)
	if p.Code != string(domain.CodeInternal) || *p.Detail != "An internal error occurred." {
		t.Errorf("problem %+v, want internal with the generic detail", p)
	}
	if !strings.Contains(e.logs.String(), "goroutine") {
		t.Error("the panic's stack is not logged")
	}

	// The server survives the panic.
	if res := e.api.Get("/healthz"); res.Status != http.StatusOK {
		t.Fatalf("after a panic: want 200\n%s", res)
	}
}

func TestUnclassifiedErrorIsA500WithoutInternalText(t *testing.T) {
	e := newEnv(t, expecting500(), withProfileStore(failingGet(errors.New(internalText))))
	token := e.login(t, "dev-alice").AccessToken
	res := e.api.Get("/v1/me", bearer(token))
	checkInternalProblem(t, e, res, internalText)
	if p := res.Problem(); p.Code != string(domain.CodeInternal) {
		t.Errorf("problem code %q, want internal", p.Code)
	}
}

func TestErrorOfAnUndeclaredStatusIsA500(t *testing.T) {
	// GET /v1/me declares no 409: a conflict there is a bug, not an answer.
	conflict := &domain.Error{Code: domain.CodeConflict, Message: "The record already exists.", Err: errors.New(internalText)}
	e := newEnv(t, expecting500(), withProfileStore(failingGet(conflict)))
	token := e.login(t, "dev-alice").AccessToken
	res := e.api.Get("/v1/me", bearer(token))
	checkInternalProblem(t, e, res, internalText)
	if p := res.Problem(); p.Code != string(domain.CodeInternal) || strings.Contains(*p.Detail, "already exists") {
		t.Errorf("problem %+v, want internal with the generic detail", p)
	}
}

func TestUnavailableDatabaseIsServiceUnavailable(t *testing.T) {
	down := &domain.Error{Code: domain.CodeUnavailable, Message: "The database is unavailable; try again later.", Err: errors.New(internalText)}
	e := newEnv(t, withProfileStore(storeFake{
		getUser: func(context.Context, domain.UserID) (domain.User, error) { return domain.User{}, down },
		updateUser: func(context.Context, domain.UserID, func(domain.User) (domain.User, error)) (domain.User, error) {
			return domain.User{}, down
		},
	}))
	auth := bearer(e.login(t, "dev-alice").AccessToken)
	for _, res := range []*apitest.Response{
		e.api.Get("/v1/me", auth),
		e.api.JSON("PATCH", "/v1/me", map[string]string{"bio": "hi"}, auth),
	} {
		if res.Status != http.StatusServiceUnavailable || res.Problem().Code != string(domain.CodeUnavailable) || res.Header.Get("Retry-After") != "5" {
			t.Errorf("want 503 unavailable with Retry-After 5\n%s", res)
		}
		if strings.Contains(string(res.Body), internalText) {
			t.Errorf("the 503 shows its cause:\n%s", res)
		}
	}
	if !strings.Contains(e.logs.String(), internalText) {
		t.Error("the cause of the 503 is not logged")
	}
}
