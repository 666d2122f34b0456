package main

import (
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/ratelimit"
)

func TestLoadConfigRateLimitDefaults(t *testing.T) {
	cfg, err := LoadConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := cfg.RatePolicy()
	if err != nil {
		t.Fatal(err)
	}
	if p != ratelimit.DefaultPolicy() || cfg.RedisURL != "" || cfg.RateLimitRedisTimeout != 100*time.Millisecond ||
		cfg.RateLimitRedisFailure != "open" || cfg.RateLimitMaxKeys != 100_000 {
		t.Errorf("defaults: limits %s, redis %q, timeout %s, failure %q, max keys %d", p, cfg.RedisURL,
			cfg.RateLimitRedisTimeout, cfg.RateLimitRedisFailure, cfg.RateLimitMaxKeys)
	}
}

func TestLoadConfigReadsRateLimitSettings(t *testing.T) {
	for _, tc := range []struct {
		name  string
		env   []string
		check func(cfg Config, p ratelimit.Policy) bool
	}{
		{"a group's budgets over the defaults", []string{"MINIBACK_RATE_LIMITS=signup:ip=20/h;write:user=300/m"}, func(_ Config, p ratelimit.Policy) bool {
			return p.Rule(ratelimit.Signup, ratelimit.IP) == ratelimit.Rule{Count: 20, Period: time.Hour} &&
				p.Rule(ratelimit.Write, ratelimit.User).Count == 300 &&
				p.Rule(ratelimit.Read, ratelimit.User) == ratelimit.DefaultPolicy().Rule(ratelimit.Read, ratelimit.User)
		}},
		{"off", []string{"MINIBACK_RATE_LIMITS=off"}, func(_ Config, p ratelimit.Policy) bool { return p.Off() }},
		{"the WeChat login's per-AppID budget", []string{"MINIBACK_RATE_LIMITS=auth:app=300/m"}, func(_ Config, p ratelimit.Policy) bool {
			return p.Rule(ratelimit.Auth, ratelimit.App) == ratelimit.Rule{Count: 300, Period: time.Minute} &&
				p.Rule(ratelimit.Auth, ratelimit.IP) == ratelimit.DefaultPolicy().Rule(ratelimit.Auth, ratelimit.IP)
		}},
		{"the WeChat login's per-AppID budget off", []string{"MINIBACK_RATE_LIMITS=auth:ip=30/m,app=off"}, func(_ Config, p ratelimit.Policy) bool {
			return p.Rule(ratelimit.Auth, ratelimit.App).Off() && p.Rule(ratelimit.Auth, ratelimit.IP).Count == 30
		}},
		{"Redis with its timeout and failure policy", []string{"MINIBACK_REDIS_URL=redis://:pw@redis.internal:6379/2",
			"MINIBACK_RATE_LIMIT_REDIS_TIMEOUT=50ms", "MINIBACK_RATE_LIMIT_REDIS_FAILURE=local", "MINIBACK_RATE_LIMIT_MAX_KEYS=5000"},
			func(cfg Config, _ ratelimit.Policy) bool {
				return cfg.RedisURL != "" && cfg.RateLimitRedisTimeout == 50*time.Millisecond && cfg.RateLimitRedisFailure == "local" &&
					cfg.RateLimitMaxKeys == 5000
			}},
		{"TLS Redis", []string{"MINIBACK_REDIS_URL=rediss://default:pw@redis.example.com:6380/0"}, func(cfg Config, _ ratelimit.Policy) bool {
			return cfg.RedisURL != ""
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := LoadConfig(tc.env)
			if err != nil {
				t.Fatal(err)
			}
			p, err := cfg.RatePolicy()
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(cfg, p) {
				t.Errorf("%v: limits %s, cfg %+v", tc.env, p, cfg)
			}
		})
	}
}

func TestLoadConfigRefusesBadRateLimitSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		want []string
	}{
		{"unknown group", []string{"MINIBACK_RATE_LIMITS=login:ip=5/m"}, []string{`MINIBACK_RATE_LIMITS: unknown group "login"`}},
		{"user scope without tokens", []string{"MINIBACK_RATE_LIMITS=auth:user=5/m"}, []string{"MINIBACK_RATE_LIMITS: auth: scope user needs an access token"}},
		{"app scope without an AppID", []string{"MINIBACK_RATE_LIMITS=signup:app=5/m"}, []string{"MINIBACK_RATE_LIMITS: signup: scope app needs an AppID"}},
		{"every mistake on its own line", []string{"MINIBACK_RATE_LIMITS=read:ip=0/m;write:ip=5/fortnight"},
			[]string{"MINIBACK_RATE_LIMITS: read:ip", "\n  MINIBACK_RATE_LIMITS: write:ip"}},
		{"not a Redis URL", []string{"MINIBACK_REDIS_URL=http://:hunter2@redis:6379"}, []string{"MINIBACK_REDIS_URL: not a Redis URL"}},
		{"timeout too short", []string{"MINIBACK_RATE_LIMIT_REDIS_TIMEOUT=1ms"}, []string{"MINIBACK_RATE_LIMIT_REDIS_TIMEOUT must be between 5ms and 5s"}},
		{"timeout too long", []string{"MINIBACK_RATE_LIMIT_REDIS_TIMEOUT=30s"}, []string{"MINIBACK_RATE_LIMIT_REDIS_TIMEOUT"}},
		{"failure policy closed", []string{"MINIBACK_RATE_LIMIT_REDIS_FAILURE=closed"}, []string{`MINIBACK_RATE_LIMIT_REDIS_FAILURE must be open or local, not "closed"`}},
		{"too few keys", []string{"MINIBACK_RATE_LIMIT_MAX_KEYS=10"}, []string{"MINIBACK_RATE_LIMIT_MAX_KEYS must be between 1000"}},
		{"keys not a number", []string{"MINIBACK_RATE_LIMIT_MAX_KEYS=lots"}, []string{"MINIBACK_RATE_LIMIT_MAX_KEYS"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(tc.env)
			if err == nil {
				t.Fatalf("%v was accepted", tc.env)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error repeats the Redis password: %v", err)
			}
		})
	}
}
