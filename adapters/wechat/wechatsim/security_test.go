package wechatsim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/wechat/wechatsim"
)

const otherApp = "wx2222222222222222"

// secSim is a simulator serving two apps on a settable clock, with alice
// logged in to appID.
type secSim struct {
	sim   *wechatsim.Simulator
	mu    sync.Mutex
	now   time.Time
	token string
}

func newSecSim(t *testing.T) *secSim {
	t.Helper()
	s := &secSim{now: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	s.sim = wechatsim.New(wechatsim.Config{
		Apps: map[string]string{appID: secret, otherApp: "other-secret"},
		Now: func() time.Time {
			s.mu.Lock()
			defer s.mu.Unlock()
			return s.now
		},
	})
	decode(t, call(t, s.sim, query(appID, secret, "dev-alice", "authorization_code")))
	s.renew(t)
	return s
}

// renew gets appID's current access token.
func (s *secSim) renew(t *testing.T) {
	t.Helper()
	w := post(t, s.sim, "/cgi-bin/stable_token", "", map[string]any{"grant_type": "client_credential", "appid": appID, "secret": secret})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("stable_token: %s", w.Body)
	}
	s.token = tok.AccessToken
}

// advance moves the clock and renews the access token (it lives as long
// as the activity window).
func (s *secSim) advance(t *testing.T, d time.Duration) {
	s.mu.Lock()
	s.now = s.now.Add(d)
	s.mu.Unlock()
	s.renew(t)
}

// post sends body as JSON to path with the access token in the URL.
func post(t *testing.T, h http.Handler, path, token string, body any) *httptest.ResponseRecorder {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		path += "?access_token=" + token
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(b))))
	return w
}

type secReply struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
	TraceID string `json:"trace_id"`
	Result  struct {
		Suggest string `json:"suggest"`
		Label   int    `json:"label"`
	} `json:"result"`
	Detail []map[string]any `json:"detail"`
}

func (s *secSim) check(t *testing.T, path string, body map[string]any) secReply {
	t.Helper()
	w := post(t, s.sim, path, s.token, body)
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("%s: %d %s", path, w.Code, w.Header().Get("Content-Type"))
	}
	var r secReply
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
		t.Fatalf("%s: %v in %s", path, err, w.Body)
	}
	return r
}

func textBody(openid, content string) map[string]any {
	return map[string]any{"version": 2, "openid": openid, "scene": 1, "content": content}
}

func TestMsgSecCheck_VerdictByMarker(t *testing.T) {
	s := newSecSim(t)
	alice := wechatsim.OpenID(appID, "alice")
	for content, want := range map[string]struct {
		suggest string
		label   int
	}{
		"hello":                {"pass", wechatsim.LabelNormal},
		"buy now sim-review":   {"review", wechatsim.LabelAds},
		"sim-risky sim-review": {"risky", wechatsim.LabelPolitics},
	} {
		r := s.check(t, "/wxa/msg_sec_check", textBody(alice, content))
		if r.ErrCode != 0 || r.ErrMsg != "ok" || r.Result.Suggest != want.suggest || r.Result.Label != want.label || r.TraceID == "" || len(r.Detail) == 0 {
			t.Errorf("%q: %+v, want %s %d with a trace_id and details", content, r, want.suggest, want.label)
		}
	}
	if n := s.sim.CallsTo(wechatsim.APIMsgSecCheck); n != 3 {
		t.Errorf("CallsTo = %d, want 3", n)
	}
}

func TestMsgSecCheck_RefusesLikeWeChat(t *testing.T) {
	s := newSecSim(t)
	alice := wechatsim.OpenID(appID, "alice")
	body := func(change func(map[string]any)) map[string]any {
		b := textBody(alice, "hello")
		change(b)
		return b
	}
	for name, c := range map[string]struct {
		body map[string]any
		want int
	}{
		"version 1":             {body(func(b map[string]any) { b["version"] = 1 }), 40097},
		"scene 0":               {body(func(b map[string]any) { b["scene"] = 0 }), 40129},
		"scene 5":               {body(func(b map[string]any) { b["scene"] = 5 }), 40129},
		"no openid":             {body(func(b map[string]any) { delete(b, "openid") }), 40003},
		"an openid never given": {body(func(b map[string]any) { b["openid"] = wechatsim.OpenID(appID, "bob") }), 40003},
		"another app's openid": {body(func(b map[string]any) {
			s.sim.Visit(otherApp, "carol")
			b["openid"] = wechatsim.OpenID(otherApp, "carol")
		}), 43104},
		"empty content":     {body(func(b map[string]any) { b["content"] = "" }), 40097},
		"2,501 characters":  {body(func(b map[string]any) { b["content"] = strings.Repeat("字", 2501) }), 40097},
		"2,500 characters?": {body(func(b map[string]any) { b["content"] = strings.Repeat("字", 2500) }), 0},
	} {
		if r := s.check(t, "/wxa/msg_sec_check", c.body); r.ErrCode != c.want {
			t.Errorf("%s: errcode %d (%s), want %d", name, r.ErrCode, r.ErrMsg, c.want)
		}
	}
	if w := post(t, s.sim, "/wxa/msg_sec_check", s.token, "not an object"); !strings.Contains(w.Body.String(), `"errcode":47001`) {
		t.Errorf("a body that is not an object: %s", w.Body)
	}
	// The token belongs in the URL.
	if w := post(t, s.sim, "/wxa/msg_sec_check", "", textBody(alice, "hello")); !strings.Contains(w.Body.String(), `"errcode":41001`) {
		t.Errorf("without a token: %s", w.Body)
	}
}

func TestMsgSecCheck_OpenIDMustHaveBeenActiveWithinTwoHours(t *testing.T) {
	s := newSecSim(t)
	alice := wechatsim.OpenID(appID, "alice")
	s.advance(t, wechatsim.ActiveWindow-time.Minute)
	if r := s.check(t, "/wxa/msg_sec_check", textBody(alice, "hi")); r.ErrCode != 0 {
		t.Fatalf("within the window: %+v", r)
	}
	s.advance(t, 2*time.Minute)
	if r := s.check(t, "/wxa/msg_sec_check", textBody(alice, "hi")); r.ErrCode != 61010 {
		t.Fatalf("past the window: errcode %d, want 61010", r.ErrCode)
	}
	s.sim.Visit(appID, "alice") // she opens the mini-program again
	if r := s.check(t, "/wxa/msg_sec_check", textBody(alice, "hi")); r.ErrCode != 0 {
		t.Fatalf("after a visit: %+v", r)
	}
}

func TestMsgSecCheck_InjectedErrors(t *testing.T) {
	s := newSecSim(t)
	s.sim.InjectError(wechatsim.APIMsgSecCheck, appID, -1, 1)
	alice := wechatsim.OpenID(appID, "alice")
	if r := s.check(t, "/wxa/msg_sec_check", textBody(alice, "hi")); r.ErrCode != -1 {
		t.Fatalf("injected: %+v", r)
	}
	if r := s.check(t, "/wxa/msg_sec_check", textBody(alice, "hi")); r.ErrCode != 0 {
		t.Fatalf("after the injected one: %+v", r)
	}
}

func TestMediaCheckAsync_TraceIDThenVerdictEvent(t *testing.T) {
	s := newSecSim(t)
	alice := wechatsim.OpenID(appID, "alice")
	media := func(url string) map[string]any {
		return map[string]any{"media_url": url, "media_type": 2, "version": 2, "scene": 1, "openid": alice}
	}
	plain := s.check(t, "/wxa/media_check_async", media("https://cdn.example.com/uploads/avatar/u-1"))
	marked := s.check(t, "/wxa/media_check_async", media("https://cdn.example.com/sim-review.png"))
	overridden := s.check(t, "/wxa/media_check_async", media("https://cdn.example.com/uploads/avatar/u-2"))
	for _, r := range []secReply{plain, marked, overridden} {
		if r.ErrCode != 0 || r.TraceID == "" || r.Result.Suggest != "" {
			t.Fatalf("reply %+v: want a trace_id and no verdict yet", r)
		}
	}
	s.sim.SetMediaVerdict("u-2", "risky")
	for trace, want := range map[string]string{plain.TraceID: "pass", marked.TraceID: "review", overridden.TraceID: "risky"} {
		ev, ok := s.sim.MediaVerdict(trace)
		if !ok {
			t.Fatalf("no verdict for %s", trace)
		}
		result := ev["result"].(map[string]any)
		if ev["Event"] != "wxa_media_check" || ev["MsgType"] != "event" || ev["appid"] != appID || ev["trace_id"] != trace ||
			ev["FromUserName"] != alice || !strings.HasPrefix(ev["ToUserName"].(string), "gh_") || ev["version"] != 2 ||
			result["suggest"] != want {
			t.Errorf("event %v: want %s", ev, want)
		}
		if _, err := json.Marshal(ev); err != nil {
			t.Errorf("event does not marshal: %v", err)
		}
	}
	if _, ok := s.sim.MediaVerdict("no-such-trace"); ok {
		t.Errorf("a verdict for an unknown trace")
	}
	if checks := s.sim.MediaChecks(); len(checks) != 3 {
		t.Errorf("MediaChecks: %d, want 3", len(checks))
	}
	for name, b := range map[string]map[string]any{
		"no URL":          media(""),
		"not http":        media("ftp://cdn.example.com/a.png"),
		"media type 3":    func() map[string]any { m := media("https://cdn.example.com/a.png"); m["media_type"] = 3; return m }(),
		"unknown openid":  func() map[string]any { m := media("https://cdn.example.com/a.png"); m["openid"] = "oNobody"; return m }(),
		"scene 9":         func() map[string]any { m := media("https://cdn.example.com/a.png"); m["scene"] = 9; return m }(),
		"version missing": func() map[string]any { m := media("https://cdn.example.com/a.png"); delete(m, "version"); return m }(),
	} {
		if r := s.check(t, "/wxa/media_check_async", b); r.ErrCode == 0 {
			t.Errorf("%s: accepted", name)
		}
	}
}

// With MediaVerdictDelay set, the simulator pushes the verdict to the
// app's push URL by itself, as WeChat does after mediaCheckAsync: the run
// command's loop from upload to verdict needs no hand-made event.
func TestMediaCheckAsync_VerdictIsPushedAfterTheDelay(t *testing.T) {
	got := make(chan string, 1)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
		_, _ = w.Write([]byte("success"))
	}))
	t.Cleanup(receiver.Close)
	sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{appID: secret}, MediaVerdictDelay: time.Millisecond})
	sim.SetPusher(appID, &wechatsim.Pusher{URL: receiver.URL, AppID: appID, Token: "t"})
	decode(t, call(t, sim, query(appID, secret, "dev-alice", "authorization_code")))
	w := post(t, sim, "/cgi-bin/stable_token", "", map[string]any{"grant_type": "client_credential", "appid": appID, "secret": secret})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &tok); err != nil {
		t.Fatal(err)
	}
	w = post(t, sim, "/wxa/media_check_async", tok.AccessToken, map[string]any{"media_url": "https://cdn.example.com/sim-risky.png",
		"media_type": 2, "version": 2, "scene": 1, "openid": wechatsim.OpenID(appID, "alice")})
	var r struct {
		TraceID string `json:"trace_id"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil || r.TraceID == "" {
		t.Fatalf("media_check_async: %s", w.Body)
	}
	select {
	case body := <-got:
		for _, want := range []string{`"Event":"wxa_media_check"`, `"trace_id":"` + r.TraceID + `"`, `"suggest":"risky"`} {
			if !strings.Contains(body, want) {
				t.Errorf("pushed %s: lacks %s", body, want)
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no verdict was pushed")
	}
}
