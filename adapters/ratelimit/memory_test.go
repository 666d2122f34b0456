package ratelimit_test

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/ratelimit"
)

// clock is a settable clock for the tests; nothing sleeps.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// step is one request after advancing the clock, and what it must get.
type step struct {
	advance   time.Duration
	key       ratelimit.Key
	allowed   bool
	remaining int
	retry     time.Duration // when refused
}

var (
	alice = ratelimit.Key{Group: ratelimit.Auth, Scope: ratelimit.IP, Value: "203.0.113.7"}
	bob   = ratelimit.Key{Group: ratelimit.Auth, Scope: ratelimit.IP, Value: "203.0.113.8"}
)

func TestMemoryBudgets(t *testing.T) {
	third := time.Second / 3
	for _, tc := range []struct {
		name  string
		rule  ratelimit.Rule
		steps []step
	}{
		{"3/s lets three through at once, then one every third of a second", ratelimit.Rule{Count: 3, Period: time.Second}, []step{
			{0, alice, true, 2, 0},
			{0, alice, true, 1, 0},
			{0, alice, true, 0, 0},
			{0, alice, false, 0, third},
			{third - time.Nanosecond, alice, false, 0, time.Nanosecond},
			{time.Nanosecond, alice, true, 0, 0},
			{0, alice, false, 0, third},
		}},
		{"a refused request costs nothing", ratelimit.Rule{Count: 2, Period: time.Minute}, []step{
			{0, alice, true, 1, 0},
			{0, alice, true, 0, 0},
			{0, alice, false, 0, 30 * time.Second},
			{0, alice, false, 0, 30 * time.Second},
			{0, alice, false, 0, 30 * time.Second},
			{30 * time.Second, alice, true, 0, 0},
		}},
		{"idle for a period, the whole budget is back", ratelimit.Rule{Count: 10, Period: time.Minute}, append(
			repeat(10, step{0, alice, true, -1, 0}),
			step{0, alice, false, 0, 6 * time.Second},
			step{time.Minute, alice, true, 9, 0},
		)},
		{"budgets are per key", ratelimit.Rule{Count: 1, Period: time.Hour}, []step{
			{0, alice, true, 0, 0},
			{0, alice, false, 0, time.Hour},
			{0, bob, true, 0, 0},
			{0, ratelimit.Key{Group: ratelimit.Signup, Scope: ratelimit.IP, Value: alice.Value}, true, 0, 0},
			{0, ratelimit.Key{Group: ratelimit.Auth, Scope: ratelimit.User, Value: alice.Value}, true, 0, 0},
		}},
		{"an off rule limits nothing", ratelimit.Rule{}, repeat(100, step{0, alice, true, 0, 0})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			m := ratelimit.NewMemory(ratelimit.MemoryOptions{Now: c.Now})
			for i, s := range tc.steps {
				c.Advance(s.advance)
				d, err := m.Allow(context.Background(), s.key, tc.rule)
				if err != nil {
					t.Fatal(err)
				}
				if d.Allowed != s.allowed || (s.remaining >= 0 && d.Remaining != s.remaining) || (!s.allowed && d.RetryAfter != s.retry) {
					t.Fatalf("request %d (%s): got %+v, want allowed %v, remaining %d, retry after %s", i+1, s.key, d, s.allowed, s.remaining, s.retry)
				}
			}
		})
	}
}

func repeat(n int, s step) []step {
	out := make([]step, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestMemoryForgetsIdleKeysWithoutChangingAnswers(t *testing.T) {
	c := newClock()
	m := ratelimit.NewMemory(ratelimit.MemoryOptions{Now: c.Now})
	rule := ratelimit.Rule{Count: 5, Period: time.Minute}
	ctx := context.Background()
	for i := range 5000 {
		if _, err := m.Allow(ctx, ipKey(i), rule); err != nil {
			t.Fatal(err)
		}
	}
	if n := m.Len(); n != 5000 {
		t.Fatalf("holds %d keys, want 5000", n)
	}
	// Past the sweep interval every old key is idle: the next request to
	// each shard sweeps it.
	c.Advance(2 * time.Minute)
	for i := range 2000 {
		d, _ := m.Allow(ctx, ipKey(100000+i), rule)
		if !d.Allowed {
			t.Fatal("a new key was refused")
		}
	}
	if n := m.Len(); n != 2000 {
		t.Errorf("holds %d keys after the old ones went idle, want the 2000 new ones", n)
	}
	// A forgotten key answers as a fresh one: the full budget.
	d, _ := m.Allow(ctx, ipKey(1), rule)
	if !d.Allowed || d.Remaining != 4 {
		t.Errorf("a forgotten key got %+v, want the full budget (remaining 4)", d)
	}
}

// A hostile client spraying addresses (a million of them, none idle, as
// fast as the clock allows) cannot make the backend hold more than
// MaxKeys, nor the heap grow with the spray.
func TestMemorySprayOfAddressesStaysBounded(t *testing.T) {
	c := newClock()
	const maxKeys = 10_000
	m := ratelimit.NewMemory(ratelimit.MemoryOptions{Now: c.Now, MaxKeys: maxKeys})
	rule := ratelimit.Rule{Count: 10, Period: time.Hour}
	ctx := context.Background()
	spray := func(from, n int) {
		for i := from; i < from+n; i++ {
			if d, _ := m.Allow(ctx, ipKey(i), rule); !d.Allowed {
				t.Fatalf("request %d from a new address refused", i)
			}
		}
	}
	spray(0, 100_000) // warm up to the bound
	before := heapInUse()
	spray(100_000, 1_000_000)
	after := heapInUse()
	// The shards round the bound up to a multiple of their count.
	if n := m.Len(); n > maxKeys+32 {
		t.Errorf("holds %d keys after a spray of 1.1M addresses, want at most %d", n, maxKeys+32)
	}
	// Holding a million keys would take ~100 MB; the bound keeps ~1 MB.
	if grew := int64(after) - int64(before); grew > 8<<20 {
		t.Errorf("the heap grew by %d MB during the spray", grew>>20)
	}
	t.Logf("%d keys held; heap in use %d KB before the spray's last 1M addresses, %d KB after", m.Len(), before>>10, after>>10)
}

// A key that is using its budget stays counted under a spray as long as
// the shard has idle keys to drop first.
func TestMemoryDropsIdleKeysBeforeBusyOnes(t *testing.T) {
	c := newClock()
	m := ratelimit.NewMemory(ratelimit.MemoryOptions{Now: c.Now, MaxKeys: 32_000}) // 1000 a shard
	ctx := context.Background()
	short := ratelimit.Rule{Count: 1, Period: time.Second}
	long := ratelimit.Rule{Count: 1, Period: time.Hour}
	if d, _ := m.Allow(ctx, alice, long); !d.Allowed {
		t.Fatal("first request refused")
	}
	// Fill every shard about half (500 ± 22) with keys that are idle a
	// second later, then with 750 ± 27 busy ones: every shard overflows
	// (by 250, ten deviations) and must make room, and the busy ones
	// alone never fill a shard.
	for i := range 16_000 {
		_, _ = m.Allow(ctx, ipKey(i), short)
	}
	c.Advance(2 * time.Second)
	for i := range 24_000 {
		_, _ = m.Allow(ctx, ipKey(100_000+i), long)
	}
	if n := m.Len(); n != 1+24_000 {
		t.Errorf("holds %d keys, want the busy key and the 24000 new ones", n)
	}
	if d, _ := m.Allow(ctx, alice, long); d.Allowed {
		t.Error("the busy key lost its count to the idle ones' eviction")
	}
}

func ipKey(i int) ratelimit.Key {
	return ratelimit.Key{Group: ratelimit.Auth, Scope: ratelimit.IP, Value: "10." + strconv.Itoa(i>>16&255) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255) + "/" + strconv.Itoa(i>>24)}
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

func TestMemoryIsSafeForConcurrentUse(t *testing.T) {
	c := newClock()
	m := ratelimit.NewMemory(ratelimit.MemoryOptions{Now: c.Now})
	rule := ratelimit.Rule{Count: 100, Period: time.Hour}
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if d, _ := m.Allow(context.Background(), alice, rule); d.Allowed {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if allowed != 100 {
		t.Errorf("400 concurrent requests against 100/h: %d allowed, want exactly 100", allowed)
	}
}

// BenchmarkLimiterAllow is one budget check of the memory backend through
// the Limiter: the same key every time, and keys spread over 64k.
func BenchmarkLimiterAllow(b *testing.B) {
	l := ratelimit.New(ratelimit.DefaultPolicy(), ratelimit.Options{})
	keys := make([]string, 1<<16)
	for i := range keys {
		keys[i] = ipKey(i).Value
	}
	ctx := context.Background()
	b.Run("one key", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			l.Allow(ctx, ratelimit.Read, ratelimit.IP, "203.0.113.7")
		}
	})
	b.Run("64k keys", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			l.Allow(ctx, ratelimit.Read, ratelimit.IP, keys[i&(1<<16-1)])
			i++
		}
	})
	b.Run("64k keys, parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				l.Allow(ctx, ratelimit.Read, ratelimit.IP, keys[i&(1<<16-1)])
				i++
			}
		})
	})
}
