package wechat_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/miniback/miniback/adapters/wechat"
	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/domain"
)

// openAPIPlatform starts the simulator (playing Cloud Hosting's open-API
// service for a container of home, unless home is "") with the echo API,
// and returns it, the open-API caller of a client serving appA and appB,
// and the queries and seqid headers of the echo calls.
func openAPIPlatform(t *testing.T, home domain.AppID) (*wechatsim.Simulator, *wechat.API, *seen) {
	t.Helper()
	sim := wechatsim.New(wechatsim.Config{
		Apps:        map[string]string{string(appA): secretA, string(appB): secretB},
		OpenAPIHome: string(home),
	})
	got := &seen{}
	echo := sim.TokenAPI("test_echo", func(w http.ResponseWriter, _ *http.Request, appid string) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"errcode":0,"errmsg":"ok","appid":"` + appid + `"}`))
	})
	mux := http.NewServeMux()
	mux.Handle("/", sim)
	mux.HandleFunc("POST "+echoPath, func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		echo(rec, r)
		got.add(r.URL.Query(), rec.Header().Get(wechatsim.OpenAPISeqIDHeader))
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := wechat.NewClient(wechat.Config{BaseURL: srv.URL, Apps: map[domain.AppID]string{appA: secretA, appB: secretB}})
	if err != nil {
		t.Fatal(err)
	}
	return sim, c.OpenAPI(appA), got
}

type seen struct {
	mu      sync.Mutex
	queries []url.Values
	seqIDs  []string
}

func (s *seen) add(q url.Values, seqID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queries, s.seqIDs = append(s.queries, q), append(s.seqIDs, seqID)
}

func echoAs(t *testing.T, api *wechat.API, app domain.AppID) (string, error) {
	t.Helper()
	var out struct {
		AppID string `json:"appid"`
	}
	err := api.PostJSON(context.Background(), app, "test_echo", echoPath, map[string]string{}, &out)
	return out.AppID, err
}

func TestOpenAPI_SendsNoAccessTokenAndNeverCallsStableToken(t *testing.T) {
	sim, api, got := openAPIPlatform(t, appA)
	for range 3 {
		if appid, err := echoAs(t, api, appA); err != nil || appid != string(appA) {
			t.Fatalf("echo as %s: appid %q, %v", appA, appid, err)
		}
	}
	if n := sim.CallsTo(wechatsim.APIStableToken); n != 0 {
		t.Errorf("stable_token called %d times behind the open-API service, want 0", n)
	}
	for i, q := range got.queries {
		if len(q) != 0 {
			t.Errorf("call %d sent query %v, want none (no access_token, no from_appid for the home app)", i, q)
		}
		if got.seqIDs[i] == "" {
			t.Errorf("call %d: the service's answer lacks %s", i, wechatsim.OpenAPISeqIDHeader)
		}
	}
}

func TestOpenAPI_ASharedAppsCallCarriesFromAppID(t *testing.T) {
	_, api, got := openAPIPlatform(t, appA)
	if appid, err := echoAs(t, api, appB); err != nil || appid != string(appB) {
		t.Fatalf("echo as %s: appid %q, %v", appB, appid, err)
	}
	if q := got.queries[0]; q.Get("from_appid") != string(appB) || q.Has("access_token") {
		t.Errorf("query %v, want from_appid=%s and no access_token", q, appB)
	}
}

func TestOpenAPI_ServiceSwitchedOffIsAConfigurationProblemNotARefresh(t *testing.T) {
	sim, api, _ := openAPIPlatform(t, "") // the platform answers like WeChat without the service
	_, err := echoAs(t, api, appA)
	var ee *wechat.ErrcodeError
	if !errors.As(err, &ee) || ee.Code != wechatsim.ErrTokenMissing {
		t.Fatalf("err %v, want errcode 41001", err)
	}
	if d := ee.DomainError(); d.Code != domain.CodeWeChatMisconfigured || !strings.Contains(d.Message, "open-API service") {
		t.Errorf("domain error %s %q, want wechat_misconfigured naming the open-API service", d.Code, d.Message)
	}
	if n := sim.CallsTo(wechatsim.APIStableToken); n != 0 {
		t.Errorf("stable_token called %d times, want 0", n)
	}
}

func TestOpenAPI_TokenErrcodeIsNotRetried(t *testing.T) {
	sim, api, _ := openAPIPlatform(t, appA)
	sim.InjectError("test_echo", string(appA), wechatsim.ErrTokenInvalid, 5)
	_, err := echoAs(t, api, appA)
	if domain.ErrorCode(err) != domain.CodeWeChatMisconfigured {
		t.Fatalf("err %v, want %s", err, domain.CodeWeChatMisconfigured)
	}
	if n := sim.CallsTo("test_echo"); n != 1 {
		t.Errorf("echo called %d times, want 1: there is no token to renew", n)
	}
}

func TestOpenAPI_AnAPIOffTheAllowListSaysSo(t *testing.T) {
	sim, api, _ := openAPIPlatform(t, appA)
	sim.InjectError("test_echo", string(appA), 48001, 1)
	_, err := echoAs(t, api, appA)
	var ee *wechat.ErrcodeError
	if !errors.As(err, &ee) {
		t.Fatalf("err %v, want an errcode", err)
	}
	if d := ee.DomainError(); d.Code != domain.CodeWeChatMisconfigured || !strings.Contains(d.Message, "allow-list") {
		t.Errorf("domain error %s %q, want wechat_misconfigured naming the allow-list", d.Code, d.Message)
	}
}
