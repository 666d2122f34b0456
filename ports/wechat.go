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

// WeChatBinder binds WeChat identities to existing users.
type WeChatBinder interface {
	// BindWeChat makes id a login of user, storing its session key. Binding
	// an identity the user already has refreshes it. CodeWeChatAlreadyBound
	// when id belongs to another user; CodeWeChatAppAlreadyBound when user
	// has another identity in id's app.
	BindWeChat(ctx context.Context, user domain.UserID, id domain.WeChatIdentity) error
}
