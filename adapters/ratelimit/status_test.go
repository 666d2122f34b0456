package ratelimit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/ratelimit"
	"github.com/miniback/miniback/domain"
)

func TestRateLimitStatusSaysWhereBudgetsAreCountedAndWhenRedisFailsOpen(t *testing.T) {
	policy, err := ratelimit.ParsePolicy("read:ip=10/m")
	if err != nil {
		t.Fatal(err)
	}
	off, err := ratelimit.ParsePolicy("off")
	if err != nil {
		t.Fatal(err)
	}
	if s := ratelimit.New(off, ratelimit.Options{}).RateLimitStatus(); s.Store != domain.RateLimitStoreOff {
		t.Errorf("off policy: %+v", s)
	}
	if s := ratelimit.New(policy, ratelimit.Options{}).RateLimitStatus(); s.Store != domain.RateLimitStoreMemory || s.FailingOpen {
		t.Errorf("memory: %+v", s)
	}

	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	failing := true
	b := &backend{allow: func(context.Context, ratelimit.Key, ratelimit.Rule) (ratelimit.Decision, error) {
		if failing {
			return ratelimit.Decision{}, errors.New("redis: connection refused")
		}
		return ratelimit.Decision{Allowed: true}, nil
	}}
	for _, tc := range []struct {
		failure ratelimit.Failure
		open    bool
	}{{ratelimit.FailOpen, true}, {ratelimit.FailLocal, false}} {
		failing = true
		l := ratelimit.New(policy, ratelimit.Options{Backend: b, Shared: true, Failure: tc.failure, Now: func() time.Time { return now }})
		if s := l.RateLimitStatus(); s.Store != domain.RateLimitStoreRedis || s.FailingOpen {
			t.Errorf("%s, before any request: %+v", tc.failure, s)
		}
		l.Allow(context.Background(), ratelimit.Read, ratelimit.IP, "192.0.2.1")
		if s := l.RateLimitStatus(); s.Store != domain.RateLimitStoreRedis || s.FailingOpen != tc.open {
			t.Errorf("%s, Redis failing: %+v, want failing_open %v", tc.failure, s, tc.open)
		}
		now = now.Add(time.Hour) // past the pause: the next request asks Redis again
		failing = false
		l.Allow(context.Background(), ratelimit.Read, ratelimit.IP, "192.0.2.1")
		if s := l.RateLimitStatus(); s.FailingOpen {
			t.Errorf("%s, Redis back: %+v", tc.failure, s)
		}
	}
}
