package httpapi

import (
	"context"
	"net/http"
)

// Each operation has a failure function that turns an error into one of the
// operation's typed problem responses, for the statuses the spec declares
// for it. So the compiler, not a reviewer, keeps an operation from
// answering a status its documentation does not list. An error whose
// status the operation does not declare, and every 500, goes back as the
// error: the strict server's error hook logs it and answers a generic 500.
//
// The failure functions are generated from openapi.yaml into
// failures.gen.go, so a status the spec gains for an operation is answered
// from the next `go generate` on, not as a 500 until someone edits a switch.
//go:generate go run ./internal/failgen -spec ../../openapi.yaml -out failures.gen.go

// problem builds the problem document for err and logs the 5xx ones.
func (s *Server) problem(ctx context.Context, err error) problem {
	p := problemFor(ctx, err)
	if p.Status != http.StatusInternalServerError {
		logFailure(ctx, s.log, p.Status, err)
	}
	return p
}
