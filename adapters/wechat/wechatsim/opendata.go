package wechatsim

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// The simulator also plays the WeChat client's part for open data (开放数据):
// on a phone, wx.getWeRunData and its kin hand the mini-program data that
// WeChat encrypted with the user's current session_key, which only the
// backend can open. GET /wechatsim/open-data hands out the same, for the
// session_key this simulator issued last to the user, so tests and a
// developer with curl can drive POST /v1/me/wechat-data end to end without
// ever seeing a key:
//
//	GET /wechatsim/open-data?appid=APPID&name=alice&api=getWeRunData
//
// names the user by the name of their dev-<name> code (or by openid=), and
// answers what the wx API's success callback gets, e.g.
// {"errMsg":"getWeRunData:ok","encryptedData":"…","iv":"…"}. api is one of
//
//	getWeRunData       31 days of steps (stepInfoList, the default)
//	getGroupEnterInfo  {"opengid"} of a group stable per user
//	getShareInfo       {"openGId"}, the same group
//	getUserProfile     the profile, with rawData and its signature
//
// Every payload carries the watermark {"appid","timestamp"} of now. A user
// who never logged in gets 404 and an errMsg ending in "fail no session";
// an appid the simulator does not serve or an unknown api, 400.
//
// Codes keep-<name> log in like dev-<name> but keep the user's last
// session_key instead of issuing a new one: WeChat itself does not replace
// the key on every wx.login, so a client that logs in again right after
// wechat_session_stale often gets the key its data was made with.

// maxRemembered bounds the session keys remembered for open data: a
// long-running development server forgets arbitrary ones past it.
const maxRemembered = 100_000

// lastKeys remembers the session key issued last to each (appid, openid).
type lastKeys struct {
	mu   sync.Mutex
	keys map[string]string
}

func (l *lastKeys) get(appid, openid string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k, ok := l.keys[appid+"\x00"+openid]
	return k, ok
}

func (l *lastKeys) put(appid, openid, key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.keys == nil {
		l.keys = make(map[string]string)
	}
	if _, known := l.keys[appid+"\x00"+openid]; !known && len(l.keys) >= maxRemembered {
		for k := range l.keys {
			delete(l.keys, k)
			break
		}
	}
	l.keys[appid+"\x00"+openid] = key
}

// sessionKeyFor returns the session key of a successful login of openid in
// appid: the last one issued when code is a keep- code and there is one,
// else a new one. Either way it becomes the key open data is sealed with.
func (s *Simulator) sessionKeyFor(appid, openid, code string) string {
	if len(code) > len("keep-") && code[:len("keep-")] == "keep-" {
		if k, ok := s.keys.get(appid, openid); ok {
			return k
		}
	}
	k := newSessionKey()
	s.keys.put(appid, openid, k)
	return k
}

// openDataReply is what a wx open-data API's success callback gets.
type openDataReply struct {
	ErrMsg        string          `json:"errMsg"`
	EncryptedData string          `json:"encryptedData"`
	IV            string          `json:"iv"`
	RawData       string          `json:"rawData,omitempty"`
	Signature     string          `json:"signature,omitempty"`
	UserInfo      json.RawMessage `json:"userInfo,omitempty"`
}

type watermark struct {
	Timestamp int64  `json:"timestamp"`
	AppID     string `json:"appid"`
}

type stepInfo struct {
	Timestamp int64 `json:"timestamp"`
	Step      int   `json:"step"`
}

// profile is getUserProfile's user info as WeChat has sent it since 2022
// (no real nickname or avatar), in its field order.
type profile struct {
	NickName  string `json:"nickName"`
	Gender    int    `json:"gender"`
	Language  string `json:"language"`
	City      string `json:"city"`
	Province  string `json:"province"`
	Country   string `json:"country"`
	AvatarURL string `json:"avatarUrl"`
}

var defaultProfile = profile{
	NickName:  "微信用户",
	AvatarURL: "https://thirdwx.qlogo.cn/mmopen/vi_32/POgEwh4mIHO4nibH0KlMECNjjGxQUq24ZEaGT4poC6icRiccVGKSyXwibcPq4BWmiaIGuG1icwxaQX6grC9VemZoJ8rg/132",
}

// openData answers GET /wechatsim/open-data.
func (s *Simulator) openData(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	appid, openid, api := q.Get("appid"), q.Get("openid"), q.Get("api")
	if api == "" {
		api = "getWeRunData"
	}
	if openid == "" && q.Get("name") != "" {
		openid = OpenID(appid, q.Get("name"))
	}
	if _, known := s.apps[appid]; !known {
		writeOpenDataError(w, http.StatusBadRequest, api+":fail invalid appid")
		return
	}
	key, ok := s.keys.get(appid, openid)
	if openid == "" || !ok {
		writeOpenDataError(w, http.StatusNotFound, api+":fail no session")
		return
	}
	now := s.now() // WeChat's clock: the watermark's time
	wm := watermark{Timestamp: now.Unix(), AppID: appid}
	reply := openDataReply{ErrMsg: api + ":ok"}
	var plain any
	switch api {
	case "getWeRunData":
		plain = struct {
			StepInfoList []stepInfo `json:"stepInfoList"`
			Watermark    watermark  `json:"watermark"`
		}{steps(openid, now), wm}
	case "getGroupEnterInfo":
		plain = struct {
			OpenGID   string    `json:"opengid"`
			Watermark watermark `json:"watermark"`
		}{groupOf(appid, openid), wm}
	case "getShareInfo":
		plain = struct {
			OpenGID   string    `json:"openGId"`
			Watermark watermark `json:"watermark"`
		}{groupOf(appid, openid), wm}
	case "getUserProfile":
		raw, _ := json.Marshal(defaultProfile) // plain strings: cannot fail
		sum := sha1.Sum(append(raw, key...))
		reply.RawData, reply.Signature, reply.UserInfo = string(raw), hex.EncodeToString(sum[:]), raw
		plain = struct {
			OpenID string `json:"openId"`
			profile
			Watermark watermark `json:"watermark"`
		}{openid, defaultProfile, wm}
	default:
		writeOpenDataError(w, http.StatusBadRequest, api+":fail unknown api")
		return
	}
	b, err := json.Marshal(plain)
	if err == nil {
		reply.EncryptedData, reply.IV, err = seal(key, b)
	}
	if err != nil {
		writeOpenDataError(w, http.StatusInternalServerError, api+":fail "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(reply)
	if s.log != nil {
		s.log.Info("wechatsim: open data", "appid", appid, "openid", openid, "api", api)
	}
}

func writeOpenDataError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"errMsg": msg})
}

// seal encrypts plain as WeChat does: AES-128-CBC with the session key,
// PKCS#7 padding, a random iv; both in base64.
func seal(key string, plain []byte) (data, iv string, err error) {
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		return "", "", fmt.Errorf("session key: %w", err)
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return "", "", fmt.Errorf("session key: %w", err)
	}
	n := aes.BlockSize - len(plain)%aes.BlockSize
	padded := append(plain, make([]byte, n)...)
	for i := len(plain); i < len(padded); i++ {
		padded[i] = byte(n)
	}
	vec := make([]byte, aes.BlockSize)
	_, _ = rand.Read(vec) // crypto/rand.Read never fails
	out := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, vec).CryptBlocks(out, padded)
	return base64.StdEncoding.EncodeToString(out), base64.StdEncoding.EncodeToString(vec), nil
}

// steps returns 31 days of step counts, stable per user and day, each
// stamped with the start of its day in China (UTC+8) as WeRun does, the
// oldest first.
func steps(openid string, now time.Time) []stepInfo {
	y, m, d := now.In(beijing).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, beijing)
	out := make([]stepInfo, 31)
	for i := range out {
		day := today.AddDate(0, 0, i-30)
		h := sha1.Sum([]byte(openid + day.Format("2006-01-02")))
		out[i] = stepInfo{Timestamp: day.Unix(), Step: int(binary.BigEndian.Uint32(h[:4]) % 20000)}
	}
	return out
}

// groupOf returns the opengid of the group a user opens the mini-program
// from: stable per (appid, openid), shaped like WeChat's ("tG…").
func groupOf(appid, openid string) string { return "tG" + mac(appid, "group:"+openid)[:26] }
