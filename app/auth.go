// Package app holds miniback's use-cases. Each one is a small struct whose
// fields are the ports it needs; it speaks only domain types, so it can be
// tested with tiny fakes and served by any transport.
package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Apps is the set of mini-programs this deployment serves.
type Apps struct {
	ids []domain.AppID
}

// NewApps lists the configured AppIDs. With exactly one, clients may leave
// the appid out of a login.
func NewApps(ids ...domain.AppID) Apps { return Apps{ids: append([]domain.AppID(nil), ids...)} }

// Resolve picks the app a login is for: the one named, which must be
// configured, or the only one when none is named.
func (a Apps) Resolve(requested domain.AppID) (domain.AppID, error) {
	if requested == "" {
		if len(a.ids) == 1 {
			return a.ids[0], nil
		}
		return "", &domain.Error{Code: domain.CodeAppIDRequired, Message: "This deployment serves several mini-programs: send appid.",
			Fields: []domain.FieldError{{Field: "appid", Code: "required", Message: "appid is required when several mini-programs share the deployment"}}}
	}
	for _, id := range a.ids {
		if id == requested {
			return id, nil
		}
	}
	return "", &domain.Error{Code: domain.CodeUnknownApp, Message: "This appid is not served here.",
		Fields: []domain.FieldError{{Field: "appid", Code: "unknown", Message: "appid is not configured on this server"}}}
}

// Login is what a successful login returns to the client: the new
// session's tokens and the user. It carries no WeChat secret: the
// session_key stays in the store.
type Login struct {
	Tokens
	User      domain.User
	IsNewUser bool
}

// WeChatLogin logs a mini-program user in: with a wx.login code, or, on
// WeChat Cloud Hosting, with the identity its gateway vouches for.
type WeChatLogin struct {
	Apps     Apps
	WeChat   ports.WeChatAuth
	Users    ports.UserStore
	Sessions Sessions
	// CloudRun says the deployment runs behind Cloud Hosting's gateway,
	// whose identity headers LoginCloudRun then believes. Off, LoginCloudRun
	// refuses every call without looking at them.
	CloudRun bool
}

// Login exchanges code for the user's WeChat identity, creates or updates
// the user, and starts a session. userAgent is the client's User-Agent.
func (uc WeChatLogin) Login(ctx context.Context, appID domain.AppID, code, userAgent string) (Login, error) {
	if code == "" {
		return Login{}, domain.Invalid(domain.FieldError{Field: "code", Code: "required", Message: "code is required"})
	}
	app, err := uc.Apps.Resolve(appID)
	if err != nil {
		return Login{}, err
	}
	id, err := uc.WeChat.Code2Session(ctx, app, code)
	if err != nil {
		return Login{}, fmt.Errorf("exchange wechat code: %w", err)
	}
	return uc.start(ctx, app, id, userAgent)
}

// LoginCloudRun logs in the user Cloud Hosting's gateway says made the
// call (see domain.CloudRunCaller.Identity): the same user, keyed by
// (appid, openid), and the same session as a wx.login of theirs. The
// AppID must be one this deployment serves. WeChat gives no session_key
// this way: the store keeps the one an earlier wx.login left, if any.
func (uc WeChatLogin) LoginCloudRun(ctx context.Context, caller domain.CloudRunCaller, userAgent string) (Login, error) {
	if !uc.CloudRun {
		return Login{}, domain.Errorf(domain.CodeCloudRunDisabled,
			"This deployment does not run on WeChat Cloud Hosting; log in with POST /v1/auth/wechat.")
	}
	id, err := caller.Identity()
	if err != nil {
		return Login{}, err
	}
	app, err := uc.Apps.Resolve(id.AppID)
	if err != nil {
		return Login{}, err
	}
	return uc.start(ctx, app, id, userAgent)
}

// start creates or updates the user of id and starts its session.
func (uc WeChatLogin) start(ctx context.Context, app domain.AppID, id domain.WeChatIdentity, userAgent string) (Login, error) {
	user, created, err := uc.Users.UpsertWeChatUser(ctx, id)
	if err != nil {
		return Login{}, fmt.Errorf("upsert wechat user: %w", err)
	}
	tokens, err := uc.Sessions.Start(ctx, user, app, userAgent)
	if err != nil {
		return Login{}, fmt.Errorf("start session: %w", err)
	}
	return Login{Tokens: tokens, User: user, IsNewUser: created}, nil
}

// newTokenID returns a random 128-bit token id (jti).
func newTokenID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random token id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
