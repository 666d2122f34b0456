package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/miniback/miniback/adapters/httpapi"
	"github.com/miniback/miniback/adapters/httpapi/apitest"
)

// TestInFlightWaitReturnsWhenTheLastRequestEnds: a shutdown waiting on
// the registry while a request is served is let go when that request's
// handler returns, and a Wait with nothing in flight returns at once,
// however many requests came and went before.
func TestInFlightWaitReturnsWhenTheLastRequestEnds(t *testing.T) {
	reg := httpapi.NewInFlight()
	if err := reg.Wait(context.Background()); err != nil {
		t.Fatalf("Wait on an empty registry: %v", err)
	}
	release, started := make(chan struct{}), make(chan struct{}, 1)
	e := newEnv(t, withProfileStore(waitingGet(release, started)), withInFlight(reg))
	auth := bearer(e.login(t, "dev-alice").AccessToken)
	if err := reg.Wait(context.Background()); err != nil {
		t.Fatalf("Wait after the login answered: %v", err)
	}

	answered := make(chan *apitest.Response, 1)
	go func() { answered <- e.api.Get("/v1/me", auth) }()
	<-started
	waited := make(chan error, 1)
	go func() { waited <- reg.Wait(context.Background()) }()
	select {
	case err := <-waited:
		t.Fatalf("Wait returned (%v) while GET /v1/me was in flight", err)
	default:
	}
	close(release)
	if res := <-answered; res.Status != http.StatusOK {
		t.Fatalf("the released request: %s", res)
	}
	if err := <-waited; err != nil {
		t.Fatalf("Wait after the last request ended: %v", err)
	}
	if err := reg.Wait(context.Background()); err != nil {
		t.Fatalf("Wait once idle again: %v", err)
	}
}
