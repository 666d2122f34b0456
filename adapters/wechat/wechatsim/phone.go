package wechatsim

// This file simulates POST /wxa/business/getuserphonenumber?access_token=…
// with body {"code":"…"} (the code of a mini-program's getPhoneNumber
// button). WeChat's success reply, HTTP 200 and application/json:
//
//	{"errcode":0,"errmsg":"ok","phone_info":{"phoneNumber":"13800138000",
//	 "purePhoneNumber":"13800138000","countryCode":"86",
//	 "watermark":{"timestamp":1637744274,"appid":"wx…"}}}
//
// countryCode is documented as a string, but WeChat's own example sends
// the number 86: the simulator sends both, by code. Outside mainland China
// phoneNumber carries the country code ("+1 2025550123"). The watermark's
// appid is the app of the access token the call was made with.
//
// The access token is checked first (withToken: 41001, 40001, 42001, and
// errcodes queued with InjectError). Then the code picks the answer:
//
//	phone-<digits>          success: +86, countryCode "86" (a string);
//	                        reusable, like the dev- login codes
//	phonenum-<digits>       success: countryCode 86 (a JSON number)
//	intl-<cc>-<digits>      success with country code cc (1 to 4
//	                        digits): phoneNumber "+<cc> <digits>"
//	once-phone-<digits>     like phone-<digits> the first time per app;
//	                        then 40029, as WeChat answers a used code
//	otherapp-<digits>       success, but the watermark names OtherAppID
//	err-badphone            success whose purePhoneNumber is not digits
//	err-40029               40029 invalid code
//	err-40163               40163 code been used
//	err-45011               45011 api minute-quota reach limit
//	err-40013               40013 invalid appid
//	err-busy                -1 system error
//	anything else           40029 invalid code (a real WeChat code, too)
//
// A body that is not JSON is 47001; a missing code is 40029. Every call
// counts in CallsTo(APIGetUserPhoneNumber).

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// APIGetUserPhoneNumber names the phone number API for CallsTo and
// InjectError.
const APIGetUserPhoneNumber = "getuserphonenumber"

// OtherAppID is the appid in the watermark of an otherapp- code's reply:
// an app the simulator serves to no one.
const OtherAppID = "wxffffffffffffffff"

// phoneRequest is getuserphonenumber's body; openid is optional.
type phoneRequest struct {
	Code   string `json:"code"`
	OpenID string `json:"openid"`
}

// phoneReply is the success reply, in WeChat's field order.
type phoneReply struct {
	ErrCode   int       `json:"errcode"`
	ErrMsg    string    `json:"errmsg"`
	PhoneInfo phoneInfo `json:"phone_info"`
}

type phoneInfo struct {
	PhoneNumber     string    `json:"phoneNumber"`
	PurePhoneNumber string    `json:"purePhoneNumber"`
	CountryCode     any       `json:"countryCode"` // a string, or a number as in WeChat's example
	Watermark       watermark `json:"watermark"`
}

// phoneNumber serves getuserphonenumber for the token's appid.
func (s *Simulator) phoneNumber(w http.ResponseWriter, r *http.Request, appid string) {
	var req phoneRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil || json.Unmarshal(body, &req) != nil {
		s.phoneFail(w, appid, 47001)
		return
	}
	code := req.Code
	switch code {
	case "err-40029", "":
		s.phoneFail(w, appid, 40029)
		return
	case "err-40163":
		s.phoneFail(w, appid, 40163)
		return
	case "err-45011":
		s.phoneFail(w, appid, 45011)
		return
	case "err-40013":
		s.phoneFail(w, appid, 40013)
		return
	case "err-busy":
		s.phoneFail(w, appid, -1)
		return
	case "err-badphone":
		s.phoneSucceed(w, appid, "86", "138OO138OOO", "138OO138OOO")
		return
	}
	prefix, rest, _ := strings.Cut(code, "-")
	switch {
	case prefix == "phone" && isDigits(rest):
		s.phoneSucceed(w, appid, "86", rest, rest)
	case prefix == "phonenum" && isDigits(rest):
		s.phoneSucceed(w, appid, 86, rest, rest)
	case prefix == "otherapp" && isDigits(rest):
		s.phoneSucceed(w, OtherAppID, "86", rest, rest)
	case prefix == "intl":
		cc, digits, _ := strings.Cut(rest, "-")
		if !isDigits(cc) || len(cc) > 4 || !isDigits(digits) {
			s.phoneFail(w, appid, 40029)
			return
		}
		s.phoneSucceed(w, appid, cc, digits, "+"+cc+" "+digits)
	case prefix == "once" && strings.HasPrefix(rest, "phone-") && isDigits(strings.TrimPrefix(rest, "phone-")):
		if !s.firstUse(appid, APIGetUserPhoneNumber+"\x00"+code) {
			s.phoneFail(w, appid, 40029) // WeChat answers a used code as an invalid one
			return
		}
		digits := strings.TrimPrefix(rest, "phone-")
		s.phoneSucceed(w, appid, "86", digits, digits)
	default:
		s.phoneFail(w, appid, 40029)
	}
}

// phoneSucceed answers a phone number given to the mini-program
// watermarkApp; countryCode is a string or a number.
func (s *Simulator) phoneSucceed(w http.ResponseWriter, watermarkApp string, countryCode any, pure, full string) {
	writeAPIJSON(w, phoneReply{ErrMsg: "ok", PhoneInfo: phoneInfo{
		PhoneNumber: full, PurePhoneNumber: pure, CountryCode: countryCode,
		Watermark: watermark{Timestamp: s.now().Unix(), AppID: watermarkApp},
	}})
	if s.log != nil {
		// Never the number: the log is not the place for it.
		s.log.Info("wechatsim: getuserphonenumber", "watermark_appid", watermarkApp, "outcome", "phone number")
	}
}

// phoneFail answers errcode with WeChat's message for this API.
func (s *Simulator) phoneFail(w http.ResponseWriter, appid string, errcode int) {
	switch errcode {
	case 40029:
		// WeChat's words for this API: "invalid code hint: [...] rid: ...".
		writeAPIJSON(w, apiFailure{ErrCode: 40029, ErrMsg: "invalid code hint: [" + newHint() + "] rid: " + newRID()})
	case 40163:
		writeAPIJSON(w, apiFailure{ErrCode: 40163, ErrMsg: "code been used, rid: " + newRID()})
	default:
		writeAPIError(w, errcode)
	}
	if s.log != nil {
		s.log.Info("wechatsim: getuserphonenumber", "appid", appid, "errcode", errcode)
	}
}

// isDigits reports whether s is one or more ASCII digits, at most 20.
func isDigits(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// newHint returns a hint shaped like WeChat's ("hElexSDNRa-XiBFgA").
func newHint() string {
	k := newSessionKey() // 16 random bytes, base64
	return strings.NewReplacer("+", "x", "/", "y", "=", "").Replace(k[:10] + "-" + k[10:16])
}
