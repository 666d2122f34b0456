package wechatsim_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/wechat/wechatsim"
)

// openDataReply is what GET /wechatsim/open-data answers.
type openDataReply struct {
	ErrMsg        string          `json:"errMsg"`
	EncryptedData string          `json:"encryptedData"`
	IV            string          `json:"iv"`
	RawData       string          `json:"rawData"`
	Signature     string          `json:"signature"`
	UserInfo      json.RawMessage `json:"userInfo"`
}

// login logs code in and returns the session key the simulator issued.
func login(t *testing.T, sim http.Handler, code string) string {
	t.Helper()
	r := decode(t, call(t, sim, query(appID, secret, code, "authorization_code")))
	if r.SessionKey == "" {
		t.Fatalf("login with %s: %+v", code, r)
	}
	return r.SessionKey
}

// openData asks for api's data of the user named name.
func openData(t *testing.T, sim http.Handler, name, api string) openDataReply {
	t.Helper()
	w := call(t, sim, "/wechatsim/open-data?"+url.Values{"appid": {appID}, "name": {name}, "api": {api}}.Encode())
	if w.Code != http.StatusOK {
		t.Fatalf("open data %s of %s: status %d: %s", api, name, w.Code, w.Body)
	}
	var r openDataReply
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// decrypt opens r with key the way WeChat's documentation says a backend
// does, and parses the JSON.
func decrypt(t *testing.T, key string, r openDataReply) map[string]any {
	t.Helper()
	k, _ := base64.StdEncoding.DecodeString(key)
	iv, _ := base64.StdEncoding.DecodeString(r.IV)
	data, _ := base64.StdEncoding.DecodeString(r.EncryptedData)
	block, err := aes.NewCipher(k)
	if err != nil || len(iv) != 16 || len(data) == 0 || len(data)%16 != 0 {
		t.Fatalf("key %d bytes, iv %d bytes, data %d bytes: %v", len(k), len(iv), len(data), err)
	}
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, data)
	n := int(plain[len(plain)-1])
	if n < 1 || n > 16 || !bytes.Equal(plain[len(plain)-n:], bytes.Repeat([]byte{byte(n)}, n)) {
		t.Fatalf("bad padding: % x", plain[len(plain)-16:])
	}
	var v map[string]any
	if err := json.Unmarshal(plain[:len(plain)-n], &v); err != nil {
		t.Fatalf("plaintext %q: %v", plain, err)
	}
	return v
}

func TestOpenDataIsSealedWithTheLastSessionKeyOfTheUser(t *testing.T) {
	sim := newSim(wechatsim.Config{})
	first := login(t, sim, "dev-alice")
	second := login(t, sim, "dev-alice") // WeChat issues a new key
	if first == second {
		t.Fatal("a second dev- login kept the session key")
	}
	before := time.Now().Unix()
	for _, api := range []string{"getWeRunData", "getGroupEnterInfo", "getShareInfo", "getUserProfile"} {
		t.Run(api, func(t *testing.T) {
			r := openData(t, sim, "alice", api)
			if r.ErrMsg != api+":ok" {
				t.Errorf("errMsg %q", r.ErrMsg)
			}
			v := decrypt(t, second, r)
			wm, _ := v["watermark"].(map[string]any)
			if wm["appid"] != appID || wm["timestamp"].(float64) < float64(before) {
				t.Errorf("watermark %v", wm)
			}
			switch api {
			case "getWeRunData":
				if days, _ := v["stepInfoList"].([]any); len(days) != 31 {
					t.Errorf("stepInfoList %v: want 31 days", v["stepInfoList"])
				}
			case "getGroupEnterInfo", "getShareInfo":
				gid, _ := v["opengid"].(string)
				if api == "getShareInfo" {
					gid, _ = v["openGId"].(string)
				}
				if !strings.HasPrefix(gid, "tG") {
					t.Errorf("group id %q", gid)
				}
			case "getUserProfile":
				sum := sha1.Sum([]byte(r.RawData + second))
				if r.Signature != hex.EncodeToString(sum[:]) || string(r.UserInfo) != r.RawData {
					t.Errorf("signature %s of %s: want sha1(rawData + session_key)", r.Signature, r.RawData)
				}
				if v["openId"] != wechatsim.OpenID(appID, "alice") || v["nickName"] != "微信用户" {
					t.Errorf("profile %v", v)
				}
			}
		})
	}
}

func TestOpenDataByOpenIDMatchesByName(t *testing.T) {
	sim := newSim(wechatsim.Config{})
	key := login(t, sim, "dev-bob")
	w := call(t, sim, "/wechatsim/open-data?"+url.Values{"appid": {appID}, "openid": {wechatsim.OpenID(appID, "bob")}}.Encode())
	var r openDataReply
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil || w.Code != http.StatusOK || r.ErrMsg != "getWeRunData:ok" {
		t.Fatalf("status %d, %s", w.Code, w.Body)
	}
	decrypt(t, key, r)
}

func TestKeepCodesKeepTheLastSessionKey(t *testing.T) {
	sim := newSim(wechatsim.Config{})
	first := login(t, sim, "keep-carol") // nothing to keep yet: a new key
	if again := login(t, sim, "keep-carol"); again != first {
		t.Error("keep- issued a new key although the user had one")
	}
	if dev := login(t, sim, "dev-carol"); dev == first {
		t.Error("dev- kept the key")
	} else if kept := login(t, sim, "keep-carol"); kept != dev {
		t.Error("keep- did not keep the key of the dev- login")
	}
	r := decode(t, call(t, sim, query(appID, secret, "keep-carol", "authorization_code")))
	if r.OpenID != wechatsim.OpenID(appID, "carol") || r.UnionID != wechatsim.UnionID("carol") {
		t.Errorf("keep-carol is %+v, want dev-carol's identity", r)
	}
}

func TestOpenDataRefusals(t *testing.T) {
	sim := newSim(wechatsim.Config{})
	login(t, sim, "dev-dave")
	for _, tc := range []struct {
		name   string
		query  url.Values
		status int
		errMsg string
	}{
		{"a user who never logged in", url.Values{"appid": {appID}, "name": {"erin"}}, http.StatusNotFound, "getWeRunData:fail no session"},
		{"no user", url.Values{"appid": {appID}}, http.StatusNotFound, "getWeRunData:fail no session"},
		{"an app the simulator does not serve", url.Values{"appid": {"wx9999999999999999"}, "name": {"dave"}}, http.StatusBadRequest, "getWeRunData:fail invalid appid"},
		{"an unknown api", url.Values{"appid": {appID}, "name": {"dave"}, "api": {"getSecrets"}}, http.StatusBadRequest, "getSecrets:fail unknown api"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := call(t, sim, "/wechatsim/open-data?"+tc.query.Encode())
			var r openDataReply
			_ = json.Unmarshal(w.Body.Bytes(), &r)
			if w.Code != tc.status || r.ErrMsg != tc.errMsg {
				t.Errorf("status %d, errMsg %q; want %d, %q", w.Code, r.ErrMsg, tc.status, tc.errMsg)
			}
		})
	}
}
