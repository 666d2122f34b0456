package wechatsim_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/wechat/wechatsim"
)

// phoneAnswer is any getuserphonenumber reply, with countryCode raw so a
// test sees whether it was a string or a number.
type phoneAnswer struct {
	ErrCode   int    `json:"errcode"`
	ErrMsg    string `json:"errmsg"`
	PhoneInfo *struct {
		PhoneNumber     string          `json:"phoneNumber"`
		PurePhoneNumber string          `json:"purePhoneNumber"`
		CountryCode     json.RawMessage `json:"countryCode"`
		Watermark       struct {
			Timestamp int64  `json:"timestamp"`
			AppID     string `json:"appid"`
		} `json:"watermark"`
	} `json:"phone_info"`
}

// accessToken gets appID's token from the simulator's stable_token.
func accessToken(t *testing.T, sim http.Handler) string {
	t.Helper()
	body := `{"grant_type":"client_credential","appid":"` + appID + `","secret":"` + secret + `"}`
	w := httptest.NewRecorder()
	sim.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/cgi-bin/stable_token", strings.NewReader(body)))
	var r struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil || r.AccessToken == "" {
		t.Fatalf("stable_token: %s", w.Body)
	}
	return r.AccessToken
}

// askPhone posts body to getuserphonenumber with token and decodes the
// reply, which must be WeChat's: HTTP 200, application/json.
func askPhone(t *testing.T, sim http.Handler, token, body string) phoneAnswer {
	t.Helper()
	w := httptest.NewRecorder()
	sim.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/wxa/business/getuserphonenumber?access_token="+token, strings.NewReader(body)))
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("status %d, type %q, want 200 application/json", w.Code, w.Header().Get("Content-Type"))
	}
	var a phoneAnswer
	if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
		t.Fatalf("reply %s: %v", w.Body, err)
	}
	return a
}

func newPhoneSim(now time.Time) *wechatsim.Simulator {
	return wechatsim.New(wechatsim.Config{Apps: map[string]string{appID: secret}, Now: func() time.Time { return now }})
}

func TestSimulatorPhone_AnswersEachCodeAsDocumented(t *testing.T) {
	now := time.Unix(1637744274, 0)
	sim := newPhoneSim(now)
	tok := accessToken(t, sim)
	tests := []struct {
		code        string
		errcode     int
		errmsg      *regexp.Regexp // nil: not checked
		phone, pure string
		countryCode string // the raw JSON
		watermark   string
	}{
		{code: "phone-13800138000", phone: "13800138000", pure: "13800138000", countryCode: `"86"`, watermark: appID},
		{code: "phonenum-13800138000", phone: "13800138000", pure: "13800138000", countryCode: `86`, watermark: appID},
		{code: "intl-1-2025550123", phone: "+1 2025550123", pure: "2025550123", countryCode: `"1"`, watermark: appID},
		{code: "otherapp-13800138000", phone: "13800138000", pure: "13800138000", countryCode: `"86"`, watermark: wechatsim.OtherAppID},
		{code: "err-badphone", phone: "138OO138OOO", pure: "138OO138OOO", countryCode: `"86"`, watermark: appID},
		{code: "err-40029", errcode: 40029, errmsg: regexp.MustCompile(`^invalid code hint: \[[A-Za-z0-9_-]+\] rid: [0-9a-f-]+$`)},
		{code: "err-40163", errcode: 40163, errmsg: regexp.MustCompile(`^code been used, rid: `)},
		{code: "err-45011", errcode: 45011},
		{code: "err-40013", errcode: 40013},
		{code: "err-busy", errcode: -1, errmsg: regexp.MustCompile(`^system error`)},
		{code: "intl-12345-1", errcode: 40029},
		{code: "phone-138x", errcode: 40029},
		{code: "e31968a7f94cc5ee25fafc2aef2773f0bb8c3937b22520eb8ee345274d00c144", errcode: 40029},
		{code: "", errcode: 40029},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			body, _ := json.Marshal(map[string]string{"code": tt.code})
			a := askPhone(t, sim, tok, string(body))
			if a.ErrCode != tt.errcode {
				t.Fatalf("errcode %d (%s), want %d", a.ErrCode, a.ErrMsg, tt.errcode)
			}
			if tt.errcode != 0 {
				if a.PhoneInfo != nil {
					t.Errorf("an error reply carries phone_info")
				}
				if tt.errmsg != nil && !tt.errmsg.MatchString(a.ErrMsg) {
					t.Errorf("errmsg %q, want %s", a.ErrMsg, tt.errmsg)
				}
				return
			}
			p := a.PhoneInfo
			if a.ErrMsg != "ok" || p == nil {
				t.Fatalf("reply %+v, want errmsg ok with phone_info", a)
			}
			if p.PhoneNumber != tt.phone || p.PurePhoneNumber != tt.pure || string(p.CountryCode) != tt.countryCode {
				t.Errorf("phone_info %s/%s/%s, want %s/%s/%s", p.PhoneNumber, p.PurePhoneNumber, p.CountryCode, tt.phone, tt.pure, tt.countryCode)
			}
			if p.Watermark.AppID != tt.watermark || p.Watermark.Timestamp != now.Unix() {
				t.Errorf("watermark %+v, want appid %s at %d", p.Watermark, tt.watermark, now.Unix())
			}
		})
	}
	if n := sim.CallsTo(wechatsim.APIGetUserPhoneNumber); n != len(tests) {
		t.Errorf("CallsTo = %d, want %d", n, len(tests))
	}
}

func TestSimulatorPhone_OnceCodeIsSingleUseAndThenInvalid(t *testing.T) {
	sim := newPhoneSim(time.Now())
	tok := accessToken(t, sim)
	if a := askPhone(t, sim, tok, `{"code":"once-phone-13900139000"}`); a.ErrCode != 0 || a.PhoneInfo.PurePhoneNumber != "13900139000" {
		t.Fatalf("first use: %+v", a)
	}
	// WeChat answers a used phone code with 40029, not 40163.
	if a := askPhone(t, sim, tok, `{"code":"once-phone-13900139000"}`); a.ErrCode != 40029 {
		t.Fatalf("second use: errcode %d, want 40029", a.ErrCode)
	}
	// The plain code stays reusable, like the dev- login codes.
	for range 2 {
		if a := askPhone(t, sim, tok, `{"code":"phone-13900139000"}`); a.ErrCode != 0 {
			t.Fatalf("phone- code: errcode %d", a.ErrCode)
		}
	}
}

func TestSimulatorPhone_ChecksTheAccessTokenFirst(t *testing.T) {
	sim := newPhoneSim(time.Now())
	tok := accessToken(t, sim)
	tests := []struct {
		name  string
		token string
		want  int
	}{
		{name: "no token", token: "", want: wechatsim.ErrTokenMissing},
		{name: "a token never issued", token: "not-a-token", want: wechatsim.ErrTokenInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a := askPhone(t, sim, tt.token, `{"code":"phone-13800138000"}`); a.ErrCode != tt.want {
				t.Fatalf("errcode %d, want %d", a.ErrCode, tt.want)
			}
		})
	}
	sim.Revoke(appID)
	if a := askPhone(t, sim, tok, `{"code":"phone-13800138000"}`); a.ErrCode != wechatsim.ErrTokenInvalid {
		t.Fatalf("revoked token: errcode %d, want 40001", a.ErrCode)
	}
}

func TestSimulatorPhone_InjectedErrcodeComesAfterTheTokenCheck(t *testing.T) {
	sim := newPhoneSim(time.Now())
	tok := accessToken(t, sim)
	sim.InjectError(wechatsim.APIGetUserPhoneNumber, appID, 45011, 1)
	if a := askPhone(t, sim, tok, `{"code":"phone-13800138000"}`); a.ErrCode != 45011 {
		t.Fatalf("errcode %d, want the injected 45011", a.ErrCode)
	}
	if a := askPhone(t, sim, tok, `{"code":"phone-13800138000"}`); a.ErrCode != 0 {
		t.Fatalf("errcode %d after the injected one, want 0", a.ErrCode)
	}
}

func TestSimulatorPhone_BodyThatIsNotJSONIs47001(t *testing.T) {
	sim := newPhoneSim(time.Now())
	if a := askPhone(t, sim, accessToken(t, sim), `code=phone-1`); a.ErrCode != 47001 {
		t.Fatalf("errcode %d, want 47001", a.ErrCode)
	}
}

func TestSimulatorPhone_LogsNoPhoneNumber(t *testing.T) {
	var logs bytes.Buffer
	sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{appID: secret}, Log: slog.New(slog.NewJSONHandler(&logs, nil))})
	askPhone(t, sim, accessToken(t, sim), `{"code":"phonenum-13712345678"}`)
	if logs.Len() == 0 || strings.Contains(logs.String(), "13712345678") {
		t.Fatalf("log %q: want a line without the number", logs.String())
	}
}
