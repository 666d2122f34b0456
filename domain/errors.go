// Package domain holds miniback's business types and rules. It imports no
// framework, driver or network code: adapters translate to and from it.
package domain

import (
	"errors"
	"fmt"
	"time"
)

// Code is a stable machine-readable error code. Clients branch on it, so a
// code, once published, never changes meaning. The HTTP adapter owns the one
// table that maps each code to a status.
type Code string

// Generic codes.
const (
	CodeInvalid      Code = "validation_failed" // the input breaks a rule
	CodeNotFound     Code = "not_found"         // no such thing, or not the caller's
	CodeConflict     Code = "conflict"          // a uniqueness or state conflict
	CodeUnauthorized Code = "unauthorized"      // no or bad credentials
	CodeInternal     Code = "internal"          // a bug or an unexpected failure
	CodeUnavailable  Code = "unavailable"       // a dependency (the database) is down
)

// Login and WeChat codes. Each WeChat failure keeps its own code so a client
// can tell "ask the user to log in again" from "try later".
const (
	CodeUnknownApp          Code = "unknown_app"          // the appid is not configured here
	CodeAppIDRequired       Code = "appid_required"       // several apps are configured; say which
	CodeWeChatCodeInvalid   Code = "wechat_code_invalid"  // 40029
	CodeWeChatCodeUsed      Code = "wechat_code_used"     // 40163
	CodeWeChatRateLimited   Code = "wechat_rate_limited"  // 45011
	CodeWeChatUserBlocked   Code = "wechat_user_blocked"  // 40226
	CodeWeChatBusy          Code = "wechat_busy"          // -1
	CodeWeChatTimeout       Code = "wechat_timeout"       // no answer in time
	CodeWeChatBadResponse   Code = "wechat_bad_response"  // unparseable or unexpected reply
	CodeWeChatMisconfigured Code = "wechat_misconfigured" // WeChat refused our appid/secret
	CodeWeChatUnreachable   Code = "wechat_unreachable"   // transport failure
)

// Password-account codes.
const (
	CodeInvalidCredentials       Code = "invalid_credentials"        // unknown login name or wrong password: one code for both
	CodeTooManyAttempts          Code = "too_many_attempts"          // failed attempts are throttled; see RetryAfter
	CodeUsernameTaken            Code = "username_taken"             // another account has this username
	CodeEmailTaken               Code = "email_taken"                // another account has this email
	CodeCurrentPasswordIncorrect Code = "current_password_incorrect" // a password change with the wrong current password
	CodePasswordAuthDisabled     Code = "password_auth_disabled"     // this deployment has password accounts switched off
	CodeWeChatAlreadyBound       Code = "wechat_already_bound"       // the WeChat identity belongs to another account
	CodeWeChatAppAlreadyBound    Code = "wechat_app_already_bound"   // the account already has another WeChat identity in this app
)

// Error is miniback's one error type: a stable code, a message safe to show a
// client, optional field errors, and an optional retry hint.
type Error struct {
	Code       Code
	Message    string
	Fields     []FieldError
	RetryAfter time.Duration
	// Err is the underlying cause, for logs only; it never reaches a client.
	Err error
}

// FieldError names one bad field of the input.
type FieldError struct {
	Field   string // e.g. "nickname"
	Code    string // e.g. "too_long"
	Message string
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a formatted client-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or
// CodeInternal when there is none: an error nobody classified is a bug.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the client-safe message of err, hiding anything that
// is not a classified *Error.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != CodeInternal {
		return e.Message
	}
	return "An internal error occurred."
}

// Invalid builds a validation error from field errors.
func Invalid(fields ...FieldError) *Error {
	msg := "The request breaks a field rule."
	if len(fields) == 1 {
		msg = fields[0].Message
	}
	return &Error{Code: CodeInvalid, Message: msg, Fields: fields}
}

// Token codes: each way an access token can be refused has its own code.
const (
	CodeTokenMissing   Code = "token_missing"   // no bearer token
	CodeTokenMalformed Code = "token_malformed" // not a JWS compact token
	CodeTokenInvalid   Code = "token_invalid"   // bad signature, algorithm, kid, typ, iss or aud
	CodeTokenExpired   Code = "token_expired"   // past exp (or not yet valid)
	CodeSessionRevoked Code = "session_revoked" // the token's session was ended (logout, revocation, deleted account)
)

// Refresh token codes (POST /v1/auth/refresh).
const (
	CodeRefreshTokenInvalid Code = "refresh_token_invalid" // not a refresh token, or one we never issued
	CodeRefreshTokenReused  Code = "refresh_token_reused"  // already rotated: the session is now revoked (RFC 9700 4.14.2)
	CodeRefreshTokenExpired Code = "refresh_token_expired" // the session passed its idle or absolute lifetime
)

// CodeForbidden: the caller is known but may not do this (e.g. not an admin).
const CodeForbidden Code = "forbidden"

// Request-shape codes, produced by the HTTP adapter.
const (
	CodeBodyTooLarge         Code = "body_too_large"
	CodeUnsupportedMediaType Code = "unsupported_media_type"
	CodeMalformedJSON        Code = "malformed_json"
	CodeMethodNotAllowed     Code = "method_not_allowed"
)

// Task codes.
const (
	CodePreconditionFailed   Code = "precondition_failed"    // If-Match names a stale version
	CodeInvalidCursor        Code = "invalid_cursor"         // a page cursor that is forged, damaged, or made for other filters
	CodeIdempotencyKeyReused Code = "idempotency_key_reused" // an Idempotency-Key sent again with a different request
)
