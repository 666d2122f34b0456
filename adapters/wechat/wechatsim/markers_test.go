package wechatsim_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/miniback/miniback/adapters/wechat/wechatsim"
)

// wantWeChatError checks that w is WeChat's error reply for errcode: HTTP
// 200, application/json, {"errcode","errmsg"} with a request id.
func wantWeChatError(t *testing.T, what string, w *httptest.ResponseRecorder, errcode int) {
	t.Helper()
	body := w.Body.Bytes()
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("%s: HTTP %d %q, want 200 application/json like WeChat", what, w.Code, w.Header().Get("Content-Type"))
	}
	var f struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
		TraceID string `json:"trace_id"`
	}
	if err := json.Unmarshal(body, &f); err != nil || f.ErrCode == nil {
		t.Fatalf("%s: not a WeChat error: %s", what, body)
	}
	if *f.ErrCode != errcode || !apiRIDRE.MatchString(f.ErrMsg) || f.TraceID != "" {
		t.Errorf("%s: %s, want errcode %d with WeChat's errmsg and a rid, no trace_id", what, body, errcode)
	}
}

func TestMarker_SpellsTheLoginCodesWay(t *testing.T) {
	for code, want := range map[int]string{-1: "err-busy", 45011: "err-45011", 40003: "err-40003"} {
		if got := wechatsim.Marker(code); got != want {
			t.Errorf("Marker(%d) = %q, want %q", code, got, want)
		}
	}
	if got := wechatsim.MarkerErrcodes(wechatsim.APIStableToken); got != nil {
		t.Errorf("stable_token has no client input, so no markers: %v", got)
	}
}

func TestMsgSecCheck_ErrorMarkerInTheTextAnswersItsErrcode(t *testing.T) {
	s := newSecSim(t)
	alice := wechatsim.OpenID(appID, "alice")
	codes := wechatsim.MarkerErrcodes(wechatsim.APIMsgSecCheck)
	for _, want := range []int{-1, 45011, 40003, 40129, 43104, 61010, 40097, 48001} {
		if !slices.Contains(codes, want) {
			t.Fatalf("MarkerErrcodes(msg_sec_check) = %v, lacks %d", codes, want)
		}
	}
	for _, code := range codes {
		content := "my name is " + wechatsim.Marker(code) + " sim-risky"
		w := post(t, s.sim, "/wxa/msg_sec_check", s.token, textBody(alice, content))
		wantWeChatError(t, content, w, code)
	}
	// In the nickname of a profile check, too.
	b := textBody(alice, "hello")
	b["nickname"] = "err-45011"
	w := post(t, s.sim, "/wxa/msg_sec_check", s.token, b)
	wantWeChatError(t, "nickname", w, 45011)
	if n := s.sim.CallsTo(wechatsim.APIMsgSecCheck); n != len(codes)+1 {
		t.Errorf("CallsTo = %d, want %d: each marked call counts", n, len(codes)+1)
	}
}

func TestMsgSecCheck_ANonMarkerIsCheckedAsUsual(t *testing.T) {
	s := newSecSim(t)
	alice := wechatsim.OpenID(appID, "alice")
	for content, want := range map[string]string{
		"err-45012 is no errcode of this API":   "pass",
		"err-450111 has too many digits":        "pass",
		"err--1 is not how -1 is spelt":         "pass",
		"err-12345678901234567890123 sim-risky": "risky",
		"err-40029 is a login code sim-review":  "review",
	} {
		if r := s.check(t, "/wxa/msg_sec_check", textBody(alice, content)); r.ErrCode != 0 || r.Result.Suggest != want {
			t.Errorf("%q: %+v, want %s", content, r, want)
		}
	}
}

func TestMsgSecCheck_TheRequestsOwnChecksComeBeforeAMarker(t *testing.T) {
	s := newSecSim(t)
	b := textBody(wechatsim.OpenID(appID, "bob"), "err-busy") // bob never logged in
	if r := s.check(t, "/wxa/msg_sec_check", b); r.ErrCode != 40003 {
		t.Fatalf("unknown openid with a marker: errcode %d, want 40003", r.ErrCode)
	}
	if w := post(t, s.sim, "/wxa/msg_sec_check", "", textBody(wechatsim.OpenID(appID, "alice"), "err-busy")); !strings.Contains(w.Body.String(), `"errcode":41001`) {
		t.Fatalf("no token with a marker: %s, want 41001", w.Body)
	}
}

func TestMediaCheckAsync_ErrorMarkerInTheURLAnswersItsErrcodeAndStartsNoCheck(t *testing.T) {
	s := newSecSim(t)
	alice := wechatsim.OpenID(appID, "alice")
	codes := wechatsim.MarkerErrcodes(wechatsim.APIMediaCheckAsync)
	for _, code := range codes {
		u := "https://cdn.example.com/uploads/" + wechatsim.Marker(code) + ".png"
		w := post(t, s.sim, "/wxa/media_check_async", s.token,
			map[string]any{"media_url": u, "media_type": 2, "version": 2, "scene": 1, "openid": alice})
		wantWeChatError(t, u, w, code)
	}
	if checks := s.sim.MediaChecks(); len(checks) != 0 {
		t.Errorf("MediaChecks %v: a refused check has no verdict to come", checks)
	}
	if n := s.sim.CallsTo(wechatsim.APIMediaCheckAsync); n != len(codes) {
		t.Errorf("CallsTo = %d, want %d", n, len(codes))
	}
}

func TestWxaCode_ErrorMarkerInTheSceneAnswersItsErrcode(t *testing.T) {
	sim := newWxaSim()
	tok := accessToken(t, sim)
	codes := wechatsim.MarkerErrcodes(wechatsim.APIWxaCodeUnlimit)
	for _, want := range []int{45009, 40169, 41030, 40097, -1} {
		if !slices.Contains(codes, want) {
			t.Fatalf("MarkerErrcodes(getwxacodeunlimit) = %v, lacks %d", codes, want)
		}
	}
	msgs := map[int]string{
		45009: "reach max api daily quota limit", 40169: "invalid length for scene", 41030: "invalid page",
		40097: "invalid args", -1: "system error",
	}
	for _, code := range codes {
		scene := "u=42&" + wechatsim.Marker(code)
		w := wxaCode(t, sim, tok, `{"scene":"`+scene+`"}`)
		wantWeChatError(t, scene, w, code)
		if !strings.HasPrefix(w.Body.String(), `{"errcode":`+strconv.Itoa(code)+`,"errmsg":"`+msgs[code]) {
			t.Errorf("%s: %s, want WeChat's errmsg %q", scene, w.Body, msgs[code])
		}
	}
	// An errcode this API does not document is no marker: a code is made.
	if w := wxaCode(t, sim, tok, `{"scene":"err-45011"}`); w.Header().Get("Content-Type") != "image/jpeg" {
		t.Errorf("scene err-45011: %s %s, want an image", w.Header().Get("Content-Type"), w.Body)
	}
	if n := sim.CallsTo(wechatsim.APIWxaCodeUnlimit); n != len(codes)+1 {
		t.Errorf("CallsTo = %d, want %d", n, len(codes)+1)
	}
}
