// Package postgres is miniback's PostgreSQL adapter: the connection pool,
// the schema migrations and the stores that implement the ports.
package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// DB is a pool of connections to one PostgreSQL database.
type DB struct {
	pool *pgxpool.Pool
}

// Open connects to the database at url (a postgres:// URL or a key=value
// connection string) and pings it, so a bad URL or an unreachable server
// fails here rather than on the first request.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx redacts the password in its parse errors.
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create connection pool: %w", err)
	}
	db := &DB{pool: pool}
	if err := db.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
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
// Close closes the pool.
func FromPool(pool *pgxpool.Pool) *DB { return &DB{pool: pool} }
