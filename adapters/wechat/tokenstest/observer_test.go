package tokenstest_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/wechat"
	"github.com/miniback/miniback/domain"
)

// refreshRecorder is an Observer that keeps the refreshes it is told of.
type refreshRecorder struct {
	mu        sync.Mutex
	refreshes []string // "mode reason outcome"
	stable    int      // stable_token exchanges
}

func (r *refreshRecorder) WeChatCall(c wechat.Call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c.API == "stable_token" {
		r.stable++
	}
}

func (r *refreshRecorder) TokenRefresh(f wechat.Refresh) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f.App != app {
		panic(fmt.Sprintf("refresh of %s, want %s", f.App, app))
	}
	r.refreshes = append(r.refreshes, f.Mode+" "+f.Reason+" "+f.Outcome)
}

func (r *refreshRecorder) seen() ([]string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.refreshes), r.stable
}

// observedReplica is a replica like newReplica's whose client tells obs.
func (d *deployment) observedReplica(name string, obs wechat.Observer) *replica {
	d.t.Helper()
	c, err := wechat.NewClient(wechat.Config{BaseURL: d.url, Apps: map[domain.AppID]string{app: secret}, Observer: obs})
	if err != nil {
		d.t.Fatal(err)
	}
	db := d.open()
	tokens, err := c.NewSharedTokens(wechat.SharedTokensConfig{
		Store: postgres.NewWeChatTokenStore(db), Clock: d.clock, Holder: "replica-" + name,
		Log: slog.New(slog.NewJSONHandler(d.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		d.t.Fatal(err)
	}
	return &replica{name: name, tokens: tokens, api: c.API(tokens), db: db}
}

func TestSharedTokens_TheObserverIsToldOfEachRefreshByModeReasonAndOutcome(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t, options{replicas: 1})
	rec := &refreshRecorder{}
	r := d.observedReplica("observed", rec)

	if err := r.call(ctx); err != nil { // no token stored yet
		t.Fatal(err)
	}
	d.sim.Poison(string(app)) // refused; normal mode keeps returning it: forced
	if err := r.call(ctx); err != nil {
		t.Fatal(err)
	}
	d.clock.Add(10 * time.Second)
	d.sim.Poison(string(app)) // refused again 10 s later: no force allowed within 30 s
	if err := r.call(ctx); domain.ErrorCode(err) != domain.CodeWeChatTokenUnavailable {
		t.Fatalf("err %v, want %s", err, domain.CodeWeChatTokenUnavailable)
	}
	d.clock.Add(4 * time.Hour) // the stored token expired; the budget allows again
	if err := r.tokens.RefreshDue(ctx); err != nil {
		t.Fatal(err)
	}

	refreshes, stable := rec.seen()
	want := []string{
		"normal first ok",
		"normal refused ok", // handed back the refused token...
		"forced refused ok", // ...so forced
		"normal refused ok",
		"forced refused denied", // no call made
		"normal expired ok",
	}
	if !slices.Equal(refreshes, want) {
		t.Errorf("refreshes\n  %q\nwant\n  %q", refreshes, want)
	}
	if stable != 5 { // every refresh but the denied one
		t.Errorf("%d stable_token exchanges observed, want 5", stable)
	}
}
