package wechatsim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/miniback/miniback/adapters/wechat/wechatsim"
)

func TestInject_Code2SessionAnswersInjectedErrcodesThenTheCode(t *testing.T) {
	sim := newSim(wechatsim.Config{})
	sim.InjectError(wechatsim.APICode2Session, appID, -1, 2)
	for i := range 2 {
		if r := decode(t, call(t, sim, query(appID, secret, "dev-alice", "authorization_code"))); r.ErrCode != -1 || !strings.HasPrefix(r.ErrMsg, "system error") {
			t.Fatalf("call %d: %+v, want errcode -1 system error", i+1, r)
		}
	}
	if r := decode(t, call(t, sim, query(appID, secret, "dev-alice", "authorization_code"))); r.ErrCode != 0 || r.OpenID == "" {
		t.Fatalf("third call: %+v, want alice", r)
	}
	if n := sim.CallsTo(wechatsim.APICode2Session); n != 3 {
		t.Fatalf("CallsTo %d, want 3", n)
	}
}

func TestInject_AnInjectionWaitsForTheRequestsOwnChecks(t *testing.T) {
	sim := newSim(wechatsim.Config{})
	sim.InjectError(wechatsim.APICode2Session, appID, -1, 1)
	if r := decode(t, call(t, sim, query(appID, "wrong", "dev-alice", "authorization_code"))); r.ErrCode != 40125 {
		t.Fatalf("bad secret: %+v, want 40125", r)
	}
	if r := decode(t, call(t, sim, query(appID, secret, "dev-alice", "authorization_code"))); r.ErrCode != -1 {
		t.Fatalf("%+v, want the injected -1", r)
	}
}

func TestInject_StatusIsAnHTMLPageBeforeAnyErrcode(t *testing.T) {
	sim := newSim(wechatsim.Config{})
	sim.InjectError(wechatsim.APICode2Session, appID, -1, 1)
	sim.InjectStatus(wechatsim.APICode2Session, appID, http.StatusServiceUnavailable, 1)
	w := call(t, sim, query(appID, secret, "dev-alice", "authorization_code"))
	if w.Code != http.StatusServiceUnavailable || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("status %d %q, want 503 text/html", w.Code, w.Header().Get("Content-Type"))
	}
	if r := decode(t, call(t, sim, query(appID, secret, "dev-alice", "authorization_code"))); r.ErrCode != -1 {
		t.Fatalf("%+v, want the injected -1 next", r)
	}
	if r := decode(t, call(t, sim, query(appID, secret, "dev-alice", "authorization_code"))); r.ErrCode != 0 {
		t.Fatalf("%+v, want success once the injections are spent", r)
	}
}

// hook sends method target with body to h and returns the recorder.
func hook(t *testing.T, h http.Handler, method, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, target, strings.NewReader(body)))
	return w
}

// faultList decodes {"faults":[…]}.
func faultList(t *testing.T, w *httptest.ResponseRecorder) []wechatsim.Fault {
	t.Helper()
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("HTTP %d %q: %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	var r struct {
		Faults []wechatsim.Fault `json:"faults"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil || r.Faults == nil {
		t.Fatalf("not a fault list: %s", w.Body)
	}
	return r.Faults
}

func TestFaults_EveryStableTokenErrorIsReachableOverHTTP(t *testing.T) {
	p := newPlatformSim(t, wechatsim.Config{})
	codes := []int{40013, 40125, 40164, 45009, 45011, -1, 89503}
	for _, code := range codes {
		// No appid: the simulator serves one app, which is meant.
		got := faultList(t, hook(t, p.h, http.MethodPost, "/wechatsim/faults",
			fmt.Sprintf(`{"api":"stable_token","errcode":%d}`, code)))
		if want := []wechatsim.Fault{{API: wechatsim.APIStableToken, AppID: appID, ErrCode: code, Times: 1}}; !reflect.DeepEqual(got, want) {
			t.Fatalf("pending %+v, want %+v", got, want)
		}
		w := hook(t, p.h, http.MethodPost, "/cgi-bin/stable_token",
			`{"grant_type":"client_credential","appid":"`+appID+`","secret":"`+secret+`"}`)
		wantWeChatError(t, fmt.Sprint(code), w, code)
	}
	if r := p.stable(t, false); r.ErrCode != 0 || r.AccessToken == "" {
		t.Fatalf("after the faults: %+v, want a token", r)
	}
	if n := p.sim.CallsTo(wechatsim.APIStableToken); n != len(codes)+1 {
		t.Fatalf("CallsTo = %d, want %d: each failed call counts", n, len(codes)+1)
	}
}

func TestFaults_AreSpentAfterTimesCallsAndListedUntilThen(t *testing.T) {
	sim := newSim(wechatsim.Config{Apps: map[string]string{appID: secret, otherApp: "other-secret"}})
	tok := accessToken(t, sim)
	faultList(t, hook(t, sim, http.MethodPost, "/wechatsim/faults", `{"api":"getwxacodeunlimit","appid":"`+appID+`","errcode":45009,"times":2}`))
	faultList(t, hook(t, sim, http.MethodPost, "/wechatsim/faults", `{"api":"getwxacodeunlimit","appid":"`+appID+`","status":503}`))
	faultList(t, hook(t, sim, http.MethodPost, "/wechatsim/faults", `{"api":"msg_sec_check","appid":"`+otherApp+`","errcode":-1,"times":3}`))
	want := []wechatsim.Fault{
		{API: wechatsim.APIWxaCodeUnlimit, AppID: appID, Status: 503, Times: 1},
		{API: wechatsim.APIWxaCodeUnlimit, AppID: appID, ErrCode: 45009, Times: 2},
		{API: wechatsim.APIMsgSecCheck, AppID: otherApp, ErrCode: -1, Times: 3},
	}
	slices.SortStableFunc(want, func(a, b wechatsim.Fault) int { return strings.Compare(a.API, b.API) })
	if got := faultList(t, hook(t, sim, http.MethodGet, "/wechatsim/faults", "")); !reflect.DeepEqual(got, want) {
		t.Fatalf("GET %+v, want %+v", got, want)
	}
	// The status first, then the errcode twice, then a code.
	if w := wxaCode2(sim, tok, `{"scene":"a"}`); w.Code != http.StatusServiceUnavailable || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("first call: HTTP %d %q, want the injected 503 page", w.Code, w.Header().Get("Content-Type"))
	}
	for i := range 2 {
		wantWeChatError(t, fmt.Sprint("call ", i+2), wxaCode(t, sim, tok, `{"scene":"a"}`), 45009)
	}
	if got := faultList(t, hook(t, sim, http.MethodGet, "/wechatsim/faults", "")); len(got) != 1 || got[0].API != wechatsim.APIMsgSecCheck {
		t.Fatalf("pending %+v, want only the other app's msg_sec_check faults", got)
	}
	if w := wxaCode(t, sim, tok, `{"scene":"a"}`); w.Header().Get("Content-Type") != "image/jpeg" {
		t.Fatalf("fourth call: %q %s, want the code once the faults are spent", w.Header().Get("Content-Type"), w.Body)
	}
	if n := sim.CallsTo(wechatsim.APIWxaCodeUnlimit); n != 4 {
		t.Fatalf("CallsTo = %d, want 4", n)
	}
	if got := faultList(t, hook(t, sim, http.MethodDelete, "/wechatsim/faults", "")); len(got) != 0 {
		t.Fatalf("after DELETE: %+v", got)
	}
	if got := sim.Faults(); len(got) != 0 {
		t.Fatalf("Faults after DELETE: %+v", got)
	}
}

// wxaCode2 is wxaCode without the status check, for an injected status.
func wxaCode2(sim http.Handler, token, body string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	sim.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/wxa/getwxacodeunlimit?access_token="+token, strings.NewReader(body)))
	return w
}

func TestFaults_RefuseWhatTheyCannotInject(t *testing.T) {
	one := newSim(wechatsim.Config{})
	two := newSim(wechatsim.Config{Apps: map[string]string{appID: secret, otherApp: "other-secret"}})
	for _, c := range []struct {
		name string
		sim  http.Handler
		body string
		want int
	}{
		{"not JSON", one, `errcode=1`, http.StatusBadRequest},
		{"an unknown field", one, `{"api":"stable_token","errcode":1,"count":2}`, http.StatusBadRequest},
		{"an unknown API", one, `{"api":"token","errcode":40001}`, http.StatusBadRequest},
		{"no errcode or status", one, `{"api":"stable_token"}`, http.StatusBadRequest},
		{"both", one, `{"api":"stable_token","errcode":-1,"status":503}`, http.StatusBadRequest},
		{"a status that is no error", one, `{"api":"stable_token","status":200}`, http.StatusBadRequest},
		{"too many times", one, `{"api":"stable_token","errcode":-1,"times":1001}`, http.StatusBadRequest},
		{"negative times", one, `{"api":"stable_token","errcode":-1,"times":-1}`, http.StatusBadRequest},
		{"an app not served", one, `{"api":"stable_token","appid":"wx9999999999999999","errcode":-1}`, http.StatusNotFound},
		{"no appid with two apps", two, `{"api":"stable_token","errcode":-1}`, http.StatusBadRequest},
	} {
		if w := hook(t, c.sim, http.MethodPost, "/wechatsim/faults", c.body); w.Code != c.want || w.Body.Len() == 0 {
			t.Errorf("%s: HTTP %d %q, want %d with a reason", c.name, w.Code, w.Body, c.want)
		}
	}
	if got := one.Faults(); len(got) != 0 {
		t.Errorf("refused faults were queued: %+v", got)
	}
}

func TestFaults_RevokeAndPoisonMakeTheTokenGoBadOverHTTP(t *testing.T) {
	p := newPlatformSim(t, wechatsim.Config{})
	if w := hook(t, p.h, http.MethodPost, "/wechatsim/poison", ""); w.Code != http.StatusConflict {
		t.Fatalf("poison before any token: HTTP %d, want 409", w.Code)
	}
	tok := p.stable(t, false).AccessToken
	w := hook(t, p.h, http.MethodPost, "/wechatsim/revoke?appid="+appID, "")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"generation":2`) || strings.Contains(w.Body.String(), tok) {
		t.Fatalf("revoke: HTTP %d %s, want generation 2 and no token", w.Code, w.Body)
	}
	if code := p.call(t, tok); code != wechatsim.ErrTokenInvalid {
		t.Fatalf("revoked token: errcode %d, want 40001", code)
	}
	tok = p.stable(t, false).AccessToken
	if w := hook(t, p.h, http.MethodPost, "/wechatsim/poison", ""); w.Code != http.StatusOK {
		t.Fatalf("poison: HTTP %d %s", w.Code, w.Body)
	}
	if code := p.call(t, tok); code != wechatsim.ErrTokenInvalid {
		t.Fatalf("poisoned token: errcode %d, want 40001", code)
	}
	if r := p.stable(t, false); r.AccessToken != tok {
		t.Fatal("normal mode should keep returning the poisoned token")
	}
	if w := hook(t, p.h, http.MethodPost, "/wechatsim/revoke?appid=wx9999999999999999", ""); w.Code != http.StatusNotFound {
		t.Fatalf("revoke of an app not served: HTTP %d, want 404", w.Code)
	}
}

// The run command's simulator is a Server: the hooks answer on its
// listener, as a developer's curl reaches them.
func TestFaults_ServedOnTheSimulatorsListener(t *testing.T) {
	srv, err := wechatsim.Start("127.0.0.1:0", wechatsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	res, err := http.Post(srv.URL()+"/wechatsim/faults", "application/json",
		strings.NewReader(`{"api":"stable_token","errcode":40164,"times":2}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST /wechatsim/faults: HTTP %d", res.StatusCode)
	}
	if got := srv.Simulator().Faults(); len(got) != 1 || got[0].AppID != wechatsim.DefaultAppID || got[0].Times != 2 {
		t.Fatalf("pending %+v, want 40164 twice for the default app", got)
	}
}
