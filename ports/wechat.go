package ports

import (
	"context"

	"github.com/miniback/miniback/domain"
)

// WeChatAuth exchanges a wx.login code for the user's identity
// (GET /sns/jscode2session). Failures are *domain.Error with a wechat_* code.
type WeChatAuth interface {
	Code2Session(ctx context.Context, app domain.AppID, code string) (domain.WeChatIdentity, error)
}

// WeChatSessionKeys reads the session keys WeChat issued.
type WeChatSessionKeys interface {
	// WeChatSessionKey returns the session key stored with the user's
	// WeChat identity in app: the one of their latest login (or binding)
	// there. CodeNotFound when the user has no identity in app.
	WeChatSessionKey(ctx context.Context, user domain.UserID, app domain.AppID) (domain.SessionKey, error)
}

// WeChatBinder binds WeChat identities to existing users.
type WeChatBinder interface {
	// BindWeChat makes id a login of user, storing its session key. Binding
	// an identity the user already has refreshes it. CodeWeChatAlreadyBound
	// when id belongs to another user; CodeWeChatAppAlreadyBound when user
	// has another identity in id's app.
	BindWeChat(ctx context.Context, user domain.UserID, id domain.WeChatIdentity) error
}
