package httpapi_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/domain"
)

// wxOpenData is what a wx open-data API hands the mini-program, as the
// simulator plays the WeChat client: sealed with the session key it issued
// last to the user of dev-<name> in appA.
type wxOpenData struct {
	EncryptedData string `json:"encryptedData"`
	IV            string `json:"iv"`
	RawData       string `json:"rawData"`
	Signature     string `json:"signature"`
}

func (e *env) wxOpenData(t *testing.T, name, api string) wxOpenData {
	t.Helper()
	res, err := http.Get(e.sim.URL() + "/wechatsim/open-data?" + url.Values{"appid": {appA}, "name": {name}, "api": {api}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var d wxOpenData
	if err := json.NewDecoder(res.Body).Decode(&d); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("simulator open data %s of %s: status %d, %v", api, name, res.StatusCode, err)
	}
	return d
}

// body is the request body that sends d on, the fields renamed.
func (d wxOpenData) body() map[string]string {
	b := map[string]string{"encrypted_data": d.EncryptedData, "iv": d.IV}
	if d.RawData != "" {
		b["raw_data"], b["signature"] = d.RawData, d.Signature
	}
	return b
}

// openedData is the 200 answer of POST /v1/me/wechat-data.
type openedData struct {
	Data      map[string]json.RawMessage `json:"data"`
	Watermark struct {
		AppID     string `json:"appid"`
		Timestamp int64  `json:"timestamp"`
	} `json:"watermark"`
}

// lastSessionKey is the session key WeChat handed out last (the server
// stores it; the test plays WeChat with it).
func (e *env) lastSessionKey(t *testing.T) string {
	t.Helper()
	e.seen.mu.Lock()
	defer e.seen.mu.Unlock()
	if len(e.seen.sessionKeys) == 0 {
		t.Fatal("no login yet")
	}
	return e.seen.sessionKeys[len(e.seen.sessionKeys)-1]
}

// sealAs encrypts plain with key as WeChat does (AES-128-CBC, PKCS#7).
func sealAs(t *testing.T, key, plain string) wxOpenData {
	t.Helper()
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		t.Fatal(err)
	}
	n := 16 - len(plain)%16
	padded := append([]byte(plain), bytes.Repeat([]byte{byte(n)}, n)...)
	iv := bytes.Repeat([]byte{42}, 16)
	out := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(out, padded)
	return wxOpenData{EncryptedData: base64.StdEncoding.EncodeToString(out), IV: base64.StdEncoding.EncodeToString(iv)}
}

func TestWeChatDataOpensWhatTheWeChatClientHandedOver(t *testing.T) {
	e := newEnv(t)
	auth := bearer(e.login(t, "dev-alice").AccessToken)
	before := time.Now().Unix()
	for _, tc := range []struct {
		api    string
		member string // a member the data must have
	}{
		{"getWeRunData", "stepInfoList"},
		{"getGroupEnterInfo", "opengid"},
		{"getShareInfo", "openGId"},
		{"getUserProfile", "openId"}, // signed: raw_data and signature go along
	} {
		t.Run(tc.api, func(t *testing.T) {
			d := e.wxOpenData(t, "alice", tc.api)
			res := e.apiFor(t).JSON("POST", "/v1/me/wechat-data", d.body(), auth)
			if res.Status != http.StatusOK {
				t.Fatalf("want 200\n%s", res)
			}
			var got openedData
			res.Decode(&got)
			if _, ok := got.Data[tc.member]; !ok {
				t.Errorf("data lacks %s: %s", tc.member, res.Body)
			}
			if got.Watermark.AppID != appA || got.Watermark.Timestamp < before {
				t.Errorf("watermark %+v", got.Watermark)
			}
			if _, ok := got.Data["watermark"]; !ok {
				t.Errorf("data lost WeChat's own watermark: %s", res.Body)
			}
			if bytes.Contains(res.Body, []byte(e.lastSessionKey(t))) {
				t.Error("the answer holds the session key")
			}
		})
	}
	var steps openedData
	res := e.api.JSON("POST", "/v1/me/wechat-data", e.wxOpenData(t, "alice", "getWeRunData").body(), auth)
	res.Decode(&steps)
	var days []struct{ Timestamp, Step int64 }
	if err := json.Unmarshal(steps.Data["stepInfoList"], &days); err != nil || len(days) != 31 {
		t.Errorf("stepInfoList %s: %v", steps.Data["stepInfoList"], err)
	}
}

func TestWeChatDataFromBeforeASecondLoginIsStale(t *testing.T) {
	e := newEnv(t)
	first := e.login(t, "dev-alice")
	old := e.wxOpenData(t, "alice", "getWeRunData")         // sealed with the first key
	oldSigned := e.wxOpenData(t, "alice", "getUserProfile") // signed with it too
	second := e.login(t, "dev-alice")                       // wx.login again: WeChat issues a new key, the server stores it

	for _, tc := range []struct {
		name string
		body map[string]string
	}{
		{"encrypted data", old.body()},
		{"signed data", oldSigned.body()},
	} {
		for _, token := range []string{first.AccessToken, second.AccessToken} {
			res := e.api.JSON("POST", "/v1/me/wechat-data", tc.body, bearer(token))
			if res.Status != http.StatusConflict {
				t.Fatalf("%s: want 409\n%s", tc.name, res)
			}
			p := res.Problem()
			if p.Code != string(domain.CodeWeChatSessionStale) || p.Detail == nil ||
				!strings.Contains(*p.Detail, "wx.login") || !strings.Contains(*p.Detail, "POST /v1/auth/wechat") {
				t.Errorf("%s: want %s telling to log in again\n%s", tc.name, domain.CodeWeChatSessionStale, res)
			}
		}
	}

	// The cure: the data again, made with the key of the latest login,
	// opens, whichever of the user's sessions sends it.
	fresh := e.wxOpenData(t, "alice", "getWeRunData")
	if res := e.api.JSON("POST", "/v1/me/wechat-data", fresh.body(), bearer(first.AccessToken)); res.Status != http.StatusOK {
		t.Errorf("fresh data: want 200\n%s", res)
	}
}

func TestWeChatDataChecksTheSignature(t *testing.T) {
	e := newEnv(t)
	auth := bearer(e.login(t, "dev-alice").AccessToken)
	signed := e.wxOpenData(t, "alice", "getUserProfile")
	key := e.lastSessionKey(t)
	if sum := sha1.Sum([]byte(signed.RawData + key)); hex.EncodeToString(sum[:]) != signed.Signature {
		t.Fatal("the simulator's signature is not sha1(rawData + session_key)")
	}

	changed := signed
	changed.RawData = strings.Replace(signed.RawData, "微信用户", "管理员", 1)
	upper := signed
	upper.Signature = strings.ToUpper(signed.Signature)
	zeros := signed
	zeros.Signature = strings.Repeat("0", 40)
	for _, tc := range []struct {
		name   string
		data   wxOpenData
		status int
		code   domain.Code
	}{
		{"as WeChat gave them", signed, http.StatusOK, ""},
		{"the signature in upper case", upper, http.StatusOK, ""},
		{"raw_data changed", changed, http.StatusUnprocessableEntity, domain.CodeWeChatSignatureInvalid},
		{"another signature", zeros, http.StatusUnprocessableEntity, domain.CodeWeChatSignatureInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.apiFor(t).JSON("POST", "/v1/me/wechat-data", tc.data.body(), auth)
			if res.Status != tc.status || tc.code != "" && res.Problem().Code != string(tc.code) {
				t.Fatalf("want %d %s\n%s", tc.status, tc.code, res)
			}
		})
	}
}

func TestWeChatDataChecksTheWatermark(t *testing.T) {
	e := newEnv(t)
	auth := bearer(e.login(t, "dev-alice").AccessToken)
	key := e.lastSessionKey(t)
	now := time.Now().Unix()
	stamped := func(app string, ts int64) wxOpenData {
		return sealAs(t, key, fmt.Sprintf(`{"openGId":"tGroup","watermark":{"timestamp":%d,"appid":%q}}`, ts, app))
	}
	for _, tc := range []struct {
		name   string
		data   wxOpenData
		status int
		code   domain.Code
	}{
		{"this app, now", stamped(appA, now), http.StatusOK, ""},
		{"another mini-program's", stamped(appB, now), http.StatusUnprocessableEntity, domain.CodeWeChatDataWrongApp},
		{"two hours old", stamped(appA, now-7200), http.StatusUnprocessableEntity, domain.CodeWeChatDataExpired},
		{"an hour in the future", stamped(appA, now+3600), http.StatusUnprocessableEntity, domain.CodeWeChatDataInvalid},
		{"no watermark", sealAs(t, key, `{"openGId":"tGroup"}`), http.StatusUnprocessableEntity, domain.CodeWeChatDataInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.apiFor(t).JSON("POST", "/v1/me/wechat-data", tc.data.body(), auth)
			if res.Status != tc.status || tc.code != "" && res.Problem().Code != string(tc.code) {
				t.Fatalf("want %d %s\n%s", tc.status, tc.code, res)
			}
		})
	}
}

func TestWeChatDataExpiresByTheServersClock(t *testing.T) {
	e := newEnv(t)
	auth := bearer(e.login(t, "dev-alice").AccessToken)
	d := e.wxOpenData(t, "alice", "getShareInfo")
	e.clock.Advance(domain.DefaultOpenDataMaxAge + time.Minute)
	res := e.api.JSON("POST", "/v1/me/wechat-data", d.body(), auth)
	if res.Status != http.StatusUnprocessableEntity || res.Problem().Code != string(domain.CodeWeChatDataExpired) {
		t.Fatalf("data older than the maximum age: want 422 %s\n%s", domain.CodeWeChatDataExpired, res)
	}
}

func TestWeChatDataOfAnotherUserDoesNotOpen(t *testing.T) {
	e := newEnv(t)
	e.login(t, "dev-alice")
	bob := bearer(e.login(t, "dev-bob").AccessToken)
	res := e.api.JSON("POST", "/v1/me/wechat-data", e.wxOpenData(t, "alice", "getWeRunData").body(), bob)
	if res.Status != http.StatusConflict || res.Problem().Code != string(domain.CodeWeChatSessionStale) {
		t.Fatalf("alice's data sent by bob: want 409 %s\n%s", domain.CodeWeChatSessionStale, res)
	}
}

func TestWeChatDataNeedsAWeChatLogin(t *testing.T) {
	e := newEnv(t)
	e.login(t, "dev-alice")
	d := e.wxOpenData(t, "alice", "getWeRunData")
	password := e.register(t, "alice", "alice@example.com", alicePassword)
	res := e.api.JSON("POST", "/v1/me/wechat-data", d.body(), bearer(password.AccessToken))
	if res.Status != http.StatusForbidden || res.Problem().Code != string(domain.CodeWeChatLoginRequired) {
		t.Fatalf("a password login: want 403 %s\n%s", domain.CodeWeChatLoginRequired, res)
	}
	if res := e.api.JSON("POST", "/v1/me/wechat-data", d.body()); res.Status != http.StatusUnauthorized {
		t.Fatalf("no token: want 401\n%s", res)
	}
}

func TestWeChatDataRefusesMalformedInputNamingTheField(t *testing.T) {
	e := newEnv(t)
	auth := bearer(e.login(t, "dev-alice").AccessToken)
	good := e.wxOpenData(t, "alice", "getUserProfile")
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	with := func(changes map[string]any) map[string]any {
		b := map[string]any{"encrypted_data": good.EncryptedData, "iv": good.IV}
		for k, v := range changes {
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
		}
		return b
	}
	for _, tc := range []struct {
		name  string
		body  any
		field string
		code  string // "" when any field code will do
	}{
		{"encrypted_data not base64", with(map[string]any{"encrypted_data": "not base64!"}), "body.encrypted_data", "invalid_format"},
		{"iv not base64", with(map[string]any{"iv": "%%%%"}), "body.iv", "invalid_format"},
		{"an iv of 15 bytes", with(map[string]any{"iv": b64(15)}), "body.iv", "invalid_length"},
		{"a ciphertext of 17 bytes", with(map[string]any{"encrypted_data": b64(17)}), "body.encrypted_data", "invalid_length"},
		{"raw_data without signature", with(map[string]any{"raw_data": good.RawData}), "body.signature", "required"},
		{"signature without raw_data", with(map[string]any{"signature": good.Signature}), "body.raw_data", "required"},
		{"a signature that is not hex", with(map[string]any{"raw_data": good.RawData, "signature": strings.Repeat("z", 40)}), "body.signature", ""},
		{"no iv", with(map[string]any{"iv": nil}), "body.iv", ""},
		{"an empty encrypted_data", with(map[string]any{"encrypted_data": ""}), "body.encrypted_data", ""},
		{"encrypted_data over its limit", with(map[string]any{"encrypted_data": b64(domain.OpenDataMaxChars)}), "body.encrypted_data", ""},
		{"raw_data over its limit", with(map[string]any{"raw_data": strings.Repeat("x", domain.RawDataMaxBytes+1), "signature": good.Signature}), "body.raw_data", ""},
		{"encrypted_data a number", with(map[string]any{"encrypted_data": 7}), "body.encrypted_data", ""},
		{"an unknown field (WeChat's own name)", with(map[string]any{"encryptedData": good.EncryptedData}), "body.encryptedData", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.apiFor(t).JSON("POST", "/v1/me/wechat-data", tc.body, auth)
			fields := wantProblemFields(t, res, http.StatusBadRequest, domain.CodeInvalid)
			code, ok := fields[tc.field]
			if !ok || tc.code != "" && code != tc.code {
				t.Errorf("field errors %v, want %s on %s", fields, tc.code, tc.field)
			}
		})
	}
}
