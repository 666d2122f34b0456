package domain

import (
	"sort"
	"time"
)

// HealthReport is one server's health at a glance, for administrators:
// what /readyz says, the build, the database, each mini-program's WeChat
// state and a few numbers. It holds no secret: no token, no password, no
// connection string.
type HealthReport struct {
	Ready     bool
	Version   string
	CheckedAt time.Time
	Uptime    time.Duration
	Database  DatabaseHealth
	WeChat    []WeChatAppHealth // by AppID
	Runtime   RuntimeStats
	Limits    RateLimitStatus
	// Jobs counts the job queue's jobs by state; nil when there is no
	// queue to ask.
	Jobs map[string]int
}

// DatabaseHealth is the database as one server sees it.
type DatabaseHealth struct {
	OK   bool
	Ping time.Duration // how long the ping took, when OK
	Pool *PoolStats    // nil when the store keeps no pool
}

// PoolStats is a connection pool's state.
type PoolStats struct {
	Max, Total, Idle, Acquired int
	// Waited counts the acquisitions that had to wait for a connection
	// since the pool opened.
	Waited int64
}

// WeChatAppHealth is one mini-program's WeChat state on one server.
type WeChatAppHealth struct {
	App AppID
	// Token is the shared access token's state; nil when the deployment
	// keeps none (WeChat Cloud Hosting adds tokens itself).
	Token       *WeChatTokenHealth
	Breakers    []WeChatBreaker  // by API
	LastErrcode *WeChatErrcodeAt // nil when WeChat answered no errcode since the start
}

// WeChatTokenHealth describes an access token without its value.
type WeChatTokenHealth struct {
	Present   bool
	Fresh     bool          // Usable now
	Age       time.Duration // since it was fetched; zero when absent
	ExpiresIn time.Duration // negative once expired; zero when absent
	// Error says why the state could not be read; the other fields are
	// then zero.
	Error string
}

// TokenHealth describes s at now.
func (s WeChatTokenState) TokenHealth(now time.Time) WeChatTokenHealth {
	if s.Token == "" {
		return WeChatTokenHealth{}
	}
	h := WeChatTokenHealth{Present: true, Fresh: s.Usable(now), ExpiresIn: s.ExpiresAt.Sub(now)}
	if !s.FetchedAt.IsZero() {
		h.Age = max(0, now.Sub(s.FetchedAt))
	}
	return h
}

// Circuit breaker states, as WeChatBreaker.State says them.
const (
	BreakerClosed   = "closed"
	BreakerOpen     = "open"
	BreakerHalfOpen = "half-open"
)

// WeChatBreaker is the state of the circuit breaker of one WeChat API for
// one mini-program.
type WeChatBreaker struct {
	API   string
	State string // BreakerClosed, BreakerOpen or BreakerHalfOpen
}

// SortBreakers orders breakers by API.
func SortBreakers(bs []WeChatBreaker) {
	sort.Slice(bs, func(i, j int) bool { return bs[i].API < bs[j].API })
}

// WeChatErrcodeAt is a non-zero errcode WeChat answered, and when.
type WeChatErrcodeAt struct {
	API     string
	Errcode int
	At      time.Time
}

// RuntimeStats are the process's own numbers.
type RuntimeStats struct {
	Goroutines int
	HeapBytes  uint64
	InFlight   int // requests being served
}

// Rate limit stores, as RateLimitStatus.Store says them.
const (
	RateLimitStoreOff    = "off"
	RateLimitStoreMemory = "memory"
	RateLimitStoreRedis  = "redis"
)

// RateLimitStatus is where the request budgets are counted, and whether
// the shared store is failing so that requests pass unlimited.
type RateLimitStatus struct {
	Store       string
	FailingOpen bool
}
