// Package postgres is miniback's PostgreSQL adapter: the connection pool,
// the schema migrations and the stores that implement the ports.
package postgres

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DB is a pool of connections to one PostgreSQL database.
type DB struct {
	pool *pgxpool.Pool
	// timeout bounds each store operation (bound.go); zero: none.
	timeout time.Duration
}

// Options tune the connection pool. Every time bound is off at zero, so a
// caller that sets none (a test, a tool) waits as long as its context
// says; miniback's configuration sets them all.
type Options struct {
	// MaxConns caps the pool's connections unless the URL sets
	// pool_max_conns, which wins; zero means DefaultMaxConns.
	MaxConns int32
	// ConnectTimeout bounds opening one connection: TCP, TLS, the startup
	// message and authentication. A server that accepts the TCP
	// connection but never answers (frozen, overloaded) fails the attempt
	// after it. A URL's connect_timeout wins.
	ConnectTimeout time.Duration
	// QueryTimeout bounds each operation of a store: waiting for a pooled
	// connection and running one statement, or a whole transaction from
	// BEGIN to COMMIT. It is enforced by the client (bound.go), so it
	// holds when the server cannot enforce anything.
	QueryTimeout time.Duration
	// StatementTimeout, LockTimeout and IdleInTransactionTimeout are set
	// on every connection of the pool as the server settings
	// statement_timeout, lock_timeout and
	// idle_in_transaction_session_timeout: the server then ends a
	// statement (SQLSTATE 57014), a lock wait (55P03) or a session idle in
	// a transaction (25P03, which closes it) whose client has stopped
	// waiting or forgot it, and frees what it holds. A URL that sets one
	// (as a parameter, or in options=-c...) wins.
	StatementTimeout         time.Duration
	LockTimeout              time.Duration
	IdleInTransactionTimeout time.Duration
}

// DefaultMaxConns is the pool size when neither Options nor the URL set
// one: max(16, 4 × GOMAXPROCS). pgxpool's own default, max(4, NumCPU),
// leaves a small machine 4 connections: a write waiting on its commit's
// flush holds one of them while the CPU idles. On 2 shared cores
// (bench/load, three passes) POST /v1/todos served 1.1–1.9k req/s with 4
// connections and 1.7–4.0k with 8, 16 or 32, which the noise did not tell
// apart; 16 leaves a few replicas within PostgreSQL's default
// max_connections of 100.
func DefaultMaxConns() int32 {
	return int32(max(16, 4*runtime.GOMAXPROCS(0)))
}

// Open connects to the database at url (a postgres:// URL or a key=value
// connection string) with the default pool size, and pings it; see
// OpenWith.
func Open(ctx context.Context, url string) (*DB, error) {
	return OpenWith(ctx, url, Options{})
}

// OpenWith connects to the database at url (a postgres:// URL or a
// key=value connection string) with the pool opts describe, and pings it,
// so a bad URL or an unreachable server fails here rather than on the
// first request.
func OpenWith(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx redacts the password in its parse errors.
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if opts.MaxConns < 0 {
		return nil, fmt.Errorf("pool size %d: must not be negative", opts.MaxConns)
	}
	if !setsMaxConns(url) {
		cfg.MaxConns = opts.MaxConns
		if cfg.MaxConns == 0 {
			cfg.MaxConns = DefaultMaxConns()
		}
	}
	if opts.ConnectTimeout > 0 && !strings.Contains(url, "connect_timeout") {
		cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	}
	setRuntimeParams(cfg.ConnConfig.RuntimeParams, opts)
	cfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		RegisterTypes(conn.TypeMap())
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create connection pool: %w", err)
	}
	db := &DB{pool: pool, timeout: opts.QueryTimeout}
	if err := db.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// setRuntimeParams adds the server settings of opts to params (sent in
// each connection's startup message), leaving alone any the connection
// string sets: as a parameter pgx puts it in params, in options=-c... it
// stays in params["options"].
func setRuntimeParams(params map[string]string, opts Options) {
	for _, s := range []struct {
		name string
		d    time.Duration
	}{
		{"statement_timeout", opts.StatementTimeout},
		{"lock_timeout", opts.LockTimeout},
		{"idle_in_transaction_session_timeout", opts.IdleInTransactionTimeout},
	} {
		if s.d <= 0 {
			continue
		}
		if _, set := params[s.name]; set || strings.Contains(params["options"], s.name) {
			continue
		}
		params[s.name] = strconv.FormatInt(max(s.d.Milliseconds(), 1), 10) // milliseconds, the settings' unit
	}
}

// setsMaxConns reports whether a connection string names pool_max_conns
// (a URL's query parameter or a key=value setting). pgxpool.ParseConfig
// consumes the setting without saying whether it was there, and its value
// may equal the default.
func setsMaxConns(url string) bool {
	return strings.Contains(url, "pool_max_conns")
}

// Pool returns the underlying pgx pool, for code that needs pgx directly.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Ping checks that a connection can be acquired and the server answers. An
// unreachable database is reported as a *domain.Error with CodeUnavailable,
// which suits a readiness probe.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return interpretError(fmt.Errorf("ping database: %w", err))
	}
	return nil
}

// Close closes every connection of the pool, waiting for acquired ones to
// be released.
func (db *DB) Close() { db.pool.Close() }

// FromPool wraps a pool the caller configured (a tracer, other limits).
// Close closes the pool. Its AfterConnect may call RegisterTypes, as
// OpenWith's does, to spare allocations.
func FromPool(pool *pgxpool.Pool) *DB { return &DB{pool: pool} }
