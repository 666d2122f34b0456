package wechat_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/miniback/miniback/adapters/wechat"
	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/domain"
)

func TestContentSecurity_CheckTextReadsTheVerdict(t *testing.T) {
	sim, api := newPlatform(t)
	sim.Visit(string(appA), "alice")
	cs := wechat.NewContentSecurity(api)
	openid := domain.OpenID(wechatsim.OpenID(string(appA), "alice"))
	for content, want := range map[string]domain.Suggest{
		"hello": domain.SuggestPass, "a sim-review ad": domain.SuggestReview, "sim-risky": domain.SuggestRisky,
	} {
		v, err := cs.CheckText(context.Background(), domain.TextCheck{App: appA, OpenID: openid, Scene: domain.SceneProfile, Content: content})
		if err != nil || v.Suggest != want || v.TraceID == "" || v.Label == 0 {
			t.Errorf("%q: %+v, %v; want %s with a label and a trace_id", content, v, err, want)
		}
	}
}

func TestContentSecurity_MapsItsErrcodes(t *testing.T) {
	sim, api := newPlatform(t)
	sim.Visit(string(appA), "alice")
	cs := wechat.NewContentSecurity(api)
	alice := domain.OpenID(wechatsim.OpenID(string(appA), "alice"))
	check := func(openid domain.OpenID) error {
		_, err := cs.CheckText(context.Background(), domain.TextCheck{App: appA, OpenID: openid, Scene: domain.SceneProfile, Content: "hi"})
		return err
	}
	if err := check("oNobody"); domain.ErrorCode(err) != domain.CodeWeChatBadResponse || !strings.Contains(domain.ErrorMessage(err), "40003") {
		t.Errorf("unknown openid: %v", err)
	}
	for errcode, want := range map[int]domain.Code{
		-1: domain.CodeWeChatBusy, 45011: domain.CodeWeChatRateLimited, 48001: domain.CodeWeChatMisconfigured,
		61010: domain.CodeWeChatBadResponse, 40164: domain.CodeWeChatMisconfigured,
	} {
		sim.InjectError(wechatsim.APIMsgSecCheck, string(appA), errcode, 1)
		if err := check(alice); domain.ErrorCode(err) != want {
			t.Errorf("errcode %d: %v, want %s", errcode, err, want)
		}
	}
	sim.InjectError(wechatsim.APIMediaCheckAsync, string(appA), -1, 1)
	if _, err := cs.CheckMedia(context.Background(), domain.MediaCheck{App: appA, OpenID: alice, Scene: 1, URL: "https://cdn.example.com/a.png"}); domain.ErrorCode(err) != domain.CodeWeChatBusy {
		t.Errorf("media check, errcode -1: %v", err)
	}
}

func TestContentSecurity_CheckMediaReturnsTheTraceID(t *testing.T) {
	sim, api := newPlatform(t)
	sim.Visit(string(appA), "alice")
	cs := wechat.NewContentSecurity(api)
	alice := domain.OpenID(wechatsim.OpenID(string(appA), "alice"))
	trace, err := cs.CheckMedia(context.Background(), domain.MediaCheck{App: appA, OpenID: alice, Scene: 1, URL: "https://cdn.example.com/a.png"})
	if err != nil || trace == "" {
		t.Fatalf("trace %q, %v", trace, err)
	}
	checks := sim.MediaChecks()
	if len(checks) != 1 || checks[0].TraceID != trace || checks[0].MediaURL != "https://cdn.example.com/a.png" || checks[0].OpenID != string(alice) {
		t.Errorf("the simulator saw %+v", checks)
	}
}

// A label WeChat sends as a string is read as a number; a suggestion it
// never documented is a bad reply.
func TestContentSecurity_ToleratesAStringLabelAndRefusesAnUnknownSuggestion(t *testing.T) {
	sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{string(appA): secretA}})
	reply := `{"errcode":0,"errmsg":"ok","result":{"suggest":"review","label":"20002"},"detail":[],"trace_id":"t-1"}`
	mux := http.NewServeMux()
	mux.Handle("/", sim)
	mux.Handle("POST /wxa/msg_sec_check", sim.TokenAPI(wechatsim.APIMsgSecCheck, func(w http.ResponseWriter, _ *http.Request, _ string) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(reply))
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := wechat.NewClient(wechat.Config{BaseURL: srv.URL, Apps: map[domain.AppID]string{appA: secretA}})
	if err != nil {
		t.Fatal(err)
	}
	cs := wechat.NewContentSecurity(c.API(wechat.NewProcessTokens(c)))
	in := domain.TextCheck{App: appA, OpenID: "o1", Scene: 1, Content: "x"}
	v, err := cs.CheckText(context.Background(), in)
	if err != nil || v.Label != 20002 || v.Suggest != domain.SuggestReview || v.TraceID != "t-1" {
		t.Fatalf("%+v, %v", v, err)
	}
	reply = `{"errcode":0,"errmsg":"ok","result":{"suggest":"maybe","label":100},"trace_id":"t-2"}`
	if _, err := cs.CheckText(context.Background(), in); domain.ErrorCode(err) != domain.CodeWeChatBadResponse {
		t.Fatalf("unknown suggestion: %v", err)
	}
}
