package wechat_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/wechat"
	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/domain"
)

// echoAPI is a token-bearing API the tests mount on the simulator's mux
// through its exported handler wrapper.
const echoPath = "/wxa/test_echo"

// newPlatform starts the simulator and returns it with an API caller using
// process-local tokens.
func newPlatform(t *testing.T) (*wechatsim.Simulator, *wechat.API) {
	t.Helper()
	sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{string(appA): secretA}})
	mux := http.NewServeMux()
	mux.Handle("/", sim)
	mux.Handle("POST "+echoPath, sim.TokenAPI("test_echo", func(w http.ResponseWriter, _ *http.Request, appid string) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"errcode":0,"errmsg":"ok","appid":"` + appid + `"}`))
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := wechat.NewClient(wechat.Config{BaseURL: srv.URL, Apps: map[domain.AppID]string{appA: secretA}})
	if err != nil {
		t.Fatal(err)
	}
	return sim, c.API(wechat.NewProcessTokens(c))
}

func TestAPI_PostSendsTheAppsTokenAndDecodesTheReply(t *testing.T) {
	sim, api := newPlatform(t)
	var out struct {
		AppID string `json:"appid"`
	}
	for range 3 {
		if err := api.PostJSON(context.Background(), appA, "test_echo", echoPath, map[string]string{}, &out); err != nil {
			t.Fatal(err)
		}
	}
	if out.AppID != string(appA) {
		t.Fatalf("appid %q, want %q", out.AppID, appA)
	}
	if n := sim.CallsTo(wechatsim.APIStableToken); n != 1 {
		t.Fatalf("stable_token called %d times for 3 calls, want 1", n)
	}
}

func TestAPI_RevokedTokenIsRenewedOnceAndTheCallRetried(t *testing.T) {
	sim, api := newPlatform(t)
	var out struct{}
	if err := api.PostJSON(context.Background(), appA, "test_echo", echoPath, map[string]string{}, &out); err != nil {
		t.Fatal(err)
	}
	sim.Revoke(string(appA))
	if err := api.PostJSON(context.Background(), appA, "test_echo", echoPath, map[string]string{}, &out); err != nil {
		t.Fatalf("call after revoke: %v", err)
	}
	if n := sim.CallsTo("test_echo"); n != 3 {
		t.Fatalf("echo called %d times, want 3 (one refused, one retried)", n)
	}
	if n := sim.CallsTo(wechatsim.APIStableToken); n != 2 {
		t.Fatalf("stable_token called %d times, want 2", n)
	}
}

func TestAPI_PoisonedTokenNeedsAForcedRefresh(t *testing.T) {
	sim, api := newPlatform(t)
	var out struct{}
	if err := api.PostJSON(context.Background(), appA, "test_echo", echoPath, map[string]string{}, &out); err != nil {
		t.Fatal(err)
	}
	sim.Poison(string(appA))
	if err := api.PostJSON(context.Background(), appA, "test_echo", echoPath, map[string]string{}, &out); err != nil {
		t.Fatalf("call after poison: %v", err)
	}
	if n := sim.ForcedRefreshes(string(appA)); n != 1 {
		t.Fatalf("forced refreshes %d, want 1", n)
	}
}

func TestAPI_ErrcodesComeBackAsErrcodeErrors(t *testing.T) {
	sim, api := newPlatform(t)
	sim.InjectError("test_echo", string(appA), 45011, 1)
	var out struct{}
	err := api.PostJSON(context.Background(), appA, "test_echo", echoPath, map[string]string{}, &out)
	var ee *wechat.ErrcodeError
	if !errors.As(err, &ee) || ee.Code != 45011 {
		t.Fatalf("err %v, want errcode 45011", err)
	}
	if got := ee.DomainError().Code; got != domain.CodeWeChatRateLimited {
		t.Fatalf("domain code %s, want %s", got, domain.CodeWeChatRateLimited)
	}
}

func TestStableToken_ErrcodesSayWhatToFix(t *testing.T) {
	sim, _ := newPlatform(t)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := wechat.NewClient(wechat.Config{BaseURL: srv.URL, Apps: map[domain.AppID]string{appA: "wrong-secret"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.StableToken(context.Background(), appA, false)
	if domain.ErrorCode(err) != domain.CodeWeChatMisconfigured {
		t.Fatalf("err %v, want %s", err, domain.CodeWeChatMisconfigured)
	}
	sim.InjectError(wechatsim.APIStableToken, string(appA), 40164, 1)
	c2, _ := wechat.NewClient(wechat.Config{BaseURL: srv.URL, Apps: map[domain.AppID]string{appA: secretA}})
	_, err = c2.StableToken(context.Background(), appA, false)
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.CodeWeChatMisconfigured {
		t.Fatalf("40164: err %v", err)
	}
}

func TestStableToken_DailyQuotaAsksToRetryAtBeijingMidnightAndNamesTheCulprit(t *testing.T) {
	sim, _ := newPlatform(t)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := wechat.NewClient(wechat.Config{BaseURL: srv.URL, Apps: map[domain.AppID]string{appA: secretA}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		force bool
		says  string
	}{
		{false, "calls stable_token for this AppID far too often"},
		{true, "force-refreshes this AppID's access token"},
	} {
		sim.InjectError(wechatsim.APIStableToken, string(appA), 45009, 1)
		before := time.Now()
		_, err := c.StableToken(context.Background(), appA, tt.force)
		after := time.Now()
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.CodeWeChatRateLimited {
			t.Fatalf("force %t: err %v, want %s", tt.force, err, domain.CodeWeChatRateLimited)
		}
		if !strings.Contains(de.Message, tt.says) || !strings.Contains(de.Message, "00:00 Beijing time") {
			t.Errorf("force %t: message %q, want it to say %q and when the quota resets", tt.force, de.Message, tt.says)
		}
		// Until the next Beijing midnight, not a minute: the quota is daily.
		lo, hi := domain.NextBeijingMidnight(after).Sub(after), domain.NextBeijingMidnight(before).Sub(before)
		if de.RetryAfter < lo || de.RetryAfter > hi {
			t.Errorf("force %t: Retry-After %s, want the time until 00:00 Beijing time (%s..%s)", tt.force, de.RetryAfter, lo, hi)
		}
	}
}
