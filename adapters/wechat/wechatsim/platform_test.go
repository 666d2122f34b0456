package wechatsim_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/wechat/wechatsim"
)

// simT0 is noon in Beijing (04:00 UTC).
var simT0 = time.Date(2026, 3, 1, 4, 0, 0, 0, time.UTC)

// clock is a fake clock the tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// echoAPI is a token-bearing API mounted through TokenAPI.
const echoAPI = "test_echo"

// platform is a simulator on a fake clock with echoAPI mounted.
type platform struct {
	sim   *wechatsim.Simulator
	clock *clock
	h     http.Handler
}

func newPlatformSim(t *testing.T, cfg wechatsim.Config) *platform {
	t.Helper()
	c := &clock{t: simT0}
	if cfg.Apps == nil {
		cfg.Apps = map[string]string{appID: secret}
	}
	cfg.Now = c.Now
	sim := wechatsim.New(cfg)
	mux := http.NewServeMux()
	mux.Handle("/", sim)
	mux.Handle("POST /wxa/"+echoAPI, sim.TokenAPI(echoAPI, func(w http.ResponseWriter, _ *http.Request, appid string) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"errcode":0,"errmsg":"ok","appid":"` + appid + `"}`))
	}))
	return &platform{sim: sim, clock: c, h: mux}
}

// tokenReply is any stable_token or token-bearing API answer.
type tokenReply struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	AppID       string `json:"appid"`
	ErrCode     int    `json:"errcode"`
	ErrMsg      string `json:"errmsg"`
}

func (p *platform) post(t *testing.T, target, body string) tokenReply {
	t.Helper()
	w := httptest.NewRecorder()
	p.h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, target, strings.NewReader(body)))
	if w.Code != http.StatusOK {
		t.Fatalf("POST %s: status %d, want 200 like WeChat", target, w.Code)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("POST %s: Content-Type %q, want application/json", target, ct)
	}
	var r tokenReply
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
		t.Fatalf("POST %s: decode %q: %v", target, w.Body.String(), err)
	}
	return r
}

// stable calls stable_token for the test app.
func (p *platform) stable(t *testing.T, force bool) tokenReply {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"grant_type": "client_credential", "appid": appID, "secret": secret, "force_refresh": force})
	return p.post(t, "/cgi-bin/stable_token", string(b))
}

// call calls echoAPI with tok and returns the errcode (0: accepted).
func (p *platform) call(t *testing.T, tok string) int {
	t.Helper()
	target := "/wxa/" + echoAPI
	if tok != "" {
		target += "?access_token=" + url.QueryEscape(tok)
	}
	r := p.post(t, target, `{}`)
	if r.ErrCode == 0 && r.AppID != appID {
		t.Fatalf("accepted call answered appid %q, want %q", r.AppID, appID)
	}
	return r.ErrCode
}

var apiRIDRE = regexp.MustCompile(` rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$`)

func TestStableToken_ChecksTheRequestInWeChatOrder(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		errcode int
	}{
		{"not JSON", `grant_type=client_credential`, 47001},
		{"wrong grant_type", `{"grant_type":"authorization_code","appid":"` + appID + `","secret":"` + secret + `"}`, 40002},
		{"missing appid", `{"grant_type":"client_credential","secret":"` + secret + `"}`, 41002},
		{"unknown appid", `{"grant_type":"client_credential","appid":"wx9999999999999999","secret":"` + secret + `"}`, 40013},
		{"missing secret", `{"grant_type":"client_credential","appid":"` + appID + `"}`, 41004},
		{"wrong secret", `{"grant_type":"client_credential","appid":"` + appID + `","secret":"nope"}`, 40125},
	}
	p := newPlatformSim(t, wechatsim.Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := p.post(t, "/cgi-bin/stable_token", tt.body)
			if r.ErrCode != tt.errcode {
				t.Errorf("errcode %d, want %d", r.ErrCode, tt.errcode)
			}
			if !apiRIDRE.MatchString(r.ErrMsg) {
				t.Errorf("errmsg %q should end with a rid", r.ErrMsg)
			}
			if r.AccessToken != "" {
				t.Error("an error reply carries a token")
			}
		})
	}
	if n := p.sim.CallsTo(wechatsim.APIStableToken); n != len(tests) {
		t.Errorf("CallsTo(stable_token) = %d, want %d (invalid calls count too)", n, len(tests))
	}
	if tok, gen := p.sim.CurrentToken(appID); tok != "" || gen != 0 {
		t.Errorf("a refused call issued a token (generation %d)", gen)
	}
}

func TestStableToken_NormalModeRotatesOnlyInTheLastFiveMinutes(t *testing.T) {
	p := newPlatformSim(t, wechatsim.Config{})
	first := p.stable(t, false)
	if first.AccessToken == "" || first.ExpiresIn != 7200 {
		t.Fatalf("first token: %+v, want a token for 7200 s", first)
	}
	expiry := simT0.Add(wechatsim.TokenTTL)
	steps := []struct {
		name      string
		at        time.Time
		sameToken bool
		expiresIn int
		gen       int
	}{
		{"an hour on: the same token, its remaining life", simT0.Add(time.Hour), true, 3600, 1},
		{"5 min and 1 s before expiry: still the same", expiry.Add(-5*time.Minute - time.Second), true, 301, 1},
		{"5 min before expiry: a new token", expiry.Add(-5 * time.Minute), false, 7200, 2},
		{"a minute later: the new token", expiry.Add(-4 * time.Minute), false, 7140, 2},
	}
	for _, s := range steps {
		p.clock.Set(s.at)
		r := p.stable(t, false)
		if (r.AccessToken == first.AccessToken) != s.sameToken || r.ExpiresIn != s.expiresIn {
			t.Fatalf("%s: same token %t, expires_in %d; want same %t, %d", s.name, r.AccessToken == first.AccessToken, r.ExpiresIn, s.sameToken, s.expiresIn)
		}
		if tok, gen := p.sim.CurrentToken(appID); tok != r.AccessToken || gen != s.gen {
			t.Fatalf("%s: CurrentToken generation %d (same as reply: %t), want %d", s.name, gen, tok == r.AccessToken, s.gen)
		}
	}
	// The old token works until its own expiry (the 5-minute overlap ends
	// there), then answers 42001; the new one works.
	p.clock.Set(expiry.Add(-time.Second))
	if code := p.call(t, first.AccessToken); code != 0 {
		t.Fatalf("old token a second before its expiry: errcode %d, want accepted", code)
	}
	p.clock.Set(expiry)
	if code := p.call(t, first.AccessToken); code != wechatsim.ErrTokenExpired {
		t.Fatalf("old token at its expiry: errcode %d, want 42001", code)
	}
	cur, _ := p.sim.CurrentToken(appID)
	if code := p.call(t, cur); code != 0 {
		t.Fatalf("new token: errcode %d", code)
	}
}

func TestStableToken_NormalModeNeverAnswersLessThan300Seconds(t *testing.T) {
	p := newPlatformSim(t, wechatsim.Config{})
	rotations := 0
	last := ""
	for range 24 * 60 {
		r := p.stable(t, false)
		if r.ExpiresIn < 300 || r.ExpiresIn > 7200 {
			t.Fatalf("at %s: expires_in %d, want 300..7200", p.clock.Now(), r.ExpiresIn)
		}
		if r.AccessToken != last {
			rotations++
			last = r.AccessToken
		}
		if code := p.call(t, r.AccessToken); code != 0 {
			t.Fatalf("at %s: the token normal mode returned answers %d", p.clock.Now(), code)
		}
		p.clock.Add(time.Minute)
	}
	// A token lives 120 min and rotates at 115: 0, 115, 230, … 1380.
	if rotations != 13 {
		t.Fatalf("%d tokens in a day of calls every minute, want 13", rotations)
	}
}

func TestStableToken_ATokenCalledLongAfterExpiryIsReplaced(t *testing.T) {
	p := newPlatformSim(t, wechatsim.Config{})
	old := p.stable(t, false)
	p.clock.Add(3 * time.Hour)
	if code := p.call(t, old.AccessToken); code != wechatsim.ErrTokenExpired {
		t.Fatalf("expired token: errcode %d, want 42001", code)
	}
	r := p.stable(t, false)
	if r.AccessToken == old.AccessToken || r.ExpiresIn != 7200 {
		t.Fatalf("after expiry: same token %t, expires_in %d; want a new one for 7200 s", r.AccessToken == old.AccessToken, r.ExpiresIn)
	}
	if _, gen := p.sim.CurrentToken(appID); gen != 2 {
		t.Fatalf("generation %d, want 2", gen)
	}
}

func TestStableToken_ForceRefreshRotatesAtOnceWithinWeChatsBudget(t *testing.T) {
	p := newPlatformSim(t, wechatsim.Config{})
	old := p.stable(t, false)

	forced := p.stable(t, true)
	if forced.AccessToken == old.AccessToken || forced.ExpiresIn != 7200 {
		t.Fatalf("force: same token %t, expires_in %d; want a new one for 7200 s", forced.AccessToken == old.AccessToken, forced.ExpiresIn)
	}
	if code := p.call(t, old.AccessToken); code != wechatsim.ErrTokenInvalid {
		t.Fatalf("the token a force replaced: errcode %d, want 40001 at once", code)
	}
	p.clock.Add(29 * time.Second)
	again := p.stable(t, true)
	if again.AccessToken != forced.AccessToken {
		t.Fatal("a force within 30 s of the last rotated the token")
	}
	if n := p.sim.ForcedRefreshes(appID); n != 2 {
		t.Fatalf("ForcedRefreshes %d, want 2 (one that did not rotate counts)", n)
	}
	for i := 3; i <= 20; i++ {
		p.clock.Add(30 * time.Second)
		if r := p.stable(t, true); r.ErrCode != 0 || r.AccessToken == forced.AccessToken {
			t.Fatalf("force %d: %+v, want a new token", i, r.ErrCode)
		}
	}
	p.clock.Add(30 * time.Second)
	if r := p.stable(t, true); r.ErrCode != 45009 {
		t.Fatalf("force 21 in a Beijing day: errcode %d, want 45009", r.ErrCode)
	}
	if r := p.stable(t, false); r.ErrCode != 0 || r.AccessToken == "" {
		t.Fatalf("normal mode after the force budget is spent: errcode %d, want a token", r.ErrCode)
	}
	// Beijing midnight is 16:00 UTC.
	p.clock.Set(time.Date(2026, 3, 1, 16, 0, 0, 0, time.UTC))
	if n := p.sim.ForcedRefreshes(appID); n != 0 {
		t.Fatalf("ForcedRefreshes on a new Beijing day = %d, want 0", n)
	}
	if r := p.stable(t, true); r.ErrCode != 0 {
		t.Fatalf("force on a new Beijing day: errcode %d", r.ErrCode)
	}
}

func TestTokenAPI_ChecksTheAccessTokenLikeWeChat(t *testing.T) {
	p := newPlatformSim(t, wechatsim.Config{})
	old := p.stable(t, false).AccessToken
	p.sim.Revoke(appID)
	cur, _ := p.sim.CurrentToken(appID)
	tests := []struct {
		name    string
		token   string
		errcode int
	}{
		{"valid", cur, 0},
		{"missing", "", wechatsim.ErrTokenMissing},
		{"never issued", "not-a-token", wechatsim.ErrTokenInvalid},
		{"replaced by a forced refresh", old, wechatsim.ErrTokenInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code := p.call(t, tt.token); code != tt.errcode {
				t.Errorf("errcode %d, want %d", code, tt.errcode)
			}
		})
	}
	if n := p.sim.CallsTo(echoAPI); n != len(tests) {
		t.Errorf("CallsTo(%s) = %d, want %d (refused calls count)", echoAPI, n, len(tests))
	}
}

func TestRevoke_NormalModeHandsOutTheNewToken(t *testing.T) {
	p := newPlatformSim(t, wechatsim.Config{})
	old := p.stable(t, false).AccessToken
	p.sim.Revoke(appID)
	r := p.stable(t, false)
	if r.AccessToken == old {
		t.Fatal("normal mode after Revoke returned the revoked token")
	}
	if code := p.call(t, r.AccessToken); code != 0 {
		t.Fatalf("the new token: errcode %d", code)
	}
	if n := p.sim.ForcedRefreshes(appID); n != 0 {
		t.Fatalf("Revoke counted against the force budget: %d", n)
	}
}

func TestPoison_OnlyAForcedRefreshGetsAWorkingToken(t *testing.T) {
	p := newPlatformSim(t, wechatsim.Config{})
	tok := p.stable(t, false).AccessToken
	p.sim.Poison(appID)
	if code := p.call(t, tok); code != wechatsim.ErrTokenInvalid {
		t.Fatalf("poisoned token: errcode %d, want 40001", code)
	}
	if r := p.stable(t, false); r.AccessToken != tok {
		t.Fatal("normal mode should keep returning the poisoned token")
	}
	forced := p.stable(t, true).AccessToken
	if forced == tok {
		t.Fatal("a force returned the poisoned token")
	}
	if code := p.call(t, forced); code != 0 {
		t.Fatalf("the forced token: errcode %d", code)
	}
	p.sim.Poison("wx-unknown") // no token yet: nothing to poison, no panic
}

func TestInjectError_AnswersTheNextCallsThenRecovers(t *testing.T) {
	p := newPlatformSim(t, wechatsim.Config{})
	for _, code := range []int{40164, -1, 45011, 89503} {
		p.sim.InjectError(wechatsim.APIStableToken, appID, code, 1)
		if r := p.stable(t, false); r.ErrCode != code || r.AccessToken != "" {
			t.Fatalf("injected %d: answered %d", code, r.ErrCode)
		}
	}
	tok := p.stable(t, false).AccessToken
	if tok == "" {
		t.Fatal("stable_token did not recover after the injected errors")
	}
	p.sim.InjectError(echoAPI, appID, 45009, 2)
	for i := range 2 {
		if code := p.call(t, tok); code != 45009 {
			t.Fatalf("call %d: errcode %d, want the injected 45009", i, code)
		}
	}
	if code := p.call(t, tok); code != 0 {
		t.Fatalf("after the injected errors: errcode %d", code)
	}
	// An injected errcode waits behind the token check.
	p.sim.InjectError(echoAPI, appID, 45009, 1)
	if code := p.call(t, ""); code != wechatsim.ErrTokenMissing {
		t.Fatalf("no token with an injected error pending: errcode %d, want 41001", code)
	}
}

func TestStableToken_LogsNeitherSecretNorToken(t *testing.T) {
	var logged bytes.Buffer
	p := newPlatformSim(t, wechatsim.Config{Log: slog.New(slog.NewJSONHandler(&logged, nil))})
	r := p.stable(t, false)
	f := p.stable(t, true)
	for _, s := range []string{secret, r.AccessToken, f.AccessToken} {
		if strings.Contains(logged.String(), s) {
			t.Fatalf("the log holds a secret or token: %s", logged.String())
		}
	}
	if !strings.Contains(logged.String(), `"generation":2`) {
		t.Errorf("the log should name the generation: %s", logged.String())
	}
}
