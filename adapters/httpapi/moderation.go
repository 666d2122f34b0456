package httpapi

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/domain"
)

// The administrators' view of content security: what it flagged
// (GET /v1/admin/moderation) and their decisions
// (POST /v1/admin/moderation/{id}/resolve).

// ListModeration lists moderation items, for admins.
func (s *Server) ListModeration(ctx context.Context, req api.ListModerationRequestObject) (api.ListModerationResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.listModerationFailure(ctx, errNoClaims)
	}
	var q domain.ModerationQuery
	if p := req.Params.Status; p != nil {
		q.Status = domain.ModerationStatus(*p)
	}
	if p := req.Params.Limit; p != nil {
		q.Limit = *p
	}
	if p := req.Params.Cursor; p != nil {
		q.Cursor = *p
	}
	page, err := s.app.Moderation.List(ctx, claims.Role, q)
	if err != nil {
		return s.listModerationFailure(ctx, err)
	}
	out := api.ListModeration200JSONResponse{Items: make([]api.ModerationItem, len(page.Items))}
	for i, it := range page.Items {
		if out.Items[i], err = toAPIModerationItem(it); err != nil {
			return nil, err
		}
	}
	if page.Next != nil {
		c := page.Next.Encode()
		out.NextCursor = &c
	}
	return out, nil
}

// ResolveModeration records an admin's decision on an item.
func (s *Server) ResolveModeration(ctx context.Context, req api.ResolveModerationRequestObject) (api.ResolveModerationResponseObject, error) {
	actor, ok := actorFrom(ctx)
	if !ok {
		return s.resolveModerationFailure(ctx, errNoClaims)
	}
	if req.Body == nil {
		return s.resolveModerationFailure(ctx, errNoBody)
	}
	it, err := s.app.Moderation.Resolve(ctx, actor, domain.ModerationID(req.Id.String()), domain.ModerationAction(req.Body.Action))
	if err != nil {
		return s.resolveModerationFailure(ctx, err)
	}
	out, err := toAPIModerationItem(it)
	if err != nil {
		return nil, err
	}
	return api.ResolveModeration200JSONResponse(out), nil
}

// toAPIModerationItem maps a moderation item to the wire type.
func toAPIModerationItem(it domain.ModerationItem) (api.ModerationItem, error) {
	id, err := uuid.Parse(string(it.ID))
	if err != nil {
		return api.ModerationItem{}, fmt.Errorf("moderation item id %q is not a UUID: %w", it.ID, err)
	}
	user, err := uuid.Parse(string(it.User))
	if err != nil {
		return api.ModerationItem{}, fmt.Errorf("moderation item user %q is not a UUID: %w", it.User, err)
	}
	subject, err := uuid.Parse(it.SubjectID)
	if err != nil {
		return api.ModerationItem{}, fmt.Errorf("moderation item subject %q is not a UUID: %w", it.SubjectID, err)
	}
	out := api.ModerationItem{
		Id: id, UserId: user, Subject: api.ModerationItemSubject(it.Subject), SubjectId: subject,
		Field: api.ModerationItemField(it.Field), Content: it.Content, Verdict: api.ModerationItemVerdict(it.Verdict),
		Label: it.Label, TraceId: it.TraceID, Reason: it.Reason, Status: api.ModerationStatus(it.Status),
		CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt,
	}
	if it.App != "" {
		app := string(it.App)
		out.AppId = &app
	}
	return out, nil
}
