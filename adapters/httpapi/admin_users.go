package httpapi

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
)

// The administrators' operations on one user (/v1/admin/users/{id}/...)
// and the audit log (/v1/admin/audit).

// actorFrom is the admin acting in this request: the verified token's user
// and role, the client's address and the request's id.
func actorFrom(ctx context.Context) (domain.Actor, bool) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return domain.Actor{}, false
	}
	return domain.Actor{User: claims.UserID, Role: claims.Role, Address: clientIPFrom(ctx), RequestID: requestIDFrom(ctx)}, true
}

// GetUser returns one user as an admin sees them.
func (s *Server) GetUser(ctx context.Context, req api.GetUserRequestObject) (api.GetUserResponseObject, error) {
	actor, ok := actorFrom(ctx)
	if !ok {
		return s.getUserFailure(ctx, errNoClaims)
	}
	v, err := s.app.Admin.GetUser(ctx, actor, domain.UserID(req.Id.String()))
	if err != nil {
		return s.getUserFailure(ctx, err)
	}
	out, err := toAPIAdminUser(v)
	if err != nil {
		return nil, err
	}
	return api.GetUser200JSONResponse(out), nil
}

// ListUserSessions lists a user's sessions.
func (s *Server) ListUserSessions(ctx context.Context, req api.ListUserSessionsRequestObject) (api.ListUserSessionsResponseObject, error) {
	actor, ok := actorFrom(ctx)
	if !ok {
		return s.listUserSessionsFailure(ctx, errNoClaims)
	}
	var q domain.SessionQuery
	if p := req.Params.State; p != nil {
		q.State = domain.SessionState(*p)
	}
	q.Page = adminPage(req.Params.Limit, req.Params.Cursor)
	page, err := s.app.Admin.ListUserSessions(ctx, actor, domain.UserID(req.Id.String()), q)
	if err != nil {
		return s.listUserSessionsFailure(ctx, err)
	}
	out := api.ListUserSessions200JSONResponse{Items: make([]api.AdminSession, len(page.Sessions))}
	for i, ss := range page.Sessions {
		if out.Items[i], err = toAPIAdminSession(ss, page.Now); err != nil {
			return nil, err
		}
	}
	if page.Next != nil {
		c := page.Next.Encode()
		out.NextCursor = &c
	}
	return out, nil
}

// EndUserSessions ends all of a user's sessions.
func (s *Server) EndUserSessions(ctx context.Context, req api.EndUserSessionsRequestObject) (api.EndUserSessionsResponseObject, error) {
	actor, ok := actorFrom(ctx)
	if !ok {
		return s.endUserSessionsFailure(ctx, errNoClaims)
	}
	n, err := s.app.Admin.EndUserSessions(ctx, actor, domain.UserID(req.Id.String()))
	if err != nil {
		return s.endUserSessionsFailure(ctx, err)
	}
	return api.EndUserSessions200JSONResponse{Ended: n}, nil
}

// EndUserSession ends one of a user's sessions.
func (s *Server) EndUserSession(ctx context.Context, req api.EndUserSessionRequestObject) (api.EndUserSessionResponseObject, error) {
	actor, ok := actorFrom(ctx)
	if !ok {
		return s.endUserSessionFailure(ctx, errNoClaims)
	}
	err := s.app.Admin.EndUserSession(ctx, actor, domain.UserID(req.Id.String()), domain.SessionID(req.SessionId.String()))
	if err != nil {
		return s.endUserSessionFailure(ctx, err)
	}
	return api.EndUserSession204Response{}, nil
}

// ListUserUploads lists a user's uploads, metadata only.
func (s *Server) ListUserUploads(ctx context.Context, req api.ListUserUploadsRequestObject) (api.ListUserUploadsResponseObject, error) {
	actor, ok := actorFrom(ctx)
	if !ok {
		return s.listUserUploadsFailure(ctx, errNoClaims)
	}
	page, err := s.app.Admin.ListUserUploads(ctx, actor, domain.UserID(req.Id.String()), adminPage(req.Params.Limit, req.Params.Cursor))
	if err != nil {
		return s.listUserUploadsFailure(ctx, err)
	}
	out := api.ListUserUploads200JSONResponse{Items: make([]api.Upload, len(page.Uploads))}
	for i, u := range page.Uploads {
		it, err := toAPIUpload(app.UploadView{Upload: u})
		if err != nil {
			return nil, err
		}
		it.DownloadUrl, it.DownloadExpiresAt = nil, nil // metadata only
		out.Items[i] = it
	}
	if page.Next != nil {
		c := page.Next.Encode()
		out.NextCursor = &c
	}
	return out, nil
}

// DisableUser disables a user.
func (s *Server) DisableUser(ctx context.Context, req api.DisableUserRequestObject) (api.DisableUserResponseObject, error) {
	actor, ok := actorFrom(ctx)
	if !ok {
		return s.disableUserFailure(ctx, errNoClaims)
	}
	if req.Body == nil {
		return s.disableUserFailure(ctx, errNoBody)
	}
	v, err := s.app.Admin.Disable(ctx, actor, domain.UserID(req.Id.String()), req.Body.Reason)
	if err != nil {
		return s.disableUserFailure(ctx, err)
	}
	out, err := toAPIAdminUser(v)
	if err != nil {
		return nil, err
	}
	return api.DisableUser200JSONResponse(out), nil
}

// EnableUser enables a disabled user.
func (s *Server) EnableUser(ctx context.Context, req api.EnableUserRequestObject) (api.EnableUserResponseObject, error) {
	actor, ok := actorFrom(ctx)
	if !ok {
		return s.enableUserFailure(ctx, errNoClaims)
	}
	v, err := s.app.Admin.Enable(ctx, actor, domain.UserID(req.Id.String()))
	if err != nil {
		return s.enableUserFailure(ctx, err)
	}
	out, err := toAPIAdminUser(v)
	if err != nil {
		return nil, err
	}
	return api.EnableUser200JSONResponse(out), nil
}

// GrantAdmin makes a user an admin.
func (s *Server) GrantAdmin(ctx context.Context, req api.GrantAdminRequestObject) (api.GrantAdminResponseObject, error) {
	actor, ok := actorFrom(ctx)
	if !ok {
		return s.grantAdminFailure(ctx, errNoClaims)
	}
	v, err := s.app.Admin.GrantAdmin(ctx, actor, domain.UserID(req.Id.String()))
	if err != nil {
		return s.grantAdminFailure(ctx, err)
	}
	out, err := toAPIAdminUser(v)
	if err != nil {
		return nil, err
	}
	return api.GrantAdmin200JSONResponse(out), nil
}

// RevokeAdmin takes the admin role from a user.
func (s *Server) RevokeAdmin(ctx context.Context, req api.RevokeAdminRequestObject) (api.RevokeAdminResponseObject, error) {
	actor, ok := actorFrom(ctx)
	if !ok {
		return s.revokeAdminFailure(ctx, errNoClaims)
	}
	v, err := s.app.Admin.RevokeAdmin(ctx, actor, domain.UserID(req.Id.String()))
	if err != nil {
		return s.revokeAdminFailure(ctx, err)
	}
	out, err := toAPIAdminUser(v)
	if err != nil {
		return nil, err
	}
	return api.RevokeAdmin200JSONResponse(out), nil
}

// ListAuditLog lists the audit log.
func (s *Server) ListAuditLog(ctx context.Context, req api.ListAuditLogRequestObject) (api.ListAuditLogResponseObject, error) {
	actor, ok := actorFrom(ctx)
	if !ok {
		return s.listAuditLogFailure(ctx, errNoClaims)
	}
	var q domain.AuditQuery
	if p := req.Params.Actor; p != nil {
		q.Actor = domain.UserID(p.String())
	}
	if p := req.Params.TargetKind; p != nil {
		q.TargetKind = domain.AuditTargetKind(*p)
	}
	if p := req.Params.TargetId; p != nil {
		q.TargetID = *p
	}
	if p := req.Params.Action; p != nil {
		q.Action = domain.AuditAction(*p)
	}
	q.Page = adminPage(req.Params.Limit, req.Params.Cursor)
	page, err := s.app.Audit.List(ctx, actor, q)
	if err != nil {
		return s.listAuditLogFailure(ctx, err)
	}
	out := api.ListAuditLog200JSONResponse{Items: make([]api.AuditEntry, len(page.Entries))}
	for i, e := range page.Entries {
		if out.Items[i], err = toAPIAuditEntry(e); err != nil {
			return nil, err
		}
	}
	if page.Next != nil {
		c := page.Next.Encode()
		out.NextCursor = &c
	}
	return out, nil
}

func adminPage(limit *int, cursor *string) domain.AdminPage {
	var p domain.AdminPage
	if limit != nil {
		p.Limit = *limit
	}
	if cursor != nil {
		p.Cursor = *cursor
	}
	return p
}

// toAPIAdminUser maps an admin's view of a user to the wire type.
func toAPIAdminUser(v domain.AdminUserView) (api.AdminUser, error) {
	u, err := toAPIUser(v.User)
	if err != nil {
		return api.AdminUser{}, err
	}
	out := api.AdminUser{
		User:   u,
		Wechat: make([]api.WeChatLogin, len(v.WeChat)),
		Counts: api.AdminUserCounts{Tasks: v.Counts.Tasks, Uploads: v.Counts.Uploads, ActiveSessions: v.Counts.ActiveSessions},
	}
	for i, w := range v.WeChat {
		out.Wechat[i] = api.WeChatLogin{AppId: string(w.App), Openid: string(w.OpenID), CreatedAt: w.CreatedAt, LastLoginAt: w.LastLoginAt}
		if w.UnionID != "" {
			union := string(w.UnionID)
			out.Wechat[i].Unionid = &union
		}
	}
	if d := v.Disabled; d != nil {
		out.Disabled = true
		at, reason := d.At, d.Reason
		out.DisabledAt, out.DisabledReason = &at, &reason
		if d.By != "" {
			by, err := uuid.Parse(string(d.By))
			if err != nil {
				return api.AdminUser{}, fmt.Errorf("disabled_by %q is not a UUID: %w", d.By, err)
			}
			out.DisabledBy = &by
		}
	}
	return out, nil
}

// toAPIAdminSession maps a session to the admin's wire type; active
// means refreshable at now.
func toAPIAdminSession(ss domain.Session, now time.Time) (api.AdminSession, error) {
	id, err := uuid.Parse(string(ss.ID))
	if err != nil {
		return api.AdminSession{}, fmt.Errorf("session id %q is not a UUID: %w", ss.ID, err)
	}
	out := api.AdminSession{
		Id: id, CreatedAt: ss.CreatedAt, LastUsedAt: ss.LastUsedAt, ExpiresAt: ss.IdleExpiresAt,
		UserAgent: ss.UserAgent, AppId: string(ss.AppID), Active: ss.Active(now),
	}
	if ss.Revoked() {
		at, reason := ss.RevokedAt, string(ss.RevokeReason)
		out.EndedAt, out.EndReason = &at, &reason
	}
	return out, nil
}

// toAPIAuditEntry maps an audit entry to the wire type.
func toAPIAuditEntry(e domain.AuditEntry) (api.AuditEntry, error) {
	out := api.AuditEntry{
		Id: e.ID, At: e.At, Action: string(e.Action), TargetKind: api.AuditTargetKind(e.TargetKind),
		TargetId: e.TargetID, Details: e.Details,
	}
	if out.Details == nil {
		out.Details = map[string]any{}
	}
	if e.Actor != "" {
		a, err := uuid.Parse(string(e.Actor))
		if err != nil {
			return api.AuditEntry{}, fmt.Errorf("audit actor %q is not a UUID: %w", e.Actor, err)
		}
		out.ActorId = &a
	}
	if e.Address != "" {
		a := e.Address
		out.ClientAddress = &a
	}
	if e.RequestID != "" {
		r := e.RequestID
		out.RequestId = &r
	}
	return out, nil
}
