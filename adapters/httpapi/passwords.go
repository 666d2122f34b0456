package httpapi

import (
	"context"
	"net/http"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
)

// The password-account operations and WeChat binding, with their failure
// functions (see responses.go for the pattern).

var errNoBody = domain.Invalid(domain.FieldError{Field: "body", Code: "required", Message: "a request body is required"})

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

func (s *Server) registerFailure(ctx context.Context, err error) (api.RegisterWithPasswordResponseObject, error) {
	p := s.problem(ctx, err)
	switch p.Status {
	case http.StatusBadRequest:
		return api.RegisterWithPassword400ApplicationProblemPlusJSONResponse{BadRequestApplicationProblemPlusJSONResponse: api.BadRequestApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusNotFound:
		return api.RegisterWithPassword404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: api.NotFoundApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusConflict:
		return api.RegisterWithPassword409ApplicationProblemPlusJSONResponse{ConflictApplicationProblemPlusJSONResponse: api.ConflictApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusRequestEntityTooLarge:
		return api.RegisterWithPassword413ApplicationProblemPlusJSONResponse{PayloadTooLargeApplicationProblemPlusJSONResponse: api.PayloadTooLargeApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnsupportedMediaType:
		return api.RegisterWithPassword415ApplicationProblemPlusJSONResponse{UnsupportedMediaTypeApplicationProblemPlusJSONResponse: api.UnsupportedMediaTypeApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusServiceUnavailable:
		return api.RegisterWithPassword503ApplicationProblemPlusJSONResponse{ServiceUnavailableApplicationProblemPlusJSONResponse: serviceUnavailable(p)}, nil
	}
	return nil, err
}

func (s *Server) passwordLoginFailure(ctx context.Context, err error) (api.LoginWithPasswordResponseObject, error) {
	p := s.problem(ctx, err)
	switch p.Status {
	case http.StatusBadRequest:
		return api.LoginWithPassword400ApplicationProblemPlusJSONResponse{BadRequestApplicationProblemPlusJSONResponse: api.BadRequestApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnauthorized:
		return api.LoginWithPassword401ApplicationProblemPlusJSONResponse{UnauthorizedApplicationProblemPlusJSONResponse: api.UnauthorizedApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusNotFound:
		return api.LoginWithPassword404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: api.NotFoundApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusRequestEntityTooLarge:
		return api.LoginWithPassword413ApplicationProblemPlusJSONResponse{PayloadTooLargeApplicationProblemPlusJSONResponse: api.PayloadTooLargeApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnsupportedMediaType:
		return api.LoginWithPassword415ApplicationProblemPlusJSONResponse{UnsupportedMediaTypeApplicationProblemPlusJSONResponse: api.UnsupportedMediaTypeApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusTooManyRequests:
		return api.LoginWithPassword429ApplicationProblemPlusJSONResponse{TooManyRequestsApplicationProblemPlusJSONResponse: tooManyRequests(p)}, nil
	case http.StatusServiceUnavailable:
		return api.LoginWithPassword503ApplicationProblemPlusJSONResponse{ServiceUnavailableApplicationProblemPlusJSONResponse: serviceUnavailable(p)}, nil
	}
	return nil, err
}

func (s *Server) setPasswordFailure(ctx context.Context, err error) (api.SetMyPasswordResponseObject, error) {
	p := s.problem(ctx, err)
	switch p.Status {
	case http.StatusBadRequest:
		return api.SetMyPassword400ApplicationProblemPlusJSONResponse{BadRequestApplicationProblemPlusJSONResponse: api.BadRequestApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnauthorized:
		return api.SetMyPassword401ApplicationProblemPlusJSONResponse{UnauthorizedApplicationProblemPlusJSONResponse: api.UnauthorizedApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusForbidden:
		return api.SetMyPassword403ApplicationProblemPlusJSONResponse{ForbiddenApplicationProblemPlusJSONResponse: api.ForbiddenApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusNotFound:
		return api.SetMyPassword404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: api.NotFoundApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusConflict:
		return api.SetMyPassword409ApplicationProblemPlusJSONResponse{ConflictApplicationProblemPlusJSONResponse: api.ConflictApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusRequestEntityTooLarge:
		return api.SetMyPassword413ApplicationProblemPlusJSONResponse{PayloadTooLargeApplicationProblemPlusJSONResponse: api.PayloadTooLargeApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnsupportedMediaType:
		return api.SetMyPassword415ApplicationProblemPlusJSONResponse{UnsupportedMediaTypeApplicationProblemPlusJSONResponse: api.UnsupportedMediaTypeApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusTooManyRequests:
		return api.SetMyPassword429ApplicationProblemPlusJSONResponse{TooManyRequestsApplicationProblemPlusJSONResponse: tooManyRequests(p)}, nil
	case http.StatusServiceUnavailable:
		return api.SetMyPassword503ApplicationProblemPlusJSONResponse{ServiceUnavailableApplicationProblemPlusJSONResponse: serviceUnavailable(p)}, nil
	}
	return nil, err
}

func (s *Server) bindWeChatFailure(ctx context.Context, err error) (api.BindMyWeChatResponseObject, error) {
	p := s.problem(ctx, err)
	switch p.Status {
	case http.StatusBadRequest:
		return api.BindMyWeChat400ApplicationProblemPlusJSONResponse{BadRequestApplicationProblemPlusJSONResponse: api.BadRequestApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnauthorized:
		return api.BindMyWeChat401ApplicationProblemPlusJSONResponse{UnauthorizedApplicationProblemPlusJSONResponse: api.UnauthorizedApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusForbidden:
		return api.BindMyWeChat403ApplicationProblemPlusJSONResponse{ForbiddenApplicationProblemPlusJSONResponse: api.ForbiddenApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusNotFound:
		return api.BindMyWeChat404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: api.NotFoundApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusConflict:
		return api.BindMyWeChat409ApplicationProblemPlusJSONResponse{ConflictApplicationProblemPlusJSONResponse: api.ConflictApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusRequestEntityTooLarge:
		return api.BindMyWeChat413ApplicationProblemPlusJSONResponse{PayloadTooLargeApplicationProblemPlusJSONResponse: api.PayloadTooLargeApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnsupportedMediaType:
		return api.BindMyWeChat415ApplicationProblemPlusJSONResponse{UnsupportedMediaTypeApplicationProblemPlusJSONResponse: api.UnsupportedMediaTypeApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusTooManyRequests:
		return api.BindMyWeChat429ApplicationProblemPlusJSONResponse{TooManyRequestsApplicationProblemPlusJSONResponse: tooManyRequests(p)}, nil
	case http.StatusBadGateway:
		return api.BindMyWeChat502ApplicationProblemPlusJSONResponse{BadGatewayApplicationProblemPlusJSONResponse: api.BadGatewayApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusServiceUnavailable:
		return api.BindMyWeChat503ApplicationProblemPlusJSONResponse{ServiceUnavailableApplicationProblemPlusJSONResponse: serviceUnavailable(p)}, nil
	case http.StatusGatewayTimeout:
		return api.BindMyWeChat504ApplicationProblemPlusJSONResponse{GatewayTimeoutApplicationProblemPlusJSONResponse: api.GatewayTimeoutApplicationProblemPlusJSONResponse(p.Problem)}, nil
	}
	return nil, err
}

// tooManyRequests is the shared 429 response with its Retry-After.
func tooManyRequests(p problem) api.TooManyRequestsApplicationProblemPlusJSONResponse {
	return api.TooManyRequestsApplicationProblemPlusJSONResponse{
		Body: p.Problem, Headers: api.TooManyRequestsResponseHeaders{RetryAfter: p.retryAfter}}
}
