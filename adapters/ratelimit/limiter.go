package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Failure is what the limiter does with a request whose budget the
// shared backend (Redis) could not check: failed, or timed out.
type Failure string

const (
	// FailOpen lets the request through: Redis being down costs the
	// limits, never the service. The default.
	FailOpen Failure = "open"
	// FailLocal checks the request against this replica's own memory
	// instead: each replica then enforces the whole budget by itself, so
	// the deployment as a whole lets up to (replicas × budget) through.
	FailLocal Failure = "local"
)

// ParseFailure reads MINIBACK_RATE_LIMIT_REDIS_FAILURE.
func ParseFailure(s string) (Failure, error) {
	switch f := Failure(s); f {
	case FailOpen, FailLocal:
		return f, nil
	case "":
		return FailOpen, nil
	}
	return "", fmt.Errorf("%q: want open or local", s)
}

// backendPause is how long the limiter leaves a failed shared backend
// alone, applying the failure policy at once, before it tries again: so
// that a Redis that is down or frozen costs each request nothing rather
// than a timeout.
const backendPause = time.Second

// logEvery bounds the log lines about a failing backend: one at the first
// failure, then at most one per interval, with the count in between.
const logEvery = 30 * time.Second

// Options configure a Limiter.
type Options struct {
	// Backend holds the budgets; nil means a Memory backend.
	Backend Backend
	// Shared says Backend is shared (Redis) and may fail: Failure applies
	// when it does.
	Shared bool
	// Failure is the policy when the shared backend fails; empty means
	// FailOpen.
	Failure Failure
	// MaxKeys bounds the memory backend (the default one, and the local
	// one FailLocal falls back on); zero means DefaultMaxKeys.
	MaxKeys int
	// Observer is told of rejections and of requests let through
	// unchecked (and, if it implements BackendErrors, of each backend
	// failure); nil tells no one.
	Observer Observer
	// Logger gets the (rate-limited) lines about backend failures; nil
	// discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Limiter answers whether a request fits its group's budgets. It never
// fails: when the shared backend does, the failure policy answers.
type Limiter struct {
	policy   Policy
	backend  Backend
	shared   bool
	failure  Failure
	local    *Memory // FailLocal's
	observer Observer
	log      *slog.Logger
	now      func() time.Time
	base     time.Time

	// pausedUntil is when the shared backend may be tried again, in
	// nanoseconds since base; zero when it is not paused.
	pausedUntil atomic.Int64

	logMu      sync.Mutex
	lastLog    time.Time
	suppressed int
}

// New returns a limiter applying p with the options.
func New(p Policy, o Options) *Limiter {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Failure == "" {
		o.Failure = FailOpen
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	l := &Limiter{policy: p, backend: o.Backend, shared: o.Shared && o.Backend != nil, failure: o.Failure,
		observer: o.Observer, log: o.Logger, now: o.Now, base: o.Now()}
	if l.backend == nil {
		l.backend = NewMemory(MemoryOptions{MaxKeys: o.MaxKeys, Now: o.Now})
	}
	if l.shared && l.failure == FailLocal {
		l.local = NewMemory(MemoryOptions{MaxKeys: o.MaxKeys, Now: o.Now})
	}
	return l
}

// Policy returns the limits the limiter applies.
func (l *Limiter) Policy() Policy { return l.policy }

// Allow counts one request of group g against the scope's budget for
// value (a client address, a user id, an AppID), and answers whether it
// may go ahead. A scope whose rule is off, or an empty value, always may.
func (l *Limiter) Allow(ctx context.Context, g Group, s Scope, value string) Decision {
	r := l.policy.Rule(g, s)
	if r.Off() || value == "" {
		return Decision{Allowed: true}
	}
	k := Key{Group: g, Scope: s, Value: value}
	var d Decision
	if !l.shared {
		d, _ = l.backend.Allow(ctx, k, r) // Memory never fails
	} else {
		d = l.allowShared(ctx, k, r)
	}
	if !d.Allowed {
		l.observer.Rejected(g.String())
	}
	return d
}

// allowShared asks the shared backend, or the failure policy when it is
// paused or fails.
func (l *Limiter) allowShared(ctx context.Context, k Key, r Rule) Decision {
	if until := l.pausedUntil.Load(); until != 0 && l.since() < until {
		return l.onFailure(ctx, k, r)
	}
	d, err := l.backend.Allow(ctx, k, r)
	if err == nil {
		l.pausedUntil.Store(0)
		return d
	}
	if ctx.Err() != nil {
		// The request is over (the client went away): nothing to judge,
		// and nothing wrong with the backend.
		return Decision{Allowed: true}
	}
	l.pausedUntil.Store(l.since() + int64(backendPause))
	if e, ok := l.observer.(BackendErrors); ok {
		e.BackendError(err)
	}
	l.logFailure(err)
	return l.onFailure(ctx, k, r)
}

func (l *Limiter) onFailure(ctx context.Context, k Key, r Rule) Decision {
	if l.failure == FailLocal {
		d, _ := l.local.Allow(ctx, k, r)
		return d
	}
	l.observer.FailedOpen(k.Group.String())
	return Decision{Allowed: true}
}

func (l *Limiter) since() int64 { return int64(l.now().Sub(l.base)) }

// logFailure logs a backend failure: the first at once, then at most one
// line per logEvery, saying how many it stands for.
func (l *Limiter) logFailure(err error) {
	l.logMu.Lock()
	now := l.now()
	if !l.lastLog.IsZero() && now.Sub(l.lastLog) < logEvery {
		l.suppressed++
		l.logMu.Unlock()
		return
	}
	suppressed := l.suppressed
	l.lastLog, l.suppressed = now, 0
	l.logMu.Unlock()
	l.log.Warn("rate limit: the shared backend (Redis) failed; the failure policy decides until it answers again",
		slog.String("policy", string(l.failure)), slog.String("error", err.Error()),
		slog.Int("failures_not_logged", suppressed), slog.Duration("retry_in", backendPause))
}

type nopObserver struct{}

func (nopObserver) Rejected(string)   {}
func (nopObserver) FailedOpen(string) {}
