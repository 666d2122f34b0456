package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// revocationChannel is the NOTIFY channel the revocations table's trigger
// signals on each insert (see migrations/00002_sessions.sql).
const revocationChannel = "miniback_revocations"

// ListenRevocations calls wake whenever a revocation commits on any
// instance, until ctx ends. It holds one connection of its own (taken out
// of the pool); if that connection breaks it reconnects with backoff,
// reporting each failure to onError (which may be nil), and calls wake
// after each (re)connect, since notifications sent meanwhile are lost.
// Polling stays the guarantee; this only shortens the wait.
func (db *DB) ListenRevocations(ctx context.Context, wake func(), onError func(error)) {
	backoff := 500 * time.Millisecond
	for ctx.Err() == nil {
		started := time.Now()
		err := db.listenOnce(ctx, wake)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > time.Minute {
			backoff = 500 * time.Millisecond // it had been working
		}
		if onError != nil {
			onError(fmt.Errorf("listen for revocations (retrying in %s): %w", backoff, err))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// listenOnce listens on one connection until it fails or ctx ends.
func (db *DB) listenOnce(ctx context.Context, wake func()) error {
	pooled, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	conn := pooled.Hijack() // ours alone; closed below, never returned to the pool
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{revocationChannel}.Sanitize()); err != nil {
		return fmt.Errorf("LISTEN: %w", err)
	}
	wake()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		wake()
	}
}
