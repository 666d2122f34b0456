package wechat

// This file is the caller of WeChat's token-bearing server APIs (phone
// number, content security, QR codes, subscribe messages…): it puts the
// app's access token in the URL, sends JSON, tells an image from an
// errcode by Content-Type, and on a token error (40001, 40014, 42001) asks
// the TokenSource for a renewed token and retries exactly once.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/miniback/miniback/domain"
)

// maxAPIBody caps a token-bearing API's reply: a QR code image is the
// largest (a 1280 px code is well under 1 MiB).
const maxAPIBody = 4 << 20

// TokenSource supplies the access tokens the APIs are called with. The
// shared, Postgres-backed one is the production source; tests may use a
// simpler one.
type TokenSource interface {
	// Token returns app's current access token. An empty token with a nil
	// error means "send none": Cloud Hosting's open-API service
	// authenticates the container itself.
	Token(ctx context.Context, app domain.AppID) (string, error)
	// Renew is told that WeChat refused stale (40001, 40014 or 42001) and
	// returns the token to retry with: the stored one when another caller
	// already replaced stale, else a refreshed one. It must bound its own
	// refreshes (never a storm) and fail instead.
	Renew(ctx context.Context, app domain.AppID, stale string) (string, error)
}

// API calls WeChat's token-bearing server APIs for the apps of its Client.
// It is safe for concurrent use.
type API struct {
	c      *Client
	tokens TokenSource
	// home is set behind Cloud Hosting's open-API service (openapi.go):
	// the environment's own app, called with no from_appid.
	home domain.AppID
}

// API returns the caller of token-bearing APIs that gets its tokens from
// tokens.
func (c *Client) API(tokens TokenSource) *API { return &API{c: c, tokens: tokens} }

// Reply is a successful (errcode-free) answer of a token-bearing API.
type Reply struct {
	ContentType string // the media type, without parameters
	Body        []byte
}

// IsJSON reports whether the reply is JSON (WeChat says application/json,
// or text/plain on some older APIs).
func (r Reply) IsJSON() bool { return isJSONType(r.ContentType, r.Body) }

// ErrcodeError is a non-zero errcode from a token-bearing API (token
// errors excepted: the retry handles those). Callers map the codes their
// API documents and fall back to DomainError for the rest.
type ErrcodeError struct {
	API  string // e.g. "getuserphonenumber"
	Code int
	Msg  string // WeChat's errmsg, truncated
}

func (e *ErrcodeError) Error() string {
	return fmt.Sprintf("wechat %s: errcode %d: %s", e.API, e.Code, e.Msg)
}

// DomainError maps the errcodes every token-bearing API shares: busy,
// quotas, the IP whitelist and bad credentials. Anything else is an
// unexpected reply. The errcode stays in the cause for the log.
func (e *ErrcodeError) DomainError() *domain.Error {
	d := &domain.Error{Err: e}
	switch e.Code {
	case -1:
		d.Code, d.RetryAfter = domain.CodeWeChatBusy, busyRetry
		d.Message = "WeChat is busy (errcode -1); try again shortly."
	case 45011:
		d.Code, d.RetryAfter = domain.CodeWeChatRateLimited, rateLimitedRetry
		d.Message = fmt.Sprintf("WeChat's per-minute quota for %s is used up (errcode 45011); try again in a minute.", e.API)
	case 45009:
		d.Code, d.RetryAfter = domain.CodeWeChatRateLimited, rateLimitedRetry
		d.Message = fmt.Sprintf("WeChat's quota for %s is used up (errcode 45009).", e.API)
	case 40164:
		d.Code = domain.CodeWeChatMisconfigured
		d.Message = "WeChat refused this server's IP address (errcode 40164): add every replica's outgoing IP to the IP whitelist in the mini-program console."
	case 40013, 40125, 41002, 41004:
		d.Code = domain.CodeWeChatMisconfigured
		d.Message = fmt.Sprintf("WeChat refused this server's app credentials (errcode %d).", e.Code)
	case 41001: // only a call with no token gets it: Cloud Hosting's open-API service did not add one
		d.Code = domain.CodeWeChatMisconfigured
		d.Message = "WeChat got no access token (errcode 41001): switch on Cloud Hosting's open-API service (开放接口服务) and deploy a new version."
	case 48001: // api unauthorized: on Cloud Hosting, the API is not on the open-API allow-list
		d.Code = domain.CodeWeChatMisconfigured
		d.Message = fmt.Sprintf("WeChat refused %s for this app (errcode 48001): on Cloud Hosting, add it to the open-API allow-list (微信令牌权限配置).", e.API)
	default:
		d.Code = domain.CodeWeChatBadResponse
		d.Message = fmt.Sprintf("WeChat answered %s with an unexpected error (errcode %d).", e.API, e.Code)
	}
	return d
}

// apiErrcode finds the errcode the called API itself answered in err, for
// the API's own mapping. An errcode of the token call (stable_token, met
// while fetching or renewing the token) is not the API's: it comes inside
// the *domain.Error that says what to fix (stableTokenError), which must
// stay as it is (45009 there is the daily token quota, not the API's).
func apiErrcode(err error) (*ErrcodeError, bool) {
	var ee *ErrcodeError
	if !errors.As(err, &ee) || ee.API == apiStableToken {
		return nil, false
	}
	return ee, true
}

// isTokenErrcode reports the errcodes that mean "this access token is no
// good": refresh once, then retry.
func isTokenErrcode(code int) bool { return code == 40001 || code == 40014 || code == 42001 }

// PostJSON calls api (its name, for errors and metrics) at path with in as
// the JSON body and decodes a JSON reply into out. Failures are
// *domain.Error (transport, token), *ErrcodeError (the API's own
// errcodes), or the wrapped context error on cancellation.
func (a *API) PostJSON(ctx context.Context, app domain.AppID, api, path string, in, out any) error {
	r, err := a.Post(ctx, app, api, path, in)
	if err != nil {
		return err
	}
	if !r.IsJSON() {
		return badResponse(fmt.Errorf("%s: reply is %q, not JSON", api, r.ContentType))
	}
	if err := json.Unmarshal(r.Body, out); err != nil {
		return badResponse(fmt.Errorf("%s: decode reply: %w", api, err))
	}
	return nil
}

// Post calls api at path with in as the JSON body and returns the reply
// when it carries no errcode: JSON, or another type (a QR code's image).
// A token error is retried once with the token Renew returns.
func (a *API) Post(ctx context.Context, app domain.AppID, api, path string, in any) (Reply, error) {
	if _, ok := a.c.apps[app]; !ok {
		return Reply{}, &domain.Error{Code: domain.CodeUnknownApp, Message: "This appid is not served here."}
	}
	body, err := json.Marshal(in)
	if err != nil {
		return Reply{}, fmt.Errorf("wechat %s: encode request: %w", api, err)
	}
	tok, err := a.tokens.Token(ctx, app)
	if err != nil {
		return Reply{}, fmt.Errorf("wechat %s: access token: %w", api, err)
	}
	r, code, err := a.send(ctx, app, api, path, tok, body)
	if err != nil || !isTokenErrcode(code) {
		return r, err
	}
	tok, err = a.tokens.Renew(ctx, app, tok)
	if err != nil {
		return Reply{}, fmt.Errorf("wechat %s: renew access token after errcode %d: %w", api, code, err)
	}
	r, code, err = a.send(ctx, app, api, path, tok, body)
	if err == nil && isTokenErrcode(code) {
		return Reply{}, &domain.Error{Code: domain.CodeWeChatBusy, RetryAfter: busyRetry,
			Message: "WeChat refused this server's access token twice; try again shortly.",
			Err:     fmt.Errorf("wechat %s: errcode %d after a renewed token", api, code)}
	}
	return r, err
}

// send makes one request (retried as retry.go says; the observer is told
// of each attempt). A token errcode comes back as code with a nil error
// so that Post can retry; other errcodes are *ErrcodeError.
func (a *API) send(ctx context.Context, app domain.AppID, api, path, tok string, body []byte) (Reply, int, error) {
	u := a.c.base.JoinPath(path)
	if tok != "" {
		u.RawQuery = url.Values{"access_token": {tok}}.Encode()
	} else if a.home != "" && app != a.home {
		u.RawQuery = url.Values{"from_appid": {string(app)}}.Encode()
	}
	scrub := scrubber{secret: tok}
	x, err := a.c.roundTrip(ctx, app, api, replaySafe[api], maxAPIBody, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, err
	})
	switch {
	case err == nil:
	case errors.Is(err, errHTTPStatus), errors.Is(err, errTooLarge):
		return Reply{}, 0, badResponse(fmt.Errorf("wechat %s: %w", api, err))
	default:
		return Reply{}, 0, a.c.transportErrorAt(ctx, scrub, err, a.c.base.JoinPath(path).String(), api)
	}
	data := x.body
	r := Reply{ContentType: x.contentType, Body: data}
	if !r.IsJSON() {
		return r, 0, nil
	}
	var e struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(data, &e); err != nil {
		return Reply{}, 0, badResponse(fmt.Errorf("wechat %s: decode reply: %w", api, err))
	}
	switch {
	case e.ErrCode == 0:
		return r, 0, nil
	case isTokenErrcode(e.ErrCode):
		return Reply{}, e.ErrCode, nil
	default:
		return Reply{}, 0, &ErrcodeError{API: api, Code: e.ErrCode, Msg: truncate(e.ErrMsg, 200)}
	}
}

// isJSONType reports whether a reply of media type mt is JSON. WeChat
// labels JSON as application/json or text/plain; an image is image/*.
func isJSONType(mt string, body []byte) bool {
	switch {
	case mt == "application/json", strings.HasSuffix(mt, "+json"):
		return true
	case mt == "text/plain", mt == "":
		return len(bytes.TrimSpace(body)) > 0 && bytes.TrimSpace(body)[0] == '{'
	}
	return false
}

// transportErrorAt classifies a failure to get a 200 reply from api;
// safeURL (no query) replaces the request URL in the error.
func (c *Client) transportErrorAt(ctx context.Context, s scrubber, err error, safeURL, api string) error {
	if de, ok := unavailable(err); ok {
		return de
	}
	if safeURL != "" {
		err = stripURL(err, safeURL)
	}
	err = s.wrap(err)
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("wechat %s: %w", api, err)
	case isTimeout(err):
		return &domain.Error{Code: domain.CodeWeChatTimeout, Message: "WeChat did not answer in time; try again.",
			Err: fmt.Errorf("wechat %s: no reply in time (client timeout %s): %w", api, c.timeout, err)}
	default:
		return &domain.Error{Code: domain.CodeWeChatUnreachable, Message: "WeChat could not be reached; try again shortly.",
			RetryAfter: unreachableRetry, Err: fmt.Errorf("wechat %s: %w", api, err)}
	}
}
