package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/httpapi"
	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/adapters/httpapi/apitest"
	"github.com/miniback/miniback/domain"
)

// waitingGet is a user store whose GetUser waits for ctx to end and
// returns its bare error, as any dependency that honours its context
// does; release lets it answer instead. started, if not nil, receives
// when a call begins.
func waitingGet(release <-chan struct{}, started chan<- struct{}) storeFake {
	return storeFake{getUser: func(ctx context.Context, id domain.UserID) (domain.User, error) {
		if started != nil {
			started <- struct{}{}
		}
		select {
		case <-ctx.Done():
			return domain.User{}, fmt.Errorf("get user: %w", ctx.Err())
		case <-release:
			return domain.User{ID: id, Nickname: "released", Role: domain.RoleUser}, nil
		}
	}}
}

// TestARequestPastItsDeadlineAnswers503: the answer deadline is the
// deadline of the operation's context, so an operation waiting on a
// dependency stops at it, and the bare deadline error it returns is a
// spec-valid 503 unavailable problem with Retry-After, not a 500.
func TestARequestPastItsDeadlineAnswers503(t *testing.T) {
	const deadline = 300 * time.Millisecond
	e := newEnv(t, withProfileStore(waitingGet(nil, nil)), withDeadlines(httpapi.Deadlines{Body: time.Second, Answer: deadline, File: time.Minute}))
	auth := bearer(e.login(t, "dev-alice").AccessToken)

	start := time.Now()
	res := e.api.Get("/v1/me", auth)
	took := time.Since(start)
	if res.Status != http.StatusServiceUnavailable || res.Problem().Code != string(domain.CodeUnavailable) || res.Header.Get("Retry-After") == "" {
		t.Fatalf("a request past its deadline: want 503 unavailable with Retry-After\n%s", res)
	}
	if !strings.Contains(*res.Problem().Detail, "did not finish in time") {
		t.Errorf("the 503 does not say the request ran out of time: %s", *res.Problem().Detail)
	}
	if took < deadline || took > deadline+2*time.Second {
		t.Errorf("answered after %s with a %s deadline", took, deadline)
	}
	if !strings.Contains(e.logs.String(), "context deadline exceeded") {
		t.Error("the cause of the 503 is not logged")
	}
}

// TestEveryOperationThatWaitsOnADependencyDeclares503: a request past its
// deadline, or a database that does not answer, is a 503; every response
// is validated against the spec, so every operation that waits on the
// database or another service must declare it. The few that wait on
// nothing are listed.
func TestEveryOperationThatWaitsOnADependencyDeclares503(t *testing.T) {
	waitsOnNothing := []string{
		"getHealth",           // answers at once
		"getJWKS",             // the keys in memory
		"verifyWeChatPushURL", // a signature check
		// The local-disk storage: its body arriving late is the client's
		// failure (400); the disk is no dependency that stalls.
		"localStoragePost", "localStoragePut", "localStorageGet",
	}
	spec, err := api.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			declares := op.Responses.Value("503") != nil
			// The embedded spec's ids are capitalised as the generated
			// methods are.
			listed := slices.ContainsFunc(waitsOnNothing, func(id string) bool { return strings.EqualFold(id, op.OperationID) })
			if declares == listed {
				t.Errorf("%s %s (%s): declares 503: %v; listed as waiting on nothing: %v", method, path, op.OperationID, declares, listed)
			}
		}
	}
}

// TestInFlightCountsTheRequestsBeingServedByRoute: the registry a
// shutdown reads to say what it cut counts a request, under its route's
// template, from routing to its answer, and Wait returns once none is
// left.
func TestInFlightCountsTheRequestsBeingServedByRoute(t *testing.T) {
	reg := httpapi.NewInFlight()
	release, started := make(chan struct{}), make(chan struct{}, 1)
	e := newEnv(t, withProfileStore(waitingGet(release, started)), withInFlight(reg))
	auth := bearer(e.login(t, "dev-alice").AccessToken)
	if n := reg.Count(); n != 0 {
		t.Fatalf("%d requests in flight after the login answered", n)
	}

	answered := make(chan *apitest.Response, 1)
	go func() { answered <- e.api.Get("/v1/me", auth) }()
	<-started
	if got := reg.Routes(); reg.Count() != 1 || len(got) != 1 || got["GET /v1/me"] != 1 {
		t.Errorf("while GET /v1/me waits: count %d, routes %v; want 1, GET /v1/me", reg.Count(), got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	if err := reg.Wait(ctx); err == nil {
		t.Error("Wait returned while a request was in flight")
	}
	cancel()

	close(release)
	if res := <-answered; res.Status != http.StatusOK {
		t.Fatalf("the released request: %s", res)
	}
	if err := reg.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := reg.Routes(); reg.Count() != 0 || len(got) != 0 {
		t.Errorf("after the answer: count %d, routes %v; want none", reg.Count(), got)
	}

	// A path the API does not have is counted too, under no route.
	if res := e.api.Get("/v1/nowhere"); res.Status != http.StatusNotFound {
		t.Fatalf("unknown path: %s", res)
	}
	if reg.Count() != 0 {
		t.Errorf("%d in flight after a 404", reg.Count())
	}
}
