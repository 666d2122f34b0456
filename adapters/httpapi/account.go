package httpapi

import (
	"context"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
)

// The password-account operations: registering, logging in with a
// password, and setting the caller's password.

// RegisterWithPassword creates a password account and logs it in.
func (s *Server) RegisterWithPassword(ctx context.Context, req api.RegisterWithPasswordRequestObject) (api.RegisterWithPasswordResponseObject, error) {
	if req.Body == nil {
		return s.registerFailure(ctx, errNoBody)
	}
	login, err := s.app.Passwords.Register(ctx, app.Registration{
		Username: req.Body.Username, Email: req.Body.Email, Password: domain.Password(req.Body.Password),
		UserAgent: userAgentFrom(ctx),
	})
	if err != nil {
		return s.registerFailure(ctx, err)
	}
	res, err := toLoginResponse(login)
	if err != nil {
		return nil, err
	}
	return api.RegisterWithPassword201JSONResponse(res), nil
}

// LoginWithPassword logs in with a username or email and a password.
func (s *Server) LoginWithPassword(ctx context.Context, req api.LoginWithPasswordRequestObject) (api.LoginWithPasswordResponseObject, error) {
	if req.Body == nil {
		return s.passwordLoginFailure(ctx, errNoBody)
	}
	login, err := s.app.Passwords.Login(ctx, app.PasswordLogin{
		Login: req.Body.Login, Password: domain.Password(req.Body.Password), ClientIP: clientIPFrom(ctx),
		UserAgent: userAgentFrom(ctx),
	})
	if err != nil {
		return s.passwordLoginFailure(ctx, err)
	}
	res, err := toLoginResponse(login)
	if err != nil {
		return nil, err
	}
	return api.LoginWithPassword200JSONResponse(res), nil
}

// SetMyPassword sets or changes the caller's password.
func (s *Server) SetMyPassword(ctx context.Context, req api.SetMyPasswordRequestObject) (api.SetMyPasswordResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.setPasswordFailure(ctx, errNoClaims)
	}
	if req.Body == nil {
		return s.setPasswordFailure(ctx, errNoBody)
	}
	change := app.PasswordChange{
		New: domain.Password(req.Body.NewPassword), Username: req.Body.Username, Email: req.Body.Email,
		ClientIP: clientIPFrom(ctx), Session: claims.SessionID,
	}
	if req.Body.CurrentPassword != nil {
		current := domain.Password(*req.Body.CurrentPassword)
		change.Current = &current
	}
	if err := s.app.Passwords.ChangePassword(ctx, claims.UserID, change); err != nil {
		return s.setPasswordFailure(ctx, err)
	}
	return api.SetMyPassword204Response{}, nil
}

// toLoginResponse maps a login to the wire type.
func toLoginResponse(l app.Login) (api.LoginResponse, error) {
	user, err := toAPIUser(l.User)
	if err != nil {
		return api.LoginResponse{}, err
	}
	return api.LoginResponse{
		AccessToken:      l.AccessToken,
		TokenType:        api.Bearer,
		ExpiresIn:        l.ExpiresIn,
		RefreshToken:     l.RefreshToken.Reveal(),
		RefreshExpiresIn: l.RefreshExpiresIn,
		IsNewUser:        l.IsNewUser,
		User:             user,
	}, nil
}
