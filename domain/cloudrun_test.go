package domain_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/miniback/miniback/domain"
)

func TestCloudRunCallerIdentity(t *testing.T) {
	const (
		app     = "wx00000000000000a1"
		openID  = "oAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		unionID = "uBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
		fromApp = "wx00000000000000b2"
		fromOID = "oCCCCCCCCCCCCCCCCCCCCCCCCCCC"
		fromUID = "uDDDDDDDDDDDDDDDDDDDDDDDDDDDD"
	)
	direct := domain.CloudRunCaller{AppID: app, OpenID: openID, Source: "wx_client", Env: "prod-1a2b"}
	with := func(f func(*domain.CloudRunCaller)) domain.CloudRunCaller {
		c := direct
		f(&c)
		return c
	}
	tests := []struct {
		name     string
		caller   domain.CloudRunCaller
		want     domain.WeChatIdentity
		wantCode domain.Code
		wantItem string // "field:code" of the error's field
	}{
		{name: "a call from the environment's own mini-program is its user", caller: direct,
			want: domain.WeChatIdentity{AppID: app, OpenID: openID}},
		{name: "the unionid comes along when WeChat sends one",
			caller: with(func(c *domain.CloudRunCaller) { c.UnionID = unionID }),
			want:   domain.WeChatIdentity{AppID: app, OpenID: openID, UnionID: unionID}},
		{name: "a call from the developer tools counts as well",
			caller: with(func(c *domain.CloudRunCaller) { c.Source = "wx_devtools" }),
			want:   domain.WeChatIdentity{AppID: app, OpenID: openID}},
		{name: "on resource sharing the caller is the calling mini-program's user",
			caller: with(func(c *domain.CloudRunCaller) {
				c.UnionID, c.FromAppID, c.FromOpenID, c.FromUnionID = unionID, fromApp, fromOID, fromUID
			}),
			want: domain.WeChatIdentity{AppID: fromApp, OpenID: fromOID, UnionID: fromUID}},
		{name: "on resource sharing the environment's unionid is not the caller's",
			caller: with(func(c *domain.CloudRunCaller) { c.UnionID, c.FromAppID, c.FromOpenID = unionID, fromApp, fromOID }),
			want:   domain.WeChatIdentity{AppID: fromApp, OpenID: fromOID}},
		{name: "without X-WX-SOURCE the call did not come from WeChat",
			caller:   with(func(c *domain.CloudRunCaller) { c.Source = "" }),
			wantCode: domain.CodeCloudRunIdentityMissing, wantItem: "header.X-WX-SOURCE:required"},
		{name: "no openid is no user",
			caller:   with(func(c *domain.CloudRunCaller) { c.OpenID = "" }),
			wantCode: domain.CodeCloudRunIdentityMissing, wantItem: "header.X-WX-OPENID:required"},
		{name: "no appid is no mini-program",
			caller:   with(func(c *domain.CloudRunCaller) { c.AppID = "" }),
			wantCode: domain.CodeCloudRunIdentityMissing, wantItem: "header.X-WX-APPID:required"},
		{name: "a FROM appid without its openid is refused, not taken for the environment's user",
			caller:   with(func(c *domain.CloudRunCaller) { c.FromAppID = fromApp }),
			wantCode: domain.CodeCloudRunIdentityMissing, wantItem: "header.X-WX-FROM-OPENID:required"},
		{name: "a FROM openid without its appid is refused",
			caller:   with(func(c *domain.CloudRunCaller) { c.FromOpenID = fromOID }),
			wantCode: domain.CodeCloudRunIdentityMissing, wantItem: "header.X-WX-FROM-APPID:required"},
		{name: "an openid that is no WeChat id is refused",
			caller:   with(func(c *domain.CloudRunCaller) { c.OpenID = "o AAA" }),
			wantCode: domain.CodeInvalid, wantItem: "header.X-WX-OPENID:invalid_format"},
		{name: "an overlong appid is refused",
			caller:   with(func(c *domain.CloudRunCaller) { c.AppID = strings.Repeat("w", 129) }),
			wantCode: domain.CodeInvalid, wantItem: "header.X-WX-APPID:invalid_format"},
		{name: "a unionid with punctuation is refused",
			caller:   with(func(c *domain.CloudRunCaller) { c.UnionID = "u/../x" }),
			wantCode: domain.CodeInvalid, wantItem: "header.X-WX-UNIONID:invalid_format"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.caller.Identity()
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				if got != tc.want {
					t.Errorf("identity %+v, want %+v", got, tc.want)
				}
				if got.SessionKey.Known() {
					t.Error("a Cloud Hosting identity has a session key")
				}
				return
			}
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != tc.wantCode {
				t.Fatalf("error %v, want code %s", err, tc.wantCode)
			}
			if len(de.Fields) != 1 || de.Fields[0].Field+":"+de.Fields[0].Code != tc.wantItem {
				t.Errorf("fields %+v, want %s", de.Fields, tc.wantItem)
			}
		})
	}
}

func TestSessionKeyKnown(t *testing.T) {
	if domain.SessionKey("").Known() {
		t.Error("the empty marker counts as a key")
	}
	if !domain.SessionKey("c2Vzc2lvbmtleQ==").Known() {
		t.Error("a real key does not count")
	}
}
