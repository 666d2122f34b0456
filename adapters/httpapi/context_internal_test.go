package httpapi

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
)

// TestOperationsKeepTheirRequestContextAfterGinReusesItsOwn: what an
// operation holds on to (a derived context, the transport of an outgoing
// call) still speaks for its request once gin hands its pooled context to
// the next one, and the operation's headers reach the live response.
func TestOperationsKeepTheirRequestContextAfterGinReusesItsOwn(t *testing.T) {
	engine := gin.New()
	engine.ContextWithFallback = true
	w := httptest.NewRecorder()
	c := gin.CreateTestContextOnly(w, engine)
	reqCtx, cancel := context.WithCancel(withRequestInfo(context.Background(), requestInfo{id: "first"}))
	c.Request = httptest.NewRequest("GET", "/v1/me", nil).WithContext(reqCtx)

	var held context.Context
	op := ownContext(func(c *gin.Context, _ any) (any, error) {
		held = c
		c.Header("Cache-Control", "private")
		return nil, nil
	}, "GetMe")
	if _, err := op(c, nil); err != nil {
		t.Fatal(err)
	}
	if w.Header().Get("Cache-Control") != "private" {
		t.Error("a header the operation set did not reach the response")
	}

	// gin reuses its context for the next request.
	c.Request = httptest.NewRequest("GET", "/v1/todos", nil).WithContext(withRequestInfo(context.Background(), requestInfo{id: "second"}))
	if id := requestIDFrom(held); id != "first" {
		t.Errorf("the operation's context now belongs to request %q", id)
	}
	cancel() // the first request ends
	if held.Err() == nil {
		t.Error("the operation's context outlived its request")
	}
}
