// Package ratelimit decides whether a request may go ahead under the
// configured request budgets: per client address, per signed-in user and
// per mini-program (AppID), for each group of operations (auth, signup,
// wechat, write, read, upload).
//
// Every budget is a GCRA (generic cell rate algorithm): "N per period"
// lets N requests through at once and gives one back every period/N. Its
// whole state per key is one instant (the theoretical arrival time), so a
// key that has been idle for a period is exactly a fresh key and can be
// forgotten at any moment: that is what bounds the memory backend.
//
// Two backends keep that state: Memory (one process; the default) and
// Redis (MINIBACK_REDIS_URL; every replica shares one budget, through
// go-redis/redis_rate's GCRA script). Limiter puts a backend behind the
// configured Policy and applies the failure policy when Redis fails: it
// never returns an error, so a broken Redis can never become a 500.
package ratelimit

import (
	"context"
	"strconv"
	"time"
)

// Group is a group of operations that share their budgets' settings. The
// HTTP adapter assigns each operation to one (adapters/httpapi
// rateGroups).
type Group uint8

// The groups. Exempt is never limited: probes, the JWKS and WeChat's own
// calls to the push URL.
const (
	Exempt Group = iota
	Auth         // logins and token refresh, no access token
	Signup       // password registration: an account and an Argon2id hash each
	WeChat       // operations that call WeChat or use the session_key for the user
	Write        // signed-in writes
	Read         // reads
	Upload       // upload tickets and the local storage's file bodies
	numGroups
)

var groupNames = [numGroups]string{"exempt", "auth", "signup", "wechat", "write", "read", "upload"}

// String returns the group's name in the configuration and the headers.
func (g Group) String() string {
	if g < numGroups {
		return groupNames[g]
	}
	return "group" + strconv.Itoa(int(g))
}

// Groups lists the groups that can be limited, in a stable order.
func Groups() []Group { return []Group{Auth, Signup, WeChat, Write, Read, Upload} }

// Authenticated reports whether the group has operations that take an
// access token, the only source of the user scope's key.
func (g Group) Authenticated() bool {
	switch g {
	case WeChat, Write, Read, Upload:
		return true
	}
	return false
}

// Has reports whether the group's operations give scope s a key, so that
// a budget of s can be configured for it: every group counts client
// addresses; users need an access token; AppIDs an access token too, or,
// in auth, the wx.login code exchange (POST /v1/auth/wechat), whose
// AppID is the one its body names once the server knows it serves it.
func (g Group) Has(s Scope) bool {
	if g == Exempt || g >= numGroups {
		return false
	}
	switch s {
	case IP:
		return true
	case User:
		return g.Authenticated()
	case App:
		return g.Authenticated() || g == Auth
	}
	return false
}

// Scope is what a budget counts requests of.
type Scope uint8

const (
	// IP counts the requests of one client address (an IPv6 client by
	// its /64), as the trusted-proxy rules name it.
	IP Scope = iota
	// User counts the requests of one user, from the verified access
	// token's subject.
	User
	// App counts the requests made in one mini-program: WeChat's quotas
	// are per AppID. The key is the verified access token's AppID, except
	// for the operations that exchange a wx.login code (code2Session),
	// whose key is the AppID the code is exchanged for: the body's appid,
	// or the only mini-program served, and only once the server knows it
	// serves that AppID (an unknown one makes no key; the operation
	// refuses it).
	App
	numScopes
)

var scopeNames = [numScopes]string{"ip", "user", "app"}

// String returns the scope's name in the configuration and the headers.
func (s Scope) String() string {
	if s < numScopes {
		return scopeNames[s]
	}
	return "scope" + strconv.Itoa(int(s))
}

// Key names one budget: a group, a scope, and the client address, user
// id or AppID. It is comparable, so the memory backend keys its map with
// it as it stands, without building a string.
type Key struct {
	Group Group
	Scope Scope
	Value string
}

// String is the key's name in Redis: "auth:ip:203.0.113.7".
func (k Key) String() string { return k.Group.String() + ":" + k.Scope.String() + ":" + k.Value }

// Rule is a budget of Count requests per Period: up to Count at once,
// then one more every Period/Count. The zero Rule is no limit.
type Rule struct {
	Count  int
	Period time.Duration
}

// Off reports whether the rule limits nothing.
func (r Rule) Off() bool { return r.Count <= 0 }

// String writes the rule in the configuration's format: "60/1m0s" is
// written "60/m".
func (r Rule) String() string {
	if r.Off() {
		return "off"
	}
	p := r.Period.String()
	switch r.Period {
	case time.Second:
		p = "s"
	case time.Minute:
		p = "m"
	case time.Hour:
		p = "h"
	}
	return strconv.Itoa(r.Count) + "/" + p
}

// Decision is a backend's answer for one request.
type Decision struct {
	Allowed bool
	// Remaining is how many more requests the budget would let through
	// at once now.
	Remaining int
	// RetryAfter is, when not Allowed, how long until one request is let
	// through again.
	RetryAfter time.Duration
}

// Backend keeps budgets and answers whether one more request fits.
type Backend interface {
	Allow(ctx context.Context, k Key, r Rule) (Decision, error)
}

// Observer is told what the limiter does, for metrics; the metrics
// adapter's RateLimits implements it. Limiter calls it on the request's
// goroutine, so its methods must be cheap and safe for concurrent use.
// Group is the group's name ("auth", "wechat", ...): a bounded set, never
// an address or a user.
type Observer interface {
	// Rejected is called for each request refused (429).
	Rejected(group string)
	// FailedOpen is called for each budget check (Allow) let through
	// unchecked because the shared backend (Redis) failed or is paused
	// after a failure, under the FailOpen policy: once for each budget a
	// request checks (its address, user, mini-program).
	FailedOpen(group string)
}

// BackendErrors is what an Observer may also implement to hear of each
// failed call to the shared backend (whatever the failure policy), with
// its error. The error names no secret (no Redis password).
type BackendErrors interface {
	BackendError(err error)
}
