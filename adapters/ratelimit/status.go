package ratelimit

import (
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

var _ ports.RateLimitStatus = (*Limiter)(nil)

// RateLimitStatus says where the budgets are counted (off, this process's
// memory, or Redis) and whether requests currently pass unlimited because
// Redis failed and the failure policy is open. It reads what the last
// requests left: it does not call Redis.
func (l *Limiter) RateLimitStatus() domain.RateLimitStatus {
	switch {
	case l.policy.Off():
		return domain.RateLimitStatus{Store: domain.RateLimitStoreOff}
	case !l.shared:
		return domain.RateLimitStatus{Store: domain.RateLimitStoreMemory}
	}
	paused := l.pausedUntil.Load()
	failing := paused != 0 && l.since() < paused
	return domain.RateLimitStatus{Store: domain.RateLimitStoreRedis, FailingOpen: failing && l.failure == FailOpen}
}
