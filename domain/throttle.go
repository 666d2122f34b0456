package domain

import (
	"net/netip"
	"time"
)

// ThrottleScope says what a throttle key counts attempts of.
type ThrottleScope string

const (
	// ThrottleAccount counts failed attempts against one account: by the
	// login name as typed (normalised), or by user id for a password change.
	ThrottleAccount ThrottleScope = "account"
	// ThrottleIP counts failed attempts from one client address.
	ThrottleIP ThrottleScope = "ip"
)

// ThrottleKey names one counter of attempts.
type ThrottleKey struct {
	Scope ThrottleScope
	Key   string
}

// LoginNameThrottleKey counts attempts at a login name. Unknown and known
// names are counted alike, so the throttle says nothing about which names
// exist; an account reachable by username and by email has two counters.
func LoginNameThrottleKey(n LoginName) ThrottleKey {
	return ThrottleKey{Scope: ThrottleAccount, Key: "name:" + n.Value}
}

// UserThrottleKey counts attempts at a signed-in user's password (a
// password change with a wrong current password).
func UserThrottleKey(id UserID) ThrottleKey {
	return ThrottleKey{Scope: ThrottleAccount, Key: "user:" + string(id)}
}

// IPThrottleKey counts attempts from a client address. An IPv6 client is
// counted by its /64, which one subscriber usually holds whole; an
// IPv4-mapped IPv6 address is its IPv4 address. An unparsable address
// (none should reach here) shares one counter.
func IPThrottleKey(ip string) ThrottleKey {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ThrottleKey{Scope: ThrottleIP, Key: "unknown"}
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is6() {
		p, _ := addr.Prefix(64) // cannot fail for an IPv6 address and 64
		return ThrottleKey{Scope: ThrottleIP, Key: p.String()}
	}
	return ThrottleKey{Scope: ThrottleIP, Key: addr.String()}
}

// ThrottleRule allows Limit attempts per fixed Window, counted from the
// first attempt of the window.
type ThrottleRule struct {
	Limit  int
	Window time.Duration
}

// AttemptWindow is one counter's state after an attempt was counted.
type AttemptWindow struct {
	Start time.Time
	Count int // attempts in the window, this one included
}

// RetryAfter returns how long the attempt just counted in w must wait:
// zero when it is within the limit, else the rest of the window.
func (r ThrottleRule) RetryAfter(w AttemptWindow, now time.Time) time.Duration {
	if w.Count <= r.Limit {
		return 0
	}
	wait := w.Start.Add(r.Window).Sub(now)
	if wait < time.Second {
		wait = time.Second
	}
	return wait
}

// LoginLimits is the policy for failed password attempts. Each attempt is
// counted before the password is checked, so a burst of parallel guesses
// cannot slip past the limit; a success forgets the account's count and
// gives the address its attempt back.
type LoginLimits struct {
	Account ThrottleRule
	IP      ThrottleRule
}

// DefaultLoginLimits allows 10 failed attempts per account and 100 per
// client address (mini-program users often share a carrier NAT) in 15
// minutes.
var DefaultLoginLimits = LoginLimits{
	Account: ThrottleRule{Limit: 10, Window: 15 * time.Minute},
	IP:      ThrottleRule{Limit: 100, Window: 15 * time.Minute},
}

// TooManyAttempts is the error of a throttled attempt.
func TooManyAttempts(wait time.Duration) *Error {
	return &Error{Code: CodeTooManyAttempts, Message: "Too many failed attempts; try again later.", RetryAfter: wait}
}
