package ratelimit_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/ratelimit"
	"github.com/miniback/miniback/adapters/ratelimit/redistest"
)

func openRedis(t *testing.T, url string) *ratelimit.Redis {
	t.Helper()
	c, err := ratelimit.OpenRedis(url, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return ratelimit.NewRedis(c, ratelimit.RedisOptions{Prefix: redistest.Prefix(t)})
}

// The Redis backend answers a burst as the memory backend does: the same
// GCRA.
func TestRedisBackendCountsLikeMemory(t *testing.T) {
	url, _ := redistest.Shared(t)
	r := openRedis(t, url)
	m := ratelimit.NewMemory(ratelimit.MemoryOptions{})
	rule := ratelimit.Rule{Count: 5, Period: time.Minute}
	ctx := context.Background()
	for i := range 7 {
		want, _ := m.Allow(ctx, alice, rule)
		got, err := r.Allow(ctx, alice, rule)
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		if got.Allowed != want.Allowed || got.Remaining != want.Remaining {
			t.Errorf("request %d: Redis %+v, memory %+v", i+1, got, want)
		}
		// 5/m gives one back every 12 s; the burst took well under a
		// second.
		if !got.Allowed && (got.RetryAfter <= 11*time.Second || got.RetryAfter > 12*time.Second) {
			t.Errorf("request %d: retry after %s, want just under 12s", i+1, got.RetryAfter)
		}
	}
	// Other keys have their own budget.
	if d, err := r.Allow(ctx, bob, rule); err != nil || !d.Allowed || d.Remaining != 4 {
		t.Errorf("another key: %+v, %v", d, err)
	}
}

// Two replicas (two limiters, two connections) on one Redis draw on one
// budget: together they let exactly the budget through.
func TestTwoLimitersOnOneRedisShareABudget(t *testing.T) {
	url, _ := redistest.Shared(t)
	prefix := redistest.Prefix(t)
	replica := func() *ratelimit.Limiter {
		c, err := ratelimit.OpenRedis(url, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return ratelimit.New(policy(t, "write:user=10/m"), ratelimit.Options{
			Backend: ratelimit.NewRedis(c, ratelimit.RedisOptions{Prefix: prefix}), Shared: true,
		})
	}
	a, b := replica(), replica()
	ctx := context.Background()
	allowed := map[string]int{}
	for i := range 30 {
		l, name := a, "a"
		if i%2 == 1 {
			l, name = b, "b"
		}
		if l.Allow(ctx, ratelimit.Write, ratelimit.User, "user-1").Allowed {
			allowed[name]++
		}
	}
	if allowed["a"]+allowed["b"] != 10 || allowed["a"] == 0 || allowed["b"] == 0 {
		t.Errorf("30 requests through two replicas against 10/m: allowed %v, want 10 in all, from both", allowed)
	}
}

// Redis killed mid-test: requests go through (fail open), the observer
// and the log hear of it, nothing waits for long; restarted, the budget
// holds again.
func TestRedisStoppedMidTestFailsOpen(t *testing.T) {
	srv := redistest.Start(t)
	c := newClock()
	obs := &observer{}
	var logs bytes.Buffer
	client, err := ratelimit.OpenRedis(srv.URL, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	l := ratelimit.New(policy(t, "signup:ip=2/h"), ratelimit.Options{
		Backend: ratelimit.NewRedis(client, ratelimit.RedisOptions{}), Shared: true,
		Now: c.Now, Observer: obs, Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	ctx := context.Background()
	allow := func() bool { return l.Allow(ctx, ratelimit.Signup, ratelimit.IP, "203.0.113.7").Allowed }

	if got := []bool{allow(), allow(), allow()}; !got[0] || !got[1] || got[2] {
		t.Fatalf("with Redis up, 2/h: %v, want exactly two through", got)
	}
	srv.Stop()
	for i := range 5 {
		start := time.Now()
		if !allow() {
			t.Fatalf("request %d refused with Redis down; the policy is to fail open", i+1)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("request %d took %s with Redis down", i+1, took)
		}
		c.Advance(2 * time.Second) // past the pause: each one tries Redis
	}
	if len(obs.errs) != 5 || len(obs.failedOpen) != 5 {
		t.Errorf("the observer saw %d backend errors and %d requests failed open, want 5 of each", len(obs.errs), len(obs.failedOpen))
	}
	if !strings.Contains(logs.String(), "the shared backend (Redis) failed") {
		t.Errorf("nothing logged about Redis:\n%s", logs.String())
	}
	if len(obs.rejected) != 1 {
		t.Errorf("rejections %v, want the one before Redis stopped", obs.rejected)
	}
}

// A frozen Redis (it accepts nothing, answers nothing) costs a request no
// more than the timeout, and then nothing while the backend is paused.
func TestFrozenRedisCostsAtMostTheTimeout(t *testing.T) {
	srv := redistest.Start(t)
	c := newClock()
	client, err := ratelimit.OpenRedis(srv.URL, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	backend := ratelimit.NewRedis(client, ratelimit.RedisOptions{Timeout: 50 * time.Millisecond})
	l := ratelimit.New(policy(t, "auth:ip=1/h"), ratelimit.Options{Backend: backend, Shared: true, Failure: ratelimit.FailLocal, Now: c.Now})
	ctx := context.Background()
	if !l.Allow(ctx, ratelimit.Auth, ratelimit.IP, "203.0.113.7").Allowed {
		t.Fatal("first request refused")
	}
	srv.Freeze()
	defer srv.Thaw()
	start := time.Now()
	// Policy local: this replica's memory has not seen the address.
	if !l.Allow(ctx, ratelimit.Auth, ratelimit.IP, "203.0.113.7").Allowed {
		t.Error("refused by the local fallback, which had not seen the address")
	}
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Errorf("a request waited %s on a frozen Redis with a 50ms timeout", took)
	}
	start = time.Now()
	if l.Allow(ctx, ratelimit.Auth, ratelimit.IP, "203.0.113.7").Allowed {
		t.Error("the local fallback let a second request through 1/h")
	}
	if took := time.Since(start); took > 20*time.Millisecond {
		t.Errorf("a request during the pause took %s: it should not touch Redis", took)
	}
}

func TestOpenRedisNeverRepeatsTheURL(t *testing.T) {
	for _, u := range []string{"http://:s3cret@host:6379", "redis://:s3cret@host:port/0", "s3cret"} {
		_, err := ratelimit.OpenRedis(u, 0)
		if err == nil {
			t.Errorf("OpenRedis(%q) accepted it", u)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("the error repeats the password: %v", err)
		}
	}
	if _, err := ratelimit.OpenRedis("rediss://:pw@redis.example.com:6380/2", 0); err != nil {
		t.Errorf("a TLS URL: %v", err)
	}
}

// BenchmarkRedisAllow is one budget check against the shared test Redis
// (one EVALSHA round trip on loopback).
func BenchmarkRedisAllow(b *testing.B) {
	url, prefix := redistest.Shared(b)
	c, err := ratelimit.OpenRedis(url, time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	r := ratelimit.NewRedis(c, ratelimit.RedisOptions{Prefix: prefix, Timeout: time.Second})
	rule := ratelimit.Rule{Count: 1_000_000, Period: time.Second}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Allow(ctx, alice, rule); err != nil {
			b.Fatal(err)
		}
	}
}
