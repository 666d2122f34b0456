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

// WeChat open-data codes (POST /v1/me/wechat-data): each says what the
// client should do, so the SDK can branch on them. A stale session_key is
// a 409, not a 401: the access token is good, and refreshing it (what
// clients do on a 401) would not bring the new key; a new login does.
const (
	CodeWeChatLoginRequired    Code = "wechat_login_required"    // the session is no WeChat login of a mini-program: no session_key to decrypt with
	CodeWeChatSessionStale     Code = "wechat_session_stale"     // the stored session_key does not open the data: wx.login, log in again, retry
	CodeWeChatDataWrongApp     Code = "wechat_data_wrong_app"    // watermark.appid names another mini-program
	CodeWeChatDataExpired      Code = "wechat_data_expired"      // watermark.timestamp older than the maximum age: get the data again
	CodeWeChatDataInvalid      Code = "wechat_data_invalid"      // decrypted, but without a valid watermark (or one from the future)
	CodeWeChatSignatureInvalid Code = "wechat_signature_invalid" // the data decrypts, but signature does not match raw_data
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
	s := string(e.Code)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
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
// is not a classified *Error. An *Error without a message of its own (a
// store's bare code) gets its code's generic wording.
func ErrorMessage(err error) string {
	var e *Error
	if !errors.As(err, &e) || e.Code == CodeInternal {
		return "An internal error occurred."
	}
	if e.Message != "" {
		return e.Message
	}
	if m, ok := genericMessages[e.Code]; ok {
		return m
	}
	return "The request failed."
}

// genericMessages word the codes a store answers with when the store's
// caller has nothing more specific to say.
var genericMessages = map[Code]string{
	CodeNotFound: "The record does not exist.",
	CodeConflict: "The record already exists.",
	// A write may have committed before the connection broke.
	CodeUnavailable: "The database is unavailable, so whether the request took effect is unknown; " +
		"retry later, with the same Idempotency-Key if it had one.",
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

// Message push codes: WeChat's calls to the push URL.
const (
	CodePushSignatureInvalid Code = "push_signature_invalid" // not signed (or encrypted) with the app's Token and EncodingAESKey
	CodePushTimestampStale   Code = "push_timestamp_stale"   // signed, but its timestamp is outside the window
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

// What the stores answer. A store picks the answer; the words are the
// domain's, so every store and use-case says the same thing. cause is for
// logs (nil when there is none).

// ErrUserNotFound: no such user (or an id that names none).
func ErrUserNotFound(cause error) *Error {
	return &Error{Code: CodeNotFound, Message: "The user does not exist.", Err: cause}
}

// ErrAccountGone: the signed-in account was deleted while the request
// ran (a row that names it could not be written). The caller's session
// ended with it, so the answer is the revoked session's.
func ErrAccountGone(cause error) *Error {
	return &Error{Code: CodeSessionRevoked, Message: "This account no longer exists; log in again.", Err: cause}
}

// ErrTodoNotFound: no such task, or another user's.
func ErrTodoNotFound(cause error) *Error {
	return &Error{Code: CodeNotFound, Message: "The task does not exist.", Err: cause}
}

// ErrSessionNotFound: the user has no such session.
func ErrSessionNotFound(cause error) *Error {
	return &Error{Code: CodeNotFound, Message: "You have no such session.", Err: cause}
}

// ErrAttachmentNotFound: the upload is not attached to the task.
func ErrAttachmentNotFound(cause error) *Error {
	return &Error{Code: CodeNotFound, Message: "The attachment does not exist.", Err: cause}
}

// ErrNoPassword: the account has no password credential.
func ErrNoPassword(cause error) *Error {
	return &Error{Code: CodeNotFound, Message: "The account has no password.", Err: cause}
}

// ErrUsernameTaken: another account has the username.
func ErrUsernameTaken(cause error) *Error {
	return &Error{Code: CodeUsernameTaken, Message: "This username is taken.", Err: cause,
		Fields: []FieldError{{Field: "username", Code: "taken", Message: "username is taken"}}}
}

// ErrEmailTaken: another account has the email.
func ErrEmailTaken(cause error) *Error {
	return &Error{Code: CodeEmailTaken, Message: "This email is already registered.", Err: cause,
		Fields: []FieldError{{Field: "email", Code: "taken", Message: "email is already registered"}}}
}

// ErrHasPassword: the account has a password already.
func ErrHasPassword(cause error) *Error {
	return &Error{Code: CodeConflict, Message: "The account already has a password.", Err: cause}
}

// ErrPasswordChanged: the password changed between reading and replacing
// its hash.
func ErrPasswordChanged(cause error) *Error {
	return &Error{Code: CodeConflict, Message: "The password was changed meanwhile; try again.", Err: cause}
}

// ErrConcurrentLogin: a concurrent first login of the same WeChat user
// kept winning.
func ErrConcurrentLogin(cause error) *Error {
	return &Error{Code: CodeConflict, Message: "A concurrent login for this user is in progress; try again.", Err: cause}
}

// ErrWeChatIdentityChanged: the WeChat identity changed hands while it was
// being bound.
func ErrWeChatIdentityChanged(cause error) *Error {
	return &Error{Code: CodeConflict, Message: "The WeChat account changed meanwhile; try again.", Err: cause}
}

// ErrWeChatAlreadyBound: the WeChat identity belongs to another user.
func ErrWeChatAlreadyBound(cause error) *Error {
	return &Error{Code: CodeWeChatAlreadyBound, Message: "This WeChat account already belongs to another user.", Err: cause}
}

// ErrWeChatAppAlreadyBound: the user has another WeChat identity in the
// same mini-program.
func ErrWeChatAppAlreadyBound(cause error) *Error {
	return &Error{Code: CodeWeChatAppAlreadyBound, Message: "This account already has another WeChat user of this mini-program.", Err: cause}
}

// ErrRefreshTokenInvalid: not a refresh token this server issued.
func ErrRefreshTokenInvalid(cause error) *Error {
	return &Error{Code: CodeRefreshTokenInvalid, Message: "The refresh token is invalid; log in again.", Err: cause}
}

// ErrIdempotencyKeyBusy: a concurrent request with the same key kept the
// key's result out of reach.
func ErrIdempotencyKeyBusy(cause error) *Error {
	return &Error{Code: CodeConflict, Message: "A concurrent request with this Idempotency-Key is in progress; try again.", Err: cause}
}

// ErrIdempotencyKeyReused: the key was first used with another request.
func ErrIdempotencyKeyReused() *Error {
	return Errorf(CodeIdempotencyKeyReused, "This Idempotency-Key was already used with a different request; use a new key for a new task.")
}
