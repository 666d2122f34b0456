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

// observeCall tells the observer, if any, how the exchange with api that
// began at start ended: err, or the token errcode that send hands back to
// Post for its retry.
func (c *Client) observeCall(api string, start time.Time, tokenErrcode int, err error) {
	if c.observer == nil {
		return
	}
	call := Call{API: api, Duration: time.Since(start)}
	call.Outcome, call.Errcode = callOutcome(err)
	if err == nil && tokenErrcode != 0 {
		call.Outcome, call.Errcode = CallErrcode, tokenErrcode
	}
	c.observer.WeChatCall(call)
}

// observeRefresh tells the observer, if any, about a refresh attempt.
func (c *Client) observeRefresh(r Refresh) {
	if c.observer != nil {
		c.observer.TokenRefresh(r)
	}
}

// callOutcome classifies the error of an exchange.
func callOutcome(err error) (string, int) {
	var ec *ErrcodeError
	switch {
	case err == nil:
		return CallOK, 0
	case errors.As(err, &ec):
		return CallErrcode, ec.Code
	case errors.Is(err, context.Canceled):
		return CallCanceled, 0
	}
	switch domain.ErrorCode(err) {
	case domain.CodeWeChatTimeout:
		return CallTimeout, 0
	case domain.CodeWeChatUnreachable:
		return CallUnreachable, 0
	case domain.CodeWeChatBadResponse:
		return CallBadResponse, 0
	}
	return CallError, 0
}
