package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/miniback/miniback/adapters/wechat"
	"github.com/miniback/miniback/domain"
)

// The breakers and retries around WeChat: MINIBACK_WECHAT_RETRY* and
// MINIBACK_WECHAT_BREAKER*.

// validateWeChatResilience checks the ranges, naming the variable; a
// combination wechat.Resilience.Validate refuses is reported too.
func (c Config) validateWeChatResilience() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.WeChatRetries < 0 || c.WeChatRetries > 5 {
		bad("MINIBACK_WECHAT_RETRIES must be between 0 (no retry) and 5, not %d", c.WeChatRetries)
	}
	if c.WeChatRetryBackoff < time.Millisecond || c.WeChatRetryBackoff > 10*time.Second {
		bad("MINIBACK_WECHAT_RETRY_BACKOFF must be between 1ms and 10s, not %s", c.WeChatRetryBackoff)
	}
	if c.WeChatRetryMaxBackoff < c.WeChatRetryBackoff || c.WeChatRetryMaxBackoff > 30*time.Second {
		bad("MINIBACK_WECHAT_RETRY_MAX_BACKOFF (%s) must be at least MINIBACK_WECHAT_RETRY_BACKOFF (%s) and at most 30s",
			c.WeChatRetryMaxBackoff, c.WeChatRetryBackoff)
	}
	if c.WeChatRetryBudget < 0 || c.WeChatRetryBudget > 1 {
		bad("MINIBACK_WECHAT_RETRY_BUDGET must be between 0 and 1 (retries per call over 10 s), not %g", c.WeChatRetryBudget)
	}
	if c.WeChatRetryBudgetMin < 0 || c.WeChatRetryBudgetMin > 1000 {
		bad("MINIBACK_WECHAT_RETRY_BUDGET_MIN must be between 0 and 1000, not %d", c.WeChatRetryBudgetMin)
	}
	if c.WeChatRetries > 0 && c.WeChatRetryBudget == 0 && c.WeChatRetryBudgetMin == 0 {
		bad("MINIBACK_WECHAT_RETRY_BUDGET and MINIBACK_WECHAT_RETRY_BUDGET_MIN are both 0, which allows no retry: set MINIBACK_WECHAT_RETRIES=0 instead")
	}
	if c.WeChatBreaker {
		if c.WeChatBreakerFailures < 0 || c.WeChatBreakerFailures > 1000 {
			bad("MINIBACK_WECHAT_BREAKER_FAILURES must be between 0 (this trigger off) and 1000, not %d", c.WeChatBreakerFailures)
		}
		if c.WeChatBreakerRatio < 0 || c.WeChatBreakerRatio > 1 {
			bad("MINIBACK_WECHAT_BREAKER_RATIO must be between 0 (this trigger off) and 1, not %g", c.WeChatBreakerRatio)
		}
		if c.WeChatBreakerFailures == 0 && c.WeChatBreakerRatio == 0 {
			bad("MINIBACK_WECHAT_BREAKER_FAILURES and MINIBACK_WECHAT_BREAKER_RATIO are both 0, so the breaker never opens: set MINIBACK_WECHAT_BREAKER=false instead")
		}
		if c.WeChatBreakerMinCalls < 1 || c.WeChatBreakerMinCalls > 100_000 {
			bad("MINIBACK_WECHAT_BREAKER_MIN_CALLS must be between 1 and 100000, not %d", c.WeChatBreakerMinCalls)
		}
		if c.WeChatBreakerWindow < 10*time.Second || c.WeChatBreakerWindow > time.Hour {
			bad("MINIBACK_WECHAT_BREAKER_WINDOW must be between 10s and 1h, not %s", c.WeChatBreakerWindow)
		}
		if c.WeChatBreakerOpen < time.Second || c.WeChatBreakerOpen > 10*time.Minute {
			bad("MINIBACK_WECHAT_BREAKER_OPEN must be between 1s and 10m, not %s", c.WeChatBreakerOpen)
		}
		if c.WeChatBreakerProbes < 1 || c.WeChatBreakerProbes > 100 {
			bad("MINIBACK_WECHAT_BREAKER_PROBES must be between 1 and 100, not %d", c.WeChatBreakerProbes)
		}
	}
	if len(errs) == 0 {
		if err := c.WeChatResilience(nil, nil).Validate(); err != nil {
			bad("MINIBACK_WECHAT_RETRY*/MINIBACK_WECHAT_BREAKER*: %v", err)
		}
	}
	return errs
}

// WeChatResilience is the breakers and retries the configuration asks
// for (validated by LoadConfig). log gets the breakers' state changes;
// onChange (nil: none) is told of them too, for the metrics.
func (c Config) WeChatResilience(log *slog.Logger, onChange func(app domain.AppID, api, from, to string)) wechat.Resilience {
	r := wechat.DefaultResilience()
	r.Log, r.OnBreakerChange = log, onChange
	r.Retry.Retries, r.Retry.Backoff, r.Retry.MaxBackoff = c.WeChatRetries, c.WeChatRetryBackoff, c.WeChatRetryMaxBackoff
	r.Retry.BudgetRatio, r.Retry.BudgetMin = c.WeChatRetryBudget, c.WeChatRetryBudgetMin
	r.Breaker = wechat.BreakerSettings{}
	if c.WeChatBreaker {
		r.Breaker = wechat.BreakerSettings{
			ConsecutiveFailures: c.WeChatBreakerFailures, FailureRatio: c.WeChatBreakerRatio,
			MinCalls: c.WeChatBreakerMinCalls, Window: c.WeChatBreakerWindow,
			OpenFor: c.WeChatBreakerOpen, Probes: c.WeChatBreakerProbes,
		}
	}
	return r
}

// logWeChatResilience says at start what guards the calls to WeChat.
func (m *Main) logWeChatResilience() {
	c := m.Config
	if c.WeChatRetries > 0 {
		m.Logger.Info("wechat: retrying failures that cannot act twice (-1, 45011, HTTP 503, no connection; the idempotent APIs also a lost answer or a timeout)",
			"retries", c.WeChatRetries, "backoff", c.WeChatRetryBackoff.String(), "max_backoff", c.WeChatRetryMaxBackoff.String(),
			"budget", fmt.Sprintf("%d + %g × calls per 10s per AppID and API", c.WeChatRetryBudgetMin, c.WeChatRetryBudget))
	} else {
		m.Logger.Info("wechat: no retries (MINIBACK_WECHAT_RETRIES=0)")
	}
	if c.WeChatBreaker {
		m.Logger.Info("wechat: a circuit breaker per AppID and API answers 503 wechat_unavailable while WeChat keeps failing",
			"consecutive_failures", c.WeChatBreakerFailures, "failure_ratio", c.WeChatBreakerRatio, "min_calls", c.WeChatBreakerMinCalls,
			"window", c.WeChatBreakerWindow.String(), "open_for", c.WeChatBreakerOpen.String(), "probes", c.WeChatBreakerProbes)
	} else {
		m.Logger.Warn("wechat: circuit breakers off (MINIBACK_WECHAT_BREAKER=false): an outage of WeChat holds every request for its timeout")
	}
}
