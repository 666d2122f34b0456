package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// WeChatData opens the signed-in user's WeChat open data (share and group
// tickets, WeRun steps…) with the session key of their latest WeChat login
// in the session's mini-program. The key never leaves the server; only the
// checked, decrypted data goes back.
type WeChatData struct {
	Keys  ports.WeChatSessionKeys
	Clock ports.Clock
	// MaxAge is how old (by its watermark) data may be; zero means
	// domain.DefaultOpenDataMaxAge.
	MaxAge time.Duration
}

// Open checks the form of req, reads the key of user's identity in app
// (the session's AppID: empty for a login tied to no mini-program) and
// opens the data with it.
func (uc WeChatData) Open(ctx context.Context, user domain.UserID, app domain.AppID, req domain.OpenDataRequest) (domain.OpenData, error) {
	if app == "" {
		return domain.OpenData{}, domain.ErrWeChatLoginRequired(nil)
	}
	if uc.Keys == nil || uc.Clock == nil {
		return domain.OpenData{}, errors.New("wechat data: the session key store is not wired")
	}
	sealed, err := req.Decode()
	if err != nil {
		return domain.OpenData{}, err
	}
	key, err := uc.Keys.WeChatSessionKey(ctx, user, app)
	if domain.ErrorCode(err) == domain.CodeNotFound {
		// No identity of the user in the session's app (none is ever
		// removed today, but a store may say so): no key to open with.
		return domain.OpenData{}, domain.ErrWeChatLoginRequired(err)
	}
	if err != nil {
		return domain.OpenData{}, fmt.Errorf("read wechat session key: %w", err)
	}
	return sealed.Open(key, domain.OpenDataCheck{AppID: app, Now: uc.Clock.Now(), MaxAge: uc.MaxAge})
}
