package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/miniback/miniback/adapters/postgres/internal/sqlcgen"
)

// bounded runs the statements of a store under a time bound: each call
// through the pool gets timeout, and each statement of a transaction the
// transaction's deadline. The server's statement_timeout cannot stand in
// for it: a frozen or unreachable server enforces nothing, and a request
// would wait on the socket until its own deadline. When the bound passes,
// pgx gives up on the connection: the call returns at once, and in the
// background pgx sends the server a cancel request and closes the
// connection (the pool's slot is free once that is done: at once on a
// live server, when it answers again or after 15 s on a frozen one).
type bounded struct {
	db sqlcgen.DBTX
	// timeout bounds each call when deadline is zero; zero bounds
	// nothing beyond the caller's context.
	timeout time.Duration
	// deadline ends every call of a transaction.
	deadline time.Time
}

var _ sqlcgen.DBTX = bounded{}

// bound returns ctx limited by b, unless ctx already ends sooner (a
// request near its own deadline), which spares a timer.
func (b bounded) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	d := b.deadline
	if d.IsZero() {
		if b.timeout <= 0 {
			return ctx, func() {}
		}
		d = time.Now().Add(b.timeout)
	}
	if cur, ok := ctx.Deadline(); ok && !cur.After(d) {
		return ctx, func() {}
	}
	return context.WithDeadline(ctx, d)
}

func (b bounded) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	ctx, cancel := b.bound(ctx)
	defer cancel()
	return b.db.Exec(ctx, sql, args...)
}

// Query keeps the bound until the rows are closed: they are read after
// it returns.
func (b bounded) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	ctx, cancel := b.bound(ctx)
	rows, err := b.db.Query(ctx, sql, args...)
	if err != nil {
		cancel()
		return nil, err
	}
	return &boundedRows{Rows: rows, cancel: cancel}, nil
}

// QueryRow keeps the bound until the row is scanned.
func (b bounded) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	ctx, cancel := b.bound(ctx)
	return boundedRow{row: b.db.QueryRow(ctx, sql, args...), cancel: cancel}
}

// boundedRows ends its bound when closed (sqlc's generated code and
// TodoStore.run always close them).
type boundedRows struct {
	pgx.Rows
	cancel context.CancelFunc
}

func (r *boundedRows) Close() {
	r.Rows.Close()
	r.cancel()
}

type boundedRow struct {
	row    pgx.Row
	cancel context.CancelFunc
}

func (r boundedRow) Scan(dest ...any) error {
	defer r.cancel()
	return r.row.Scan(dest...)
}

// queries returns the store queries through the pool, each bounded by the
// DB's query timeout.
func (db *DB) queries() *sqlcgen.Queries {
	return sqlcgen.New(db.q())
}

// q is the pool, each call bounded by the DB's query timeout.
func (db *DB) q() bounded {
	return bounded{db: db.pool, timeout: db.timeout}
}

// boundTx returns ctx bounded for a whole transaction, and the bound that
// holds each of its statements to the same deadline (the statements are
// run with the store method's context, not the transaction's).
func (db *DB) boundTx(ctx context.Context) (context.Context, context.CancelFunc, func(pgx.Tx) bounded) {
	b := db.q()
	ctx, cancel := b.bound(ctx)
	deadline, _ := ctx.Deadline()
	return ctx, cancel, func(tx pgx.Tx) bounded {
		return bounded{db: tx, deadline: deadline}
	}
}
