package domain

// WeChat Cloud Hosting (微信云托管). When a mini-program calls the container
// with wx.cloud.callContainer, Cloud Hosting's gateway verifies the caller
// and adds its identity as request headers (X-WX-OPENID, X-WX-APPID, ...).
// Those headers are worth something only behind that gateway: anywhere else
// any client can send them. The rules here decide who a call is from; the
// deployment decides whether to look at the headers at all.

// Cloud Hosting codes.
const (
	// CodeCloudRunDisabled: this deployment does not run behind Cloud
	// Hosting's gateway, so it never reads the identity headers.
	CodeCloudRunDisabled Code = "cloudrun_disabled"
	// CodeCloudRunIdentityMissing: the call carries no identity from the
	// gateway (no X-WX-SOURCE, or no AppID and OpenID): it did not come
	// from a mini-program through wx.cloud.callContainer.
	CodeCloudRunIdentityMissing Code = "cloudrun_identity_missing"
)

// CloudRunCaller is the identity the gateway sent with one call, as it came
// (header values, not yet checked).
type CloudRunCaller struct {
	AppID   string // X-WX-APPID: the mini-program whose environment serves the call
	OpenID  string // X-WX-OPENID
	UnionID string // X-WX-UNIONID, when WeChat gives one
	// The From fields are set on resource sharing (资源复用): another
	// mini-program of the same owner calls this one's environment, and
	// they name that mini-program and its user.
	FromAppID   string // X-WX-FROM-APPID
	FromOpenID  string // X-WX-FROM-OPENID
	FromUnionID string // X-WX-FROM-UNIONID
	Source      string // X-WX-SOURCE: what triggered the call (wx_client, wx_devtools, ...)
	Env         string // X-WX-ENV: the Cloud Hosting environment
}

// cloudRunIDMaxBytes bounds each id header: WeChat's appids are 18
// characters, openids 28 and unionids 29; a value far longer is not one.
const cloudRunIDMaxBytes = 128

// Identity returns the WeChat user the call is from. On resource sharing
// that is the calling mini-program's user (X-WX-FROM-APPID and
// X-WX-FROM-OPENID): the user opened that mini-program, and that is where
// a wx.login of theirs would have put them. Otherwise it is X-WX-APPID and
// X-WX-OPENID. A call without X-WX-SOURCE did not come from WeChat and is
// refused, as is one with half of a pair. The identity has no session key:
// Cloud Hosting hands out none (see SessionKey).
func (c CloudRunCaller) Identity() (WeChatIdentity, error) {
	if c.Source == "" {
		return WeChatIdentity{}, missingCloudRunIdentity("X-WX-SOURCE",
			"The call did not come through WeChat Cloud Hosting (no X-WX-SOURCE): call it with wx.cloud.callContainer.")
	}
	appID, openID, unionID := c.AppID, c.OpenID, c.UnionID
	appHeader, openHeader, unionHeader := "X-WX-APPID", "X-WX-OPENID", "X-WX-UNIONID"
	if c.FromAppID != "" || c.FromOpenID != "" {
		appID, openID, unionID = c.FromAppID, c.FromOpenID, c.FromUnionID
		appHeader, openHeader, unionHeader = "X-WX-FROM-APPID", "X-WX-FROM-OPENID", "X-WX-FROM-UNIONID"
	}
	switch {
	case appID == "":
		return WeChatIdentity{}, missingCloudRunIdentity(appHeader,
			"The call carries no mini-program AppID from WeChat Cloud Hosting.")
	case openID == "":
		return WeChatIdentity{}, missingCloudRunIdentity(openHeader,
			"The call carries no WeChat user: call it from a mini-program with wx.cloud.callContainer.")
	}
	var fields []FieldError
	for _, h := range []struct{ name, value string }{{appHeader, appID}, {openHeader, openID}, {unionHeader, unionID}} {
		if !cloudRunID(h.value) {
			fields = append(fields, FieldError{Field: "header." + h.name, Code: "invalid_format",
				Message: h.name + " is not a WeChat id (letters, digits, - and _, at most 128)"})
		}
	}
	if len(fields) > 0 {
		return WeChatIdentity{}, Invalid(fields...)
	}
	return WeChatIdentity{AppID: AppID(appID), OpenID: OpenID(openID), UnionID: UnionID(unionID)}, nil
}

func missingCloudRunIdentity(header, msg string) *Error {
	return &Error{Code: CodeCloudRunIdentityMissing, Message: msg,
		Fields: []FieldError{{Field: "header." + header, Code: "required", Message: header + " is required"}}}
}

// cloudRunID reports whether s is empty or looks like a WeChat appid,
// openid or unionid.
func cloudRunID(s string) bool {
	if len(s) > cloudRunIDMaxBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '-' || b == '_') {
			return false
		}
	}
	return true
}
