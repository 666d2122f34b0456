package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/miniback/miniback/domain"
)

// AccessToken is an access token as stable_token handed it out.
type AccessToken struct {
	Value string
	// ExpiresIn is the token's remaining life when WeChat answered (at
	// least 300 s in normal mode).
	ExpiresIn time.Duration
}

// StableToken calls POST /cgi-bin/stable_token for app: normal mode
// returns the current token (rotated only in its last 5 minutes), force
// rotates at once and kills the previous token (at most 20 a day, 30 s
// apart — the caller keeps that budget). Failures are *domain.Error whose
// message says what to fix; the secret never appears in them.
func (c *Client) StableToken(ctx context.Context, app domain.AppID, force bool) (AccessToken, error) {
	secret, ok := c.apps[app]
	if !ok {
		return AccessToken{}, &domain.Error{Code: domain.CodeUnknownApp, Message: "This appid is not served here."}
	}
	s := scrubber{secret: secret}
	body, err := json.Marshal(map[string]any{
		"grant_type": "client_credential", "appid": string(app), "secret": secret, "force_refresh": force,
	})
	if err != nil {
		return AccessToken{}, fmt.Errorf("wechat stable_token: encode: %w", err)
	}
	reply, err := c.postStable(ctx, app, force, body)
	if err != nil {
		return AccessToken{}, c.transportErrorAt(ctx, s, err, c.base.JoinPath("cgi-bin", "stable_token").String(), "stable_token")
	}
	var r struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		ErrCode     int    `json:"errcode"`
		ErrMsg      string `json:"errmsg"`
	}
	if err := json.Unmarshal(reply, &r); err != nil {
		return AccessToken{}, badResponse(s.wrap(fmt.Errorf("stable_token: decode reply: %w", err)))
	}
	if r.ErrCode != 0 {
		return AccessToken{}, stableTokenError(s, r.ErrCode, r.ErrMsg, force)
	}
	if r.AccessToken == "" || r.ExpiresIn <= 0 {
		return AccessToken{}, badResponse(fmt.Errorf("stable_token: reply lacks access_token or expires_in (expires_in %d)", r.ExpiresIn))
	}
	return AccessToken{Value: r.AccessToken, ExpiresIn: time.Duration(r.ExpiresIn) * time.Second}, nil
}

// postStable sends the stable_token request and returns a 200 reply's
// body. Normal mode may be sent again (it hands out the current token); a
// forced refresh only when it cannot have reached WeChat (retry.go).
func (c *Client) postStable(ctx context.Context, app domain.AppID, force bool, body []byte) ([]byte, error) {
	u := c.base.JoinPath("cgi-bin", "stable_token").String()
	r, err := c.roundTrip(ctx, app, apiStableToken, replaySafe[apiStableToken] && !force, maxBody, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, err
	})
	return r.body, err
}

// What stable_token's 45009 (a daily quota used up) tells the operator,
// in normal mode and for a forced refresh (20 a day).
const (
	stableTokenQuotaMessage = "stable_token's daily quota for this AppID is used up (errcode 45009): " +
		"something else calls stable_token for this AppID far too often (another server, a script or an SDK; " +
		"miniback calls it about a dozen times a day for the whole deployment); find that caller. " +
		"The quota resets at 00:00 Beijing time; until then no replica calls stable_token again."
	forcedQuotaMessage = "stable_token's daily quota of forced refreshes for this AppID is used up (errcode 45009): " +
		"something else force-refreshes this AppID's access token; find that caller. " +
		"The quota resets at 00:00 Beijing time."
)

// stableTokenQuotaSpent reports whether err is stable_token's 45009.
func stableTokenQuotaSpent(err error) bool {
	var ee *ErrcodeError
	return errors.As(err, &ee) && ee.API == apiStableToken && ee.Code == 45009
}

// stableTokenError maps stable_token's errcodes to problems that say what
// an operator must fix. force tells a forced refresh's answer.
func stableTokenError(s scrubber, code int, msg string, force bool) *domain.Error {
	e := (&ErrcodeError{API: "stable_token", Code: code, Msg: truncate(msg, 200)}).DomainError()
	e.Err = s.wrap(e.Err)
	switch code {
	case 40013, 41002:
		e.Message = fmt.Sprintf("WeChat does not know this AppID (errcode %d): check MINIBACK_WECHAT_APPS.", code)
	case 40125, 41004:
		e.Message = fmt.Sprintf("WeChat refused the app secret (errcode %d): check MINIBACK_WECHAT_APPS, or reset the secret in the console.", code)
	case 45009:
		// A daily quota (unlike getwxacodeunlimit's 45009, which counts
		// per minute): nothing mends before it resets.
		now := time.Now()
		e.RetryAfter = domain.NextBeijingMidnight(now).Sub(now)
		e.Message = stableTokenQuotaMessage
		if force {
			e.Message = forcedQuotaMessage
		}
	case 89503:
		e.Code = domain.CodeWeChatMisconfigured
		e.Message = "WeChat holds the access-token call for an administrator's confirmation (errcode 89503): confirm it in the mini-program console."
	}
	return e
}
