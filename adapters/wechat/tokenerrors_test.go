package wechat_test

import (
	"context"
	"strings"
	"testing"

	"github.com/miniback/miniback/adapters/wechat"
	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/domain"
)

// When an API call needs a new access token and stable_token fails, the
// caller gets stable_token's problem, which says what to fix: not a
// mapping of the errcode as if the API itself had answered it (45009 of
// stable_token is the daily token quota, not getwxacodeunlimit's
// 5,000-a-minute quota; 89503 wants an administrator, not a bug report).
func TestAPI_TheTokenCallsErrorsKeepTheirMeaningThroughEveryAPI(t *testing.T) {
	alice := domain.OpenID(wechatsim.OpenID(string(appA), "alice"))
	calls := map[string]func(*wechat.API) error{
		wechatsim.APIWxaCodeUnlimit: func(api *wechat.API) error {
			_, err := api.WxaCodeUnlimited(context.Background(), appA, wxaCode(t, domain.WxaCodeInput{Scene: "a"}))
			return err
		},
		wechatsim.APIGetUserPhoneNumber: func(api *wechat.API) error {
			_, err := api.PhoneNumber(context.Background(), appA, "phone-13800138000")
			return err
		},
		wechatsim.APIMsgSecCheck: func(api *wechat.API) error {
			_, err := wechat.NewContentSecurity(api).CheckText(context.Background(),
				domain.TextCheck{App: appA, OpenID: alice, Scene: domain.SceneProfile, Content: "hi"})
			return err
		},
		wechatsim.APIMediaCheckAsync: func(api *wechat.API) error {
			_, err := wechat.NewContentSecurity(api).CheckMedia(context.Background(),
				domain.MediaCheck{App: appA, OpenID: alice, Scene: 1, URL: "https://cdn.example.com/a.png"})
			return err
		},
		wechatsim.APISubscribeSend: func(api *wechat.API) error {
			_, err := api.SendSubscribe(context.Background(), reminderTo("alice"))
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			sim, api := newPlatform(t)
			sim.Visit(string(appA), "alice")
			sim.Grant(string(appA), string(alice), wechatsim.DefaultReminderTemplateID, 10)
			if err := call(api); err != nil {
				t.Fatalf("first call: %v", err)
			}
			for _, c := range []struct {
				errcode int
				code    domain.Code
				says    string
			}{
				{89503, domain.CodeWeChatMisconfigured, "administrator's confirmation"},
				{45009, domain.CodeWeChatRateLimited, "daily quota"},
				{40013, domain.CodeWeChatMisconfigured, "MINIBACK_WECHAT_APPS"},
			} {
				sim.Revoke(string(appA))
				sim.InjectError(wechatsim.APIStableToken, string(appA), c.errcode, 1)
				err := call(api)
				if domain.ErrorCode(err) != c.code || !strings.Contains(domain.ErrorMessage(err), c.says) {
					t.Errorf("stable_token %d: %s %q, want %s saying %q", c.errcode, domain.ErrorCode(err), domain.ErrorMessage(err), c.code, c.says)
				}
			}
		})
	}
}
