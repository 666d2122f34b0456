package main

import (
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/wechat"
)

func TestLoadConfigWeChatResilienceDefaultsAreTheAdaptersDefaults(t *testing.T) {
	cfg, err := LoadConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	got, want := cfg.WeChatResilience(nil, nil), wechat.DefaultResilience()
	if got.Breaker != want.Breaker || got.Retry != want.Retry {
		t.Errorf("from the environment's defaults\n  %+v %+v\nwant wechat.DefaultResilience\n  %+v %+v", got.Breaker, got.Retry, want.Breaker, want.Retry)
	}
}

func TestLoadConfigReadsWeChatResilienceSettings(t *testing.T) {
	cfg, err := LoadConfig([]string{"MINIBACK_WECHAT_RETRIES=1", "MINIBACK_WECHAT_RETRY_BACKOFF=50ms", "MINIBACK_WECHAT_RETRY_MAX_BACKOFF=200ms",
		"MINIBACK_WECHAT_RETRY_BUDGET=0.2", "MINIBACK_WECHAT_RETRY_BUDGET_MIN=0", "MINIBACK_WECHAT_BREAKER_FAILURES=0",
		"MINIBACK_WECHAT_BREAKER_RATIO=0.25", "MINIBACK_WECHAT_BREAKER_MIN_CALLS=50", "MINIBACK_WECHAT_BREAKER_WINDOW=2m",
		"MINIBACK_WECHAT_BREAKER_OPEN=1m", "MINIBACK_WECHAT_BREAKER_PROBES=3"})
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.WeChatResilience(nil, nil)
	if r.Retry.Retries != 1 || r.Retry.Backoff != 50*time.Millisecond || r.Retry.MaxBackoff != 200*time.Millisecond ||
		r.Retry.BudgetRatio != 0.2 || r.Retry.BudgetMin != 0 {
		t.Errorf("retry %+v", r.Retry)
	}
	if r.Breaker != (wechat.BreakerSettings{ConsecutiveFailures: 0, FailureRatio: 0.25, MinCalls: 50, Window: 2 * time.Minute,
		OpenFor: time.Minute, Probes: 3}) {
		t.Errorf("breaker %+v", r.Breaker)
	}
	off, err := LoadConfig([]string{"MINIBACK_WECHAT_BREAKER=false", "MINIBACK_WECHAT_RETRIES=0"})
	if err != nil {
		t.Fatal(err)
	}
	if r := off.WeChatResilience(nil, nil); r.Breaker.Enabled() || r.Retry.Retries != 0 {
		t.Errorf("switched off: %+v", r)
	}
}

func TestLoadConfigRefusesBadWeChatResilienceNamingTheVariable(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want string
	}{
		{"MINIBACK_WECHAT_RETRIES=9", "MINIBACK_WECHAT_RETRIES must be between 0 (no retry) and 5"},
		{"MINIBACK_WECHAT_RETRIES=-1", "MINIBACK_WECHAT_RETRIES"},
		{"MINIBACK_WECHAT_RETRY_BACKOFF=0s", "MINIBACK_WECHAT_RETRY_BACKOFF must be between 1ms and 10s"},
		{"MINIBACK_WECHAT_RETRY_MAX_BACKOFF=10ms", "MINIBACK_WECHAT_RETRY_MAX_BACKOFF (10ms) must be at least MINIBACK_WECHAT_RETRY_BACKOFF (100ms)"},
		{"MINIBACK_WECHAT_RETRY_BUDGET=2", "MINIBACK_WECHAT_RETRY_BUDGET must be between 0 and 1"},
		{"MINIBACK_WECHAT_RETRY_BUDGET_MIN=-3", "MINIBACK_WECHAT_RETRY_BUDGET_MIN"},
		{"MINIBACK_WECHAT_BREAKER=maybe", "MINIBACK_WECHAT_BREAKER"},
		{"MINIBACK_WECHAT_BREAKER_RATIO=1.5", "MINIBACK_WECHAT_BREAKER_RATIO must be between 0 (this trigger off) and 1"},
		{"MINIBACK_WECHAT_BREAKER_FAILURES=-1", "MINIBACK_WECHAT_BREAKER_FAILURES"},
		{"MINIBACK_WECHAT_BREAKER_MIN_CALLS=0", "MINIBACK_WECHAT_BREAKER_MIN_CALLS must be between 1 and 100000"},
		{"MINIBACK_WECHAT_BREAKER_WINDOW=1s", "MINIBACK_WECHAT_BREAKER_WINDOW must be between 10s and 1h"},
		{"MINIBACK_WECHAT_BREAKER_OPEN=100ms", "MINIBACK_WECHAT_BREAKER_OPEN must be between 1s and 10m"},
		{"MINIBACK_WECHAT_BREAKER_OPEN=soon", "MINIBACK_WECHAT_BREAKER_OPEN"},
		{"MINIBACK_WECHAT_BREAKER_PROBES=0", "MINIBACK_WECHAT_BREAKER_PROBES must be between 1 and 100"},
	} {
		t.Run(tc.env, func(t *testing.T) {
			_, err := LoadConfig([]string{tc.env})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	for _, env := range [][]string{
		{"MINIBACK_WECHAT_BREAKER_FAILURES=0", "MINIBACK_WECHAT_BREAKER_RATIO=0"},
		{"MINIBACK_WECHAT_RETRY_BUDGET=0", "MINIBACK_WECHAT_RETRY_BUDGET_MIN=0"},
	} {
		_, err := LoadConfig(env)
		if err == nil || !strings.Contains(err.Error(), "instead") {
			t.Errorf("%v: error %v, want the advice to switch it off instead", env, err)
		}
	}
	// Switched off, the breaker's other settings are not checked.
	if _, err := LoadConfig([]string{"MINIBACK_WECHAT_BREAKER=false", "MINIBACK_WECHAT_BREAKER_OPEN=0s"}); err != nil {
		t.Errorf("breaker off: %v", err)
	}
}
