package ports

import (
	"context"

	"github.com/miniback/miniback/domain"
)

// The health page's sources: each adapter tells what it knows of itself.
// None of them may block for long or hand out a secret.

// Readiness is the check /readyz answers with: nil when the server can
// serve (the database answers, no shutdown under way).
type Readiness interface {
	Ready(ctx context.Context) error
}

// ReadinessFunc is a function used as a Readiness.
type ReadinessFunc func(ctx context.Context) error

// Ready calls f.
func (f ReadinessFunc) Ready(ctx context.Context) error { return f(ctx) }

// DatabaseStatus is the database: a ping, and its connection pool.
type DatabaseStatus interface {
	Ping(ctx context.Context) error
	PoolStats() domain.PoolStats
}

// WeChatStatus is what this server's WeChat client saw of one
// mini-program: the circuit breaker of each API it called, and the last
// errcode WeChat answered.
type WeChatStatus interface {
	WeChatBreakers(app domain.AppID) []domain.WeChatBreaker
	WeChatLastErrcode(app domain.AppID) (domain.WeChatErrcodeAt, bool)
}

// WeChatTokenReader reads the shared access token state of a mini-program
// (WeChatTokenStore's read).
type WeChatTokenReader interface {
	WeChatToken(ctx context.Context, app domain.AppID) (domain.WeChatTokenState, error)
}

// RuntimeStats are the process's numbers: goroutines, heap, requests in
// flight.
type RuntimeStats interface {
	RuntimeStats() domain.RuntimeStats
}

// RateLimitStatus says where the request budgets are counted.
type RateLimitStatus interface {
	RateLimitStatus() domain.RateLimitStatus
}

// JobCounter counts the job queue's jobs by state.
type JobCounter interface {
	CountJobs(ctx context.Context) (map[string]int, error)
}
