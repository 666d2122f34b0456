package jwx

import (
	"crypto/sha256"
	"sync"
	"time"
	"unsafe"

	"github.com/miniback/miniback/ports"
)

// tokenCache remembers the claims of the tokens a Tokens has verified, so
// that a client sending the same token again (every request until it
// refreshes) costs a hash and a map lookup instead of a signature check.
// It caches verification only: the caller still checks revocation on
// every request.
//
// An entry is keyed by the SHA-256 of the whole token, signature included.
// A token that differs from a verified one in any byte has another key
// (hitting an entry would take a SHA-256 second preimage), so a forged or
// altered token always goes through full verification. Hashing, rather
// than keying by the token itself, keeps every key 32 bytes whatever the
// token's length and keeps no usable bearer token in the heap after the
// request that sent it.
//
// An entry is served only before the token's exp (the full check
// tolerates the clock skew past it; the cache does not). The cache belongs
// to one Tokens, whose key set never changes: removing a key means a new
// Tokens, with an empty cache, so a cached token of a removed key cannot
// outlive its key.
//
// It holds at most size entries, in shards with their own lock; a full
// shard evicts an expired entry or the soonest to expire among a few it
// samples. Nothing runs in the background.
type tokenCache struct {
	shards   []cacheShard
	perShard int
}

type cacheShard struct {
	mu      sync.RWMutex
	entries map[cacheKey]ports.AccessClaims
	// keeps two shards' locks off one cache line, so that readers of
	// different shards do not slow each other down
	_ [64]byte
}

type cacheKey [sha256.Size]byte

const (
	maxShards = 16
	// minPerShard keeps a small cache in few shards, where eviction has
	// enough entries to choose from.
	minPerShard = 64
	// evictSample is how many entries a full shard looks at to choose the
	// one it evicts.
	evictSample = 8
)

// newTokenCache returns a cache of at most size entries, or nil (which
// caches nothing) when size is zero.
func newTokenCache(size int) *tokenCache {
	if size <= 0 {
		return nil
	}
	n := 1
	for n < maxShards && size/(2*n) >= minPerShard {
		n *= 2
	}
	c := &tokenCache{shards: make([]cacheShard, n), perShard: size / n}
	for i := range c.shards {
		c.shards[i].entries = make(map[cacheKey]ports.AccessClaims)
	}
	return c
}

// keyOf hashes the token's bytes in place: Sum256 only reads them, and
// []byte(token) would copy every token on every request.
func keyOf(token string) cacheKey {
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token)))
}

// shard picks a shard by the key's first byte: SHA-256 output spreads
// tokens evenly, and the shard count is a power of two up to 16.
func (c *tokenCache) shard(k *cacheKey) *cacheShard {
	return &c.shards[int(k[0])&(len(c.shards)-1)]
}

// get returns the claims cached for k, if they are still valid at now.
// An entry found expired is dropped.
func (c *tokenCache) get(k *cacheKey, now time.Time) (ports.AccessClaims, bool) {
	s := c.shard(k)
	s.mu.RLock()
	claims, ok := s.entries[*k]
	s.mu.RUnlock()
	if !ok {
		return ports.AccessClaims{}, false
	}
	if now.Before(claims.ExpiresAt) {
		return claims, true
	}
	s.mu.Lock()
	if e, ok := s.entries[*k]; ok && !now.Before(e.ExpiresAt) {
		delete(s.entries, *k)
	}
	s.mu.Unlock()
	return ports.AccessClaims{}, false
}

// put caches claims, just verified, under k, unless they expire by now.
func (c *tokenCache) put(k *cacheKey, claims ports.AccessClaims, now time.Time) {
	if !now.Before(claims.ExpiresAt) {
		return
	}
	s := c.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.entries[*k]; !ok && len(s.entries) >= c.perShard {
		s.evict(now)
	}
	s.entries[*k] = claims
}

// evict drops one entry: the first expired one among a few, or else the
// one of them that expires soonest. Map iteration starts at a random
// place, so the few are a random sample. The caller holds s.mu.
func (s *cacheShard) evict(now time.Time) {
	var (
		victim cacheKey
		soon   time.Time
		n      int
	)
	for k, e := range s.entries {
		if !now.Before(e.ExpiresAt) {
			victim = k
			break
		}
		if n == 0 || e.ExpiresAt.Before(soon) {
			victim, soon = k, e.ExpiresAt
		}
		if n++; n == evictSample {
			break
		}
	}
	delete(s.entries, victim)
}

// len returns how many entries the cache holds.
func (c *tokenCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.entries)
		s.mu.RUnlock()
	}
	return n
}
