package httpapi

import (
	"context"
	"net/http"

	"github.com/miniback/miniback/domain"
)

// Each operation has a failure function that turns an error into one of the
// operation's typed problem responses, for the statuses the spec declares
// for it. So the compiler, not a reviewer, keeps an operation from
// answering a status its documentation does not list. An error whose
// status the operation does not declare, and every 500, goes back as the
// error: the strict server's error hook logs it and answers a generic 500.
//
// The failure functions are generated from openapi.yaml, so a status the
// spec gains for an operation is answered from the next `go generate` on,
// not as a 500 until someone edits a switch. Each resource's are beside
// its handlers: <resource>_failures.gen.go next to <resource>.go, as the
// generator's table assigns operations to resources.
//go:generate go run ./internal/failgen -spec ../../openapi.yaml -dir .

// problem builds the problem document for err and logs the 5xx ones.
func (s *Server) problem(ctx context.Context, err error) problem {
	p := problemFor(ctx, err)
	if p.Status != http.StatusInternalServerError {
		logFailure(ctx, s.log, p.Status, err)
	}
	return p
}

// errNoBody answers an operation whose request body is required but absent.
var errNoBody = domain.Invalid(domain.FieldError{Field: "body", Code: "required", Message: "a request body is required"})
