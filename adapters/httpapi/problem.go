package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/domain"
)

// problemTypeBase prefixes a code to make the problem's "type" URI.
const problemTypeBase = "https://miniback.dev/problems/"

// kind is how one domain code looks on the wire.
type kind struct {
	status int
	title  string
}

// kinds is the one table from domain code to HTTP status. A code missing
// here is answered as internal: an error nobody classified is a bug.
var kinds = map[domain.Code]kind{
	domain.CodeInvalid:                  {http.StatusBadRequest, "Validation failed"},
	domain.CodeMalformedJSON:            {http.StatusBadRequest, "Malformed JSON"},
	domain.CodeAppIDRequired:            {http.StatusBadRequest, "AppID required"},
	domain.CodeInvalidCursor:            {http.StatusBadRequest, "Invalid cursor"},
	domain.CodeUnknownApp:               {http.StatusBadRequest, "Unknown AppID"},
	domain.CodeWxaCodeSceneInvalid:      {http.StatusBadRequest, "Scene refused by WeChat"},
	domain.CodeTokenMissing:             {http.StatusUnauthorized, "Access token missing"},
	domain.CodeTokenMalformed:           {http.StatusUnauthorized, "Access token malformed"},
	domain.CodeTokenInvalid:             {http.StatusUnauthorized, "Access token invalid"},
	domain.CodeTokenExpired:             {http.StatusUnauthorized, "Access token expired"},
	domain.CodeSessionRevoked:           {http.StatusUnauthorized, "Session revoked"},
	domain.CodeRefreshTokenInvalid:      {http.StatusUnauthorized, "Refresh token invalid"},
	domain.CodeRefreshTokenReused:       {http.StatusUnauthorized, "Refresh token reused"},
	domain.CodeRefreshTokenExpired:      {http.StatusUnauthorized, "Refresh token expired"},
	domain.CodeUnauthorized:             {http.StatusUnauthorized, "Unauthorized"},
	domain.CodeWeChatCodeInvalid:        {http.StatusUnauthorized, "WeChat login code invalid"},
	domain.CodeWeChatCodeUsed:           {http.StatusUnauthorized, "WeChat login code already used"},
	domain.CodeInvalidCredentials:       {http.StatusUnauthorized, "Invalid credentials"},
	domain.CodeCloudRunIdentityMissing:  {http.StatusUnauthorized, "No caller identity from WeChat Cloud Hosting"},
	domain.CodePushSignatureInvalid:     {http.StatusUnauthorized, "Push signature invalid"},
	domain.CodePushTimestampStale:       {http.StatusUnauthorized, "Push timestamp out of window"},
	domain.CodeWeChatUserBlocked:        {http.StatusForbidden, "WeChat user blocked"},
	domain.CodeForbidden:                {http.StatusForbidden, "Forbidden"},
	domain.CodeUploadTicketBad:          {http.StatusForbidden, "Upload ticket invalid"},
	domain.CodeUploadTicketOld:          {http.StatusForbidden, "Upload ticket expired"},
	domain.CodeCurrentPasswordIncorrect: {http.StatusForbidden, "Current password incorrect"},
	domain.CodeWeChatLoginRequired:      {http.StatusForbidden, "WeChat login required"},
	domain.CodeConsoleAdminRequired:     {http.StatusForbidden, "Console is for administrators"},
	domain.CodeCSRFRejected:             {http.StatusForbidden, "Request not from the console"},
	domain.CodeNotFound:                 {http.StatusNotFound, "Not found"},
	domain.CodeJobNotFound:              {http.StatusNotFound, "Job not found"},
	domain.CodeJobNotRetryable:          {http.StatusConflict, "Job not retryable"},
	domain.CodePasswordAuthDisabled:     {http.StatusNotFound, "Password accounts switched off"},
	domain.CodeCloudRunDisabled:         {http.StatusNotFound, "WeChat Cloud Hosting mode switched off"},
	domain.CodeMethodNotAllowed:         {http.StatusMethodNotAllowed, "Method not allowed"},
	domain.CodeConflict:                 {http.StatusConflict, "Conflict"},
	domain.CodeUsernameTaken:            {http.StatusConflict, "Username taken"},
	domain.CodeEmailTaken:               {http.StatusConflict, "Email taken"},
	domain.CodeWeChatAlreadyBound:       {http.StatusConflict, "WeChat user bound to another account"},
	domain.CodeWeChatAppAlreadyBound:    {http.StatusConflict, "Account already bound in this mini-program"},
	domain.CodeUploadNotReceived:        {http.StatusConflict, "Upload not received"},
	domain.CodeUploadNotReady:           {http.StatusConflict, "Upload not ready"},
	domain.CodeAttachmentLimit:          {http.StatusConflict, "Too many attachments"},
	domain.CodeWeChatSessionStale:       {http.StatusConflict, "WeChat session_key replaced"},
	domain.CodeUploadExpired:            {http.StatusGone, "Upload expired"},
	domain.CodePreconditionFailed:       {http.StatusPreconditionFailed, "Precondition failed"},
	domain.CodeBodyTooLarge:             {http.StatusRequestEntityTooLarge, "Request body too large"},
	domain.CodeUnsupportedMediaType:     {http.StatusUnsupportedMediaType, "Unsupported media type"},
	domain.CodeIdempotencyKeyReused:     {http.StatusUnprocessableEntity, "Idempotency key reused"},
	domain.CodeUploadSizeMismatch:       {http.StatusUnprocessableEntity, "Upload size mismatch"},
	domain.CodeUploadTypeMismatch:       {http.StatusUnprocessableEntity, "Upload content type mismatch"},
	domain.CodeUploadWrongPurpose:       {http.StatusUnprocessableEntity, "Upload for another purpose"},
	domain.CodeWxaCodePageNotFound:      {http.StatusUnprocessableEntity, "Page unknown to WeChat"},
	domain.CodeSubscribeTemplateUnknown: {http.StatusUnprocessableEntity, "Subscribe template unknown"},
	domain.CodePhoneCodeInvalid:         {http.StatusUnprocessableEntity, "Phone number code invalid"},
	domain.CodePhoneCodeUsed:            {http.StatusUnprocessableEntity, "Phone number code already used"},
	domain.CodeContentRisky:             {http.StatusUnprocessableEntity, "Content refused by content security"},
	domain.CodeWeChatDataWrongApp:       {http.StatusUnprocessableEntity, "WeChat data of another mini-program"},
	domain.CodeWeChatDataExpired:        {http.StatusUnprocessableEntity, "WeChat data too old"},
	domain.CodeWeChatDataInvalid:        {http.StatusUnprocessableEntity, "WeChat data without a valid watermark"},
	domain.CodeWeChatSignatureInvalid:   {http.StatusUnprocessableEntity, "WeChat signature does not match"},
	domain.CodeWeChatRateLimited:        {http.StatusTooManyRequests, "WeChat rate limit reached"},
	domain.CodeTooManyAttempts:          {http.StatusTooManyRequests, "Too many attempts"},
	domain.CodeWxaCodeRateLimited:       {http.StatusTooManyRequests, "Too many new mini-program codes"},
	domain.CodeRateLimited:              {http.StatusTooManyRequests, "Rate limit reached"},
	domain.CodeInternal:                 {http.StatusInternalServerError, "Internal error"},
	domain.CodeWeChatBadResponse:        {http.StatusBadGateway, "Bad reply from WeChat"},
	domain.CodeWeChatMisconfigured:      {http.StatusBadGateway, "WeChat refused our credentials"},
	domain.CodePhoneAppMismatch:         {http.StatusBadGateway, "Phone number of another mini-program"},
	domain.CodeWeChatBusy:               {http.StatusServiceUnavailable, "WeChat busy"},
	domain.CodeWeChatUnreachable:        {http.StatusServiceUnavailable, "WeChat unreachable"},
	domain.CodeWeChatTokenUnavailable:   {http.StatusServiceUnavailable, "WeChat access token unavailable"},
	domain.CodeWeChatUnavailable:        {http.StatusServiceUnavailable, "WeChat unavailable"},
	domain.CodeUnavailable:              {http.StatusServiceUnavailable, "Service unavailable"},
	domain.CodeContentCheckUnavailable:  {http.StatusServiceUnavailable, "Content security unavailable"},
	domain.CodeWeChatTimeout:            {http.StatusGatewayTimeout, "WeChat timed out"},
}

// Retry hints for 429 and 503 answers whose error carries none.
const (
	defaultRetryTooMany     = 60 * time.Second
	defaultRetryUnavailable = 5 * time.Second
)

// problem is a problem document plus the headers the spec declares for
// some problems.
type problem struct {
	api.Problem
	retryAfter *int // seconds; set on 429 and 503 only
	// rateLimitPolicy and rateLimit are the RateLimit-Policy and
	// RateLimit headers of a 429 rate_limited (ratelimit.go).
	rateLimitPolicy *string
	rateLimit       *string
}

// problemFor turns err into the problem document for the request whose
// context is ctx. The detail is domain.ErrorMessage, so nothing internal
// ever reaches the client.
func problemFor(ctx context.Context, err error) problem {
	err = classifyTimeout(err)
	code, k := kindOf(err)
	detail := domain.ErrorMessage(err)
	if code == domain.CodeInternal {
		// Also for an *Error whose code is missing from kinds: its message
		// was written for a status it will not get.
		detail = "An internal error occurred."
	}
	p := problem{Problem: api.Problem{
		Type:   problemTypeBase + string(code),
		Title:  k.title,
		Status: k.status,
		Code:   string(code),
		Detail: nonEmpty(detail),
	}}
	p.Instance = nonEmpty(requestPathFrom(ctx))
	p.RequestId = nonEmpty(requestIDFrom(ctx))
	var de *domain.Error
	if errors.As(err, &de) && code != domain.CodeInternal && len(de.Fields) > 0 {
		fields := make([]api.FieldError, len(de.Fields))
		for i, f := range de.Fields {
			fields[i] = api.FieldError{Field: qualifiedField(f.Field), Code: f.Code, Message: f.Message}
		}
		p.Errors = &fields
	}
	if k.status == http.StatusTooManyRequests || k.status == http.StatusServiceUnavailable {
		var hint time.Duration
		if de != nil {
			hint = de.RetryAfter
		}
		if hint <= 0 {
			hint = defaultRetryUnavailable
			if k.status == http.StatusTooManyRequests {
				hint = defaultRetryTooMany
			}
		}
		secs := int(math.Ceil(hint.Seconds()))
		p.retryAfter = &secs
	}
	return p
}

// classifyTimeout makes an error nobody classified that comes from a
// passed deadline (the request's, Deps.Deadlines) a 503 unavailable: the
// request ran out of time waiting on something, which is no bug, and
// retrying later may work. The adapters classify their own timeouts (the
// database's is unavailable, WeChat's wechat_timeout); this catches the
// rest.
func classifyTimeout(err error) error {
	var de *domain.Error
	if errors.As(err, &de) || !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &domain.Error{Code: domain.CodeUnavailable, Err: err,
		Message: "The request did not finish in time, so whether it took effect is unknown; " +
			"retry later, with the same Idempotency-Key if it had one."}
}

// kindOf returns err's code and how it looks on the wire; an unknown code
// is internal.
func kindOf(err error) (domain.Code, kind) {
	code := domain.ErrorCode(err)
	if k, ok := kinds[code]; ok {
		return code, k
	}
	return domain.CodeInternal, kinds[domain.CodeInternal]
}

// qualifiedField names a field error's field with where it was sent:
// "body.nickname", "query.limit". Use-case field errors name bare fields,
// and every use-case input comes from the JSON body, so a bare "nickname"
// is "body.nickname".
func qualifiedField(name string) string {
	loc, _, _ := strings.Cut(name, ".")
	switch loc {
	case "body", "query", "path", "header", "cookie":
		return name
	}
	return "body." + name
}

// internalError marks err as internal whatever its code, for failures
// whose status the operation does not declare.
func internalError(err error) error {
	return &domain.Error{Code: domain.CodeInternal, Message: "An internal error occurred.", Err: err}
}

// write sends the problem as application/problem+json.
func (p problem) write(w http.ResponseWriter) {
	var buf bytes.Buffer
	// Encoding a Problem cannot fail: it holds only strings and ints.
	_ = json.NewEncoder(&buf).Encode(p.Problem)
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	if p.retryAfter != nil {
		h.Set("Retry-After", strconv.Itoa(*p.retryAfter))
	}
	if p.rateLimitPolicy != nil {
		h.Set("RateLimit-Policy", *p.rateLimitPolicy)
	}
	if p.rateLimit != nil {
		h.Set("RateLimit", *p.rateLimit)
	}
	w.WriteHeader(p.Status)
	_, _ = buf.WriteTo(w)
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
