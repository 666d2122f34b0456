// Package wechat is the real client for WeChat's code2Session API
// (GET /sns/jscode2session), which exchanges a wx.login code for a user's
// openid, unionid and session_key.
//
// Every failure is a *domain.Error with a wechat_* code (or unknown_app),
// except a cancellation by the caller, which comes back as the wrapped
// context error. Error texts never contain the app secret or a session_key:
// the request URL carries the secret, so transport errors are rewritten
// before they are wrapped.
//
// The package wechatsim serves the same wire format for development and
// tests.
package wechat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Defaults for Config's zero values.
const (
	DefaultBaseURL = "https://api.weixin.qq.com"
	DefaultTimeout = 5 * time.Second
)

// maxBody caps how much of a reply is read; a real one is under 300 bytes.
const maxBody = 64 << 10

// Retry hints sent with the failures that are worth retrying.
const (
	rateLimitedRetry = 60 * time.Second // 45011: WeChat counts per minute
	busyRetry        = 2 * time.Second  // -1: system busy
	unreachableRetry = 5 * time.Second  // transport failure
)

// Config configures a Client.
type Config struct {
	// BaseURL is WeChat's API root; empty means DefaultBaseURL. It may carry
	// a path prefix (for a proxy) but no query.
	BaseURL string
	// Apps maps each served AppID to its app secret.
	Apps map[domain.AppID]string
	// Timeout bounds one exchange, reply included; zero means DefaultTimeout.
	Timeout time.Duration
	// HTTPClient sends the requests; nil means a client with
	// http.DefaultTransport. Redirects are never followed either way.
	HTTPClient *http.Client
	// Observer is told about every call and token refresh (metrics);
	// nil tells no one.
	Observer Observer
	// Resilience is the breakers and retries around every call (retry.go);
	// the zero value makes one attempt with no breaker.
	Resilience Resilience
}

// Client calls code2Session. It is safe for concurrent use.
type Client struct {
	base     *url.URL // the API root, without a query
	endpoint *url.URL // {base}/sns/jscode2session, without a query
	apps     map[domain.AppID]string
	timeout  time.Duration
	http     *http.Client
	observer Observer // nil: none
	guards   *guards  // breakers and retry budgets per (AppID, API)
}

var _ ports.WeChatAuth = (*Client)(nil)

// NewClient checks cfg and returns a Client.
func NewClient(cfg Config) (*Client, error) {
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("wechat: parse base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("wechat: base URL %q must be an http(s) URL with a host and no credentials, query or fragment", base)
	}
	if len(cfg.Apps) == 0 {
		return nil, errors.New("wechat: no apps configured")
	}
	apps := make(map[domain.AppID]string, len(cfg.Apps))
	for id, secret := range cfg.Apps {
		if id == "" || secret == "" {
			return nil, fmt.Errorf("wechat: app %q needs both an appid and a secret", id)
		}
		apps[id] = secret
	}
	timeout := cfg.Timeout
	if timeout < 0 {
		return nil, fmt.Errorf("wechat: negative timeout %s", timeout)
	}
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if err := cfg.Resilience.Validate(); err != nil {
		return nil, fmt.Errorf("wechat: %w", err)
	}
	// Copy the HTTP client so that refusing redirects does not change the
	// caller's: a redirect could carry the secret to another host.
	hc := http.Client{}
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Client{
		base:     u,
		endpoint: u.JoinPath("sns", "jscode2session"),
		apps:     apps,
		timeout:  timeout,
		http:     &hc,
		observer: cfg.Observer,
		guards:   newGuards(cfg.Resilience),
	}, nil
}

// reply is code2Session's answer: an identity, or an errcode (which may be 0
// on success).
type reply struct {
	OpenID     string `json:"openid"`
	SessionKey string `json:"session_key"`
	UnionID    string `json:"unionid"`
	ErrCode    int    `json:"errcode"`
	ErrMsg     string `json:"errmsg"`
}

// Code2Session exchanges a wx.login code of app for the user's identity.
// Failures are *domain.Error (wechat_* codes, or unknown_app for an appid
// not in Config.Apps, which is refused without a call). A deadline, the
// client's or the caller's, is wechat_timeout; a cancellation by the caller
// is returned as the wrapped context.Canceled instead.
func (c *Client) Code2Session(ctx context.Context, app domain.AppID, code string) (domain.WeChatIdentity, error) {
	secret, ok := c.apps[app]
	if !ok {
		return domain.WeChatIdentity{}, &domain.Error{Code: domain.CodeUnknownApp, Message: "This appid is not served here.",
			Fields: []domain.FieldError{{Field: "appid", Code: "unknown", Message: "appid is not configured on this server"}}}
	}
	s := scrubber{secret: secret}

	body, err := c.get(ctx, app, secret, code)
	if err != nil {
		return domain.WeChatIdentity{}, c.transportError(ctx, s, err)
	}
	var r reply
	if err := json.Unmarshal(body, &r); err != nil {
		return domain.WeChatIdentity{}, badResponse(s.wrap(fmt.Errorf("decode reply: %w", err)))
	}
	if r.ErrCode != 0 {
		return domain.WeChatIdentity{}, errcodeError(s, r.ErrCode, r.ErrMsg)
	}
	if r.OpenID == "" || r.SessionKey == "" {
		return domain.WeChatIdentity{}, badResponse(fmt.Errorf("reply lacks openid or session_key (openid set: %t, session_key set: %t)",
			r.OpenID != "", r.SessionKey != ""))
	}
	return domain.WeChatIdentity{
		AppID:      app,
		OpenID:     domain.OpenID(r.OpenID),
		UnionID:    domain.UnionID(r.UnionID),
		SessionKey: domain.SessionKey(r.SessionKey),
	}, nil
}

// errHTTPStatus reports a reply whose status is not 200.
var errHTTPStatus = errors.New("unexpected HTTP status")

// errTooLarge reports a reply over maxBody.
var errTooLarge = errors.New("reply too large")

// get sends the request (retried as retry.go says: code2Session's code is
// single-use) and returns the body of a 200 reply. Its errors may hold the
// request URL, secret included: the caller scrubs them.
func (c *Client) get(ctx context.Context, app domain.AppID, secret, code string) ([]byte, error) {
	u := *c.endpoint
	u.RawQuery = url.Values{
		"appid":      {string(app)},
		"secret":     {secret},
		"js_code":    {code},
		"grant_type": {"authorization_code"},
	}.Encode()
	r, err := c.roundTrip(ctx, app, apiCode2Session, replaySafe[apiCode2Session], maxBody, func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	})
	return r.body, err
}

// transportError classifies a failure to get a 200 reply.
func (c *Client) transportError(ctx context.Context, s scrubber, err error) error {
	if de, ok := unavailable(err); ok {
		return de
	}
	err = s.wrap(stripURL(err, c.endpoint.String()))
	switch {
	case errors.Is(err, errHTTPStatus), errors.Is(err, errTooLarge):
		return badResponse(err)
	case errors.Is(ctx.Err(), context.Canceled):
		// The caller gave up (the client went away): no one waits for an
		// answer, so return the plain context error rather than blaming
		// WeChat.
		return fmt.Errorf("wechat code2session: %w", err)
	case isTimeout(err):
		return &domain.Error{Code: domain.CodeWeChatTimeout,
			Message: "WeChat did not answer in time; try again.",
			Err:     fmt.Errorf("no reply in time (client timeout %s): %w", c.timeout, err)}
	default:
		return &domain.Error{Code: domain.CodeWeChatUnreachable,
			Message:    "WeChat could not be reached; try again shortly.",
			RetryAfter: unreachableRetry, Err: err}
	}
}

// isTimeout reports whether err is a deadline or network timeout.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// errcodeError maps a WeChat errcode to a domain error.
func errcodeError(s scrubber, code int, msg string) *domain.Error {
	e := &domain.Error{Err: s.wrap(&ErrcodeError{API: "code2session", Code: code, Msg: truncate(msg, 200)})}
	switch code {
	case 40029, 41008: // invalid code; missing code
		e.Code = domain.CodeWeChatCodeInvalid
		e.Message = fmt.Sprintf("WeChat rejected the login code (errcode %d); call wx.login again.", code)
	case 40163:
		e.Code = domain.CodeWeChatCodeUsed
		e.Message = "This login code was already used (WeChat errcode 40163); call wx.login again."
	case 45011:
		e.Code = domain.CodeWeChatRateLimited
		e.Message = "Too many logins (WeChat errcode 45011); try again in a minute."
		e.RetryAfter = rateLimitedRetry
	case 40226:
		e.Code = domain.CodeWeChatUserBlocked
		e.Message = "WeChat blocked this login as high-risk (errcode 40226)."
	case -1:
		e.Code = domain.CodeWeChatBusy
		e.Message = "WeChat is busy (errcode -1); try again shortly."
		e.RetryAfter = busyRetry
	case 40013, 40125, 41002, 41004: // invalid appid/secret; missing appid/secret
		e.Code = domain.CodeWeChatMisconfigured
		e.Message = fmt.Sprintf("WeChat refused this server's app credentials (errcode %d).", code)
	default:
		e.Code = domain.CodeWeChatBadResponse
		e.Message = fmt.Sprintf("WeChat answered with an unexpected error (errcode %d).", code)
	}
	return e
}

// badResponse reports a reply that is not code2Session's.
func badResponse(cause error) *domain.Error {
	return &domain.Error{Code: domain.CodeWeChatBadResponse, Message: "WeChat sent an unexpected reply.", Err: cause}
}

// stripURL replaces the URL of a *url.Error at the top of err's chain (the
// one net/http's Client.Do returns) with safeURL, which holds no query.
func stripURL(err error, safeURL string) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	return &url.Error{Op: ue.Op, URL: safeURL, Err: ue.Err}
}

// scrubber hides the app secret in error texts, as a last line of defence
// behind stripURL.
type scrubber struct{ secret string }

func (s scrubber) wrap(err error) error { return &scrubbed{err: err, secret: s.secret} }

// scrubbed is an error whose text never shows secret, raw or query-escaped.
// Unwrap keeps errors.Is and errors.As working.
type scrubbed struct {
	err    error
	secret string
}

func (e *scrubbed) Error() string {
	msg := e.err.Error()
	for _, s := range []string{e.secret, url.QueryEscape(e.secret), url.PathEscape(e.secret)} {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return msg
}

func (e *scrubbed) Unwrap() error { return e.err }

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
