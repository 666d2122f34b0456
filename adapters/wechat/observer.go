package wechat

import (
	"context"
	"errors"
	"time"

	"github.com/miniback/miniback/domain"
)

// Observer is told about every exchange with WeChat and every access-token
// refresh, for metrics (adapters/metrics implements it). Its methods run
// on the caller's goroutine after the exchange: they must be quick and
// must not block. What it is given holds no secret, token, code or user
// identifier: an API name, an outcome, an errcode, an AppID.
type Observer interface {
	// WeChatCall is told that one HTTP exchange with WeChat ended: each
	// attempt counts, so a token refused and retried is two calls.
	WeChatCall(Call)
	// TokenRefresh is told that this replica tried to refresh an app's
	// shared access token (sharedtokens.go).
	TokenRefresh(Refresh)
}

// Call describes one exchange with WeChat.
type Call struct {
	// API names the API: "code2session", "stable_token", or the name a
	// caller gives API.Post ("getuserphonenumber", "msg_sec_check"…).
	API string
	// Outcome is one of the Call* constants.
	Outcome string
	// Errcode is WeChat's errcode when Outcome is CallErrcode, else 0.
	Errcode int
	// Duration is the time from sending to the reply (or the failure).
	Duration time.Duration
}

// The outcomes of a Call.
const (
	CallOK          = "ok"           // a reply without errcode
	CallErrcode     = "errcode"      // a reply with a non-zero errcode
	CallTimeout     = "timeout"      // no reply in time
	CallUnreachable = "unreachable"  // a transport failure
	CallBadResponse = "bad_response" // a reply that is not the API's (HTTP status, shape, size)
	CallCanceled    = "canceled"     // the caller gave up
	CallError       = "error"        // anything else (the request could not be built)
	// CallBreakerOpen: the open circuit breaker of the (AppID, API)
	// answered wechat_unavailable; nothing was sent (Duration is 0).
	CallBreakerOpen = "breaker_open"
)

// Refresh describes one attempt of a replica to refresh an app's access
// token through stable_token.
type Refresh struct {
	App domain.AppID
	// Mode is RefreshNormal or RefreshForced (force_refresh:true).
	Mode string
	// Reason is why: "first" (no token stored), "expired", "ahead" (due,
	// refreshed ahead of expiry) or "refused" (WeChat answered 40001,
	// 40014 or 42001).
	Reason string
	// Outcome is RefreshOK, RefreshFailed, or RefreshDenied (a forced
	// refresh the shared budget did not allow: no call was made).
	Outcome string
}

// The modes and outcomes of a Refresh.
const (
	RefreshNormal = "normal"
	RefreshForced = "forced"

	RefreshOK     = "ok"
	RefreshFailed = "failed"
	RefreshDenied = "denied"
)

// observeAttempt tells the observer, if any, how one attempt at api that
// began at start ended (retry.go calls it for each attempt): its reply, or
// its raw error. ctx is the caller's.
func (c *Client) observeAttempt(ctx context.Context, api string, start time.Time, x exchange, err error) {
	if c.observer == nil {
		return
	}
	call := Call{API: api, Duration: time.Since(start)}
	call.Outcome, call.Errcode = attemptOutcome(ctx, x, err)
	c.observer.WeChatCall(call)
}

// observeRejected tells the observer, if any, that the breaker of api
// refused a call.
func (c *Client) observeRejected(api string) {
	if c.observer != nil {
		c.observer.WeChatCall(Call{API: api, Outcome: CallBreakerOpen})
	}
}

// observeRefresh tells the observer, if any, about a refresh attempt.
func (c *Client) observeRefresh(r Refresh) {
	if c.observer != nil {
		c.observer.TokenRefresh(r)
	}
}

// attemptOutcome classifies one attempt: its reply's errcode, or its
// error as the transport mappings will (a cancellation by the caller, a
// reply that is not the API's, a timeout, an unreachable WeChat).
func attemptOutcome(ctx context.Context, x exchange, err error) (string, int) {
	switch {
	case err == nil:
		code, ok := replyErrcode(x)
		switch {
		case !ok:
			return CallBadResponse, 0
		case code != 0:
			return CallErrcode, code
		}
		return CallOK, 0
	case errors.Is(ctx.Err(), context.Canceled):
		return CallCanceled, 0
	case errors.Is(err, errHTTPStatus), errors.Is(err, errTooLarge):
		return CallBadResponse, 0
	case errors.Is(err, errBuildRequest):
		return CallError, 0
	case isTimeout(err):
		return CallTimeout, 0
	}
	return CallUnreachable, 0
}
