package domain

// This file holds the failure a client gets while calls to one WeChat API
// of one mini-program are suspended: after repeated failures of WeChat
// (busy, 5xx, unreachable, timeouts) the circuit breaker in front of that
// API opens, and calls are answered at once, without reaching WeChat,
// until it lets a probe through.

import (
	"fmt"
	"math"
	"time"
)

// CodeWeChatUnavailable: WeChat failed repeatedly for this mini-program
// and API, so this server stopped calling it for a while; nothing was
// sent to WeChat. Retry-After is the time until the next probe.
const CodeWeChatUnavailable Code = "wechat_unavailable"

// minUnavailableRetry is the smallest retry hint: a breaker whose open
// time is (almost) over still answers "later", not "now".
const minUnavailableRetry = time.Second

// ErrWeChatUnavailable is the answer of an open breaker. retryAfter is
// the time it stays open (at least a second); cause, for the log, names
// the app and API.
func ErrWeChatUnavailable(retryAfter time.Duration, cause error) *Error {
	retryAfter = max(retryAfter, minUnavailableRetry)
	return &Error{Code: CodeWeChatUnavailable, RetryAfter: retryAfter, Err: cause,
		Message: "WeChat has been failing for this mini-program, so this server paused its calls to it; nothing was sent. " +
			"Try again in " + seconds(retryAfter) + "."}
}

// seconds words d as whole seconds, rounded up ("1 second", "30 seconds").
func seconds(d time.Duration) string {
	n := int(math.Ceil(d.Seconds()))
	if n == 1 {
		return "1 second"
	}
	return fmt.Sprintf("%d seconds", n)
}
