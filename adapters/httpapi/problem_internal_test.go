package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/domain"
)

// TestEachCodeHasItsStatus pins the one table from domain code to status.
func TestEachCodeHasItsStatus(t *testing.T) {
	want := map[int][]domain.Code{
		400: {domain.CodeInvalid, domain.CodeMalformedJSON, domain.CodeAppIDRequired, domain.CodeUnknownApp, domain.CodeInvalidCursor,
			domain.CodeWxaCodeSceneInvalid},
		401: {domain.CodeTokenMissing, domain.CodeTokenMalformed, domain.CodeTokenInvalid, domain.CodeTokenExpired,
			domain.CodeUnauthorized, domain.CodeWeChatCodeInvalid, domain.CodeWeChatCodeUsed, domain.CodeSessionRevoked,
			domain.CodeRefreshTokenInvalid, domain.CodeRefreshTokenReused, domain.CodeRefreshTokenExpired, domain.CodeInvalidCredentials,
			domain.CodeCloudRunIdentityMissing, domain.CodePushSignatureInvalid, domain.CodePushTimestampStale},
		403: {domain.CodeWeChatUserBlocked, domain.CodeForbidden, domain.CodeCurrentPasswordIncorrect, domain.CodeUploadTicketBad, domain.CodeUploadTicketOld,
			domain.CodeWeChatLoginRequired, domain.CodeConsoleAdminRequired, domain.CodeCSRFRejected},
		404: {domain.CodeNotFound, domain.CodePasswordAuthDisabled, domain.CodeCloudRunDisabled, domain.CodeJobNotFound},
		405: {domain.CodeMethodNotAllowed},
		409: {domain.CodeConflict, domain.CodeUsernameTaken, domain.CodeEmailTaken, domain.CodeWeChatAlreadyBound,
			domain.CodeWeChatAppAlreadyBound, domain.CodeUploadNotReceived, domain.CodeUploadNotReady, domain.CodeAttachmentLimit,
			domain.CodeWeChatSessionStale, domain.CodeJobNotRetryable},
		410: {domain.CodeUploadExpired},
		412: {domain.CodePreconditionFailed},
		413: {domain.CodeBodyTooLarge},
		415: {domain.CodeUnsupportedMediaType},
		422: {domain.CodeIdempotencyKeyReused, domain.CodeUploadSizeMismatch, domain.CodeUploadTypeMismatch, domain.CodeUploadWrongPurpose,
			domain.CodePhoneCodeInvalid, domain.CodePhoneCodeUsed, domain.CodeContentRisky,
			domain.CodeWeChatDataWrongApp, domain.CodeWeChatDataExpired, domain.CodeWeChatDataInvalid, domain.CodeWeChatSignatureInvalid, domain.CodeWxaCodePageNotFound},
		429: {domain.CodeWeChatRateLimited, domain.CodeTooManyAttempts, domain.CodeWxaCodeRateLimited, domain.CodeRateLimited},
		500: {domain.CodeInternal},
		502: {domain.CodeWeChatBadResponse, domain.CodeWeChatMisconfigured, domain.CodePhoneAppMismatch},
		503: {domain.CodeWeChatBusy, domain.CodeWeChatUnreachable, domain.CodeUnavailable, domain.CodeWeChatTokenUnavailable, domain.CodeContentCheckUnavailable,
			domain.CodeWeChatUnavailable},
		504: {domain.CodeWeChatTimeout},
	}
	n := 0
	for status, codes := range want {
		for _, code := range codes {
			n++
			p := problemFor(context.Background(), domain.Errorf(code, "m"))
			if p.Status != status || p.Code != string(code) || p.Title == "" {
				t.Errorf("%s: status %d, code %q, title %q; want %d", code, p.Status, p.Code, p.Title, status)
			}
		}
	}
	if n != len(kinds) {
		t.Errorf("the table has %d codes, the test %d", len(kinds), n)
	}
}

func TestUnknownCodeIsInternalAndHidesItsMessage(t *testing.T) {
	p := problemFor(context.Background(), &domain.Error{Code: "made_up", Message: "secret detail"})
	if p.Status != http.StatusInternalServerError || p.Code != "internal" || *p.Detail == "secret detail" {
		t.Errorf("got %+v, want an internal problem with the generic detail", p.Problem)
	}
}

func TestRetryAfterIsRoundedUpOrDefaulted(t *testing.T) {
	for _, tc := range []struct {
		err  *domain.Error
		want int
	}{
		{&domain.Error{Code: domain.CodeWeChatBusy, RetryAfter: 1500 * time.Millisecond}, 2},
		{&domain.Error{Code: domain.CodeWeChatBusy}, 5},
		{&domain.Error{Code: domain.CodeWeChatRateLimited}, 60},
	} {
		p := problemFor(context.Background(), tc.err)
		if p.retryAfter == nil || *p.retryAfter != tc.want {
			t.Errorf("%s with RetryAfter %s: Retry-After %v, want %d", tc.err.Code, tc.err.RetryAfter, p.retryAfter, tc.want)
		}
	}
	if p := problemFor(context.Background(), domain.Errorf(domain.CodeNotFound, "m")); p.retryAfter != nil {
		t.Errorf("a 404 has Retry-After %d", *p.retryAfter)
	}
}

// The validator leaves the strict handler few bodies it cannot decode;
// those that reach its RequestErrorHandlerFunc are still problems.
func TestStrictDecodeFailureIsMalformedJSON(t *testing.T) {
	h := &handler{log: slog.New(slog.DiscardHandler)}
	for _, tc := range []struct {
		err    error
		status int
		code   domain.Code
	}{
		{errors.New("json: cannot unmarshal number into Go struct field"), http.StatusBadRequest, domain.CodeMalformedJSON},
		{&http.MaxBytesError{Limit: 10}, http.StatusRequestEntityTooLarge, domain.CodeBodyTooLarge},
	} {
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		c.Request = httptest.NewRequest("POST", "/v1/auth/wechat", nil)
		h.requestDecodeError(c, tc.err)
		var p api.Problem
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		if w.Code != tc.status || p.Code != string(tc.code) || w.Header().Get("Content-Type") != "application/problem+json" || !c.IsAborted() {
			t.Errorf("%v: got %d %q (%s), want %d %s", tc.err, w.Code, p.Code, w.Header().Get("Content-Type"), tc.status, tc.code)
		}
	}
}
