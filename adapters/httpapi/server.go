package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/adapters/localstore"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
)

// readyTimeout bounds a readiness check: a probe must answer fast, and a
// database that does not answer in time is not ready.
const readyTimeout = 2 * time.Second

// Server implements the operations of the spec on the use-cases. Expected
// outcomes are the operation's typed responses; an error is returned only
// when its status is not one the operation declares, and becomes a 500.
type Server struct {
	login     app.WeChatLogin
	sessions  app.Sessions
	profiles  app.Profiles
	passwords app.PasswordAccounts
	binding   app.WeChatBinding
	todos     app.Todos
	accounts  app.Accounts
	admin     app.Admin
	jwks      func() ([]byte, error)
	uploads   *app.Uploads
	attach    app.Attachments
	local     localstore.Files
	ready     func(context.Context) error
	log       *slog.Logger
}

var _ api.StrictServerInterface = (*Server)(nil)

// NewServer returns the strict server for d's use-cases. NewHandler wires
// it; it is exported for the interface assertion and for reuse.
func NewServer(d Deps) *Server {
	return &Server{
		login: d.Login, sessions: d.Sessions, profiles: d.Profiles, accounts: d.Accounts, admin: d.Admin,
		todos: d.Todos, passwords: d.Passwords, binding: d.WeChatBinding,
		uploads: d.Uploads, attach: d.Attachments, local: d.LocalFiles,
		jwks: d.JWKS, ready: d.Ready, log: orDiscard(d.Logger),
	}
}

// LoginWithWeChat exchanges a wx.login code for an access token.
func (s *Server) LoginWithWeChat(ctx context.Context, req api.LoginWithWeChatRequestObject) (api.LoginWithWeChatResponseObject, error) {
	ctx = requestContext(ctx) // the WeChat client derives a timeout context
	if req.Body == nil {
		return s.loginFailure(ctx, domain.Invalid(domain.FieldError{Field: "body", Code: "required", Message: "a request body is required"}))
	}
	var appID domain.AppID
	if req.Body.Appid != nil {
		appID = domain.AppID(*req.Body.Appid)
	}
	login, err := s.login.Login(ctx, appID, req.Body.Code, userAgentFrom(ctx))
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

// GetMe returns the caller's profile.
func (s *Server) GetMe(ctx context.Context, _ api.GetMeRequestObject) (api.GetMeResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.getMeFailure(ctx, errNoClaims)
	}
	u, err := s.profiles.Get(ctx, claims.UserID)
	if err != nil {
		return s.getMeFailure(ctx, err)
	}
	user, err := toAPIUser(u)
	if err != nil {
		return nil, err
	}
	return api.GetMe200JSONResponse(user), nil
}

// UpdateMe merge-patches the caller's profile. The body carries only the
// editable fields (the validator refuses any other), and the user id comes
// from the token.
func (s *Server) UpdateMe(gctx context.Context, req api.UpdateMeRequestObject) (api.UpdateMeResponseObject, error) {
	ctx := requestContext(gctx)
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.updateMeFailure(ctx, errNoClaims)
	}
	if req.Body == nil {
		return s.updateMeFailure(ctx, domain.Invalid(domain.FieldError{Field: "body", Code: "required", Message: "a request body is required"}))
	}
	patch := domain.ProfilePatch{Nickname: req.Body.Nickname, AvatarURL: req.Body.AvatarUrl, Bio: req.Body.Bio}
	if req.Body.AvatarUploadId != nil {
		id := domain.UploadID(req.Body.AvatarUploadId.String())
		patch.AvatarUploadID = &id
	}
	u, err := s.profiles.Update(ctx, claims.UserID, patch)
	if err != nil {
		return s.updateMeFailure(ctx, err)
	}
	user, err := toAPIUser(u)
	if err != nil {
		return nil, err
	}
	return api.UpdateMe200JSONResponse(user), nil
}

// GetHealth answers while the process serves requests.
func (s *Server) GetHealth(context.Context, api.GetHealthRequestObject) (api.GetHealthResponseObject, error) {
	return api.GetHealth200JSONResponse{Status: api.Ok}, nil
}

// GetReady answers 200 when the dependencies (the database) answer within
// readyTimeout, 503 otherwise.
func (s *Server) GetReady(ctx context.Context, _ api.GetReadyRequestObject) (api.GetReadyResponseObject, error) {
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(requestContext(ctx), readyTimeout)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			// Whatever the cause, the answer is "not ready", never a 500.
			e := &domain.Error{Code: domain.CodeUnavailable, Message: "The service is not ready; try again shortly.", Err: err}
			p := s.problem(ctx, e)
			return api.GetReady503ApplicationProblemPlusJSONResponse{ServiceUnavailableApplicationProblemPlusJSONResponse: serviceUnavailable(p)}, nil
		}
	}
	return api.GetReady200JSONResponse{Status: api.Ok}, nil
}

// toAPIUser maps a domain user to the wire type.
func toAPIUser(u domain.User) (api.User, error) {
	id, err := uuid.Parse(string(u.ID))
	if err != nil {
		return api.User{}, fmt.Errorf("user id %q is not a UUID: %w", u.ID, err)
	}
	out := api.User{
		Id:          id,
		Nickname:    u.Nickname,
		AvatarUrl:   u.AvatarURL,
		Bio:         u.Bio,
		Role:        api.Role(u.Role),
		CreatedAt:   u.CreatedAt,
		UpdatedAt:   u.UpdatedAt,
		HasPassword: &u.HasPassword,
	}
	if u.HasPassword { // the login names, never the hash
		username, email := string(u.Username), string(u.Email)
		out.Username, out.Email = &username, &email
	}
	return out, nil
}
