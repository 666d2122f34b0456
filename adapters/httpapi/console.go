package httpapi

import (
	"context"
	"errors"

	"github.com/miniback/miniback/adapters/httpapi/api"
)

// CreateConsoleSession signs an administrator in to the console.
func (s *Server) CreateConsoleSession(ctx context.Context, _ api.CreateConsoleSessionRequestObject) (api.CreateConsoleSessionResponseObject, error) {
	return s.createConsoleSessionFailure(ctx, errors.New("not implemented"))
}

// RefreshConsoleSession rotates the console session cookie.
func (s *Server) RefreshConsoleSession(ctx context.Context, _ api.RefreshConsoleSessionRequestObject) (api.RefreshConsoleSessionResponseObject, error) {
	return s.refreshConsoleSessionFailure(ctx, errors.New("not implemented"))
}

// EndConsoleSession signs out of the console.
func (s *Server) EndConsoleSession(ctx context.Context, _ api.EndConsoleSessionRequestObject) (api.EndConsoleSessionResponseObject, error) {
	return s.endConsoleSessionFailure(ctx, errors.New("not implemented"))
}
