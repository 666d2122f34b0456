package domain

import "time"

// CodeRateLimited: the caller sent more requests than its budget allows
// (per client address, per user or per mini-program, for the operation's
// group); RetryAfter says when one more will be accepted. Not to be
// confused with too_many_attempts (failed password attempts) or
// wechat_rate_limited (WeChat's own quota, 45011).
const CodeRateLimited Code = "rate_limited"

// RateLimited is the error of a request over its budget.
func RateLimited(wait time.Duration) *Error {
	return &Error{Code: CodeRateLimited, Message: "Too many requests; slow down and retry after Retry-After seconds.", RetryAfter: wait}
}
