package httpapi

import (
	"context"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/domain"
)

// The WeChat operations: logging in with a wx.login code, and binding a
// WeChat user to the caller's account.

// LoginWithWeChat exchanges a wx.login code for an access token.
func (s *Server) LoginWithWeChat(ctx context.Context, req api.LoginWithWeChatRequestObject) (api.LoginWithWeChatResponseObject, error) {
	if req.Body == nil {
		return s.loginFailure(ctx, errNoBody)
	}
	var appID domain.AppID
	if req.Body.Appid != nil {
		appID = domain.AppID(*req.Body.Appid)
	}
	login, err := s.app.Login.Login(ctx, appID, req.Body.Code, userAgentFrom(ctx))
	if err != nil {
		return s.loginFailure(ctx, err)
	}
	user, err := toAPIUser(login.User)
	if err != nil {
		return nil, err
	}
	return api.LoginWithWeChat200JSONResponse{
		AccessToken:      login.AccessToken,
		TokenType:        api.Bearer,
		ExpiresIn:        login.ExpiresIn,
		RefreshToken:     login.RefreshToken.Reveal(),
		RefreshExpiresIn: login.RefreshExpiresIn,
		IsNewUser:        login.IsNewUser,
		User:             user,
	}, nil
}

// BindMyWeChat binds the WeChat user of a wx.login code to the caller.
func (s *Server) BindMyWeChat(ctx context.Context, req api.BindMyWeChatRequestObject) (api.BindMyWeChatResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.bindWeChatFailure(ctx, errNoClaims)
	}
	if req.Body == nil {
		return s.bindWeChatFailure(ctx, errNoBody)
	}
	var appID domain.AppID
	if req.Body.Appid != nil {
		appID = domain.AppID(*req.Body.Appid)
	}
	u, err := s.app.WeChatBinding.Bind(ctx, claims.UserID, appID, req.Body.Code)
	if err != nil {
		return s.bindWeChatFailure(ctx, err)
	}
	user, err := toAPIUser(u)
	if err != nil {
		return nil, err
	}
	return api.BindMyWeChat200JSONResponse(user), nil
}
