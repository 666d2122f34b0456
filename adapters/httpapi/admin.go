package httpapi

import (
	"context"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/domain"
)

// ListUsers lists and searches users, for admins.
func (s *Server) ListUsers(ctx context.Context, req api.ListUsersRequestObject) (api.ListUsersResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.listUsersFailure(ctx, errNoClaims)
	}
	var q domain.UserQuery
	if p := req.Params.Q; p != nil {
		q.Search = *p
	}
	if p := req.Params.Role; p != nil {
		q.Role = domain.Role(*p)
	}
	if p := req.Params.AppId; p != nil {
		q.App = domain.AppID(*p)
	}
	if p := req.Params.Limit; p != nil {
		q.Limit = *p
	}
	if p := req.Params.Cursor; p != nil {
		q.Cursor = *p
	}
	page, err := s.app.Admin.ListUsers(ctx, claims.Role, q)
	if err != nil {
		return s.listUsersFailure(ctx, err)
	}
	out := api.ListUsers200JSONResponse{Items: make([]api.User, len(page.Users))}
	for i, u := range page.Users {
		if out.Items[i], err = toAPIUser(u); err != nil {
			return nil, err
		}
	}
	if page.Next != nil {
		c := page.Next.Encode()
		out.NextCursor = &c
	}
	return out, nil
}
