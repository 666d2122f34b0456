package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
)

var now = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func loginUseCase(wc fakeWeChat, users fakeUsers, tokens *fakeTokens, apps ...domain.AppID) app.WeChatLogin {
	return app.WeChatLogin{Apps: app.NewApps(apps...), WeChat: wc, Users: users, Sessions: app.Sessions{
		Store: fakeSessionStore{create: func(_ context.Context, s domain.Session, _ domain.RefreshTokenHash) (domain.Session, error) {
			s.ID = "s-" + domain.SessionID(s.UserID)
			return s, nil
		}},
		Tokens: tokens, Clock: fixedClock{now}, Policy: policy,
	}}
}

func TestWeChatLoginIssuesTokenForTheStoredUser(t *testing.T) {
	alice := domain.User{ID: "u-1", Nickname: "alice"}
	var stored domain.WeChatIdentity
	tokens := &fakeTokens{}
	uc := loginUseCase(
		fakeWeChat{func(_ context.Context, app domain.AppID, code string) (domain.WeChatIdentity, error) {
			return domain.WeChatIdentity{AppID: app, OpenID: "o-" + domain.OpenID(code), SessionKey: "sk"}, nil
		}},
		fakeUsers{upsert: func(_ context.Context, id domain.WeChatIdentity) (domain.User, bool, error) {
			stored = id
			return alice, true, nil
		}},
		tokens, "wx1",
	)
	got, err := uc.Login(context.Background(), "", "abc", "WeChat/8.0")
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if stored.AppID != "wx1" || stored.OpenID != "o-abc" || stored.SessionKey.Reveal() != "sk" {
		t.Errorf("stored identity %+v, want the exchanged one for the only app", stored)
	}
	if got.AccessToken != "token-for-u-1" || got.ExpiresIn != 900 || !got.IsNewUser || got.User != alice {
		t.Errorf("login = %+v", got)
	}
	if got.Session.ID != "s-u-1" || got.Session.AppID != "wx1" || got.Session.UserAgent != "WeChat/8.0" || got.RefreshToken == "" {
		t.Errorf("session %+v, refresh token set: %t; want a session of the app with the client's user agent", got.Session, got.RefreshToken != "")
	}
	c := tokens.issued[0]
	if c.UserID != "u-1" || c.SessionID != "s-u-1" || c.Role != domain.RoleUser || c.AppID != "wx1" ||
		!c.IssuedAt.Equal(now) || !c.ExpiresAt.Equal(now.Add(15*time.Minute)) || len(c.TokenID) < 20 {
		t.Errorf("claims %+v", c)
	}
}

func TestWeChatLoginGivesEachTokenItsOwnID(t *testing.T) {
	tokens := &fakeTokens{}
	uc := loginUseCase(
		fakeWeChat{func(context.Context, domain.AppID, string) (domain.WeChatIdentity, error) {
			return domain.WeChatIdentity{OpenID: "o"}, nil
		}},
		fakeUsers{upsert: func(context.Context, domain.WeChatIdentity) (domain.User, bool, error) {
			return domain.User{ID: "u"}, false, nil
		}},
		tokens, "wx1",
	)
	for range 2 {
		if _, err := uc.Login(context.Background(), "", "c", ""); err != nil {
			t.Fatal(err)
		}
	}
	if tokens.issued[0].TokenID == tokens.issued[1].TokenID {
		t.Error("two logins got the same jti")
	}
}

func TestWeChatLoginResolvesTheApp(t *testing.T) {
	tests := []struct {
		name      string
		apps      []domain.AppID
		requested domain.AppID
		wantApp   domain.AppID
		wantCode  domain.Code
	}{
		{"the only app when none is named", []domain.AppID{"wx1"}, "", "wx1", ""},
		{"the named app", []domain.AppID{"wx1", "wx2"}, "wx2", "wx2", ""},
		{"an appid is required with several apps", []domain.AppID{"wx1", "wx2"}, "", "", domain.CodeAppIDRequired},
		{"an unknown appid is refused", []domain.AppID{"wx1"}, "wx9", "", domain.CodeUnknownApp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var exchangedFor domain.AppID
			uc := loginUseCase(
				fakeWeChat{func(_ context.Context, app domain.AppID, _ string) (domain.WeChatIdentity, error) {
					exchangedFor = app
					return domain.WeChatIdentity{AppID: app, OpenID: "o"}, nil
				}},
				fakeUsers{upsert: func(context.Context, domain.WeChatIdentity) (domain.User, bool, error) {
					return domain.User{ID: "u"}, false, nil
				}},
				&fakeTokens{}, tt.apps...,
			)
			_, err := uc.Login(context.Background(), tt.requested, "code", "")
			if got := codeOf(err); got != tt.wantCode {
				t.Fatalf("error code %q, want %q (err %v)", got, tt.wantCode, err)
			}
			if exchangedFor != tt.wantApp {
				t.Errorf("exchanged code for app %q, want %q", exchangedFor, tt.wantApp)
			}
		})
	}
}

func TestWeChatLoginPassesWeChatErrorsThroughWithTheirCodes(t *testing.T) {
	weChatErr := &domain.Error{Code: domain.CodeWeChatRateLimited, Message: "slow down", RetryAfter: time.Minute}
	uc := loginUseCase(
		fakeWeChat{func(context.Context, domain.AppID, string) (domain.WeChatIdentity, error) {
			return domain.WeChatIdentity{}, weChatErr
		}},
		fakeUsers{}, &fakeTokens{}, "wx1",
	)
	_, err := uc.Login(context.Background(), "", "code", "")
	var de *domain.Error
	if !errors.As(err, &de) || de != weChatErr {
		t.Fatalf("err = %v, want the adapter's *domain.Error unchanged", err)
	}
}

func TestWeChatLoginRejectsAnEmptyCodeWithoutCallingWeChat(t *testing.T) {
	uc := loginUseCase(fakeWeChat{}, fakeUsers{}, &fakeTokens{}, "wx1") // nil funcs: a call would panic
	_, err := uc.Login(context.Background(), "", "", "")
	if codeOf(err) != domain.CodeInvalid {
		t.Fatalf("err = %v, want validation_failed", err)
	}
}

func TestWeChatLoginFailuresAfterTheExchangeStayInternal(t *testing.T) {
	ok := fakeWeChat{func(context.Context, domain.AppID, string) (domain.WeChatIdentity, error) {
		return domain.WeChatIdentity{OpenID: "o", SessionKey: "very-secret-key"}, nil
	}}
	okUsers := fakeUsers{upsert: func(context.Context, domain.WeChatIdentity) (domain.User, bool, error) {
		return domain.User{ID: "u"}, false, nil
	}}
	badUsers := fakeUsers{upsert: func(context.Context, domain.WeChatIdentity) (domain.User, bool, error) {
		return domain.User{}, false, errors.New("connection reset")
	}}
	for name, uc := range map[string]app.WeChatLogin{
		"store fails":  loginUseCase(ok, badUsers, &fakeTokens{}, "wx1"),
		"signer fails": loginUseCase(ok, okUsers, &fakeTokens{err: errors.New("bad key")}, "wx1"),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := uc.Login(context.Background(), "", "code", "")
			if codeOf(err) != domain.CodeInternal {
				t.Fatalf("err = %v, want an internal error", err)
			}
			if strings.Contains(err.Error(), "very-secret-key") {
				t.Error("the session key leaked into an error")
			}
		})
	}
}

func codeOf(err error) domain.Code {
	if err == nil {
		return ""
	}
	return domain.ErrorCode(err)
}
