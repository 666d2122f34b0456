package httpapi

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/domain"
)

// RefreshTokens rotates a refresh token.
func (s *Server) RefreshTokens(ctx context.Context, req api.RefreshTokensRequestObject) (api.RefreshTokensResponseObject, error) {
	if req.Body == nil {
		return s.refreshFailure(ctx, errNoBody)
	}
	t, err := s.app.Sessions.Refresh(ctx, req.Body.RefreshToken, userAgentFrom(ctx))
	if err != nil {
		return s.refreshFailure(ctx, err)
	}
	return api.RefreshTokens200JSONResponse{
		AccessToken:      t.AccessToken,
		TokenType:        api.Bearer,
		ExpiresIn:        t.ExpiresIn,
		RefreshToken:     t.RefreshToken.Reveal(),
		RefreshExpiresIn: t.RefreshExpiresIn,
	}, nil
}

// Logout ends the caller's current session. It is idempotent: the
// token of a session that has ended already reaches it too (see
// acceptsEndedSession). The use-case is called even then, rather than
// answering 204 from the revocation set alone, so that the session is
// surely over whatever revoked the token; ending an ended or deleted
// session succeeds.
func (s *Server) Logout(ctx context.Context, _ api.LogoutRequestObject) (api.LogoutResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.logoutFailure(ctx, errNoClaims)
	}
	if err := s.app.Sessions.Logout(ctx, claims.UserID, claims.SessionID); err != nil {
		return s.logoutFailure(ctx, err)
	}
	return api.Logout204Response{}, nil
}

// ListSessions lists the caller's active sessions.
func (s *Server) ListSessions(ctx context.Context, _ api.ListSessionsRequestObject) (api.ListSessionsResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.listSessionsFailure(ctx, errNoClaims)
	}
	ss, err := s.app.Sessions.List(ctx, claims.UserID)
	if err != nil {
		return s.listSessionsFailure(ctx, err)
	}
	items := make([]api.Session, len(ss))
	for i, sess := range ss {
		id, err := uuid.Parse(string(sess.ID))
		if err != nil {
			return nil, fmt.Errorf("session id %q is not a UUID: %w", sess.ID, err)
		}
		items[i] = api.Session{
			Id:         id,
			CreatedAt:  sess.CreatedAt,
			LastUsedAt: sess.LastUsedAt,
			ExpiresAt:  sess.IdleExpiresAt,
			UserAgent:  sess.UserAgent,
			AppId:      string(sess.AppID),
			Current:    sess.ID == claims.SessionID,
		}
	}
	return api.ListSessions200JSONResponse{Items: items}, nil
}

// EndOtherSessions ends every session of the caller but the current one.
func (s *Server) EndOtherSessions(ctx context.Context, _ api.EndOtherSessionsRequestObject) (api.EndOtherSessionsResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.endOtherSessionsFailure(ctx, errNoClaims)
	}
	n, err := s.app.Sessions.EndOthers(ctx, claims.UserID, claims.SessionID)
	if err != nil {
		return s.endOtherSessionsFailure(ctx, err)
	}
	return api.EndOtherSessions200JSONResponse{Ended: n}, nil
}

// EndSession ends one of the caller's sessions.
func (s *Server) EndSession(ctx context.Context, req api.EndSessionRequestObject) (api.EndSessionResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.endSessionFailure(ctx, errNoClaims)
	}
	if err := s.app.Sessions.End(ctx, claims.UserID, domain.SessionID(req.Id.String())); err != nil {
		return s.endSessionFailure(ctx, err)
	}
	return api.EndSession204Response{}, nil
}
