package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/miniback/miniback/adapters/metrics"
	"github.com/miniback/miniback/adapters/ratelimit"
)

// The metrics count what the rate limiter reports.
var _ ratelimit.Observer = metrics.RateLimits{}

// RatePolicy is the rate limit policy: the defaults with
// MINIBACK_RATE_LIMITS over them.
func (c Config) RatePolicy() (ratelimit.Policy, error) {
	p, err := ratelimit.ParsePolicy(c.RateLimits)
	if err != nil {
		return ratelimit.Policy{}, fmt.Errorf("MINIBACK_RATE_LIMITS: %w", err)
	}
	return p, nil
}

// validateRateLimits checks the rate limit settings. Each mistake of
// MINIBACK_RATE_LIMITS is its own line.
func (c Config) validateRateLimits() []error {
	var errs []error
	if _, err := ratelimit.ParsePolicy(c.RateLimits); err != nil {
		for line := range strings.SplitSeq(err.Error(), "\n") {
			errs = append(errs, fmt.Errorf("MINIBACK_RATE_LIMITS: %s", line))
		}
	}
	if c.RedisURL != "" {
		if _, err := ratelimit.ParseRedisURL(c.RedisURL); err != nil {
			errs = append(errs, fmt.Errorf("MINIBACK_REDIS_URL: %w", err))
		}
	}
	if c.RateLimitRedisTimeout < 5*time.Millisecond || c.RateLimitRedisTimeout > 5*time.Second {
		errs = append(errs, fmt.Errorf("MINIBACK_RATE_LIMIT_REDIS_TIMEOUT must be between 5ms and 5s, not %s", c.RateLimitRedisTimeout))
	}
	if _, err := ratelimit.ParseFailure(c.RateLimitRedisFailure); err != nil {
		errs = append(errs, fmt.Errorf("MINIBACK_RATE_LIMIT_REDIS_FAILURE must be open or local, not %q", c.RateLimitRedisFailure))
	}
	if c.RateLimitMaxKeys < 1000 || c.RateLimitMaxKeys > 10_000_000 {
		errs = append(errs, fmt.Errorf("MINIBACK_RATE_LIMIT_MAX_KEYS must be between 1000 and 10000000, not %d", c.RateLimitMaxKeys))
	}
	return errs
}

// rateLimiter builds the rate limiter from the configuration (validated
// by LoadConfig): in this process's memory, or in Redis when
// MINIBACK_REDIS_URL is set. It says at start-up which, and with what
// budgets. observer (nil: none) counts rejections and requests let
// through while Redis fails: the metrics' hook.
func (m *Main) rateLimiter(ctx context.Context, observer ratelimit.Observer) (*ratelimit.Limiter, error) {
	policy, _ := m.Config.RatePolicy()
	failure, _ := ratelimit.ParseFailure(m.Config.RateLimitRedisFailure)
	opts := ratelimit.Options{Failure: failure, MaxKeys: m.Config.RateLimitMaxKeys, Observer: observer, Logger: m.Logger}
	if policy.Off() {
		m.Logger.Warn("rate limits: off (MINIBACK_RATE_LIMITS=off)")
		return ratelimit.New(policy, opts), nil
	}
	if m.Config.RedisURL == "" {
		m.Logger.Info("rate limits: in this process's memory; with several replicas each one allows the whole budget, "+
			"so set MINIBACK_REDIS_URL to share it", "limits", policy.String(), "max_keys", m.Config.RateLimitMaxKeys)
		return ratelimit.New(policy, opts), nil
	}
	client, err := ratelimit.OpenRedis(m.Config.RedisURL, m.Config.RateLimitRedisTimeout)
	if err != nil {
		return nil, fmt.Errorf("MINIBACK_REDIS_URL: %w", err)
	}
	m.redis = client
	opts.Backend = ratelimit.NewRedis(client, ratelimit.RedisOptions{Timeout: m.Config.RateLimitRedisTimeout})
	opts.Shared = true
	addr := client.Options().Addr // no password: the URL is never logged
	m.Logger.Info("rate limits: shared by every replica through Redis", "redis", addr, "limits", policy.String(),
		"timeout", m.Config.RateLimitRedisTimeout.String(), "on_redis_failure", string(failure))
	pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := client.Ping(pingCtx).Err(); err != nil {
		// Not fatal: the failure policy answers until Redis does.
		m.Logger.Warn("rate limits: Redis did not answer at start", "redis", addr, "error", err.Error(),
			"on_redis_failure", string(failure))
	}
	return ratelimit.New(policy, opts), nil
}
