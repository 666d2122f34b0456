package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/httpapi/apitest"
	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/domain"
)

// phoneBody is api.Phone as a test reads it.
type phoneBody struct {
	PhoneNumber     string    `json:"phone_number"`
	PurePhoneNumber string    `json:"pure_phone_number"`
	CountryCode     string    `json:"country_code"`
	BoundAt         time.Time `json:"bound_at"`
}

// phoneUser is the part of api.User these tests read; Phone is nil when
// the member is absent.
type phoneUser struct {
	ID    string     `json:"id"`
	Phone *phoneBody `json:"phone"`
}

// bindPhone posts code to /v1/me/phone with access.
func (e *env) bindPhone(access, code string) *apitest.Response {
	return e.api.JSON("POST", "/v1/me/phone", map[string]string{"code": code}, bearer(access))
}

func decodePhoneUser(t *testing.T, res *apitest.Response) phoneUser {
	t.Helper()
	if res.Status != http.StatusOK {
		t.Fatalf("want 200\n%s", res)
	}
	var u phoneUser
	res.Decode(&u)
	return u
}

func TestBindPhoneStoresWeChatsNumberAndEveryProfileShowsIt(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	before := time.Now().Add(-time.Second)

	got := decodePhoneUser(t, e.bindPhone(l.AccessToken, "  phone-13800138000 "))
	want := phoneBody{PhoneNumber: "13800138000", PurePhoneNumber: "13800138000", CountryCode: "86"}
	if got.ID != l.User.ID || got.Phone == nil {
		t.Fatalf("bound %+v, want the caller with a phone", got)
	}
	if p := *got.Phone; p.PhoneNumber != want.PhoneNumber || p.PurePhoneNumber != want.PurePhoneNumber ||
		p.CountryCode != want.CountryCode || p.BoundAt.Before(before) || p.BoundAt.After(time.Now().Add(time.Second)) {
		t.Fatalf("phone %+v, want %+v bound now", p, want)
	}

	me := decodePhoneUser(t, e.api.Get("/v1/me", bearer(l.AccessToken)))
	if me.Phone == nil || *me.Phone != *got.Phone {
		t.Fatalf("GET /v1/me phone %+v, want %+v", me.Phone, got.Phone)
	}
	// The next login's user carries it too.
	res := e.api.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-alice"})
	var again struct {
		User phoneUser `json:"user"`
	}
	res.Decode(&again)
	if again.User.Phone == nil || *again.User.Phone != *got.Phone {
		t.Fatalf("login user phone %+v, want %+v", again.User.Phone, got.Phone)
	}
	// A profile patch keeps it.
	patched := decodePhoneUser(t, e.api.JSON("PATCH", "/v1/me", map[string]string{"bio": "hi"}, bearer(l.AccessToken)))
	if patched.Phone == nil || *patched.Phone != *got.Phone {
		t.Fatalf("PATCH /v1/me phone %+v", patched.Phone)
	}
	if n := e.sim.Simulator().CallsTo(wechatsim.APIGetUserPhoneNumber); n != 1 {
		t.Errorf("getuserphonenumber called %d times, want 1", n)
	}
}

func TestBindPhoneDecodesEachShapeOfWeChatsAnswer(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	tests := []struct {
		code string
		want phoneBody
	}{
		{"phonenum-13900139000", phoneBody{PhoneNumber: "13900139000", PurePhoneNumber: "13900139000", CountryCode: "86"}},
		{"intl-1-2025550123", phoneBody{PhoneNumber: "+1 2025550123", PurePhoneNumber: "2025550123", CountryCode: "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			got := decodePhoneUser(t, e.bindPhone(l.AccessToken, tt.code)).Phone
			if got == nil || got.PhoneNumber != tt.want.PhoneNumber || got.PurePhoneNumber != tt.want.PurePhoneNumber ||
				got.CountryCode != tt.want.CountryCode {
				t.Fatalf("phone %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestBindPhoneFailuresHaveTheirOwnCodes(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	tests := []struct {
		name       string
		code       string
		status     int
		want       domain.Code
		retryAfter string // "" when the answer has none
	}{
		{name: "an invalid code", code: "err-40029", status: http.StatusUnprocessableEntity, want: domain.CodePhoneCodeInvalid},
		{name: "a code WeChat says is used", code: "err-40163", status: http.StatusUnprocessableEntity, want: domain.CodePhoneCodeUsed},
		{name: "a real code the simulator never issued", code: strings.Repeat("e3", 32), status: http.StatusUnprocessableEntity, want: domain.CodePhoneCodeInvalid},
		{name: "another mini-program's number", code: "otherapp-13800138000", status: http.StatusBadGateway, want: domain.CodePhoneAppMismatch},
		{name: "WeChat busy", code: "err-busy", status: http.StatusServiceUnavailable, want: domain.CodeWeChatBusy, retryAfter: "2"},
		{name: "WeChat's minute quota", code: "err-45011", status: http.StatusTooManyRequests, want: domain.CodeWeChatRateLimited, retryAfter: "60"},
		{name: "an unusable number", code: "err-badphone", status: http.StatusBadGateway, want: domain.CodeWeChatBadResponse},
		{name: "a blank code", code: "   ", status: http.StatusBadRequest, want: domain.CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.bindPhone(l.AccessToken, tt.code)
			wantProblem(t, res, tt.status, tt.want)
			if got := res.Header.Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tt.retryAfter)
			}
		})
	}
	// None of them stored anything.
	if me := decodePhoneUser(t, e.api.Get("/v1/me", bearer(l.AccessToken))); me.Phone != nil {
		t.Fatalf("a failed bind stored %+v", me.Phone)
	}
}

func TestBindPhoneWithAUsedCodeIsRefusedAndKeepsTheFirstNumber(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	first := decodePhoneUser(t, e.bindPhone(l.AccessToken, "once-phone-13700137000")).Phone
	if first == nil {
		t.Fatal("the first use bound nothing")
	}
	// WeChat answers a used code like an invalid one (40029).
	wantProblem(t, e.bindPhone(l.AccessToken, "once-phone-13700137000"), http.StatusUnprocessableEntity, domain.CodePhoneCodeInvalid)
	if me := decodePhoneUser(t, e.api.Get("/v1/me", bearer(l.AccessToken))); me.Phone == nil || *me.Phone != *first {
		t.Fatalf("phone after the refused retry %+v, want %+v", me.Phone, first)
	}
}

func TestBindPhoneFromAPasswordSessionIsRefusedWithoutCallingWeChat(t *testing.T) {
	e := newEnv(t)
	l := e.register(t, "phoneless", "phoneless@example.com", "a long and unusual passphrase 42")
	wantProblem(t, e.bindPhone(l.AccessToken, "phone-13800138000"), http.StatusForbidden, domain.CodeWeChatLoginRequired)
	if n := e.sim.Simulator().CallsTo(wechatsim.APIGetUserPhoneNumber); n != 0 {
		t.Fatalf("getuserphonenumber called %d times, want 0", n)
	}
}

func TestBindPhoneUsesTheSessionsMiniProgram(t *testing.T) {
	e := newEnv(t, withApps(appA, appB))
	res := e.api.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-alice", "appid": appB})
	if res.Status != http.StatusOK {
		t.Fatal(res)
	}
	var l loginResponse
	res.Decode(&l)
	decodePhoneUser(t, e.bindPhone(l.AccessToken, "phone-13800138000"))
	// The simulator watermarks with the token's app: binding succeeded, so
	// the call used appB's token and the watermark matched appB.
	if tok, _ := e.sim.Simulator().CurrentToken(appB); tok == "" {
		t.Fatal("no access token was fetched for the session's app")
	}
	if tok, _ := e.sim.Simulator().CurrentToken(appA); tok != "" {
		t.Fatal("an access token was fetched for another app")
	}
}

func TestBindPhoneNeedsAToken(t *testing.T) {
	e := newEnv(t)
	wantProblem(t, e.api.JSON("POST", "/v1/me/phone", map[string]string{"code": "phone-13800138000"}), http.StatusUnauthorized, domain.CodeTokenMissing)
}

func TestBindPhoneRefusesABodyBeyondTheSchema(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	tests := []struct {
		name string
		body any
	}{
		{"no code", map[string]string{}},
		{"a code over 128 bytes", map[string]string{"code": strings.Repeat("a", 129)}},
		{"a number sent by the client", map[string]string{"code": "phone-1", "phone_number": "13800138000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantProblem(t, e.api.JSON("POST", "/v1/me/phone", tt.body, bearer(l.AccessToken)), http.StatusBadRequest, domain.CodeInvalid)
		})
	}
	if n := e.sim.Simulator().CallsTo(wechatsim.APIGetUserPhoneNumber); n != 0 {
		t.Fatalf("getuserphonenumber called %d times, want 0", n)
	}
}

func TestUnbindPhoneForgetsTheNumber(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	decodePhoneUser(t, e.bindPhone(l.AccessToken, "phone-13800138000"))
	for range 2 { // the second time there is nothing to forget: still 200
		if u := decodePhoneUser(t, e.api.JSON("DELETE", "/v1/me/phone", nil, bearer(l.AccessToken))); u.Phone != nil || u.ID != l.User.ID {
			t.Fatalf("after DELETE: %+v", u)
		}
	}
	if me := decodePhoneUser(t, e.api.Get("/v1/me", bearer(l.AccessToken))); me.Phone != nil {
		t.Fatalf("GET /v1/me still has %+v", me.Phone)
	}
	wantProblem(t, e.api.JSON("DELETE", "/v1/me/phone", nil), http.StatusUnauthorized, domain.CodeTokenMissing)
}

func TestSeveralAccountsMayHoldTheSameNumber(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"dev-alice", "dev-bob"} {
		l := e.login(t, name)
		if u := decodePhoneUser(t, e.bindPhone(l.AccessToken, "phone-13800138000")); u.Phone == nil {
			t.Fatalf("%s: no phone", name)
		}
	}
}

func TestAdminFindsUsersByPhone(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t, "dev-root")
	alice := e.login(t, "dev-alice")
	bob := e.login(t, "dev-bob")
	e.login(t, "dev-carol") // no phone
	decodePhoneUser(t, e.bindPhone(alice.AccessToken, "phone-13800138000"))
	decodePhoneUser(t, e.bindPhone(bob.AccessToken, "intl-1-2025550123"))

	tests := []struct {
		q    string
		want []string
	}{
		{"13800138000", []string{alice.User.ID}},
		{"+86 138 0013 8000", []string{alice.User.ID}},
		{"2025550123", []string{bob.User.ID}},
		{"+1 202-555-0123", []string{bob.User.ID}},
		{"13900139000", nil},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			page := listUsers(t, e, admin.AccessToken, url.Values{"q": {tt.q}})
			var ids []string
			for _, u := range page.Items {
				ids = append(ids, u.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("found %v, want %v", ids, tt.want)
			}
		})
	}
	// The admin's list shows the number.
	res := e.api.Get("/v1/admin/users?q=13800138000", bearer(admin.AccessToken))
	var page struct {
		Items []phoneUser `json:"items"`
	}
	res.Decode(&page)
	if len(page.Items) != 1 || page.Items[0].Phone == nil || page.Items[0].Phone.PurePhoneNumber != "13800138000" {
		t.Fatalf("admin list items %+v", page.Items)
	}
}

func TestPhoneNumbersNeverReachTheLog(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	decodePhoneUser(t, e.bindPhone(l.AccessToken, "phonenum-13612345678"))
	e.bindPhone(l.AccessToken, "otherapp-13687654321")
	if logs := e.logs.String(); strings.Contains(logs, "13612345678") || strings.Contains(logs, "13687654321") {
		t.Fatal("a phone number appeared in the log")
	}
}
