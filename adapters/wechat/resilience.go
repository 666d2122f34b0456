package wechat

// This file holds the settings of the circuit breakers and retries around
// WeChat, and the guards that apply them: one per (AppID, API), so that
// one mini-program's or one API's outage never stops another's calls.
// retry.go runs a call through its guard; budget.go is the retry budget.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/miniback/miniback/domain"
)

// BreakerSettings configure the circuit breaker of each (AppID, API). Only
// failures that say WeChat cannot serve the AppID now count: errcode -1,
// errcode 45011 of a quota that is the AppID's, HTTP 5xx, no connection,
// no answer in time. An answer about the request (an invalid code, a
// refused scene) counts as a success; 45011 of a per-user quota
// (code2Session: retry.go, perUserQuota) not at all.
type BreakerSettings struct {
	// ConsecutiveFailures opens the breaker after this many failures in a
	// row; 0 turns this trigger off.
	ConsecutiveFailures int
	// FailureRatio opens the breaker when at least this share of the
	// calls settled in the last Window failed, once there were MinCalls;
	// 0 turns this trigger off.
	FailureRatio float64
	MinCalls     int
	// Window is the rolling window (in ten slots) of FailureRatio.
	Window time.Duration
	// OpenFor is how long an open breaker answers wechat_unavailable
	// without calling WeChat before it lets probes through.
	OpenFor time.Duration
	// Probes is how many calls a half-open breaker lets through: that many
	// successes in a row close it, one failure opens it again.
	Probes int
}

// Enabled reports whether the settings make a breaker at all.
func (b BreakerSettings) Enabled() bool { return b.ConsecutiveFailures > 0 || b.FailureRatio > 0 }

// RetrySettings configure the retries of failures that are safe to
// repeat (retry.go says which, per API).
type RetrySettings struct {
	// Retries is the most retries of one call; 0 makes one attempt.
	Retries int
	// Backoff is the wait before the first retry, doubled for each next
	// one up to MaxBackoff; each wait is jittered between half and all of
	// it.
	Backoff    time.Duration
	MaxBackoff time.Duration
	// BudgetRatio and BudgetMin bound the retries of each (AppID, API):
	// over the last BudgetWindow, at most BudgetMin + BudgetRatio × calls.
	// An outage then adds a tenth to the load (at 0.1), not twice it.
	BudgetRatio  float64
	BudgetMin    int
	BudgetWindow time.Duration
}

// Resilience is the breakers and retries of a Client. Its zero value
// makes one attempt per call with no breaker (what tests of other things
// want); DefaultResilience is what a deployment runs.
type Resilience struct {
	Breaker BreakerSettings
	Retry   RetrySettings
	// Log gets a line when a breaker changes state, and one per retry at
	// debug level; nil discards.
	Log *slog.Logger
	// OnBreakerChange, when set, is told of every state change ("closed",
	// "open", "half-open"), e.g. for a metric. It must not block.
	OnBreakerChange func(app domain.AppID, api, from, to string)
	// Now is the clock of the retry budget; nil means time.Now. Sleep
	// waits out a backoff (or returns ctx's error); nil means a timer.
	// Both are for tests. The breaker's open time runs on the real clock
	// (gobreaker reads it itself).
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// DefaultResilience returns the settings a deployment starts from.
func DefaultResilience() Resilience {
	return Resilience{
		Breaker: BreakerSettings{
			ConsecutiveFailures: 5, FailureRatio: 0.5, MinCalls: 20, Window: time.Minute,
			OpenFor: 30 * time.Second, Probes: 1,
		},
		Retry: RetrySettings{
			Retries: 2, Backoff: 100 * time.Millisecond, MaxBackoff: time.Second,
			BudgetRatio: 0.1, BudgetMin: 5, BudgetWindow: 10 * time.Second,
		},
	}
}

// Validate checks the settings' ranges.
func (r Resilience) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	b, t := r.Breaker, r.Retry
	if b.ConsecutiveFailures < 0 {
		bad("breaker: consecutive failures %d is negative", b.ConsecutiveFailures)
	}
	if b.FailureRatio < 0 || b.FailureRatio > 1 {
		bad("breaker: failure ratio %g is not between 0 and 1", b.FailureRatio)
	}
	if b.Enabled() {
		if b.FailureRatio > 0 && (b.MinCalls < 1 || b.Window < time.Second) {
			bad("breaker: a failure ratio needs at least 1 call over a window of at least 1s (min calls %d, window %s)", b.MinCalls, b.Window)
		}
		if b.OpenFor <= 0 {
			bad("breaker: open time %s is not positive", b.OpenFor)
		}
		if b.Probes < 1 {
			bad("breaker: %d half-open probes; at least 1 is needed to close it again", b.Probes)
		}
	}
	if t.Retries < 0 {
		bad("retry: %d retries is negative", t.Retries)
	}
	if t.Retries > 0 {
		if t.Backoff <= 0 || t.MaxBackoff < t.Backoff {
			bad("retry: backoff %s must be positive and at most the maximum backoff %s", t.Backoff, t.MaxBackoff)
		}
		if t.BudgetRatio < 0 || t.BudgetMin < 0 || (t.BudgetRatio == 0 && t.BudgetMin == 0) {
			bad("retry: budget ratio %g and minimum %d must not be negative, and one must be positive (else set 0 retries)", t.BudgetRatio, t.BudgetMin)
		}
		if t.BudgetWindow < time.Second {
			bad("retry: budget window %s is under 1s", t.BudgetWindow)
		}
	}
	return errors.Join(errs...)
}

// guards holds the guard of each (AppID, API), made on first use.
type guards struct {
	cfg Resilience
	mu  sync.Mutex
	by  map[guardKey]*guard
}

type guardKey struct {
	app domain.AppID
	api string
}

// guard is the breaker (nil when off) and retry budget of one (AppID, API).
type guard struct {
	app     domain.AppID
	api     string
	cfg     *Resilience
	breaker *gobreaker.TwoStepCircuitBreaker[struct{}]
	budget  *retryBudget
	// openUntil is when the breaker, open since its last trip, lets a
	// probe through (Unix nanoseconds), for Retry-After.
	openUntil atomic.Int64
	// last is the last non-zero errcode of the API (status.go).
	last lastErrcode
}

func newGuards(cfg Resilience) *guards {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	return &guards{cfg: cfg, by: make(map[guardKey]*guard)}
}

// get returns the guard of app's api.
func (gs *guards) get(app domain.AppID, api string) *guard {
	k := guardKey{app, api}
	gs.mu.Lock()
	defer gs.mu.Unlock()
	if g := gs.by[k]; g != nil {
		return g
	}
	g := &guard{app: app, api: api, cfg: &gs.cfg}
	if r := gs.cfg.Retry; r.Retries > 0 {
		g.budget = newRetryBudget(r.BudgetRatio, r.BudgetMin, r.BudgetWindow)
	}
	if b := gs.cfg.Breaker; b.Enabled() {
		g.breaker = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
			Name:         string(app) + " " + api,
			MaxRequests:  uint32(b.Probes),
			Interval:     b.Window,
			BucketPeriod: b.Window / 10,
			Timeout:      b.OpenFor,
			ReadyToTrip:  b.readyToTrip,
			// A failure is reported as errFailed, an attempt that says
			// nothing about WeChat's health as errIgnored, else nil.
			IsExcluded:    func(err error) bool { return errors.Is(err, errIgnored) },
			OnStateChange: func(_ string, from, to gobreaker.State) { g.changed(from, to) },
		})
	}
	gs.by[k] = g
	return g
}

// readyToTrip applies the two triggers to the counts of the window.
func (b BreakerSettings) readyToTrip(c gobreaker.Counts) bool {
	if b.ConsecutiveFailures > 0 && c.ConsecutiveFailures >= uint32(b.ConsecutiveFailures) {
		return true
	}
	settled := c.TotalSuccesses + c.TotalFailures
	return b.FailureRatio > 0 && settled >= uint32(b.MinCalls) && float64(c.TotalFailures) >= b.FailureRatio*float64(settled)
}

// Outcomes reported to the breaker.
var (
	errFailed  = errors.New("wechat failed")
	errIgnored = errors.New("says nothing of wechat's health")
)

// changed runs under the breaker's lock: it must not call the breaker.
func (g *guard) changed(from, to gobreaker.State) {
	log := g.cfg.Log.With("appid", string(g.app), "api", g.api, "from", from.String(), "to", to.String())
	switch to {
	case gobreaker.StateOpen:
		g.openUntil.Store(time.Now().Add(g.cfg.Breaker.OpenFor).UnixNano())
		log.Warn("wechat breaker: open: calls answer wechat_unavailable without reaching WeChat",
			"open_for", g.cfg.Breaker.OpenFor.String())
	case gobreaker.StateHalfOpen:
		log.Info("wechat breaker: half-open: letting probes through", "probes", g.cfg.Breaker.Probes)
	default:
		log.Info("wechat breaker: closed: WeChat answers again")
	}
	if f := g.cfg.OnBreakerChange; f != nil {
		f(g.app, g.api, from.String(), to.String())
	}
}

// halfOpenRetry is the hint while a half-open breaker's probes are out.
const halfOpenRetry = time.Second

// allow asks the breaker for an attempt. It returns the function that
// reports the attempt's verdict, or wechat_unavailable.
func (g *guard) allow() (func(verdict), error) {
	if g.breaker == nil {
		return func(verdict) {}, nil
	}
	done, err := g.breaker.Allow()
	if err != nil {
		wait := halfOpenRetry
		if errors.Is(err, gobreaker.ErrOpenState) {
			wait = time.Until(time.Unix(0, g.openUntil.Load()))
		}
		return nil, domain.ErrWeChatUnavailable(wait, fmt.Errorf("wechat %s for %s: breaker: %w", g.api, g.app, err))
	}
	return func(v verdict) {
		switch {
		case v.failed(g.api):
			done(errFailed)
		case v == ignored, v == quota: // quota here: one user's (perUserQuota)
			done(errIgnored)
		default:
			done(nil)
		}
	}, nil
}

// BreakerState returns the state of app's breaker for api ("closed",
// "open" or "half-open"), or "" when breakers are off. For tests and
// probes; it makes the guard if there was none.
func (c *Client) BreakerState(app domain.AppID, api string) string {
	g := c.guards.get(app, api)
	if g.breaker == nil {
		return ""
	}
	return g.breaker.State().String()
}
