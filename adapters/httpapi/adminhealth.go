package httpapi

import (
	"context"
	"errors"

	"github.com/miniback/miniback/adapters/httpapi/api"
)

// GetAdminHealth answers the console's health page.
func (s *Server) GetAdminHealth(ctx context.Context, _ api.GetAdminHealthRequestObject) (api.GetAdminHealthResponseObject, error) {
	return s.getAdminHealthFailure(ctx, errors.New("not implemented"))
}
