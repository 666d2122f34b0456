package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Fakes of the phone ports (function fields, as in fakes_test.go).

type fakeWeChatPhone struct {
	phoneNumber func(ctx context.Context, app domain.AppID, code string) (domain.WeChatPhone, error)
}

func (f fakeWeChatPhone) PhoneNumber(ctx context.Context, app domain.AppID, code string) (domain.WeChatPhone, error) {
	return f.phoneNumber(ctx, app, code)
}

type fakePhoneStore struct {
	set func(ctx context.Context, id domain.UserID, phone *domain.UserPhone) (domain.User, error)
}

func (f fakePhoneStore) SetUserPhone(ctx context.Context, id domain.UserID, phone *domain.UserPhone) (domain.User, error) {
	return f.set(ctx, id, phone)
}

var (
	_ ports.WeChatPhone = fakeWeChatPhone{}
	_ ports.PhoneStore  = fakePhoneStore{}
)

var cnPhone = domain.PhoneNumber{CountryCode: "86", PureNumber: "13800138000", Number: "13800138000"}

func TestPhonesBindStoresTheNumberWeChatGaveTheSessionsMiniProgram(t *testing.T) {
	now := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	var stored *domain.UserPhone
	uc := app.Phones{
		Clock: fixedClock{now},
		WeChat: fakeWeChatPhone{phoneNumber: func(_ context.Context, app domain.AppID, code string) (domain.WeChatPhone, error) {
			if app != "wxa" || code != "the-code" {
				t.Errorf("exchanged %q of %q, want the trimmed code of the session's app", code, app)
			}
			return domain.WeChatPhone{PhoneNumber: cnPhone, WatermarkAppID: "wxa"}, nil
		}},
		Store: fakePhoneStore{set: func(_ context.Context, id domain.UserID, p *domain.UserPhone) (domain.User, error) {
			if id != "u-1" {
				t.Errorf("stored on %q, want the caller", id)
			}
			stored = p
			return domain.User{ID: id, Phone: p}, nil
		}},
	}
	u, err := uc.Bind(context.Background(), "u-1", "wxa", "  the-code ")
	if err != nil {
		t.Fatal(err)
	}
	want := domain.UserPhone{PhoneNumber: cnPhone, AppID: "wxa", BoundAt: now}
	if stored == nil || *stored != want || u.Phone != stored {
		t.Fatalf("stored %+v, want %+v", stored, want)
	}
}

func TestPhonesBindRefusesBeforeCallingWeChat(t *testing.T) {
	// Any WeChat or store call panics: the fakes have no functions.
	uc := app.Phones{Clock: fixedClock{}, WeChat: fakeWeChatPhone{}, Store: fakePhoneStore{}}
	tests := []struct {
		name string
		app  domain.AppID
		code string
		want domain.Code
	}{
		{name: "a session no mini-program started", app: "", code: "c", want: domain.CodeWeChatLoginRequired},
		{name: "a blank code", app: "wxa", code: " ", want: domain.CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := uc.Bind(context.Background(), "u-1", tt.app, tt.code)
			if codeOf(err) != tt.want {
				t.Fatalf("err %v, want %s", err, tt.want)
			}
		})
	}
}

func TestPhonesBindNeverStoresAnotherMiniProgramsNumber(t *testing.T) {
	uc := app.Phones{
		Clock: fixedClock{},
		WeChat: fakeWeChatPhone{phoneNumber: func(context.Context, domain.AppID, string) (domain.WeChatPhone, error) {
			return domain.WeChatPhone{PhoneNumber: cnPhone, WatermarkAppID: "wxother"}, nil
		}},
		Store: fakePhoneStore{}, // a store call would panic
	}
	_, err := uc.Bind(context.Background(), "u-1", "wxa", "c")
	if codeOf(err) != domain.CodePhoneAppMismatch {
		t.Fatalf("err %v, want %s", err, domain.CodePhoneAppMismatch)
	}
}

func TestPhonesBindPassesWeChatsRefusalThrough(t *testing.T) {
	uc := app.Phones{
		Clock: fixedClock{},
		WeChat: fakeWeChatPhone{phoneNumber: func(context.Context, domain.AppID, string) (domain.WeChatPhone, error) {
			return domain.WeChatPhone{}, &domain.Error{Code: domain.CodePhoneCodeInvalid, Message: "refused"}
		}},
		Store: fakePhoneStore{},
	}
	_, err := uc.Bind(context.Background(), "u-1", "wxa", "c")
	if codeOf(err) != domain.CodePhoneCodeInvalid {
		t.Fatalf("err %v, want %s", err, domain.CodePhoneCodeInvalid)
	}
}

func TestPhonesUnbindClearsTheNumber(t *testing.T) {
	called := false
	uc := app.Phones{Store: fakePhoneStore{set: func(_ context.Context, id domain.UserID, p *domain.UserPhone) (domain.User, error) {
		called = true
		if p != nil {
			t.Errorf("set %+v, want nil", p)
		}
		return domain.User{ID: id}, nil
	}}}
	if _, err := uc.Unbind(context.Background(), "u-1"); err != nil || !called {
		t.Fatalf("unbind: %v (store called: %t)", err, called)
	}
}
