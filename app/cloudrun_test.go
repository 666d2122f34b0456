package app_test

import (
	"context"
	"testing"

	"github.com/miniback/miniback/domain"
)

func TestCloudRunLogin(t *testing.T) {
	caller := domain.CloudRunCaller{AppID: "wx1", OpenID: "o-alice", UnionID: "u-alice", Source: "wx_client"}
	tests := []struct {
		name     string
		on       bool
		caller   domain.CloudRunCaller
		wantCode domain.Code // "" means a login
	}{
		{name: "mode on: the gateway's user logs in", on: true, caller: caller},
		{name: "mode off: refused whatever the headers", on: false, caller: caller, wantCode: domain.CodeCloudRunDisabled},
		{name: "mode off: refused before the identity is even checked", on: false, caller: domain.CloudRunCaller{}, wantCode: domain.CodeCloudRunDisabled},
		{name: "an AppID not served here is refused", on: true,
			caller: domain.CloudRunCaller{AppID: "wx-other", OpenID: "o-alice", Source: "wx_client"}, wantCode: domain.CodeUnknownApp},
		{name: "no X-WX-SOURCE is refused", on: true,
			caller: domain.CloudRunCaller{AppID: "wx1", OpenID: "o-alice"}, wantCode: domain.CodeCloudRunIdentityMissing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stored []domain.WeChatIdentity
			uc := loginUseCase(
				fakeWeChat{func(context.Context, domain.AppID, string) (domain.WeChatIdentity, error) {
					t.Error("a Cloud Hosting login called code2Session")
					return domain.WeChatIdentity{}, nil
				}},
				fakeUsers{upsert: func(_ context.Context, id domain.WeChatIdentity) (domain.User, bool, error) {
					stored = append(stored, id)
					return domain.User{ID: "u-1"}, true, nil
				}},
				&fakeTokens{}, "wx1", "wx2",
			)
			uc.CloudRun = tc.on
			got, err := uc.LoginCloudRun(context.Background(), tc.caller, "WeChat/8.0")
			if tc.wantCode != "" {
				if codeOf(err) != tc.wantCode {
					t.Fatalf("error %v, want %s", err, tc.wantCode)
				}
				if len(stored) != 0 {
					t.Errorf("a refused login stored %+v", stored)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := domain.WeChatIdentity{AppID: "wx1", OpenID: "o-alice", UnionID: "u-alice"}
			if len(stored) != 1 || stored[0] != want {
				t.Errorf("stored %+v, want %+v with no session key", stored, want)
			}
			if got.AccessToken == "" || got.RefreshToken == "" || got.Session.AppID != "wx1" || !got.IsNewUser {
				t.Errorf("login %+v: want a session of wx1", got)
			}
		})
	}
}
