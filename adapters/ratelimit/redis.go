package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// DefaultRedisTimeout bounds one call to Redis when the options say
// nothing: a budget check must cost a request little even when Redis is
// slow, and past it the failure policy decides.
const DefaultRedisTimeout = 100 * time.Millisecond

// DefaultRedisPrefix starts the name of every key miniback writes to Redis
// (after redis_rate's own "rate:").
const DefaultRedisPrefix = "miniback:"

// RedisOptions configure a Redis backend.
type RedisOptions struct {
	// Prefix starts every key; empty means DefaultRedisPrefix. Deployments
	// sharing one Redis keep their budgets apart with their own prefix.
	Prefix string
	// Timeout bounds each call; zero means DefaultRedisTimeout.
	Timeout time.Duration
}

// Redis keeps budgets in Redis, with redis_rate's GCRA script: every
// replica pointed at the same Redis draws on the same budget, and Redis's
// own clock (TIME) is the only one that counts, so replicas' clocks need
// not agree.
type Redis struct {
	limiter *redis_rate.Limiter
	prefix  string
	timeout time.Duration
}

var _ Backend = (*Redis)(nil)

// NewRedis returns a backend on client (from OpenRedis, or a test's).
func NewRedis(client *redis.Client, o RedisOptions) *Redis {
	if o.Prefix == "" {
		o.Prefix = DefaultRedisPrefix
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultRedisTimeout
	}
	return &Redis{limiter: redis_rate.NewLimiter(client), prefix: o.Prefix, timeout: o.Timeout}
}

// Allow counts one request against k's budget under r, in one round trip.
func (b *Redis) Allow(ctx context.Context, k Key, r Rule) (Decision, error) {
	if r.Off() {
		return Decision{Allowed: true}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	res, err := b.limiter.Allow(ctx, b.prefix+k.String(), redis_rate.Limit{Rate: r.Count, Burst: r.Count, Period: r.Period})
	if err != nil {
		return Decision{}, fmt.Errorf("redis rate limit %s: %w", k.Group, err)
	}
	d := Decision{Allowed: res.Allowed > 0, Remaining: res.Remaining}
	if !d.Allowed {
		d.RetryAfter = res.RetryAfter
	}
	return d, nil
}

// OpenRedis returns a client for rawURL (redis://[user:password@]host:port/db,
// or rediss:// for TLS) whose calls give up at their context's deadline
// and are never retried: a budget check that fails is the failure policy's
// to answer, at once, not a reason to hold the request. It does not
// connect. Its error never repeats the URL, which may hold a password.
func OpenRedis(rawURL string, timeout time.Duration) (*redis.Client, error) {
	opts, err := ParseRedisURL(rawURL)
	if err != nil {
		return nil, err
	}
	if timeout <= 0 {
		timeout = DefaultRedisTimeout
	}
	opts.ContextTimeoutEnabled = true
	opts.MaxRetries = -1
	opts.DialTimeout = max(timeout, time.Second)
	opts.ReadTimeout, opts.WriteTimeout = timeout, timeout
	opts.PoolTimeout = timeout
	opts.DialerRetries = 1
	// Built-in client-side identification calls (CLIENT SETINFO) fail on
	// older servers and proxies; they add nothing here.
	opts.DisableIdentity = true
	quietRedis.Do(func() { redis.SetLogger(discardLogs{}) })
	return redis.NewClient(opts), nil
}

// quietRedis silences go-redis's own logger, a process-wide one that
// prints every failed dial to stderr as plain text: the Limiter logs
// backend failures itself, as JSON, and rate-limited.
var quietRedis sync.Once

type discardLogs struct{}

func (discardLogs) Printf(context.Context, string, ...any) {}

// ParseRedisURL checks a MINIBACK_REDIS_URL. Its error names what is
// wrong without repeating the URL.
func ParseRedisURL(rawURL string) (*redis.Options, error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, errors.New(`not a Redis URL like redis://[:password@]host:6379/0 or rediss://host:6380/0`)
	}
	return opts, nil
}
