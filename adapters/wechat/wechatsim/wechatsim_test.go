package wechatsim_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/wechat/wechatsim"
)

const (
	appID  = "wx1111111111111111"
	secret = "sim-test-secret"
)

// reply is any code2Session answer.
type reply struct {
	OpenID     string `json:"openid"`
	SessionKey string `json:"session_key"`
	UnionID    string `json:"unionid"`
	ErrCode    int    `json:"errcode"`
	ErrMsg     string `json:"errmsg"`
}

// query builds a code2Session query, dropping empty values.
func query(appid, secret, code, grant string) string {
	v := url.Values{}
	for k, s := range map[string]string{"appid": appid, "secret": secret, "js_code": code, "grant_type": grant} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return "/sns/jscode2session?" + v.Encode()
}

// call sends GET target to sim and returns the recorded response.
func call(t *testing.T, sim http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	sim.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
	return w
}

// decode parses a 200 text/plain reply.
func decode(t *testing.T, w *httptest.ResponseRecorder) reply {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d, want 200", w.Code)
	}
	if ct := w.Header().Get("Content-Type"); ct != "text/plain" {
		t.Errorf("Content-Type %q, want text/plain like WeChat", ct)
	}
	var r reply
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
		t.Fatalf("decode %q: %v", w.Body.String(), err)
	}
	return r
}

func newSim(cfg wechatsim.Config) *wechatsim.Simulator {
	if cfg.Apps == nil {
		cfg.Apps = map[string]string{appID: secret}
	}
	return wechatsim.New(cfg)
}

var ridRE = regexp.MustCompile(`, rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$`)

func TestSimulator_ChecksParametersInWeChatOrder(t *testing.T) {
	tests := []struct {
		name    string
		target  string
		errcode int
		errmsg  string
	}{
		{"missing grant_type", query(appID, secret, "dev-a", ""), 40002, "invalid grant_type"},
		{"wrong grant_type", query(appID, secret, "dev-a", "client_credential"), 40002, "invalid grant_type"},
		{"missing appid", query("", secret, "dev-a", "authorization_code"), 41002, "appid missing"},
		{"unknown appid", query("wx9999999999999999", secret, "dev-a", "authorization_code"), 40013, "invalid appid"},
		{"missing secret", query(appID, "", "dev-a", "authorization_code"), 41004, "appsecret missing"},
		{"wrong secret", query(appID, "nope", "dev-a", "authorization_code"), 40125, "invalid appsecret"},
		{"missing js_code", query(appID, secret, "", "authorization_code"), 41008, "missing code"},
	}
	sim := newSim(wechatsim.Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := decode(t, call(t, sim, tt.target))
			if r.ErrCode != tt.errcode {
				t.Errorf("errcode %d, want %d", r.ErrCode, tt.errcode)
			}
			if !strings.HasPrefix(r.ErrMsg, tt.errmsg+", rid: ") || !ridRE.MatchString(r.ErrMsg) {
				t.Errorf("errmsg %q, want %q followed by a rid", r.ErrMsg, tt.errmsg)
			}
			if r.OpenID != "" || r.SessionKey != "" {
				t.Errorf("error reply carries an identity: %+v", r)
			}
		})
	}
}

func TestSimulator_AnswersEachCodeAsDocumented(t *testing.T) {
	tests := []struct {
		code    string
		errcode int // 0: success
		errmsg  string
		union   bool
	}{
		{"dev-alice", 0, "", true},
		{"solo-alice", 0, "", false},
		{"once-alice", 0, "", true},
		{"err-40029", 40029, "invalid code", false},
		{"err-40163", 40163, "code been used", false},
		{"err-45011", 45011, "api minute-quota reach limit", false},
		{"err-40226", 40226, "high risk user", false},
		{"err-busy", -1, "system error", false},
		{"dev-", 40029, "invalid code", false},
		{"whatever", 40029, "invalid code", false},
	}
	sim := newSim(wechatsim.Config{})
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			r := decode(t, call(t, sim, query(appID, secret, tt.code, "authorization_code")))
			if r.ErrCode != tt.errcode {
				t.Fatalf("errcode %d (%q), want %d", r.ErrCode, r.ErrMsg, tt.errcode)
			}
			if tt.errcode != 0 {
				if !strings.HasPrefix(r.ErrMsg, tt.errmsg+", rid: ") {
					t.Errorf("errmsg %q, want %q and a rid", r.ErrMsg, tt.errmsg)
				}
				return
			}
			if r.OpenID == "" || r.SessionKey == "" {
				t.Errorf("success lacks openid or session_key: %+v", r)
			}
			if (r.UnionID != "") != tt.union {
				t.Errorf("unionid %q, want present: %t", r.UnionID, tt.union)
			}
		})
	}
}

func TestSimulator_IdentitiesAreShapedLikeWeChats(t *testing.T) {
	sim := newSim(wechatsim.Config{})
	r := decode(t, call(t, sim, query(appID, secret, "dev-alice", "authorization_code")))

	idRE := regexp.MustCompile(`^[A-Za-z0-9_-]{27}$`)
	if len(r.OpenID) != 28 || r.OpenID[0] != 'o' || !idRE.MatchString(r.OpenID[1:]) {
		t.Errorf("openid %q, want \"o\" and 27 base64url characters", r.OpenID)
	}
	if len(r.UnionID) != 28 || r.UnionID[0] != 'u' || !idRE.MatchString(r.UnionID[1:]) {
		t.Errorf("unionid %q, want \"u\" and 27 base64url characters", r.UnionID)
	}
	if r.OpenID != wechatsim.OpenID(appID, "alice") || r.UnionID != wechatsim.UnionID("alice") {
		t.Errorf("identity (%q, %q) differs from OpenID/UnionID", r.OpenID, r.UnionID)
	}
	key, err := base64.StdEncoding.DecodeString(r.SessionKey)
	if err != nil || len(key) != 16 {
		t.Errorf("session_key is not 16 bytes in base64 (%d bytes, %v)", len(key), err)
	}
}

func TestSimulator_MalformedCodeSendsTruncatedJSON(t *testing.T) {
	w := call(t, newSim(wechatsim.Config{}), query(appID, secret, "err-malformed", "authorization_code"))
	if w.Code != http.StatusOK {
		t.Errorf("status %d, want 200", w.Code)
	}
	if json.Valid(w.Body.Bytes()) {
		t.Errorf("body %q is valid JSON, want it truncated", w.Body.String())
	}
}

func TestSimulator_500CodeSendsHTML(t *testing.T) {
	w := call(t, newSim(wechatsim.Config{}), query(appID, secret, "err-500", "authorization_code"))
	if w.Code != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", w.Code)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || !strings.Contains(w.Body.String(), "<html>") {
		t.Errorf("reply %q (%s), want an HTML page", w.Body.String(), ct)
	}
}

func TestSimulator_OnceCodeIsSingleUsePerApp(t *testing.T) {
	other := "wx2222222222222222"
	sim := newSim(wechatsim.Config{Apps: map[string]string{appID: secret, other: secret}})

	steps := []struct {
		app     string
		errcode int
	}{{appID, 0}, {appID, 40163}, {appID, 40163}, {other, 0}, {other, 40163}}
	for i, s := range steps {
		r := decode(t, call(t, sim, query(s.app, secret, "once-gina", "authorization_code")))
		if r.ErrCode != s.errcode {
			t.Errorf("step %d (%s): errcode %d, want %d", i+1, s.app, r.ErrCode, s.errcode)
		}
	}
}

func TestSimulator_SlowCodeWaitsThenSucceeds(t *testing.T) {
	sim := newSim(wechatsim.Config{SlowDelay: 50 * time.Millisecond})
	start := time.Now()
	r := decode(t, call(t, sim, query(appID, secret, "err-slow", "authorization_code")))
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("answered after %s, want at least 50ms", d)
	}
	if r.OpenID != wechatsim.OpenID(appID, "slow") {
		t.Errorf("openid %q, want dev-slow's", r.OpenID)
	}
}

func TestSimulator_SlowCodeStopsWhenTheRequestEnds(t *testing.T) {
	sim := newSim(wechatsim.Config{SlowDelay: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, query(appID, secret, "err-slow", "authorization_code"), nil)

	done := make(chan struct{})
	go func() {
		defer close(done)
		sim.ServeHTTP(httptest.NewRecorder(), req)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("handler still waiting 5s after its request ended")
	}
}

func TestSimulator_ServesOnlyGetCode2Session(t *testing.T) {
	sim := newSim(wechatsim.Config{})
	tests := []struct {
		method, target string
		status         int
	}{
		{http.MethodPost, query(appID, secret, "dev-a", "authorization_code"), http.StatusMethodNotAllowed},
		{http.MethodGet, "/cgi-bin/token", http.StatusNotFound},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		sim.ServeHTTP(w, httptest.NewRequest(tt.method, tt.target, nil))
		if w.Code != tt.status {
			t.Errorf("%s %s: status %d, want %d", tt.method, tt.target, w.Code, tt.status)
		}
	}
}

func TestSimulator_CountsCallsPerCode(t *testing.T) {
	sim := newSim(wechatsim.Config{})
	for _, code := range []string{"dev-a", "dev-a", "err-busy", ""} {
		call(t, sim, query(appID, secret, code, "authorization_code"))
	}
	call(t, sim, query(appID, "wrong", "dev-a", "authorization_code"))
	if n := sim.Calls(); n != 5 {
		t.Errorf("Calls() = %d, want 5", n)
	}
	for code, want := range map[string]int{"dev-a": 3, "err-busy": 1, "": 1, "dev-b": 0} {
		if n := sim.CallsFor(code); n != want {
			t.Errorf("CallsFor(%q) = %d, want %d", code, n, want)
		}
	}
}

func TestSimulator_ZeroConfigServesTheDefaultApp(t *testing.T) {
	sim := wechatsim.New(wechatsim.Config{})
	r := decode(t, call(t, sim, query(wechatsim.DefaultAppID, wechatsim.DefaultSecret, "dev-a", "authorization_code")))
	if r.ErrCode != 0 || r.OpenID == "" {
		t.Errorf("reply %+v, want success", r)
	}
}

func TestSimulator_LogsNeitherSecretNorSessionKey(t *testing.T) {
	var buf bytes.Buffer
	sim := newSim(wechatsim.Config{Log: slog.New(slog.NewTextHandler(&buf, nil))})
	var keys []string
	for _, code := range []string{"dev-a", "solo-b", "once-c", "err-busy", "err-malformed", "err-500"} {
		r := call(t, sim, query(appID, secret, code, "authorization_code"))
		var rep reply
		if json.Unmarshal(r.Body.Bytes(), &rep) == nil && rep.SessionKey != "" {
			keys = append(keys, rep.SessionKey)
		}
	}
	if len(keys) != 3 {
		t.Fatalf("got %d session keys, want 3", len(keys))
	}
	logs := buf.String()
	if strings.Count(logs, "\n") != 6 {
		t.Errorf("want one log line per request, got:\n%s", logs)
	}
	for _, s := range append(keys, secret) {
		if strings.Contains(logs, s) {
			t.Errorf("log reveals %q:\n%s", s, logs)
		}
	}
}

func TestStart_ServesOnLoopbackUntilClosed(t *testing.T) {
	srv, err := wechatsim.Start("127.0.0.1:0", wechatsim.Config{Apps: map[string]string{appID: secret}})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	resp, err := http.Get(srv.URL() + query(appID, secret, "dev-a", "authorization_code"))
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"openid"`) {
		t.Errorf("reply %d %q, want an identity", resp.StatusCode, body)
	}
	if n := srv.Simulator().Calls(); n != 1 {
		t.Errorf("Calls() = %d, want 1", n)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := http.Get(srv.URL() + "/"); err == nil {
		t.Error("GET after Close succeeded, want a refused connection")
	}
}

func TestStart_CloseEndsASlowRequest(t *testing.T) {
	srv, err := wechatsim.Start("127.0.0.1:0", wechatsim.Config{Apps: map[string]string{appID: secret}, SlowDelay: time.Hour})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	errc := make(chan error, 1)
	go func() {
		resp, err := http.Get(srv.URL() + query(appID, secret, "err-slow", "authorization_code"))
		if err == nil {
			_ = resp.Body.Close()
		}
		errc <- err
	}()
	for srv.Simulator().CallsFor("err-slow") == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-errc:
		if err == nil {
			t.Error("slow request succeeded after Close, want it cut off")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("slow request still open 5s after Close")
	}
}

func TestStart_RefusesABadAddress(t *testing.T) {
	if _, err := wechatsim.Start("127.0.0.1:notaport", wechatsim.Config{}); err == nil {
		t.Error("Start succeeded on a bad address")
	}
}
