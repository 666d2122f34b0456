package app

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Revocations is this instance's copy of the shared revocation feed: the
// sessions, and the users, whose access tokens must be refused. Checking a
// token is a lookup in memory, with no database round trip; Run keeps the
// copy fresh by reading the feed every poll interval (and whenever Wake
// is called), so a revocation made on any instance reaches every instance
// within one poll interval plus one read.
//
// Readers never wait: each refresh builds a new immutable snapshot and
// swaps it in atomically.
type Revocations struct {
	feed   ports.RevocationFeed
	clock  ports.Clock
	retain time.Duration

	mu     sync.Mutex // serialises writers: Refresh and Note
	cursor ports.RevocationCursor
	snap   atomic.Pointer[revocationSnapshot]
	wake   chan struct{}
}

// revocationSnapshot is immutable once published.
type revocationSnapshot struct {
	sessions map[domain.SessionID]time.Time
	users    map[domain.UserID]time.Time // tokens issued at or before the time are refused
	read     time.Time                   // when the feed was last read successfully
}

// NewRevocations returns an empty set fed by feed. retain is how long a
// revocation matters: the longest an access token issued before it can
// still be accepted (the access token TTL plus the verifier's clock skew).
// Older entries are dropped.
func NewRevocations(feed ports.RevocationFeed, clock ports.Clock, retain time.Duration) *Revocations {
	r := &Revocations{feed: feed, clock: clock, retain: retain, wake: make(chan struct{}, 1)}
	r.snap.Store(&revocationSnapshot{sessions: map[domain.SessionID]time.Time{}, users: map[domain.UserID]time.Time{}})
	return r
}

// Revoked reports whether the access token with claims c must be refused:
// its session is revoked, or its user's tokens up to a time after it was
// issued are. It allocates nothing and takes no lock.
func (r *Revocations) Revoked(c ports.AccessClaims) bool {
	s := r.snap.Load()
	if _, ok := s.sessions[c.SessionID]; ok {
		return true
	}
	if at, ok := s.users[c.UserID]; ok && !c.IssuedAt.After(at) {
		return true
	}
	return false
}

// LastRead is when the feed was last read successfully; zero before the
// first Refresh.
func (r *Revocations) LastRead() time.Time { return r.snap.Load().read }

// Len returns how many session and user revocations are held.
func (r *Revocations) Len() (sessions, users int) {
	s := r.snap.Load()
	return len(s.sessions), len(s.users)
}

// Note adds revocations this instance made itself, so that it refuses
// their tokens at once rather than after its next read of the feed. A nil
// set ignores them.
func (r *Revocations) Note(revs ...domain.Revocation) {
	if r == nil || len(revs) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.snap.Load()
	r.publish(old, revs, old.read)
}

// Refresh reads the feed from where the previous read stopped, adds what
// is new and drops what no longer matters.
func (r *Revocations) Refresh(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now()
	revs, next, err := r.feed.RevocationsSince(ctx, r.cursor, now.Add(-r.retain))
	if err != nil {
		return fmt.Errorf("read revocation feed: %w", err)
	}
	r.cursor = next
	r.publish(r.snap.Load(), revs, now)
	return nil
}

// publish swaps in old plus revs, minus entries older than the retention,
// marked as read at read. It copies only when something changes. r.mu is
// held.
func (r *Revocations) publish(old *revocationSnapshot, revs []domain.Revocation, read time.Time) {
	cutoff := r.clock.Now().Add(-r.retain)
	changed := false
	for _, rev := range revs {
		if rev.RevokedAt.Before(cutoff) {
			continue
		}
		if rev.SessionID != "" {
			if _, ok := old.sessions[rev.SessionID]; !ok {
				changed = true
			}
		} else if at, ok := old.users[rev.UserID]; !ok || rev.RevokedAt.After(at) {
			changed = true
		}
	}
	if !changed {
		changed = anyBefore(old.sessions, cutoff) || anyBefore(old.users, cutoff)
	}
	if !changed {
		if read != old.read {
			r.snap.Store(&revocationSnapshot{sessions: old.sessions, users: old.users, read: read})
		}
		return
	}
	next := &revocationSnapshot{
		sessions: make(map[domain.SessionID]time.Time, len(old.sessions)+len(revs)),
		users:    make(map[domain.UserID]time.Time, len(old.users)),
		read:     read,
	}
	for id, at := range old.sessions {
		if !at.Before(cutoff) {
			next.sessions[id] = at
		}
	}
	for id, at := range old.users {
		if !at.Before(cutoff) {
			next.users[id] = at
		}
	}
	for _, rev := range revs {
		if rev.RevokedAt.Before(cutoff) {
			continue
		}
		if rev.SessionID != "" {
			if at, ok := next.sessions[rev.SessionID]; !ok || rev.RevokedAt.After(at) {
				next.sessions[rev.SessionID] = rev.RevokedAt
			}
		} else if at, ok := next.users[rev.UserID]; !ok || rev.RevokedAt.After(at) {
			next.users[rev.UserID] = rev.RevokedAt
		}
	}
	r.snap.Store(next)
}

func anyBefore[K comparable](m map[K]time.Time, cutoff time.Time) bool {
	for _, at := range m {
		if at.Before(cutoff) {
			return true
		}
	}
	return false
}

// Wake asks Run to read the feed now rather than at the next tick, e.g.
// when the database announces a new revocation. It never blocks.
func (r *Revocations) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run reads the feed every interval, and on Wake, until ctx ends. A failed
// read is reported to onError (which may be nil) and retried at the next
// tick; meanwhile the set keeps what it had.
func (r *Revocations) Run(ctx context.Context, interval time.Duration, onError func(error)) {
	if onError == nil {
		onError = func(error) {}
	}
	repeat(ctx, Task{Every: interval, Wake: r.wake, Run: r.Refresh}, onError)
}
