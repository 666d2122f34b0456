package wechatsim_test

import (
	"net/http"
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
