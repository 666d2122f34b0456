package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// DefaultMaxKeys is how many budgets a Memory backend holds at most when
// its options say nothing: about 100 bytes each, so some 10 MB.
const DefaultMaxKeys = 100_000

// memoryShards spreads the keys over this many locks.
const memoryShards = 32

// sweepEvery is how often a shard forgets its idle keys.
const sweepEvery = time.Minute

// MemoryOptions configure a Memory backend.
type MemoryOptions struct {
	// MaxKeys bounds the budgets held; zero means DefaultMaxKeys.
	MaxKeys int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Memory keeps budgets in this process. Its memory is bounded twice: a
// key idle for its rule's period is forgotten (which changes no answer:
// GCRA's state for it is then that of a fresh key), and past MaxKeys the
// idle keys go first, then arbitrary ones. An evicted busy key starts
// again with a full budget: a flood of addresses (a spray) can cost some
// clients their count, never the process its memory.
type Memory struct {
	now      func() time.Time
	base     time.Time
	perShard int
	seed     maphash.Seed
	shards   [memoryShards]memoryShard
}

type memoryShard struct {
	mu sync.Mutex
	// tats holds each live key's theoretical arrival time, in
	// nanoseconds since Memory.base.
	tats      map[Key]int64
	nextSweep int64
	// peak is the largest len(tats) since the map was last rebuilt: a Go
	// map keeps its buckets when entries are deleted, so a map that
	// shrank well below its peak is copied into a small one.
	peak int
	_    [40]byte // keeps shards on separate cache lines
}

var _ Backend = (*Memory)(nil)

// NewMemory returns an empty Memory backend.
func NewMemory(o MemoryOptions) *Memory {
	if o.MaxKeys <= 0 {
		o.MaxKeys = DefaultMaxKeys
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Memory{now: o.Now, base: o.Now(), perShard: max(1, (o.MaxKeys+memoryShards-1)/memoryShards), seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].tats = map[Key]int64{}
		m.shards[i].nextSweep = int64(sweepEvery)
	}
	return m
}

// Allow counts one request against k's budget under r.
func (m *Memory) Allow(_ context.Context, k Key, r Rule) (Decision, error) {
	if r.Off() {
		return Decision{Allowed: true}, nil
	}
	now := int64(m.now().Sub(m.base))
	s := &m.shards[(maphash.String(m.seed, k.Value)^uint64(k.Group)<<8^uint64(k.Scope))%memoryShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	if now >= s.nextSweep {
		s.sweep(now)
	}
	tat, known := s.tats[k]
	d, next := gcra(tat, now, r)
	if d.Allowed {
		if !known && len(s.tats) >= m.perShard {
			s.makeRoom(now, m.perShard)
		}
		s.tats[k] = next
		if !known && len(s.tats) > s.peak {
			s.peak = len(s.tats)
		}
	}
	return d, nil
}

// Len returns how many budgets are held.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.tats)
		s.mu.Unlock()
	}
	return n
}

// sweep forgets the keys whose budget is full again (their tat has
// passed), and rebuilds the map when it is far below its peak.
func (s *memoryShard) sweep(now int64) {
	for k, tat := range s.tats {
		if tat <= now {
			delete(s.tats, k)
		}
	}
	s.nextSweep = now + int64(sweepEvery)
	if n := len(s.tats); s.peak > 1024 && n < s.peak/4 {
		fresh := make(map[Key]int64, n)
		for k, v := range s.tats {
			fresh[k] = v
		}
		s.tats, s.peak = fresh, n
	}
}

// makeRoom frees room in a full shard: the idle keys, and if that is not
// enough an eighth of the shard, whichever keys the map yields first.
func (s *memoryShard) makeRoom(now int64, limit int) {
	s.sweep(now)
	if len(s.tats) < limit {
		return
	}
	evict := len(s.tats)/8 + 1
	for k := range s.tats {
		if evict == 0 {
			break
		}
		delete(s.tats, k)
		evict--
	}
}
