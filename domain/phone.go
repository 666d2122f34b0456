package domain

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Phone numbers come from WeChat: the mini-program's getPhoneNumber button
// gives the client a single-use code, and the server exchanges it for the
// number at WeChat (getuserphonenumber) with the mini-program's access
// token. The client never sends a number itself.

// PhoneNumber is a phone number as WeChat verified it.
type PhoneNumber struct {
	// CountryCode is the country calling code, digits without "+": "86".
	CountryCode string
	// PureNumber is the number without its country code: "13800138000".
	PureNumber string
	// Number is the number as WeChat gives it (phoneNumber): the pure
	// number in mainland China, with the country code elsewhere.
	Number string
}

// Limits of a PhoneNumber's parts, as the schema and the database hold
// them.
const (
	PhoneCountryCodeMaxDigits = 4
	PhonePureNumberMaxDigits  = 20
	PhoneNumberMaxBytes       = 32
	// PhoneCodeMaxBytes bounds a getPhoneNumber code (WeChat's are 64 hex
	// characters).
	PhoneCodeMaxBytes = 128
)

// NewPhoneNumber checks the parts of a number WeChat sent: a country code
// of 1 to 4 digits (a leading "+" is dropped), a pure number of 1 to 20
// digits, and a full number of 1 to 32 printable bytes. Anything else is
// not a number WeChat sends; the error says which part is wrong (the
// caller treats it as a bad reply).
func NewPhoneNumber(countryCode, pureNumber, number string) (PhoneNumber, error) {
	cc := strings.TrimPrefix(strings.TrimSpace(countryCode), "+")
	pure := strings.TrimSpace(pureNumber)
	full := strings.TrimSpace(number)
	switch {
	case !isDigits(cc, PhoneCountryCodeMaxDigits):
		return PhoneNumber{}, fmt.Errorf("country code %q is not 1 to %d digits", truncateRunes(countryCode, 16), PhoneCountryCodeMaxDigits)
	case !isDigits(pure, PhonePureNumberMaxDigits):
		return PhoneNumber{}, fmt.Errorf("pure phone number is not 1 to %d digits (%d bytes)", PhonePureNumberMaxDigits, len(pureNumber))
	case full == "" || len(full) > PhoneNumberMaxBytes || !utf8.ValidString(full) || hasControl(full):
		return PhoneNumber{}, fmt.Errorf("phone number is not 1 to %d printable bytes (%d bytes)", PhoneNumberMaxBytes, len(number))
	}
	return PhoneNumber{CountryCode: cc, PureNumber: pure, Number: full}, nil
}

// WeChatPhone is getuserphonenumber's answer: the number and its
// watermark, which names the mini-program the number was given to.
type WeChatPhone struct {
	PhoneNumber
	WatermarkAppID AppID
	WatermarkTime  time.Time // when the user tapped the button
}

// UserPhone is the phone number bound to an account.
type UserPhone struct {
	PhoneNumber
	// AppID is the mini-program whose code verified the number.
	AppID   AppID
	BoundAt time.Time
}

// BindTo checks that WeChat gave the number to app, the mini-program of
// the caller's session, and returns it as bound at now. A number of
// another mini-program is CodePhoneAppMismatch and is never stored.
func (p WeChatPhone) BindTo(app AppID, now time.Time) (UserPhone, error) {
	if p.WatermarkAppID != app {
		return UserPhone{}, &Error{Code: CodePhoneAppMismatch,
			Message: "WeChat returned the phone number of another mini-program; it was not stored.",
			Err:     fmt.Errorf("watermark appid %q, session appid %q", p.WatermarkAppID, app)}
	}
	return UserPhone{PhoneNumber: p.PhoneNumber, AppID: app, BoundAt: now}, nil
}

// Phone codes.
const (
	// CodePhoneCodeInvalid: WeChat refused the getPhoneNumber code
	// (40029). WeChat answers so for an invalid, expired or already used
	// code alike.
	CodePhoneCodeInvalid Code = "wechat_phone_code_invalid"
	// CodePhoneCodeUsed: WeChat said the code was already used (40163).
	CodePhoneCodeUsed Code = "wechat_phone_code_used"
	// CodePhoneAppMismatch: WeChat's answer carries another mini-program's
	// AppID in its watermark.
	CodePhoneAppMismatch Code = "wechat_phone_app_mismatch"
)

// NormalizePhoneCode trims a getPhoneNumber code and checks its shape
// before it costs a call to WeChat (a paid one, on success).
func NormalizePhoneCode(code string) (string, error) {
	c := strings.TrimSpace(code)
	switch {
	case c == "":
		return "", Invalid(FieldError{"code", "required", "code must not be blank"})
	case len(c) > PhoneCodeMaxBytes:
		return "", Invalid(FieldError{"code", "too_long", "code must be at most 128 bytes"})
	case hasControl(c):
		return "", Invalid(FieldError{"code", "invalid_characters", "code must not contain control characters"})
	}
	return c, nil
}

// ErrWeChatSessionRequired: binding a phone from a session that no
// mini-program's login started (a password login).
func ErrWeChatSessionRequired() *Error {
	return Errorf(CodeWeChatLoginRequired,
		"Binding a phone number needs a session from a WeChat login (wx.login, then POST /v1/auth/wechat) in the mini-program whose button gave the code.")
}

// PhoneSearchDigits returns the digits of an admin's search when it reads
// as a phone number: digits with an optional leading "+" and spaces,
// hyphens, dots or parentheses between them, 4 to 24 digits in all.
// Otherwise it returns "". The store matches the digits against whole
// numbers, with and without their country code, so "13800138000",
// "+86 138-0013-8000" and "8613800138000" all find the same user.
func PhoneSearchDigits(search string) string {
	s := strings.TrimPrefix(strings.TrimSpace(search), "+")
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return ""
		}
	}
	if n := b.Len(); n < 4 || n > PhoneCountryCodeMaxDigits+PhonePureNumberMaxDigits {
		return ""
	}
	return b.String()
}

// isDigits reports whether s is 1 to max ASCII digits.
func isDigits(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// truncateRunes cuts s to at most n runes, for error texts.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
