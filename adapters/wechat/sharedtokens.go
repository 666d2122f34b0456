package wechat

// This file is the access token a deployment shares: one per AppID for
// every replica, kept in a ports.WeChatTokenStore (PostgreSQL).
//
//   - Each replica keeps the token in memory and trusts it until two
//     minutes before the stored expiry; then it reads the store again.
//   - Refreshing takes the app's lease in the store (one short statement);
//     only its holder calls stable_token, then stores the token and ends
//     the lease in one statement. Others keep using the stored token while
//     it has life left, or wait (bounded) for the holder and read the
//     store again; a lease whose holder died ends at its deadline.
//   - RefreshDue, run every RefreshEvery by every replica, refreshes a
//     token in its last four minutes, inside the five minutes in which
//     WeChat's normal mode hands out a new one while the old one keeps
//     working: one stable_token call per token lifetime for the whole
//     deployment, and no request ever waits for one.
//   - Renew (after 40001, 40014 or 42001) returns the stored token when
//     another replica already replaced the refused one; otherwise, under
//     the lease, it asks normal mode, and forces a refresh only when
//     normal mode hands back the refused token and the budget stored with
//     the token allows it (20 per Beijing day, 30 s apart, for all
//     replicas together).
//   - A failed stable_token call is logged once with what to fix, and
//     remembered for a few seconds (up to a minute): callers meanwhile get
//     the same failure without a call to WeChat.
//   - Except 45009 in normal mode, stable_token's daily quota used up:
//     the replica that gets it stores the next Beijing midnight (when the quota resets) as
//     the app's StableTokenNotBefore, and until then no replica calls
//     stable_token; each hands out the stored token while it lives and
//     then answers the quota failure, with Retry-After until midnight.
//
// The token itself is never logged and never part of an error.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// RefreshEvery is how often each replica runs RefreshDue. A token is due
// four minutes before expiry, so a check every 30 s refreshes it with at
// least three and a half minutes of its life left.
const RefreshEvery = 30 * time.Second

// Timings of a replica's handling of the shared token.
const (
	// cacheMargin: a replica trusts its copy until this long before the
	// stored expiry, past the moment the token is due, so that the copy
	// is normally replaced by the refreshed token, read from the store.
	cacheMargin = 2 * time.Minute
	// shortTrust is how long a replica trusts a copy that is within
	// cacheMargin of its expiry (a refresh is late or failing).
	shortTrust = 5 * time.Second
	// Backoff after a failed stable_token call: its Retry-After, at least
	// minBackoff and at most maxBackoff; maxBackoff for a
	// misconfiguration, which does not mend by itself.
	minBackoff = 5 * time.Second
	maxBackoff = time.Minute
	// maxPoll caps the interval at which a caller waiting for another
	// replica's refresh reads the store.
	maxPoll = 200 * time.Millisecond
	// releaseTimeout bounds the statement that ends a lease after a
	// failed refresh.
	releaseTimeout = 5 * time.Second
)

// SharedTokensConfig configures SharedTokens. Only Store is required.
type SharedTokensConfig struct {
	Store ports.WeChatTokenStore
	// Clock tells the time of expiries, leases and the budget; nil means
	// the system clock. Replicas' clocks must agree within seconds (NTP).
	Clock ports.Clock
	// Log gets one line per refresh and per failure, each naming the
	// replica; nil discards.
	Log *slog.Logger
	// Holder names this replica in leases and in fetched_by; empty means
	// the host name and a random suffix.
	Holder string
	// Budget bounds forced refreshes; zero means
	// domain.DefaultForceRefreshBudget (WeChat's limit).
	Budget domain.ForceRefreshBudget
	// LeaseTTL is how long a refresher may take (two stable_token calls
	// and the store); zero means twice the client's timeout plus 5 s.
	LeaseTTL time.Duration
	// Wait bounds how long a caller waits for another replica's refresh
	// when no usable token is stored; zero means twice the client's
	// timeout plus 1 s.
	Wait time.Duration
	// Poll is the first interval at which a waiting caller reads the
	// store (doubling up to 200 ms); zero means 20 ms.
	Poll time.Duration
}

// SharedTokens is the TokenSource every replica of a deployment shares
// through a store. It is safe for concurrent use.
type SharedTokens struct {
	c        *Client
	store    ports.WeChatTokenStore
	clock    ports.Clock
	log      *slog.Logger
	holder   string
	budget   domain.ForceRefreshBudget
	leaseTTL time.Duration
	wait     time.Duration
	poll     time.Duration
	apps     map[domain.AppID]*appToken
	order    []domain.AppID // apps sorted, for RefreshDue
}

var _ TokenSource = (*SharedTokens)(nil)

// appToken is one replica's view of one app's token.
type appToken struct {
	// turn is held (capacity 1) by the one goroutine of this replica that
	// reads the store or calls WeChat for the app; the others wait and
	// then find its result in the copy.
	turn chan struct{}

	mu          sync.Mutex
	token       domain.WeChatAccessToken
	expires     time.Time
	trustUntil  time.Time
	refused     string        // the last token WeChat refused (40001, 40014, 42001)
	failure     *domain.Error // the last failed refresh, answered again until failedUntil
	failedUntil time.Time
	stopLogged  time.Time // the StableTokenNotBefore this replica has logged
}

// NewSharedTokens returns the shared token source for c's apps.
func (c *Client) NewSharedTokens(cfg SharedTokensConfig) (*SharedTokens, error) {
	if cfg.Store == nil {
		return nil, errors.New("wechat: shared tokens need a store")
	}
	s := &SharedTokens{
		c: c, store: cfg.Store, clock: cfg.Clock, log: cfg.Log, holder: cfg.Holder, budget: cfg.Budget,
		leaseTTL: cfg.LeaseTTL, wait: cfg.Wait, poll: cfg.Poll,
		apps: make(map[domain.AppID]*appToken, len(c.apps)),
	}
	if s.clock == nil {
		s.clock = systemClock{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.holder == "" {
		s.holder = defaultHolder()
	}
	if s.budget == (domain.ForceRefreshBudget{}) {
		s.budget = domain.DefaultForceRefreshBudget
	}
	if s.budget.PerDay < 0 || s.budget.PerDay > domain.DefaultForceRefreshBudget.PerDay || s.budget.Gap < domain.DefaultForceRefreshBudget.Gap {
		return nil, fmt.Errorf("wechat: forced-refresh budget %d a day, %s apart: WeChat allows at most %d, %s apart",
			s.budget.PerDay, s.budget.Gap, domain.DefaultForceRefreshBudget.PerDay, domain.DefaultForceRefreshBudget.Gap)
	}
	if s.leaseTTL <= 0 {
		s.leaseTTL = 2*c.timeout + 5*time.Second
	}
	if s.wait <= 0 {
		s.wait = 2*c.timeout + time.Second
	}
	if s.poll <= 0 {
		s.poll = 20 * time.Millisecond
	}
	s.log = s.log.With("replica", s.holder)
	for id := range c.apps {
		s.apps[id] = &appToken{turn: make(chan struct{}, 1)}
		s.order = append(s.order, id)
	}
	sort.Slice(s.order, func(i, j int) bool { return s.order[i] < s.order[j] })
	return s, nil
}

// Holder returns this replica's name in leases.
func (s *SharedTokens) Holder() string { return s.holder }

// Token returns app's current access token: this replica's copy while it
// is trusted, else the stored token, else a fresh one (fetched by this
// replica under the lease, or by another one it waits for).
func (s *SharedTokens) Token(ctx context.Context, app domain.AppID) (string, error) {
	a, err := s.app(app)
	if err != nil {
		return "", err
	}
	if tok, ok := a.cached(s.clock.Now()); ok {
		return tok.Reveal(), nil
	}
	if err := a.take(ctx); err != nil {
		return "", fmt.Errorf("wechat token: %w", err)
	}
	defer a.give()
	if tok, ok := a.cached(s.clock.Now()); ok {
		return tok.Reveal(), nil
	}
	tok, err := s.obtain(ctx, app, a, "")
	return tok.Reveal(), err
}

// Renew returns the token to retry with after WeChat refused stale: the
// stored one when another caller already replaced stale, else a refreshed
// one (normal mode, then a forced refresh within the budget).
func (s *SharedTokens) Renew(ctx context.Context, app domain.AppID, stale string) (string, error) {
	a, err := s.app(app)
	if err != nil {
		return "", err
	}
	if err := a.take(ctx); err != nil {
		return "", fmt.Errorf("wechat token: %w", err)
	}
	defer a.give()
	if tok, ok := a.cached(s.clock.Now()); ok && tok.Reveal() != stale {
		return tok.Reveal(), nil // another goroutine of this replica renewed it
	}
	a.refuse(stale)
	tok, err := s.obtain(ctx, app, a, stale)
	return tok.Reveal(), err
}

// RefreshDue refreshes, for each app, a stored token that is due (in its
// last four minutes, or missing), unless another replica is at it. Every
// replica runs it every RefreshEvery; the lease makes one of them call
// stable_token. A failed call is logged (once) by the refresh itself;
// RefreshDue returns only the store's errors.
func (s *SharedTokens) RefreshDue(ctx context.Context) error {
	var errs []error
	for _, app := range s.order {
		if err := s.refreshAhead(ctx, app, s.apps[app]); err != nil {
			errs = append(errs, fmt.Errorf("wechat token of %s: %w", app, err))
		}
	}
	return errors.Join(errs...)
}

func (s *SharedTokens) refreshAhead(ctx context.Context, app domain.AppID, a *appToken) error {
	st, err := s.store.WeChatToken(ctx, app)
	if err != nil {
		return fmt.Errorf("read stored token: %w", err)
	}
	now := s.clock.Now()
	if !st.Due(now) || (st.Usable(now) && st.RecentlyFetched(now)) || a.backingOff(now) != nil || s.stopped(a, app, st, now) != nil {
		return nil
	}
	if !a.tryTake() {
		return nil // a request of this replica is refreshing it
	}
	defer a.give()
	held, ok, err := s.store.AcquireWeChatTokenLease(ctx, app, s.holder, now, now.Add(s.leaseTTL))
	if err != nil {
		return fmt.Errorf("take refresh lease: %w", err)
	}
	if !ok {
		return nil // another replica is refreshing it
	}
	// A failure of WeChat was logged, and is remembered for the callers.
	_, _ = s.refresh(ctx, app, a, held, "")
	return nil
}

// obtain returns a token for a caller whose copy is missing, expiring, or
// the refused stale: the stored one if it will do, else one this replica
// refreshes under the lease, else one another replica stores while this
// one waits (at most s.wait). The caller holds a's turn.
func (s *SharedTokens) obtain(ctx context.Context, app domain.AppID, a *appToken, stale string) (domain.WeChatAccessToken, error) {
	deadline := time.Now().Add(s.wait) // real time: the wait is for another replica's real work
	poll, waited := s.poll, false
	if stale == "" {
		// A token WeChat refused is no use to a plain request either:
		// treat it as the renewal it will need.
		stale = a.refusedToken()
	}
	for {
		st, err := s.store.WeChatToken(ctx, app)
		now := s.clock.Now()
		if err != nil {
			// A database hiccup need not stop WeChat calls while this
			// replica's copy has life left.
			if tok, ok := a.lastResort(now, stale); ok {
				s.log.Warn("wechat token: the token store cannot be read; using this replica's copy while it lives",
					"appid", string(app), "error", err.Error())
				return tok, nil
			}
			return "", fmt.Errorf("wechat token: read stored token: %w", err)
		}
		if s.good(st, stale, now) {
			return a.keep(st.Token, st.ExpiresAt, now), nil
		}
		fresh := st.Usable(now) && st.Token.Reveal() != stale
		failure := s.stopped(a, app, st, now) // *domain.Error: nil is no failure
		if failure == nil {
			failure = a.backingOff(now)
		}
		if failure != nil {
			if fresh {
				return a.keep(st.Token, st.ExpiresAt, now), nil // a due token beats a failure
			}
			return "", failure
		}
		held, ok, err := s.store.AcquireWeChatTokenLease(ctx, app, s.holder, now, now.Add(s.leaseTTL))
		if err != nil {
			return "", fmt.Errorf("wechat token: take refresh lease: %w", err)
		}
		if ok {
			return s.refresh(ctx, app, a, held, stale)
		}
		// Another replica is refreshing. Until it is done, a token with
		// life left will do (the one read, or the one it just stored).
		if held.Usable(now) && held.Token.Reveal() != stale {
			return a.keep(held.Token, held.ExpiresAt, now), nil
		}
		if fresh {
			return a.keep(st.Token, st.ExpiresAt, now), nil
		}
		if !waited {
			waited = true
			s.log.Debug("wechat token: waiting for another replica's refresh", "appid", string(app),
				"lease_holder", held.LeaseHolder, "lease_until", held.LeaseUntil, "wait", s.wait.String())
		}
		if !time.Now().Before(deadline) {
			return "", domain.ErrWeChatTokenWait(fmt.Errorf("replica %q holds the refresh lease of %s until %s; no usable token after waiting %s",
				held.LeaseHolder, app, held.LeaseUntil.Format(time.RFC3339), s.wait))
		}
		if err := sleep(ctx, poll); err != nil {
			return "", fmt.Errorf("wechat token: wait for another replica's refresh: %w", err)
		}
		poll = min(2*poll, maxPoll)
	}
}

// good reports whether a stored token can be handed out at once: one
// other than the refused stale with life left (for a renewal), or one that
// is not yet due or was just fetched (for a plain request).
func (s *SharedTokens) good(st domain.WeChatTokenState, stale string, now time.Time) bool {
	if !st.Usable(now) || st.Token.Reveal() == stale {
		return false
	}
	return stale != "" || !st.Due(now) || st.RecentlyFetched(now)
}

// refresh calls stable_token for app under the lease held describes, the
// state as the lease was taken, stores the token and ends the lease. The
// caller holds a's turn. It runs detached from ctx's cancellation (the
// client's timeout bounds it): the token is for every waiting caller.
func (s *SharedTokens) refresh(ctx context.Context, app domain.AppID, a *appToken, held domain.WeChatTokenState, stale string) (domain.WeChatAccessToken, error) {
	ctx = context.WithoutCancel(ctx)
	released := false
	defer func() {
		if !released {
			s.release(ctx, app)
		}
	}()
	now := s.clock.Now()
	// Another replica may have stored a token between the caller's read
	// and the lease.
	if s.good(held, stale, now) {
		return a.keep(held.Token, held.ExpiresAt, now), nil
	}
	// Or stored a stop: stable_token's daily quota is used up.
	if e := s.stopped(a, app, held, now); e != nil {
		if held.Usable(now) && held.Token.Reveal() != stale {
			return a.keep(held.Token, held.ExpiresAt, now), nil
		}
		return "", e
	}
	reason := refreshReason(held, stale, now)
	tok, err := s.stableToken(ctx, app, RefreshNormal, reason)
	if err != nil {
		return "", s.failed(ctx, a, app, false, reason, now, err)
	}
	if stale != "" && tok.Value == stale {
		reason = "forced"
		if tok, err = s.force(ctx, app, a, stale); err != nil {
			return "", err
		}
	}
	value := domain.WeChatAccessToken(tok.Value)
	expires := now.Add(tok.ExpiresIn) // from before the call: never later than WeChat's
	saved, ok, err := s.store.StoreWeChatToken(ctx, app, s.holder, value, expires, now)
	switch {
	case err != nil:
		// The token works; the other replicas will fetch it themselves.
		s.log.Warn("wechat token: could not store the refreshed token; other replicas will fetch their own",
			"appid", string(app), "error", err.Error())
	case !ok:
		released = true
		s.log.Warn("wechat token: the refresh lease expired before the token was stored; another replica may refresh too",
			"appid", string(app), "lease_ttl", s.leaseTTL.String(), "lease_holder", saved.LeaseHolder)
	default:
		released = true
	}
	s.log.Info("wechat token: refreshed", "appid", string(app), "reason", reason, "new_token", value != held.Token,
		"generation", saved.Generation, "expires_in_s", int(tok.ExpiresIn/time.Second),
		"forced_today", saved.Forced.Today(now))
	a.clearFailure()
	return a.keep(value, expires, now), nil
}

// force spends one forced refresh from the shared budget and makes it.
func (s *SharedTokens) force(ctx context.Context, app domain.AppID, a *appToken, stale string) (AccessToken, error) {
	now := s.clock.Now()
	st, ok, err := s.store.SpendForcedRefresh(ctx, app, s.holder, now, s.budget)
	if err != nil {
		return AccessToken{}, fmt.Errorf("wechat token: spend a forced refresh: %w", err)
	}
	if !ok {
		e := s.budget.Check(st.Forced, now)
		if e == nil { // the budget allowed it: the lease was lost
			e = domain.ErrWeChatTokenWait(fmt.Errorf("lost the refresh lease of %s to %q", app, st.LeaseHolder))
		}
		s.c.observeRefresh(Refresh{App: app, Mode: RefreshForced, Reason: "refused", Outcome: RefreshDenied})
		s.log.Error("wechat token: WeChat refuses the token that stable_token returns, and no forced refresh is allowed now",
			"appid", string(app), "forced_today", st.Forced.Today(now), "budget_per_day", s.budget.PerDay,
			"last_forced_at", st.Forced.Last, "retry_in_s", int(math.Ceil(e.RetryAfter.Seconds())), "error", e.Error(),
			"fix", "make sure no other system force-refreshes this AppID's stable_token or resets its secret; calls resume when the budget allows")
		a.fail(e, now, backoffFor(e))
		return AccessToken{}, e
	}
	s.log.Warn("wechat token: forcing a refresh: WeChat refuses the token normal mode returns",
		"appid", string(app), "forced_today", st.Forced.Count, "budget_per_day", s.budget.PerDay)
	tok, err := s.stableToken(ctx, app, RefreshForced, "refused")
	if err != nil {
		return AccessToken{}, s.failed(ctx, a, app, true, "forced", now, err)
	}
	if tok.Value == stale {
		e := domain.ErrWeChatTokenStillRefused(fmt.Errorf("forced stable_token for %s returned the refused token", app))
		s.log.Error("wechat token: a forced refresh returned the refused token", "appid", string(app), "error", e.Error())
		a.fail(e, now, backoffFor(e))
		return AccessToken{}, e
	}
	return tok, nil
}

// stableToken calls stable_token for app in mode (RefreshNormal or
// RefreshForced) and tells the observer how the refresh went.
func (s *SharedTokens) stableToken(ctx context.Context, app domain.AppID, mode, reason string) (AccessToken, error) {
	tok, err := s.c.StableToken(ctx, app, mode == RefreshForced)
	outcome := RefreshOK
	if err != nil {
		outcome = RefreshFailed
	}
	s.c.observeRefresh(Refresh{App: app, Mode: mode, Reason: reason, Outcome: outcome})
	return tok, err
}

// failed logs a failed stable_token call once, with what to fix, and
// remembers it so that callers get it without calling WeChat again for a
// while. A cancellation is neither logged nor remembered. Normal mode's
// daily quota used up (45009) is stored instead, as a stop until the next
// Beijing midnight that every replica reads; only if the store fails does
// this replica remember it by itself. (A forced refresh's 45009 is the
// quota of 20 forced refreshes: normal mode still works, and the budget
// already bounds the forced calls.)
func (s *SharedTokens) failed(ctx context.Context, a *appToken, app domain.AppID, forced bool, reason string, now time.Time, err error) error {
	var de *domain.Error
	if !errors.As(err, &de) {
		return err
	}
	if forced || !stableTokenQuotaSpent(err) {
		wait := backoffFor(de)
		s.log.Error("wechat token: stable_token failed", "appid", string(app), "reason", reason, "code", string(de.Code),
			"fix", de.Message, "error", err.Error(), "retry_in_s", int(wait/time.Second))
		a.fail(de, now, wait)
		return err
	}
	notBefore := domain.NextBeijingMidnight(now)
	de.RetryAfter = notBefore.Sub(now) // on this replica's clock, like the stop
	s.log.Error("wechat token: stable_token failed", "appid", string(app), "reason", reason, "code", string(de.Code),
		"fix", de.Message, "error", err.Error(), "retry_in_s", int(de.RetryAfter/time.Second), "not_before", notBefore)
	a.logStop(notBefore)
	ctx, cancel := context.WithTimeout(ctx, releaseTimeout)
	defer cancel()
	if serr := s.store.StopStableToken(ctx, app, notBefore); serr != nil {
		s.log.Warn("wechat token: could not store the stop of stable_token; the other replicas may each call it once more",
			"appid", string(app), "not_before", notBefore, "error", serr.Error())
		a.fail(de, now, de.RetryAfter)
	}
	return err
}

// stopped returns the failure to answer while st says that no replica may
// call stable_token (its daily quota is used up), with Retry-After until
// the stop ends. A replica that did not get the 45009 itself logs the stop
// once.
func (s *SharedTokens) stopped(a *appToken, app domain.AppID, st domain.WeChatTokenState, now time.Time) *domain.Error {
	if !st.StableTokenStopped(now) {
		return nil
	}
	notBefore := st.StableTokenNotBefore
	wait := notBefore.Sub(now)
	if a.logStop(notBefore) {
		s.log.Warn("wechat token: not calling stable_token: its daily quota is used up", "appid", string(app),
			"not_before", notBefore, "retry_in_s", int(math.Ceil(wait.Seconds())), "fix", stableTokenQuotaMessage)
	}
	return &domain.Error{Code: domain.CodeWeChatRateLimited, RetryAfter: wait, Message: stableTokenQuotaMessage,
		Err: fmt.Errorf("stable_token answered 45009 for %s (daily quota used up); no replica calls it before %s",
			app, notBefore.Format(time.RFC3339))}
}

// release ends this replica's lease after a refresh that stored nothing.
func (s *SharedTokens) release(ctx context.Context, app domain.AppID) {
	ctx, cancel := context.WithTimeout(ctx, releaseTimeout)
	defer cancel()
	if err := s.store.ReleaseWeChatTokenLease(ctx, app, s.holder); err != nil {
		s.log.Warn("wechat token: could not end the refresh lease; it ends by itself", "appid", string(app),
			"lease_ttl", s.leaseTTL.String(), "error", err.Error())
	}
}

// refreshReason names why a refresh happens, for the log.
func refreshReason(st domain.WeChatTokenState, stale string, now time.Time) string {
	switch {
	case stale != "":
		return "refused" // WeChat answered 40001, 40014 or 42001
	case st.Token == "":
		return "first"
	case !st.Usable(now):
		return "expired"
	default:
		return "ahead"
	}
}

// backoffFor is how long a failure is answered without a new call.
func backoffFor(e *domain.Error) time.Duration {
	if e.Code == domain.CodeWeChatMisconfigured {
		return maxBackoff
	}
	return min(max(e.RetryAfter, minBackoff), maxBackoff)
}

func (s *SharedTokens) app(app domain.AppID) (*appToken, error) {
	a, ok := s.apps[app]
	if !ok {
		return nil, &domain.Error{Code: domain.CodeUnknownApp, Message: "This appid is not served here."}
	}
	return a, nil
}

// take waits for the app's turn, or for ctx to end.
func (a *appToken) take(ctx context.Context) error {
	select {
	case a.turn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// tryTake takes the turn if it is free.
func (a *appToken) tryTake() bool {
	select {
	case a.turn <- struct{}{}:
		return true
	default:
		return false
	}
}

func (a *appToken) give() { <-a.turn }

// cached returns the replica's copy while it is trusted.
func (a *appToken) cached(now time.Time) (domain.WeChatAccessToken, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.token, a.token != "" && now.Before(a.trustUntil)
}

// keep makes tok (expiring at expires) the replica's copy and returns it.
// It is trusted until cacheMargin before expiry, or, that close to
// expiry, for shortTrust at most.
func (a *appToken) keep(tok domain.WeChatAccessToken, expires, now time.Time) domain.WeChatAccessToken {
	until := expires.Add(-cacheMargin)
	if !until.After(now) {
		until = now.Add(shortTrust)
		if last := expires.Add(-domain.WeChatTokenMinLife); until.After(last) {
			until = last
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.token, a.expires, a.trustUntil = tok, expires, until
	return tok
}

// lastResort returns the copy, other than stale, while it has
// domain.WeChatTokenMinLife left, and trusts it for shortTrust more: for
// when the store cannot be read.
func (a *appToken) lastResort(now time.Time, stale string) (domain.WeChatAccessToken, bool) {
	a.mu.Lock()
	tok, expires := a.token, a.expires
	a.mu.Unlock()
	if tok == "" || tok.Reveal() == stale || !now.Before(expires.Add(-domain.WeChatTokenMinLife)) {
		return "", false
	}
	return a.keep(tok, expires, now), true
}

// refuse records that WeChat refused tok, and drops the copy if it is
// tok.
func (a *appToken) refuse(tok string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refused = tok
	if a.token.Reveal() == tok {
		a.token, a.expires, a.trustUntil = "", time.Time{}, time.Time{}
	}
}

// refusedToken returns the last token WeChat refused, if any.
func (a *appToken) refusedToken() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.refused
}

// fail remembers e until now+wait.
func (a *appToken) fail(e *domain.Error, now time.Time, wait time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failure, a.failedUntil = e, now.Add(wait)
}

// logStop records that this replica has logged the stop until notBefore,
// and reports whether it had not yet.
func (a *appToken) logStop(notBefore time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopLogged.Equal(notBefore) {
		return false
	}
	a.stopLogged = notBefore
	return true
}

func (a *appToken) clearFailure() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failure, a.failedUntil = nil, time.Time{}
}

// backingOff returns the remembered failure, with the time left as its
// retry hint, while it is remembered.
func (a *appToken) backingOff(now time.Time) *domain.Error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.failure == nil || !now.Before(a.failedUntil) {
		return nil
	}
	e := *a.failure
	e.RetryAfter = a.failedUntil.Sub(now)
	e.Err = fmt.Errorf("stable_token failed less than %s ago, not called again yet: %w", backoffFor(a.failure), a.failure.Err)
	return &e
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// defaultHolder names this replica: its host name (the pod's name on
// Kubernetes) and a random suffix, so that two processes on one host
// differ.
func defaultHolder() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "miniback"
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return host + "-" + hex.EncodeToString(b)
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }
