package ratelimit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Policy holds every group's budgets, one rule per scope (an off rule
// limits nothing).
type Policy struct {
	rules [numGroups][numScopes]Rule
}

// Rule returns the group's budget for the scope; an off rule for Exempt.
func (p Policy) Rule(g Group, s Scope) Rule {
	if g >= numGroups || s >= numScopes {
		return Rule{}
	}
	return p.rules[g][s]
}

// Off reports whether the policy limits nothing at all.
func (p Policy) Off() bool {
	for _, g := range Groups() {
		for s := range numScopes {
			if !p.rules[g][s].Off() {
				return false
			}
		}
	}
	return true
}

// String writes the whole policy in the configuration's format, every
// scope of every group, for the start-up log; ParsePolicy reads it back
// as the same policy: "auth:ip=60/m;...;write:ip=600/m,user=120/m,app=off;...".
func (p Policy) String() string {
	var b strings.Builder
	for _, g := range Groups() {
		if b.Len() > 0 {
			b.WriteByte(';')
		}
		b.WriteString(g.String() + ":")
		if p.rules[g] == ([numScopes]Rule{}) {
			b.WriteString("off")
			continue
		}
		for s := range numScopes {
			if !g.Has(s) {
				continue
			}
			if s != IP {
				b.WriteByte(',')
			}
			b.WriteString(s.String() + "=" + p.rules[g][s].String())
		}
	}
	return b.String()
}

// DefaultPolicy is the budget with nothing configured. The address budgets
// are generous because mini-program users often share a carrier's NAT
// address; the per-user budgets are the ones that bite. See the README's
// rate limit section for the reasoning behind each number.
func DefaultPolicy() Policy {
	var p Policy
	set := func(g Group, s Scope, n int, per time.Duration) { p.rules[g][s] = Rule{Count: n, Period: per} }
	// A login costs a WeChat call or an Argon2id hash, a refresh a
	// session write; a client refreshes every access TTL (15 min).
	set(Auth, IP, 60, time.Minute)
	// Every wx.login code exchange (code2Session) spends the
	// mini-program's WeChat quota, shared by all its users and by any
	// other backend of the same AppID: past it WeChat refuses every login
	// of the AppID for the rest of the minute (45011). A client logs in
	// once and then refreshes, so 20 a second per mini-program is far
	// above its normal rate, while a flood of junk codes from many
	// addresses (each under its address budget) stops here, before
	// WeChat. The same figure as the wechat group's.
	set(Auth, App, 1200, time.Minute)
	// A sign-up makes an account and an Argon2id hash: rare for a person,
	// the whole point of a script.
	set(Signup, IP, 10, time.Hour)
	// WeChat's quotas are per AppID (and getuserphonenumber is paid per
	// call): one user needs a handful, one mini-program stays under
	// WeChat's minute quotas.
	set(WeChat, IP, 60, time.Minute)
	set(WeChat, User, 10, time.Minute)
	set(WeChat, App, 1200, time.Minute)
	set(Write, IP, 600, time.Minute)
	set(Write, User, 120, time.Minute)
	set(Read, IP, 1200, time.Minute)
	set(Read, User, 600, time.Minute)
	set(Upload, IP, 120, time.Minute)
	set(Upload, User, 60, time.Minute)
	return p
}

// Bounds of a rule, checked when the configuration is parsed. The period
// is a whole number of seconds: the RateLimit-Policy header's window is.
const (
	MaxCount  = 1_000_000
	MinPeriod = time.Second
	MaxPeriod = 24 * time.Hour
)

// ParsePolicy reads MINIBACK_RATE_LIMITS over the defaults:
//
//	""                               the defaults
//	"off"                            no limits at all
//	"signup:ip=20/h;write:user=300/m,ip=off;read:off"
//
// Entries are separated by ";", each "group:" then "off" or
// comma-separated "scope=N/period" (or "scope=off"). A period is s, m or
// h (one second, minute, hour) or a Go duration ("10s", "15m", "24h").
// Groups and scopes not named keep their defaults. The user scope exists
// only in the groups whose operations take an access token; the app scope
// in those and in auth (the WeChat login's AppID; Group.Has).
// Every mistake is reported, each naming the entry at fault.
func ParsePolicy(s string) (Policy, error) {
	p := DefaultPolicy()
	s = strings.TrimSpace(s)
	if s == "" {
		return p, nil
	}
	if strings.EqualFold(s, "off") {
		return Policy{}, nil
	}
	var errs []error
	seen := map[Group]bool{}
	for entry := range strings.SplitSeq(s, ";") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name, rules, ok := strings.Cut(entry, ":")
		name, rules = strings.TrimSpace(name), strings.TrimSpace(rules)
		if !ok || rules == "" {
			errs = append(errs, fmt.Errorf(`%q: want "group:scope=N/period,..." or "group:off"`, entry))
			continue
		}
		g, err := parseGroup(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if seen[g] {
			errs = append(errs, fmt.Errorf("group %s is configured twice", g))
			continue
		}
		seen[g] = true
		if strings.EqualFold(rules, "off") {
			p.rules[g] = [numScopes]Rule{}
			continue
		}
		errs = append(errs, parseRules(&p, g, rules)...)
	}
	if len(errs) > 0 {
		return Policy{}, errors.Join(errs...)
	}
	return p, nil
}

// parseRules reads "ip=60/m,user=off" into group g of p.
func parseRules(p *Policy, g Group, rules string) []error {
	var errs []error
	seen := map[Scope]bool{}
	for item := range strings.SplitSeq(rules, ",") {
		item = strings.TrimSpace(item)
		name, value, ok := strings.Cut(item, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok {
			errs = append(errs, fmt.Errorf(`%s: %q: want "scope=N/period" or "scope=off"`, g, item))
			continue
		}
		s, err := parseScope(g, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if seen[s] {
			errs = append(errs, fmt.Errorf("%s: scope %s is configured twice", g, s))
			continue
		}
		seen[s] = true
		r, err := ParseRule(value)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%s: %w", g, s, err))
			continue
		}
		p.rules[g][s] = r
	}
	return errs
}

func parseGroup(name string) (Group, error) {
	for _, g := range Groups() {
		if name == g.String() {
			return g, nil
		}
	}
	if name == Exempt.String() {
		return 0, errors.New("group exempt (probes, JWKS, WeChat's push) cannot be limited")
	}
	return 0, fmt.Errorf("unknown group %q (groups: auth, signup, wechat, write, read, upload)", name)
}

func parseScope(g Group, name string) (Scope, error) {
	for s := range numScopes {
		if name != s.String() {
			continue
		}
		if g.Has(s) {
			return s, nil
		}
		switch s {
		case User:
			return 0, fmt.Errorf("%s: scope user needs an access token, and %s's operations take none (scopes: %s)", g, g, scopesOf(g))
		default:
			return 0, fmt.Errorf("%s: scope app needs an AppID (an access token's or a WeChat login's), and %s's operations have none (scopes: %s)",
				g, g, scopesOf(g))
		}
	}
	return 0, fmt.Errorf("%s: unknown scope %q (scopes: %s)", g, name, scopesOf(g))
}

// scopesOf lists the scopes group g has, for messages: "ip, app".
func scopesOf(g Group) string {
	var names []string
	for s := range numScopes {
		if g.Has(s) {
			names = append(names, s.String())
		}
	}
	return strings.Join(names, ", ")
}

// ParseRule reads "N/period" or "off".
func ParseRule(s string) (Rule, error) {
	if strings.EqualFold(s, "off") {
		return Rule{}, nil
	}
	count, period, ok := strings.Cut(s, "/")
	if !ok {
		return Rule{}, fmt.Errorf(`%q: want "N/period" (60/m, 10/h, 5/10s) or "off"`, s)
	}
	n, err := strconv.Atoi(strings.TrimSpace(count))
	if err != nil || n < 1 || n > MaxCount {
		return Rule{}, fmt.Errorf("%q: the count must be a whole number from 1 to %d", s, MaxCount)
	}
	var d time.Duration
	switch p := strings.TrimSpace(period); p {
	case "s":
		d = time.Second
	case "m":
		d = time.Minute
	case "h":
		d = time.Hour
	default:
		d, err = time.ParseDuration(p)
		if err != nil {
			return Rule{}, fmt.Errorf("%q: the period must be s, m, h or a duration like 10s or 15m", s)
		}
	}
	if d < MinPeriod || d > MaxPeriod || d%time.Second != 0 {
		return Rule{}, fmt.Errorf("%q: the period must be whole seconds from 1s to 24h", s)
	}
	return Rule{Count: n, Period: d}, nil
}
