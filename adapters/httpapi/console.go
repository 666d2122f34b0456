package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
)

// The browser console's sign-in (/v1/console/...). The console's page is
// served by miniback itself (same origin), keeps the access token in
// memory, and never holds the refresh token: it lives in a cookie page
// script cannot read (HttpOnly), sent only over HTTPS (Secure; browsers
// also accept it on http://localhost), only with requests the console's
// own pages start (SameSite=Strict), and only to these paths
// (Path=/v1/console/). A __Host- name would forbid the Path, so the name
// has the __Secure- prefix: browsers refuse it unless Secure.
//
// CSRF. A cookie that travels by itself needs a proof that the console's
// own page sent the request. SameSite=Strict already keeps the cookie off
// every request another site starts (a form, a link, a fetch); what is
// left is another origin of the same site (a sibling subdomain, a port),
// which Strict does not separate. So every console request must also
// carry X-Miniback-CSRF: 1, a header no page can add to a cross-origin
// request without a CORS preflight, and these paths never pass one (cors
// allows no origin here, and never credentials anywhere); and when the
// browser says where the request comes from (Origin, Sec-Fetch-Site,
// sent by every current browser on a POST), it must be this origin. The
// cookie's value is a refresh token rotated on every use, so a copy that
// leaked is detected (reuse ends the session).

const (
	// consoleCookie is the cookie of the console session's refresh token.
	consoleCookie = "__Secure-miniback-console"
	// consolePath is the cookie's Path: the console's operations.
	consolePath = "/v1/console/"
	// csrfHeader must be "1" on every console request.
	csrfHeader = "X-Miniback-CSRF"
)

// sessionCookie is the Set-Cookie value of a console session whose
// refresh token is token, kept maxAge seconds; an empty token with
// maxAge < 0 clears the cookie (Max-Age=0).
func sessionCookie(token string, maxAge int) *string {
	c := (&http.Cookie{
		Name: consoleCookie, Value: token, Path: consolePath, MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	}).String()
	return &c
}

// clearedCookie clears the console cookie.
func clearedCookie() *string { return sessionCookie("", -1) }

// CreateConsoleSession signs an administrator in: the access token in the
// body, the refresh token in the cookie.
func (s *Server) CreateConsoleSession(ctx context.Context, req api.CreateConsoleSessionRequestObject) (api.CreateConsoleSessionResponseObject, error) {
	if req.Body == nil {
		return s.createConsoleSessionFailure(ctx, errNoBody)
	}
	login, err := s.app.Console.SignIn(ctx, app.PasswordLogin{
		Login: req.Body.Login, Password: domain.Password(req.Body.Password), ClientIP: clientIPFrom(ctx),
		UserAgent: userAgentFrom(ctx),
	})
	if err != nil {
		return s.createConsoleSessionFailure(ctx, err)
	}
	body, err := toConsoleSession(login.Tokens, login.User)
	if err != nil {
		return nil, err
	}
	return api.CreateConsoleSession200JSONResponse{Body: body,
		Headers: api.CreateConsoleSession200ResponseHeaders{SetCookie: sessionCookie(login.RefreshToken.Reveal(), login.RefreshExpiresIn)},
	}, nil
}

// RefreshConsoleSession rotates the cookie's refresh token.
func (s *Server) RefreshConsoleSession(ctx context.Context, req api.RefreshConsoleSessionRequestObject) (api.RefreshConsoleSessionResponseObject, error) {
	var token string
	if req.Params.ConsoleCookie != nil {
		token = *req.Params.ConsoleCookie
	}
	t, err := s.app.Console.Refresh(ctx, token, userAgentFrom(ctx))
	if err != nil {
		return s.refreshConsoleSessionFailure(ctx, err)
	}
	body, err := toConsoleSession(t.Tokens, t.User)
	if err != nil {
		return nil, err
	}
	return api.RefreshConsoleSession200JSONResponse{Body: body,
		Headers: api.RefreshConsoleSession200ResponseHeaders{SetCookie: sessionCookie(t.RefreshToken.Reveal(), t.RefreshExpiresIn)},
	}, nil
}

// EndConsoleSession ends the cookie's session and clears the cookie.
func (s *Server) EndConsoleSession(ctx context.Context, req api.EndConsoleSessionRequestObject) (api.EndConsoleSessionResponseObject, error) {
	var token string
	if req.Params.ConsoleCookie != nil {
		token = *req.Params.ConsoleCookie
	}
	if err := s.app.Console.SignOut(ctx, token, userAgentFrom(ctx)); err != nil {
		return s.endConsoleSessionFailure(ctx, err)
	}
	return api.EndConsoleSession204Response{Headers: api.EndConsoleSession204ResponseHeaders{SetCookie: clearedCookie()}}, nil
}

// toConsoleSession maps a console session's tokens to the wire type:
// never the refresh token.
func toConsoleSession(t app.Tokens, u domain.User) (api.ConsoleSession, error) {
	user, err := toAPIUser(u)
	if err != nil {
		return api.ConsoleSession{}, err
	}
	return api.ConsoleSession{
		AccessToken: t.AccessToken, TokenType: api.Bearer, ExpiresIn: t.ExpiresIn,
		RefreshExpiresIn: t.RefreshExpiresIn, User: user,
	}, nil
}

// consoleOnly reports whether path is one of the console's cookie
// operations, which take same-origin requests only (guardConsole, cors).
func consoleOnly(path string) bool { return strings.HasPrefix(path, consolePath) }

// errCSRF refuses a console request not provably from the console's page.
var errCSRF = domain.Errorf(domain.CodeCSRFRejected,
	"This request must come from the console's own page: send X-Miniback-CSRF: 1 from the same origin.")

// guardConsole is the per-operation middleware that refuses, before
// anything else is looked at, a console request that is not from the
// console's own page (see the CSRF note above).
func (h *handler) guardConsole(c *gin.Context) {
	if !consoleOnly(c.FullPath()) {
		return
	}
	if !sameOriginRequest(c.Request) {
		h.abort(c, errCSRF)
	}
}

// sameOriginRequest holds the CSRF rules: the custom header, and a
// same-origin Origin and Sec-Fetch-Site when the browser sends them.
func sameOriginRequest(r *http.Request) bool {
	if v := r.Header.Values(csrfHeader); len(v) != 1 || v[0] != "1" {
		return false
	}
	if v := r.Header.Values("Sec-Fetch-Site"); len(v) > 0 && (len(v) > 1 || v[0] != "same-origin") {
		return false
	}
	if v := r.Header.Values("Origin"); len(v) > 0 {
		return len(v) == 1 && sameHost(v[0], r)
	}
	return true
}

// sameHost reports whether origin names the host the request was sent
// to: its Host header, or the X-Forwarded-Host a reverse proxy that
// rewrites Host sets (a browser cannot add that header to a cross-origin
// request without the preflight these paths refuse).
func sameHost(origin string, r *http.Request) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.User != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	if fwd := r.Header.Get("X-Forwarded-Host"); fwd != "" {
		first, _, _ := strings.Cut(fwd, ",")
		return strings.EqualFold(u.Host, strings.TrimSpace(first))
	}
	return false
}
