package wechat_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/wechat"
	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/domain"
)

// phoneAPIWith serves getuserphonenumber from reply (behind the
// simulator's token check) and returns the caller.
func phoneAPIWith(t *testing.T, reply string) *wechat.API {
	t.Helper()
	sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{string(appA): secretA}})
	mux := http.NewServeMux()
	mux.Handle("/", sim)
	mux.Handle("POST /wxa/business/getuserphonenumber", sim.TokenAPI(wechatsim.APIGetUserPhoneNumber,
		func(w http.ResponseWriter, _ *http.Request, _ string) {
			w.Header().Set("Content-Type", "application/json; encoding=utf-8")
			_, _ = w.Write([]byte(reply))
		}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := wechat.NewClient(wechat.Config{BaseURL: srv.URL, Apps: map[domain.AppID]string{appA: secretA}})
	if err != nil {
		t.Fatal(err)
	}
	return c.API(wechat.NewProcessTokens(c))
}

// simPhoneAPI is the caller against the whole simulator.
func simPhoneAPI(t *testing.T) (*wechatsim.Simulator, *wechat.API) {
	t.Helper()
	sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{string(appA): secretA}})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := wechat.NewClient(wechat.Config{BaseURL: srv.URL, Apps: map[domain.AppID]string{appA: secretA}})
	if err != nil {
		t.Fatal(err)
	}
	return sim, c.API(wechat.NewProcessTokens(c))
}

func TestPhoneNumber_DecodesWeChatsReplies(t *testing.T) {
	const wm = `"watermark":{"timestamp":1637744274,"appid":"wxaaaaaaaaaaaaaaaa"}`
	at := time.Unix(1637744274, 0).UTC()
	cn := domain.PhoneNumber{CountryCode: "86", PureNumber: "13800138000", Number: "13800138000"}
	tests := []struct {
		name     string
		reply    string
		want     domain.PhoneNumber
		wantTime time.Time
		wantCode domain.Code // "" means success
	}{
		{name: "countryCode as the documented string",
			reply: `{"errcode":0,"errmsg":"ok","phone_info":{"phoneNumber":"13800138000","purePhoneNumber":"13800138000","countryCode":"86",` + wm + `}}`,
			want:  cn, wantTime: at},
		{name: "countryCode as a number, as WeChat's example sends it",
			reply: `{"errcode":0,"errmsg":"ok","phone_info":{"phoneNumber":"13800138000","purePhoneNumber":"13800138000","countryCode":86,` + wm + `}}`,
			want:  cn, wantTime: at},
		{name: "countryCode with a plus",
			reply: `{"errcode":0,"errmsg":"ok","phone_info":{"phoneNumber":"+1 2025550123","purePhoneNumber":"2025550123","countryCode":"+1",` + wm + `}}`,
			want:  domain.PhoneNumber{CountryCode: "1", PureNumber: "2025550123", Number: "+1 2025550123"}, wantTime: at},
		{name: "timestamp as a string",
			reply: `{"errcode":0,"errmsg":"ok","phone_info":{"phoneNumber":"13800138000","purePhoneNumber":"13800138000","countryCode":"86","watermark":{"timestamp":"1637744274","appid":"wxaaaaaaaaaaaaaaaa"}}}`,
			want:  cn, wantTime: at},
		{name: "no errcode at all",
			reply: `{"phone_info":{"phoneNumber":"13800138000","purePhoneNumber":"13800138000","countryCode":"86",` + wm + `}}`,
			want:  cn, wantTime: at},
		{name: "countryCode a fraction", wantCode: domain.CodeWeChatBadResponse,
			reply: `{"errcode":0,"phone_info":{"phoneNumber":"1","purePhoneNumber":"1","countryCode":86.5,` + wm + `}}`},
		{name: "countryCode an object", wantCode: domain.CodeWeChatBadResponse,
			reply: `{"errcode":0,"phone_info":{"phoneNumber":"1","purePhoneNumber":"1","countryCode":{},` + wm + `}}`},
		{name: "countryCode null", wantCode: domain.CodeWeChatBadResponse,
			reply: `{"errcode":0,"phone_info":{"phoneNumber":"1","purePhoneNumber":"1","countryCode":null,` + wm + `}}`},
		{name: "no phone_info", wantCode: domain.CodeWeChatBadResponse, reply: `{"errcode":0,"errmsg":"ok"}`},
		{name: "no watermark appid", wantCode: domain.CodeWeChatBadResponse,
			reply: `{"errcode":0,"phone_info":{"phoneNumber":"1","purePhoneNumber":"1","countryCode":"86"}}`},
		{name: "pure number with letters", wantCode: domain.CodeWeChatBadResponse,
			reply: `{"errcode":0,"phone_info":{"phoneNumber":"1","purePhoneNumber":"1a","countryCode":"86",` + wm + `}}`},
		{name: "truncated JSON", wantCode: domain.CodeWeChatBadResponse, reply: `{"errcode":0,"phone_info":{"phoneNu`},
		{name: "40029", wantCode: domain.CodePhoneCodeInvalid, reply: `{"errcode":40029,"errmsg":"invalid code hint: [x] rid: y"}`},
		{name: "40163", wantCode: domain.CodePhoneCodeUsed, reply: `{"errcode":40163,"errmsg":"code been used"}`},
		{name: "-1", wantCode: domain.CodeWeChatBusy, reply: `{"errcode":-1,"errmsg":"system error"}`},
		{name: "45011", wantCode: domain.CodeWeChatRateLimited, reply: `{"errcode":45011,"errmsg":"api minute-quota reach limit"}`},
		{name: "40013", wantCode: domain.CodeWeChatMisconfigured, reply: `{"errcode":40013,"errmsg":"invalid appid"}`},
		{name: "an errcode nobody documented", wantCode: domain.CodeWeChatBadResponse, reply: `{"errcode":61234,"errmsg":"?"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := phoneAPIWith(t, tt.reply).PhoneNumber(context.Background(), appA, "a-code")
			if tt.wantCode != "" {
				if domain.ErrorCode(err) != tt.wantCode {
					t.Fatalf("err %v, want %s", err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.PhoneNumber != tt.want || got.WatermarkAppID != appA || !got.WatermarkTime.Equal(tt.wantTime) {
				t.Fatalf("got %+v, want %+v from %s at %s", got, tt.want, appA, tt.wantTime)
			}
		})
	}
}

func TestPhoneNumber_AgainstTheSimulator(t *testing.T) {
	sim, api := simPhoneAPI(t)
	ctx := context.Background()
	tests := []struct {
		code      string
		want      domain.PhoneNumber
		watermark domain.AppID
		wantCode  domain.Code
	}{
		{code: "phone-13800138000", want: domain.PhoneNumber{CountryCode: "86", PureNumber: "13800138000", Number: "13800138000"}, watermark: appA},
		{code: "phonenum-13800138000", want: domain.PhoneNumber{CountryCode: "86", PureNumber: "13800138000", Number: "13800138000"}, watermark: appA},
		{code: "intl-852-51234567", want: domain.PhoneNumber{CountryCode: "852", PureNumber: "51234567", Number: "+852 51234567"}, watermark: appA},
		{code: "otherapp-13800138000", want: domain.PhoneNumber{CountryCode: "86", PureNumber: "13800138000", Number: "13800138000"}, watermark: wechatsim.OtherAppID},
		{code: "err-40029", wantCode: domain.CodePhoneCodeInvalid},
		{code: "err-40163", wantCode: domain.CodePhoneCodeUsed},
		{code: "err-busy", wantCode: domain.CodeWeChatBusy},
		{code: "err-45011", wantCode: domain.CodeWeChatRateLimited},
		{code: "err-40013", wantCode: domain.CodeWeChatMisconfigured},
		{code: "err-badphone", wantCode: domain.CodeWeChatBadResponse},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			got, err := api.PhoneNumber(ctx, appA, tt.code)
			if tt.wantCode != "" {
				if domain.ErrorCode(err) != tt.wantCode {
					t.Fatalf("err %v, want %s", err, tt.wantCode)
				}
				if strings.Contains(err.Error(), "access_token") {
					t.Fatalf("the error %q mentions the access token", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.PhoneNumber != tt.want || got.WatermarkAppID != tt.watermark {
				t.Fatalf("got %+v, want %+v watermarked %s", got, tt.want, tt.watermark)
			}
		})
	}
	if n := sim.CallsTo(wechatsim.APIGetUserPhoneNumber); n != len(tests) {
		t.Errorf("getuserphonenumber called %d times, want %d", n, len(tests))
	}
	if n := sim.CallsTo(wechatsim.APIStableToken); n != 1 {
		t.Errorf("stable_token called %d times, want 1", n)
	}
}

func TestPhoneNumber_UsedCodeIsInvalidAsWeChatSaysSo(t *testing.T) {
	_, api := simPhoneAPI(t)
	if _, err := api.PhoneNumber(context.Background(), appA, "once-phone-13700137000"); err != nil {
		t.Fatal(err)
	}
	_, err := api.PhoneNumber(context.Background(), appA, "once-phone-13700137000")
	if domain.ErrorCode(err) != domain.CodePhoneCodeInvalid {
		t.Fatalf("err %v, want %s", err, domain.CodePhoneCodeInvalid)
	}
	var ee *wechat.ErrcodeError
	if !errors.As(err, &ee) || ee.Code != 40029 {
		t.Fatalf("the cause %v, want errcode 40029 for the log", err)
	}
}

func TestPhoneNumber_RevokedTokenIsRenewedAndTheCodeExchangedOnce(t *testing.T) {
	sim, api := simPhoneAPI(t)
	ctx := context.Background()
	if _, err := api.PhoneNumber(ctx, appA, "phone-13800138000"); err != nil {
		t.Fatal(err)
	}
	sim.Revoke(string(appA))
	if _, err := api.PhoneNumber(ctx, appA, "once-phone-13800138001"); err != nil {
		t.Fatalf("after a revoked token: %v", err)
	}
	// The refused call never reached the code, so the retry used it first.
	if n := sim.CallsTo(wechatsim.APIGetUserPhoneNumber); n != 3 {
		t.Fatalf("getuserphonenumber called %d times, want 3 (one refused for its token)", n)
	}
}

func TestPhoneNumber_UnknownAppCallsNothing(t *testing.T) {
	sim, api := simPhoneAPI(t)
	_, err := api.PhoneNumber(context.Background(), "wxnotserved0000000", "phone-13800138000")
	if domain.ErrorCode(err) != domain.CodeUnknownApp {
		t.Fatalf("err %v, want %s", err, domain.CodeUnknownApp)
	}
	if n := sim.CallsTo(wechatsim.APIGetUserPhoneNumber); n != 0 {
		t.Fatalf("getuserphonenumber called %d times, want 0", n)
	}
}
