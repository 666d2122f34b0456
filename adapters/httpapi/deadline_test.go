package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/httpapi"
	"github.com/miniback/miniback/adapters/httpapi/apitest"
)

// TestABodylessRequestOutlivesTheBodyDeadline proves the body deadline is
// set only on requests with a body: on one without, the server watches the
// connection for the client going away, and a read deadline there would
// cancel the request once it passed. /readyz here waits five times the
// body deadline on its context and must still answer 200.
func TestABodylessRequestOutlivesTheBodyDeadline(t *testing.T) {
	const bodyDeadline = 100 * time.Millisecond
	e := newEnv(t, withReady(func(ctx context.Context) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * bodyDeadline):
			return nil
		}
	}))
	srv := httptest.NewServer(httpapi.WithDeadlines(e.handler, httpapi.Deadlines{
		Body: bodyDeadline, Answer: time.Minute, File: time.Minute,
	}))
	t.Cleanup(srv.Close)

	if r := apitest.NewRemote(t, srv.URL).Get("/readyz"); r.Status != http.StatusOK {
		t.Fatalf("GET /readyz that outlives the body deadline: %s", r)
	}
}
