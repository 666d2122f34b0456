package domain

// This file holds the rules of the WeChat access token that every replica
// of a deployment shares: when a stored token is still good, when it is due
// for a refresh, and the budget of forced refreshes WeChat allows.

import (
	"fmt"
	"math"
	"time"
)

// CodeWeChatTokenUnavailable: no working access token can be had for the
// app right now (the forced-refresh budget is spent, or another replica's
// refresh did not finish in time). Retry-After says when to try again.
const CodeWeChatTokenUnavailable Code = "wechat_token_unavailable"

// WeChatAccessToken is an app's access token for WeChat's server APIs. It
// is a credential: String, GoString and MarshalText hide it, so that it
// cannot reach a log or a response by accident. Reveal gives the value to
// the one place that sends it to WeChat.
type WeChatAccessToken string

func (WeChatAccessToken) String() string   { return "[redacted]" }
func (WeChatAccessToken) GoString() string { return "[redacted]" }

// MarshalText hides the token from encoders (JSON, slog's JSON handler).
func (WeChatAccessToken) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Reveal returns the token itself, for the request to WeChat.
func (t WeChatAccessToken) Reveal() string { return string(t) }

// Timings of the shared access token. WeChat's normal-mode stable_token
// returns the same token until the token's last 5 minutes, then a new one
// while the old one keeps working until it expires.
const (
	// WeChatTokenRefreshAhead is how long before expiry the token is
	// refreshed: inside the 5-minute window in which normal mode hands out
	// a new token, with a minute to spare for clock skew and a late loop.
	WeChatTokenRefreshAhead = 4 * time.Minute
	// WeChatTokenMinLife is the least life a token must have left to be
	// handed to a caller: a call takes a few seconds at most.
	WeChatTokenMinLife = 30 * time.Second
	// WeChatTokenRefetchGap is how long after a stable_token call that
	// returned the same token no replica asks again ahead of expiry (WeChat
	// had not rotated yet): it bounds the calls if WeChat's window is
	// narrower than ours.
	WeChatTokenRefetchGap = 30 * time.Second
)

// WeChatTokenState is what the deployment knows of one app's access token,
// shared by every replica: the token, the lease of the replica refreshing
// it, and the forced refreshes spent.
type WeChatTokenState struct {
	App        AppID
	Token      WeChatAccessToken // "" before the first fetch
	ExpiresAt  time.Time
	Generation int64     // 1 for the first token stored, +1 per different token
	FetchedAt  time.Time // the last successful stable_token call
	FetchedBy  string    // the replica that made it
	// LeaseHolder is refreshing the token until LeaseUntil; no other
	// replica calls stable_token for the app meanwhile.
	LeaseHolder string
	LeaseUntil  time.Time
	Forced      ForcedRefreshes
	// StableTokenNotBefore: stable_token answered that its daily quota is
	// used up, so no replica calls it for the app before this time (the
	// next Beijing midnight). Zero: no such stop.
	StableTokenNotBefore time.Time
}

// Usable reports whether the stored token may be handed to a caller at
// now: there is one, and it has at least WeChatTokenMinLife left.
func (s WeChatTokenState) Usable(now time.Time) bool {
	return s.Token != "" && now.Before(s.ExpiresAt.Add(-WeChatTokenMinLife))
}

// Due reports whether the token should be refreshed at now: there is
// none, or it is within WeChatTokenRefreshAhead of its expiry.
func (s WeChatTokenState) Due(now time.Time) bool {
	return s.Token == "" || !now.Before(s.ExpiresAt.Add(-WeChatTokenRefreshAhead))
}

// RecentlyFetched reports whether stable_token was called for the app
// less than WeChatTokenRefetchGap before now.
func (s WeChatTokenState) RecentlyFetched(now time.Time) bool {
	return !s.FetchedAt.IsZero() && now.Before(s.FetchedAt.Add(WeChatTokenRefetchGap))
}

// StableTokenStopped reports whether no replica may call stable_token at
// now because its daily quota was found used up.
func (s WeChatTokenState) StableTokenStopped(now time.Time) bool {
	return now.Before(s.StableTokenNotBefore)
}

// ForcedRefreshes counts an app's forced stable_token refreshes.
type ForcedRefreshes struct {
	Day   string    // the Beijing date ("2006-01-02") Count is for
	Count int       // forced refreshes on Day
	Last  time.Time // the last one (zero: never)
}

// beijing is WeChat's day boundary for daily quotas (UTC+8, no DST).
var beijing = time.FixedZone("CST", 8*3600)

// BeijingDay returns t's date in Beijing time, the day WeChat counts
// daily quotas by.
func BeijingDay(t time.Time) string { return t.In(beijing).Format(time.DateOnly) }

// NextBeijingMidnight returns the start of the Beijing day after t's: when
// WeChat's daily quotas (the forced refreshes, stable_token's calls) reset.
func NextBeijingMidnight(t time.Time) time.Time {
	b := t.In(beijing)
	return time.Date(b.Year(), b.Month(), b.Day()+1, 0, 0, 0, 0, beijing)
}

// ForceRefreshBudget is how many forced stable_token refreshes an app may
// spend: WeChat allows 20 per Beijing day, 30 s apart (a forced refresh
// closer than that does not rotate the token, yet counts).
type ForceRefreshBudget struct {
	PerDay int
	Gap    time.Duration
}

// DefaultForceRefreshBudget is WeChat's limit.
var DefaultForceRefreshBudget = ForceRefreshBudget{PerDay: 20, Gap: 30 * time.Second}

// Today returns how many forced refreshes f counts on now's Beijing day.
func (f ForcedRefreshes) Today(now time.Time) int {
	if f.Day != BeijingDay(now) {
		return 0
	}
	return f.Count
}

// Check returns nil when b allows one more forced refresh at now after f,
// else the failure to answer (CodeWeChatTokenUnavailable, with the time
// until the budget allows one as RetryAfter).
func (b ForceRefreshBudget) Check(f ForcedRefreshes, now time.Time) *Error {
	if n := f.Today(now); n >= b.PerDay {
		return &Error{Code: CodeWeChatTokenUnavailable, RetryAfter: NextBeijingMidnight(now).Sub(now),
			Message: "WeChat refuses this app's access token, and the forced refreshes WeChat allows today are spent; " +
				"service resumes when the token is replaced or the budget resets at midnight Beijing time.",
			Err: fmt.Errorf("forced-refresh budget spent: %d of %d today (Beijing day %s)", n, b.PerDay, BeijingDay(now))}
	}
	if !f.Last.IsZero() && now.Before(f.Last.Add(b.Gap)) {
		wait := f.Last.Add(b.Gap).Sub(now)
		return &Error{Code: CodeWeChatTokenUnavailable, RetryAfter: wait,
			Message: fmt.Sprintf("WeChat refuses this app's access token, which was force-refreshed moments ago; try again in %d s.",
				int(math.Ceil(wait.Seconds()))),
			Err: fmt.Errorf("forced refreshes must be %s apart; the last was %s ago", b.Gap, now.Sub(f.Last).Round(time.Second))}
	}
	return nil
}

// Spend returns f with one more forced refresh at now.
func (b ForceRefreshBudget) Spend(f ForcedRefreshes, now time.Time) ForcedRefreshes {
	return ForcedRefreshes{Day: BeijingDay(now), Count: f.Today(now) + 1, Last: now}
}

// ErrWeChatTokenWait: another replica holds the refresh lease and no
// usable token appeared within the wait.
func ErrWeChatTokenWait(cause error) *Error {
	return &Error{Code: CodeWeChatTokenUnavailable, RetryAfter: 2 * time.Second,
		Message: "Another server is fetching this app's WeChat access token; try again shortly.", Err: cause}
}

// ErrWeChatTokenStillRefused: a forced refresh handed back the very token
// WeChat had refused.
func ErrWeChatTokenStillRefused(cause error) *Error {
	return &Error{Code: CodeWeChatTokenUnavailable, RetryAfter: DefaultForceRefreshBudget.Gap,
		Message: "WeChat refuses this app's access token even after a forced refresh; try again shortly.", Err: cause}
}
