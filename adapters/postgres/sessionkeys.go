package postgres

import (
	"context"

	"github.com/miniback/miniback/adapters/postgres/internal/sqlcgen"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

var _ ports.WeChatSessionKeys = (*UserStore)(nil)

// WeChatSessionKey returns the session key stored with the user's WeChat
// identity in app (each login replaces it), or CodeNotFound when the user
// has none there.
func (s *UserStore) WeChatSessionKey(ctx context.Context, user domain.UserID, app domain.AppID) (domain.SessionKey, error) {
	uid, err := parseUserID(user)
	if err != nil {
		return "", err
	}
	key, err := s.q.GetWeChatSessionKey(ctx, sqlcgen.GetWeChatSessionKeyParams{AppID: string(app), UserID: uid})
	if err != nil {
		return "", interpretError(err)
	}
	return domain.SessionKey(key), nil
}
