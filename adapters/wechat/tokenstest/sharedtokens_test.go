package tokenstest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/wechat"
	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/domain"
)

const stableToken = wechatsim.APIStableToken

// domainError returns err's *domain.Error or fails the test.
func domainError(t *testing.T, err error) *domain.Error {
	t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) {
		t.Fatalf("error %v is not a *domain.Error", err)
	}
	return de
}

// runDay moves the clock over a day in one-minute steps; at each step
// every replica, concurrently, runs its refresher (when refresher is set)
// and makes one API call. It returns the times the simulator's token
// changed.
func runDay(t *testing.T, d *deployment, refresher bool) []time.Time {
	t.Helper()
	ctx := context.Background()
	var rotations []time.Time
	lastGen := 0
	for range 24 * 60 {
		errs := make([]error, len(d.replicas))
		var wg sync.WaitGroup
		for i, r := range d.replicas {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if refresher {
					if err := r.tokens.RefreshDue(ctx); err != nil {
						errs[i] = fmt.Errorf("RefreshDue: %w", err)
						return
					}
				}
				errs[i] = r.call(ctx)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("at %s, replica %s: %v", d.clock.Now().Sub(t0), d.replicas[i].name, err)
			}
		}
		if _, gen := d.sim.CurrentToken(string(app)); gen != lastGen {
			rotations = append(rotations, d.clock.Now())
			lastGen = gen
		}
		d.clock.Add(time.Minute)
	}
	return rotations
}

func TestSharedTokens_ThreeReplicasOverADayCallStableTokenOncePerRefreshWindow(t *testing.T) {
	tests := []struct {
		name      string
		refresher bool
		// A token lives 120 min. The refresher takes it 4 min before its
		// expiry (every 116 min); without it, the first request after
		// the replicas' copies lapse, 2 min before expiry, does (every
		// 118 min). Either way: 0, 116 (118), … 1392 (1416) min, 13
		// tokens a day, each from one stable_token call.
		every time.Duration
		want  int
	}{
		{"with the background refresher", true, 116 * time.Minute, 13},
		{"with requests alone", false, 118 * time.Minute, 13},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDeployment(t, options{replicas: 3})
			rotations := runDay(t, d, tt.refresher)

			calls := d.sim.CallsTo(stableToken)
			if calls != tt.want {
				t.Errorf("stable_token called %d times in a day by %d replicas, want %d (one per token lifetime)", calls, len(d.replicas), tt.want)
			}
			if len(rotations) != tt.want {
				t.Errorf("%d tokens in a day, want %d", len(rotations), tt.want)
			}
			for i := 1; i < len(rotations); i++ {
				if gap := rotations[i].Sub(rotations[i-1]); gap != tt.every {
					t.Errorf("token %d came %s after the previous one, want %s", i+1, gap, tt.every)
				}
			}
			if st := d.stored(); st.Generation != int64(tt.want) || st.Forced.Count != 0 {
				t.Errorf("stored generation %d, forced %d; want %d, 0", st.Generation, st.Forced.Count, tt.want)
			}
			if n := len(d.log.lines(`"msg":"wechat token: refreshed"`)); n != tt.want {
				t.Errorf("%d refresh log lines, want %d", n, tt.want)
			}
			if n := len(d.log.lines(`"level":"ERROR"`)) + len(d.log.lines(`"level":"WARN"`)); n != 0 {
				t.Errorf("%d warnings or errors logged in a normal day", n)
			}
			t.Logf("%s: %d stable_token calls in a simulated day for %d replicas (%.2f per replica-day), %d API calls, none failed",
				tt.name, calls, len(d.replicas), float64(calls)/float64(len(d.replicas)), d.sim.CallsTo(echoAPI))
		})
	}
}

func TestSharedTokens_RevokedTokenIsRenewedOnceForTenConcurrentCallsAcrossReplicas(t *testing.T) {
	d := newDeployment(t, options{replicas: 3})
	d.warm()
	if n := d.sim.CallsTo(stableToken); n != 1 {
		t.Fatalf("warming 3 replicas called stable_token %d times, want 1", n)
	}
	d.sim.Revoke(string(app)) // someone else force-refreshed: our token answers 40001

	for i, err := range d.concurrently(10) {
		if err != nil {
			d.noTokenIn(err)
			t.Errorf("call %d: %v", i, err)
		}
	}
	if n := d.sim.CallsTo(stableToken) - 1; n != 1 {
		t.Errorf("stable_token called %d times after the revocation, want exactly 1 (normal mode)", n)
	}
	if n := d.sim.ForcedRefreshes(string(app)); n != 0 {
		t.Errorf("%d forced refreshes, want none: normal mode had the new token", n)
	}
	if st := d.stored(); st.Generation != 2 {
		t.Errorf("stored generation %d, want 2", st.Generation)
	}
	if n := len(d.log.lines(`"reason":"refused"`)); n != 1 {
		t.Errorf("%d refreshes logged with reason refused, want 1", n)
	}
}

func TestSharedTokens_PoisonedTokenTakesOneForcedRefreshCountedInTheDatabase(t *testing.T) {
	d := newDeployment(t, options{replicas: 3})
	d.warm()
	d.sim.Poison(string(app)) // WeChat refuses the token normal mode keeps returning

	for i, err := range d.concurrently(10) {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	if n := d.sim.ForcedRefreshes(string(app)); n != 1 {
		t.Errorf("%d forced refreshes, want 1", n)
	}
	if n := d.sim.CallsTo(stableToken) - 1; n != 2 {
		t.Errorf("stable_token called %d times after the poisoning, want 2 (normal mode, then forced)", n)
	}
	st := d.stored()
	if st.Forced.Count != 1 || st.Forced.Day != domain.BeijingDay(t0) || !st.Forced.Last.Equal(t0) {
		t.Errorf("stored budget %+v, want 1 forced on %s at %s", st.Forced, domain.BeijingDay(t0), t0)
	}
	if n := len(d.log.lines(`"level":"WARN"`, "forcing a refresh", `"forced_today":1`)); n != 1 {
		t.Errorf("%d forced-refresh warnings, want 1:\n%s", n, d.log.String())
	}
}

func TestSharedTokens_AForceWithin30SecondsOfTheLastFailsWithoutCallingForce(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t, options{replicas: 3})
	d.warm()
	d.sim.Poison(string(app))
	if err := d.replicas[0].call(ctx); err != nil {
		t.Fatal(err)
	}
	// Every replica moves to the forced token (a copy of the token before
	// it gets 40001, then the stored one, which works).
	d.warm()
	d.clock.Add(10 * time.Second)
	d.sim.Poison(string(app)) // refused again, 10 s after the forced refresh

	err := d.replicas[1].call(ctx)
	d.noTokenIn(err)
	if de := domainError(t, err); de.Code != domain.CodeWeChatTokenUnavailable || de.RetryAfter != 20*time.Second {
		t.Fatalf("err %v (retry after %s), want %s with 20 s to wait", err, de.RetryAfter, domain.CodeWeChatTokenUnavailable)
	}
	for i, err := range d.concurrently(6) {
		if domain.ErrorCode(err) != domain.CodeWeChatTokenUnavailable {
			t.Errorf("call %d: %v, want %s", i, err, domain.CodeWeChatTokenUnavailable)
		}
	}
	if n := d.sim.ForcedRefreshes(string(app)); n != 1 {
		t.Fatalf("%d forced refreshes, want still 1: none may be made within 30 s", n)
	}
	if n := len(d.log.lines(`"level":"ERROR"`, "no forced refresh is allowed now", `"fix"`)); n != 3 {
		t.Errorf("%d error lines, want one per replica (3):\n%s", n, d.log.String())
	}

	d.clock.Add(20 * time.Second) // 30 s after the forced refresh
	for i, err := range d.concurrently(6) {
		if err != nil {
			t.Errorf("call %d after the gap: %v", i, err)
		}
	}
	if n := d.sim.ForcedRefreshes(string(app)); n != 2 {
		t.Fatalf("%d forced refreshes after the gap, want 2", n)
	}
}

func TestSharedTokens_TwentyForcedRefreshesADayThenCallsFailUntilBeijingMidnight(t *testing.T) {
	ctx := context.Background()
	// 23:40 in Beijing: the budget resets 20 minutes in, while the token
	// still lives.
	start := time.Date(2026, 3, 2, 15, 40, 0, 0, time.UTC)
	d := newDeployment(t, options{replicas: 3, start: start})
	d.warm()
	for i := 1; i <= 20; i++ {
		d.clock.Add(31 * time.Second)
		d.sim.Poison(string(app))
		if err := d.replicas[i%3].call(ctx); err != nil {
			t.Fatalf("poisoning %d: %v", i, err)
		}
		d.warm() // every copy is the forced token
	}
	if n, st := d.sim.ForcedRefreshes(string(app)), d.stored(); n != 20 || st.Forced.Count != 20 {
		t.Fatalf("forced refreshes: simulator %d, stored %d; want 20", n, st.Forced.Count)
	}

	d.clock.Add(31 * time.Second)
	d.sim.Poison(string(app))
	before := d.sim.CallsTo(stableToken)
	for i, err := range d.concurrently(9) {
		d.noTokenIn(err)
		if domain.ErrorCode(err) != domain.CodeWeChatTokenUnavailable {
			t.Errorf("call %d: %v, want %s", i, err, domain.CodeWeChatTokenUnavailable)
		}
	}
	if n := d.sim.ForcedRefreshes(string(app)); n != 20 {
		t.Fatalf("%d forced refreshes, want still 20: the budget is spent", n)
	}
	if n := d.sim.CallsTo(stableToken) - before; n > 3 {
		t.Errorf("%d normal-mode calls for 9 refused calls on 3 replicas, want at most one per replica", n)
	}
	// Within the backoff, a replica answers without calling WeChat, not
	// even the API with the token it knows is refused.
	before, apiBefore := d.sim.CallsTo(stableToken), d.sim.CallsTo(echoAPI)
	for _, r := range d.replicas {
		if err := r.call(ctx); domain.ErrorCode(err) != domain.CodeWeChatTokenUnavailable {
			t.Fatalf("call during the backoff: %v", err)
		}
	}
	if n, m := d.sim.CallsTo(stableToken)-before, d.sim.CallsTo(echoAPI)-apiBefore; n != 0 || m != 0 {
		t.Fatalf("%d stable_token and %d API calls during the backoff, want none", n, m)
	}
	if n := len(d.log.lines(`"level":"ERROR"`, `"forced_today":20`, `"budget_per_day":20`)); n == 0 {
		t.Errorf("no error line says the budget is spent:\n%s", d.log.String())
	}

	// Beijing midnight: a new budget.
	d.clock.Add(time.Date(2026, 3, 2, 16, 0, 30, 0, time.UTC).Sub(d.clock.Now()))
	for i, err := range d.concurrently(6) {
		if err != nil {
			t.Errorf("call %d on the new Beijing day: %v", i, err)
		}
	}
	if st := d.stored(); st.Forced.Count != 1 || st.Forced.Day != "2026-03-03" {
		t.Errorf("stored budget on the new day %+v, want 1 on 2026-03-03", st.Forced)
	}
}

func TestSharedTokens_StableTokensDailyQuotaStopsEveryReplicaUntilBeijingMidnight(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t, options{replicas: 3}) // 09:00 in Beijing
	d.warm()
	// Something else spent the day's quota: the next call answers 45009.
	d.sim.InjectError(stableToken, string(app), 45009, 1)
	due := d.stored().ExpiresAt.Add(-domain.WeChatTokenRefreshAhead + time.Second)
	d.clock.Add(due.Sub(d.clock.Now()))
	midnight := domain.NextBeijingMidnight(d.clock.Now())
	before := d.sim.CallsTo(stableToken)

	// Every replica runs its refresher and serves calls every minute,
	// through the token's expiry and on for half an hour.
	refused, end := 0, d.stored().ExpiresAt.Add(30*time.Minute)
	for d.clock.Now().Before(end) {
		expired := !d.stored().Usable(d.clock.Now())
		for _, r := range d.replicas {
			if err := r.tokens.RefreshDue(ctx); err != nil {
				t.Fatalf("RefreshDue: %v", err)
			}
			err := r.call(ctx)
			d.noTokenIn(err)
			switch {
			case !expired && err != nil:
				t.Fatalf("replica %s, while the stored token lives: %v", r.name, err)
			case expired:
				refused++
				de := domainError(t, err)
				if wait := midnight.Sub(d.clock.Now()); de.Code != domain.CodeWeChatRateLimited || de.RetryAfter != wait {
					t.Fatalf("replica %s after expiry: %s, Retry-After %s; want %s, %s (until 00:00 Beijing time)",
						r.name, de.Code, de.RetryAfter, domain.CodeWeChatRateLimited, wait)
				}
			}
		}
		d.clock.Add(time.Minute)
	}
	if refused < 3*25 {
		t.Fatalf("only %d calls after the token expired", refused)
	}
	if st := d.stored(); !st.StableTokenNotBefore.Equal(midnight) {
		t.Fatalf("stored stop %s, want the next Beijing midnight %s", st.StableTokenNotBefore, midnight)
	}
	// A second before midnight, still nothing.
	d.clock.Add(midnight.Add(-time.Second).Sub(d.clock.Now()))
	for _, r := range d.replicas {
		_ = r.tokens.RefreshDue(ctx)
		if err := r.call(ctx); domain.ErrorCode(err) != domain.CodeWeChatRateLimited {
			t.Fatalf("replica %s a second before midnight: %v", r.name, err)
		}
	}
	if n := d.sim.CallsTo(stableToken) - before; n != 1 {
		t.Fatalf("%d stable_token calls by 3 replicas before Beijing midnight, want the one that got 45009", n)
	}
	if n := len(d.log.lines(`"level":"ERROR"`, "stable_token failed", "errcode 45009", `"fix"`, "find that caller")); n != 1 {
		t.Fatalf("%d error lines, want 1 saying what to fix:\n%s", n, d.log.String())
	}
	if n := len(d.log.lines(`"level":"WARN"`, "daily quota is used up", `"not_before"`)); n > len(d.replicas)-1 {
		t.Fatalf("%d warnings of the stop, want at most one per other replica:\n%s", n, d.log.String())
	}

	// Midnight: the quota is new, and one replica fetches the token.
	d.clock.Add(time.Second)
	for i, err := range d.concurrently(6) {
		if err != nil {
			t.Errorf("call %d after midnight: %v", i, err)
		}
	}
	if n := d.sim.CallsTo(stableToken) - before; n != 2 {
		t.Fatalf("%d stable_token calls after midnight, want 2", n)
	}
}

func TestSharedTokens_LiftingTheStoredStopResumesStableTokenAtOnce(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t, options{replicas: 2})
	d.sim.InjectError(stableToken, string(app), 45009, 1)
	for _, r := range d.replicas {
		if err := r.call(ctx); domain.ErrorCode(err) != domain.CodeWeChatRateLimited {
			t.Fatalf("replica %s: %v, want %s", r.name, err, domain.CodeWeChatRateLimited)
		}
	}
	// The operator had the quota reset (clear_quota) and lifts the stop
	// as the README says.
	if _, err := d.open().Pool().Exec(ctx, `UPDATE wechat_tokens SET stable_token_not_before = 'epoch' WHERE app_id = $1`, string(app)); err != nil {
		t.Fatal(err)
	}
	for _, r := range d.replicas {
		if err := r.call(ctx); err != nil {
			t.Fatalf("replica %s after the stop was lifted: %v", r.name, err)
		}
	}
	if n := d.sim.CallsTo(stableToken); n != 2 {
		t.Fatalf("%d stable_token calls, want 2 (the 45009 and one after the lift)", n)
	}
}

func TestSharedTokens_AForcedRefreshsDailyQuotaSaysWhoToLookForAndStopsNoNormalModeCall(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t, options{replicas: 2})
	d.warm()
	// Another system spends WeChat's 20 forced refreshes of the day.
	other, err := wechat.NewClient(wechat.Config{BaseURL: d.url, Apps: map[domain.AppID]string{app: secret}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := other.StableToken(ctx, app, true); err != nil {
			t.Fatalf("the other system's forced refresh %d: %v", i+1, err)
		}
	}
	d.warm()                  // the replicas renew their copies in normal mode
	d.sim.Poison(string(app)) // normal mode now hands out a refused token
	before := d.sim.CallsTo(stableToken)
	err = d.replicas[0].call(ctx)
	de := domainError(t, err)
	if de.Code != domain.CodeWeChatRateLimited || !strings.Contains(de.Message, "force-refreshes") {
		t.Fatalf("%s %q, want %s saying something else force-refreshes", de.Code, de.Message, domain.CodeWeChatRateLimited)
	}
	if n := d.sim.CallsTo(stableToken) - before; n != 2 {
		t.Fatalf("%d stable_token calls, want 2 (normal mode, then the forced one)", n)
	}
	if st := d.stored(); !st.StableTokenNotBefore.IsZero() {
		t.Fatalf("a forced refresh's 45009 stopped normal mode until %s", st.StableTokenNotBefore)
	}
	// The other replica still asks normal mode, which may have mended.
	_ = d.replicas[1].call(ctx)
	if n := d.sim.CallsTo(stableToken) - before; n != 3 {
		t.Fatalf("%d stable_token calls after replica b's call, want 3: its normal-mode call", n)
	}
}

func TestSharedTokens_ExpiredTokenAnswers42001AndIsRefreshedOnce(t *testing.T) {
	d := newDeployment(t, options{replicas: 3, skewed: true})
	d.warm()
	// WeChat's clock runs past the token's expiry while the replicas'
	// copies still look good to them (a skewed or suspended host).
	d.simClock.Add(wechatsim.TokenTTL + time.Minute)
	d.clock.Add(time.Hour)

	for i, err := range d.concurrently(6) {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	if n := d.sim.CallsTo(stableToken) - 1; n != 1 {
		t.Errorf("stable_token called %d times after expiry, want 1", n)
	}
	if n := d.sim.CallsTo(echoAPI); n <= 6 {
		t.Errorf("%d API calls for 6, want the refused ones retried (the copies were expired)", n)
	}
	if d.sim.ForcedRefreshes(string(app)) != 0 {
		t.Error("an expired token needs no forced refresh")
	}
}

func TestSharedTokens_StableTokenErrorsSayWhatToFixAndAreNotRetriedAtOnce(t *testing.T) {
	tests := []struct {
		errcode int
		code    domain.Code
		says    string
		backoff time.Duration // 0: until the next Beijing midnight
	}{
		{40164, domain.CodeWeChatMisconfigured, "IP whitelist", time.Minute},
		{40013, domain.CodeWeChatMisconfigured, "MINIBACK_WECHAT_APPS", time.Minute},
		{40125, domain.CodeWeChatMisconfigured, "app secret", time.Minute},
		{89503, domain.CodeWeChatMisconfigured, "administrator", time.Minute},
		// A daily quota: retrying before it resets is useless, and
		// something else is spending it.
		{45009, domain.CodeWeChatRateLimited, "calls stable_token for this AppID far too often", 0},
		{45011, domain.CodeWeChatRateLimited, "per-minute", time.Minute},
		{-1, domain.CodeWeChatBusy, "busy", 5 * time.Second},
	}
	ctx := context.Background()
	d := newDeployment(t, options{replicas: 1})
	r := d.replicas[0]
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.errcode), func(t *testing.T) {
			d.sim.InjectError(stableToken, string(app), tt.errcode, 2)
			before := d.sim.CallsTo(stableToken)
			backoff, daily := tt.backoff, tt.backoff == 0
			if daily {
				now := d.clock.Now()
				backoff = domain.NextBeijingMidnight(now).Sub(now)
			}
			for i := range 4 {
				err := r.call(ctx)
				de := domainError(t, err)
				if de.Code != tt.code || !strings.Contains(de.Message, tt.says) {
					t.Fatalf("call %d: %s %q, want %s saying %q", i, de.Code, de.Message, tt.code, tt.says)
				}
				if daily && de.RetryAfter != backoff {
					t.Fatalf("call %d: Retry-After %s, want %s (until 00:00 Beijing time)", i, de.RetryAfter, backoff)
				}
			}
			if daily && !strings.Contains(domainError(t, r.call(ctx)).Message, "00:00 Beijing time") {
				t.Fatal("the daily quota's message does not say when it resets")
			}
			if n := d.sim.CallsTo(stableToken) - before; n != 1 {
				t.Fatalf("%d stable_token calls for 4 API calls, want 1 (the failure is remembered)", n)
			}
			want := fmt.Sprintf("errcode %d", tt.errcode)
			if n := len(d.log.lines(`"level":"ERROR"`, "stable_token failed", want, `"fix"`)); n != 1 {
				t.Fatalf("%d error lines for errcode %d, want 1:\n%s", n, tt.errcode, d.log.String())
			}
			d.clock.Add(backoff - time.Second)
			err := r.call(ctx)
			if n := d.sim.CallsTo(stableToken) - before; n != 1 {
				t.Fatalf("a call %s into a %s backoff reached WeChat", backoff-time.Second, backoff)
			}
			if daily && domainError(t, err).RetryAfter != time.Second {
				t.Fatalf("a second before midnight: %v, want Retry-After 1s", err)
			}
			d.clock.Add(time.Second)
			if err := r.call(ctx); domain.ErrorCode(err) != tt.code {
				t.Fatalf("after the backoff: %v", err)
			}
			if n := d.sim.CallsTo(stableToken) - before; n != 2 {
				t.Fatalf("%d stable_token calls after the backoff, want 2", n)
			}
			if daily { // the second 45009 stops it until the next midnight
				now := d.clock.Now()
				d.clock.Add(domain.NextBeijingMidnight(now).Sub(now))
			}
			d.clock.Add(time.Minute)
		})
	}
	if err := r.call(ctx); err != nil {
		t.Fatalf("after the failures: %v", err)
	}
}

func TestSharedTokens_OtherReplicasWaitForTheRefresherAndReadWhatItStores(t *testing.T) {
	d := newDeployment(t, options{replicas: 3})
	gate := make(chan struct{})
	d.gate.Store(&gate)
	results := make(chan error, len(d.replicas))
	for _, r := range d.replicas {
		go func() { results <- r.call(context.Background()) }()
	}
	// Two replicas find the lease taken and no token stored: they wait.
	for len(d.log.lines("waiting for another replica's refresh")) < 2 {
		time.Sleep(time.Millisecond) // for the goroutines to get there, not for a clock
	}
	close(gate)
	for range d.replicas {
		if err := <-results; err != nil {
			t.Error(err)
		}
	}
	if n := d.sim.CallsTo(stableToken); n != 1 {
		t.Errorf("stable_token called %d times by 3 replicas starting together, want 1", n)
	}
}

func TestSharedTokens_AReplicaThatDiesHoldingTheLeaseHoldsItOnlyUntilItEnds(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t, options{replicas: 1, wait: 50 * time.Millisecond})
	now := d.clock.Now()
	if _, ok, err := d.store.AcquireWeChatTokenLease(ctx, app, "replica-dead", now, now.Add(15*time.Second)); err != nil || !ok {
		t.Fatalf("dead replica's lease: %t %v", ok, err)
	}
	err := d.replicas[0].call(ctx)
	if de := domainError(t, err); de.Code != domain.CodeWeChatTokenUnavailable || de.RetryAfter <= 0 {
		t.Fatalf("while the dead replica's lease runs: %v, want %s with a retry hint", err, domain.CodeWeChatTokenUnavailable)
	}
	if n := d.sim.CallsTo(stableToken); n != 0 {
		t.Fatalf("%d stable_token calls while another replica holds the lease", n)
	}
	d.clock.Add(16 * time.Second)
	if err := d.replicas[0].call(ctx); err != nil {
		t.Fatalf("after the lease ran out: %v", err)
	}
	if st := d.stored(); st.FetchedBy != "replica-a" || st.LeaseHolder != "" {
		t.Fatalf("stored %+v, want fetched by replica-a and no lease", st)
	}
}

func TestSharedTokens_TheTokenNeverAppearsInLogsOrErrors(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t, options{replicas: 3})
	d.warm()
	var errs []error
	d.sim.Revoke(string(app))
	errs = append(errs, d.concurrently(3)...)
	d.sim.Poison(string(app))
	errs = append(errs, d.concurrently(3)...)
	d.sim.Poison(string(app)) // within 30 s: refused
	errs = append(errs, d.concurrently(3)...)
	d.clock.Add(time.Minute)
	d.sim.InjectError(stableToken, string(app), 40164, 3)
	d.sim.Revoke(string(app))
	errs = append(errs, d.concurrently(3)...)
	_, err := d.replicas[0].tokens.Renew(ctx, app, "not-a-token")
	errs = append(errs, err)

	failed := 0
	for _, err := range errs {
		if err != nil {
			failed++
			d.noTokenIn(err)
		}
	}
	if failed == 0 {
		t.Fatal("the scenario should produce failures to check")
	}
	if len(d.log.lines("wechat token: refreshed")) < 3 || len(d.log.lines(`"level":"ERROR"`)) == 0 {
		t.Fatalf("the scenario should log refreshes and failures:\n%s", d.log.String())
	}
	st := d.stored()
	if s := fmt.Sprintf("%v %+v %#v", st, st, st); slices.ContainsFunc(d.tokens(), func(tok string) bool { return strings.Contains(s, tok) }) {
		t.Fatal("the stored state prints its token")
	}
	// checkNoLeak (at cleanup) searches the log for every token issued.
}

func TestSharedTokens_RenewThatRefreshesTakesMilliseconds(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t, options{replicas: 1})
	r := d.replicas[0]
	tok, err := r.tokens.Token(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	const rounds = 30
	var took []time.Duration
	for range rounds {
		d.sim.Revoke(string(app))
		start := time.Now()
		next, err := r.tokens.Renew(ctx, app, tok)
		took = append(took, time.Since(start))
		if err != nil || next == tok {
			t.Fatalf("renew: %v (same token: %t)", err, next == tok)
		}
		tok = next
	}
	if n := d.sim.CallsTo(stableToken); n != rounds+1 {
		t.Fatalf("%d stable_token calls, want %d", n, rounds+1)
	}
	const hits = 100000
	start := time.Now()
	for range hits {
		if _, err := r.tokens.Token(ctx, app); err != nil {
			t.Fatal(err)
		}
	}
	cached := time.Since(start) / hits
	slices.Sort(took)
	t.Logf("Renew that refreshes (read the store, take the lease, stable_token on the local simulator, store): median %s, p90 %s, max %s over %d; Token from the replica's copy: %s",
		took[rounds/2].Round(time.Microsecond), took[rounds*9/10].Round(time.Microsecond), took[rounds-1].Round(time.Microsecond), rounds, cached)
}

func TestSharedTokens_AReplicaThatCannotReadTheStoreUsesItsCopyWhileItLives(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t, options{replicas: 1})
	d.warm()
	r := d.replicas[0]
	// Past the copy's trust (2 min before expiry), with 90 s of life left.
	d.clock.Add(wechatsim.TokenTTL - 90*time.Second)
	r.db.Close()
	if err := r.call(ctx); err != nil {
		t.Fatalf("with the store down and a live copy: %v", err)
	}
	if n := len(d.log.lines(`"level":"WARN"`, "cannot be read")); n != 1 {
		t.Errorf("%d warnings about the store, want 1", n)
	}
	d.clock.Add(time.Minute) // 30 s left: too little to hand out
	err := r.call(ctx)
	if err == nil {
		t.Fatal("a copy with 30 s left was used with the store down")
	}
	d.noTokenIn(err)
}
