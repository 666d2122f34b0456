package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Mini-program codes (小程序码) from WeChat's getwxacodeunlimit: the rules
// a request must meet before WeChat is asked, the defaults WeChat applies,
// and the key under which an identical request's image is cached.

// Codes of the QR code operation.
const (
	// CodeWxaCodeSceneInvalid: WeChat refused the scene (40169); the
	// rules below make this rare.
	CodeWxaCodeSceneInvalid Code = "wxacode_scene_invalid"
	// CodeWxaCodePageNotFound: the page is not in the published
	// mini-program (41030).
	CodeWxaCodePageNotFound Code = "wxacode_page_not_found"
	// CodeWxaCodeRateLimited: the user made too many codes that were not
	// cached yet (this deployment's limit, not WeChat's quota).
	CodeWxaCodeRateLimited Code = "wxacode_rate_limited"
)

// WeChat's limits and defaults for getwxacodeunlimit.
const (
	WxaCodeSceneMaxLen = 32
	WxaCodePageMaxLen  = 128
	WxaCodeMinWidth    = 280
	WxaCodeMaxWidth    = 1280
	WxaCodeWidth       = 430 // WeChat's default width
)

// wxaSceneChars are the characters WeChat allows in a scene besides
// ASCII letters and digits.
const wxaSceneChars = "!#$&'()*+,/:;=?@-._~"

// WxaEnvVersion is the version of the mini-program a code opens.
type WxaEnvVersion string

const (
	WxaEnvRelease WxaEnvVersion = "release"
	WxaEnvTrial   WxaEnvVersion = "trial"
	WxaEnvDevelop WxaEnvVersion = "develop"
)

// RGB is a line colour.
type RGB struct{ R, G, B uint8 }

// WxaCodeInput is a request as the client sent it: nil is "not sent".
type WxaCodeInput struct {
	Scene      string
	Page       *string
	Width      *int
	EnvVersion *string
	CheckPath  *bool
	AutoColor  *bool
	LineColor  *[3]int // r, g, b
	IsHyaline  *bool
}

// WxaCode is a checked request with WeChat's defaults filled in, so that
// two requests WeChat answers with the same image are equal.
type WxaCode struct {
	Scene      string
	Page       string // "" is the home page
	Width      int
	EnvVersion WxaEnvVersion
	CheckPath  bool
	AutoColor  bool
	LineColor  RGB // black, and always black when AutoColor
	IsHyaline  bool
}

// NewWxaCode checks in against WeChat's rules and fills in its defaults.
// Every broken rule is a field error.
func NewWxaCode(in WxaCodeInput) (WxaCode, error) {
	c := WxaCode{Scene: in.Scene, Width: WxaCodeWidth, EnvVersion: WxaEnvRelease, CheckPath: true}
	var fields []FieldError
	if f, ok := checkWxaScene(in.Scene); !ok {
		fields = append(fields, f)
	}
	if in.Page != nil {
		c.Page = *in.Page
		if f, ok := checkWxaPage(c.Page); !ok {
			fields = append(fields, f)
		}
	}
	if in.Width != nil {
		c.Width = *in.Width
		if c.Width < WxaCodeMinWidth || c.Width > WxaCodeMaxWidth {
			fields = append(fields, FieldError{Field: "width", Code: "out_of_range",
				Message: fmt.Sprintf("width must be %d to %d pixels", WxaCodeMinWidth, WxaCodeMaxWidth)})
		}
	}
	if in.EnvVersion != nil {
		switch v := WxaEnvVersion(*in.EnvVersion); v {
		case WxaEnvRelease, WxaEnvTrial, WxaEnvDevelop:
			c.EnvVersion = v
		default:
			fields = append(fields, FieldError{Field: "env_version", Code: "invalid",
				Message: "env_version must be release, trial or develop"})
		}
	}
	if in.CheckPath != nil {
		c.CheckPath = *in.CheckPath
	}
	if in.AutoColor != nil {
		c.AutoColor = *in.AutoColor
	}
	if in.IsHyaline != nil {
		c.IsHyaline = *in.IsHyaline
	}
	if in.LineColor != nil {
		var rgb [3]uint8
		for i, v := range *in.LineColor {
			if v < 0 || v > 255 {
				fields = append(fields, FieldError{Field: "line_color." + "rgb"[i:i+1], Code: "out_of_range",
					Message: "a colour component must be 0 to 255"})
				continue
			}
			rgb[i] = uint8(v)
		}
		// WeChat ignores line_color when auto_color is on: so does the
		// cache key.
		if !c.AutoColor {
			c.LineColor = RGB{rgb[0], rgb[1], rgb[2]}
		}
	}
	if len(fields) > 0 {
		return WxaCode{}, Invalid(fields...)
	}
	return c, nil
}

// checkWxaScene applies WeChat's scene rule: 1 to 32 characters, each an
// ASCII letter or digit or one of wxaSceneChars.
func checkWxaScene(s string) (FieldError, bool) {
	switch {
	case s == "":
		return FieldError{Field: "scene", Code: "required", Message: "scene is required (1 to 32 characters)"}, false
	case len(s) > WxaCodeSceneMaxLen:
		return FieldError{Field: "scene", Code: "too_long",
			Message: fmt.Sprintf("scene must be at most %d characters", WxaCodeSceneMaxLen)}, false
	}
	for i := 0; i < len(s); i++ {
		if !isWxaSceneChar(s[i]) {
			return FieldError{Field: "scene", Code: "invalid_character",
				Message: "scene may hold only 0-9, A-Z, a-z and " + wxaSceneChars + " (encode anything else; % is not allowed)"}, false
		}
	}
	return FieldError{}, true
}

func isWxaSceneChar(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || strings.IndexByte(wxaSceneChars, b) >= 0
}

// checkWxaPage applies WeChat's page rule: a path in the mini-program, no
// leading slash, no query (parameters go in the scene).
func checkWxaPage(p string) (FieldError, bool) {
	bad := func(code, msg string) (FieldError, bool) {
		return FieldError{Field: "page", Code: code, Message: msg}, false
	}
	switch {
	case p == "":
		return FieldError{}, true
	case len(p) > WxaCodePageMaxLen:
		return bad("too_long", fmt.Sprintf("page must be at most %d characters", WxaCodePageMaxLen))
	case p[0] == '/':
		return bad("leading_slash", "page must not start with / (e.g. pages/index/index)")
	case strings.ContainsAny(p, "?#"):
		return bad("has_query", "page must not carry a ?query: put parameters in scene")
	}
	for _, r := range p {
		if r <= ' ' || r == 0x7f {
			return bad("invalid_character", "page must not contain spaces or control characters")
		}
	}
	return FieldError{}, true
}

// canonical is the request's parameters in one fixed form; its version
// prefix changes whenever the form does, so old cache entries are never
// read with a new meaning.
func (c WxaCode) canonical() string {
	var b strings.Builder
	b.WriteString("wxacode/v1\n")
	for _, kv := range [][2]string{
		{"scene", c.Scene},
		{"page", c.Page},
		{"width", strconv.Itoa(c.Width)},
		{"env_version", string(c.EnvVersion)},
		{"check_path", strconv.FormatBool(c.CheckPath)},
		{"auto_color", strconv.FormatBool(c.AutoColor)},
		{"line_color", fmt.Sprintf("%d,%d,%d", c.LineColor.R, c.LineColor.G, c.LineColor.B)},
		{"is_hyaline", strconv.FormatBool(c.IsHyaline)},
	} {
		// Lengths first: no value can pose as another field.
		fmt.Fprintf(&b, "%s=%d:%s\n", kv[0], len(kv[1]), kv[1])
	}
	return b.String()
}

// CacheKey is the object key of app's image for c: every AppID has its
// own prefix (codes of two mini-programs never collide), and the name is
// the SHA-256 of the canonical parameters.
func (c WxaCode) CacheKey(app AppID) string {
	sum := sha256.Sum256([]byte(c.canonical()))
	return "wxacode/" + string(app) + "/" + hex.EncodeToString(sum[:])
}

// WxaCodeImage is a code as WeChat sent it.
type WxaCodeImage struct {
	ContentType string // image/jpeg or image/png
	Data        []byte
}

// WxaCodeMaxBytes bounds a code's image: WeChat's largest (1280 px) are
// a few hundred KiB.
const WxaCodeMaxBytes = 4 << 20

// ETag is a strong entity tag of the image bytes.
func (i WxaCodeImage) ETag() string {
	sum := sha256.Sum256(i.Data)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// IsWxaCodeImageType reports whether ct is a type WeChat sends codes in.
func IsWxaCodeImageType(ct string) bool { return ct == "image/jpeg" || ct == "image/png" }

// ErrWxaCodeNeedsWeChatSession: a password session has no mini-program to
// make a code for.
func ErrWxaCodeNeedsWeChatSession() *Error {
	return &Error{Code: CodeWeChatLoginRequired,
		Message: "Mini-program codes are made for the mini-program you logged in with: log in with wx.login (POST /v1/auth/wechat) and try again."}
}

// ErrWxaCodeSceneInvalid: WeChat refused the scene (errcode 40169).
func ErrWxaCodeSceneInvalid(cause error) *Error {
	return &Error{Code: CodeWxaCodeSceneInvalid, Err: cause,
		Message: "WeChat refused the scene (errcode 40169): use 1 to 32 of 0-9, A-Z, a-z and " + wxaSceneChars + "."}
}

// ErrWxaCodePageNotFound: the page is not in the published mini-program
// (errcode 41030).
func ErrWxaCodePageNotFound(page string, cause error) *Error {
	if page == "" {
		page = "(home page)"
	}
	return &Error{Code: CodeWxaCodePageNotFound, Err: cause,
		Fields: []FieldError{{Field: "page", Code: "not_found", Message: "WeChat does not know this page"}},
		Message: fmt.Sprintf("WeChat does not know page %s in the published mini-program (errcode 41030): publish it, "+
			"or send check_path: false to make a code for a page of an unpublished version (with env_version trial or develop).", page)}
}

// ErrWxaCodeQuota: WeChat's minute quota of codes for the mini-program is
// used up (errcode 45009). It is the deployment's, shared by every user.
func ErrWxaCodeQuota(cause error) *Error {
	return &Error{Code: CodeWeChatRateLimited, RetryAfter: time.Minute, Err: cause,
		Message: "WeChat's quota of mini-program codes (5,000 a minute per mini-program) is used up (errcode 45009); try again in a minute."}
}

// ErrWxaCodeUserLimit: the user made too many new codes; wait before
// making more.
func ErrWxaCodeUserLimit(wait time.Duration) *Error {
	return &Error{Code: CodeWxaCodeRateLimited, RetryAfter: wait,
		Message: "You made too many new mini-program codes; codes made before still work. Try again later."}
}

// ThrottleWxaCode counts the mini-program codes a user makes that were
// not cached yet.
const ThrottleWxaCode ThrottleScope = "wxacode"

// WxaCodeThrottleKey counts user's new mini-program codes.
func WxaCodeThrottleKey(user UserID) ThrottleKey {
	return ThrottleKey{Scope: ThrottleWxaCode, Key: "user:" + string(user)}
}
