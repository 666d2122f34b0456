package wechat_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/wechat"
	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/domain"
)

// recorder is an Observer that keeps what it is told.
type recorder struct {
	mu        sync.Mutex
	calls     []wechat.Call
	refreshes []wechat.Refresh
}

func (r *recorder) WeChatCall(c wechat.Call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
}

func (r *recorder) TokenRefresh(f wechat.Refresh) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refreshes = append(r.refreshes, f)
}

// seen lists the calls as "api outcome errcode", in order.
func (r *recorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.calls))
	for i, c := range r.calls {
		out[i] = fmt.Sprintf("%s %s %d", c.API, c.Outcome, c.Errcode)
	}
	return out
}

// observedPlatform is newPlatform with an observer on the client.
func observedPlatform(t *testing.T, obs wechat.Observer, timeout time.Duration) (*wechatsim.Simulator, *wechat.Client, string) {
	t.Helper()
	sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{string(appA): secretA}})
	mux := http.NewServeMux()
	mux.Handle("/", sim)
	mux.Handle("POST "+echoPath, sim.TokenAPI("test_echo", func(w http.ResponseWriter, _ *http.Request, appid string) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"errcode":0,"errmsg":"ok","appid":"` + appid + `"}`))
	}))
	mux.HandleFunc("POST /wxa/test_slow", func(w http.ResponseWriter, r *http.Request) {
		// The body read, the server notices the client hanging up.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	mux.HandleFunc("POST /wxa/test_html", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := wechat.NewClient(wechat.Config{BaseURL: srv.URL, Apps: map[domain.AppID]string{appA: secretA}, Timeout: timeout, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	return sim, c, srv.URL
}

func TestObserverIsToldOfEveryExchangeWithItsOutcomeAndErrcode(t *testing.T) {
	rec := &recorder{}
	sim, c, _ := observedPlatform(t, rec, 200*time.Millisecond)
	ctx := context.Background()
	api := c.API(wechat.NewProcessTokens(c))
	var out struct{}

	if _, err := c.Code2Session(ctx, appA, "dev-alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Code2Session(ctx, appA, "err-40163"); err == nil {
		t.Fatal("a used code logged in")
	}
	if _, err := c.Code2Session(ctx, "wx-not-served", "dev-alice"); err == nil {
		t.Fatal("an unknown app logged in")
	}
	if err := api.PostJSON(ctx, appA, "test_echo", echoPath, map[string]string{}, &out); err != nil {
		t.Fatal(err)
	}
	sim.Revoke(string(appA)) // the next call gets 40001, renews, retries
	if err := api.PostJSON(ctx, appA, "test_echo", echoPath, map[string]string{}, &out); err != nil {
		t.Fatal(err)
	}
	if err := api.PostJSON(ctx, appA, "test_slow", "/wxa/test_slow", map[string]string{}, &out); domain.ErrorCode(err) != domain.CodeWeChatTimeout {
		t.Fatalf("slow API: %v, want a timeout", err)
	}
	if err := api.PostJSON(ctx, appA, "test_html", "/wxa/test_html", map[string]string{}, &out); domain.ErrorCode(err) != domain.CodeWeChatBadResponse {
		t.Fatalf("502 API: %v, want a bad response", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := api.PostJSON(canceled, appA, "test_echo", echoPath, map[string]string{}, &out); err == nil {
		t.Fatal("a canceled call succeeded")
	}

	want := []string{
		"code2session ok 0",
		"code2session errcode 40163",
		// (the unknown app made no call)
		"stable_token ok 0",
		"test_echo ok 0",
		"test_echo errcode 40001",
		"stable_token ok 0", // the renewal
		"test_echo ok 0",    // the retry
		"test_slow timeout 0",
		"test_html bad_response 0",
		"test_echo canceled 0",
	}
	if got := rec.seen(); !slices.Equal(got, want) {
		t.Errorf("observed\n  %q\nwant\n  %q", got, want)
	}
	for _, call := range rec.calls {
		if call.Duration <= 0 || call.Duration > 5*time.Second {
			t.Errorf("%s took %s", call.API, call.Duration)
		}
	}
	if len(rec.refreshes) != 0 {
		t.Errorf("process tokens reported refreshes %v; only the shared tokens do", rec.refreshes)
	}
}

func TestObserverIsToldOfUnreachableWeChat(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	c, err := wechat.NewClient(wechat.Config{BaseURL: url, Apps: map[domain.AppID]string{appA: secretA}, Observer: rec})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.StableToken(context.Background(), appA, false); domain.ErrorCode(err) != domain.CodeWeChatUnreachable {
		t.Fatalf("err %v, want unreachable", err)
	}
	if got := rec.seen(); !slices.Equal(got, []string{"stable_token unreachable 0"}) {
		t.Errorf("observed %q", got)
	}
}

func TestNoObserverIsFine(t *testing.T) {
	_, c, _ := observedPlatform(t, nil, time.Second)
	if _, err := c.Code2Session(context.Background(), appA, "dev-alice"); err != nil {
		t.Fatal(err)
	}
}
