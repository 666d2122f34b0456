package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/miniback/miniback/adapters/postgres/internal/sqlcgen"
)

// inTx runs fn in a transaction with queries bound to it, and commits when
// fn returns nil. An error rolls back and goes through interpret (the
// store's interpretError), except one fn marks with callerError: the error
// of a callback the store's caller passed in, which comes back unchanged.
func inTx(ctx context.Context, db *DB, interpret func(error) error, fn func(q *sqlcgen.Queries) error) error {
	return inTxWith(ctx, db, pgx.TxOptions{}, interpret, fn)
}

// inTxWith is inTx with transaction options (e.g. read only). The whole
// transaction, from waiting for a connection to the commit, is bounded by
// the DB's query timeout (bound.go).
func inTxWith(ctx context.Context, db *DB, opts pgx.TxOptions, interpret func(error) error, fn func(q *sqlcgen.Queries) error) error {
	return inTxOf(ctx, db, opts, interpret, func(_ pgx.Tx, q *sqlcgen.Queries) error { return fn(q) })
}

// inTxWithTx is inTx for work that also needs the transaction itself:
// the job queue inserts and cancels jobs in it (reminders.go).
func inTxWithTx(ctx context.Context, db *DB, interpret func(error) error, fn func(tx pgx.Tx, q *sqlcgen.Queries) error) error {
	return inTxOf(ctx, db, pgx.TxOptions{}, interpret, fn)
}

// inTxOf runs fn in one transaction with options opts, bounded like inTx.
func inTxOf(ctx context.Context, db *DB, opts pgx.TxOptions, interpret func(error) error, fn func(tx pgx.Tx, q *sqlcgen.Queries) error) error {
	ctx, cancel, statements := db.boundTx(ctx)
	defer cancel()
	err := pgx.BeginTxFunc(ctx, db.pool, opts, func(tx pgx.Tx) error { return fn(tx, sqlcgen.New(statements(tx))) })
	var ce callerError
	if errors.As(err, &ce) {
		return ce.err
	}
	return interpret(err)
}

// callerError carries an error of the caller's callback (a use-case's rule)
// out of inTx unchanged.
type callerError struct{ err error }

func (e callerError) Error() string { return e.err.Error() }
func (e callerError) Unwrap() error { return e.err }

// update is the shape of every Update method: in one transaction, lock
// reads the row (SELECT ... FOR UPDATE), fn changes what it read, and save
// writes fn's result and returns it as stored. An error from fn rolls back
// and comes back unchanged; every other error goes through interpret.
func update[T any](ctx context.Context, db *DB, interpret func(error) error,
	lock func(q *sqlcgen.Queries) (T, error),
	fn func(T) (T, error),
	save func(q *sqlcgen.Queries, current, next T) (T, error),
) (T, error) {
	var saved T
	err := inTx(ctx, db, interpret, func(q *sqlcgen.Queries) error {
		current, err := lock(q)
		if err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		next, err := fn(current)
		if err != nil {
			return callerError{err}
		}
		if saved, err = save(q, current, next); err != nil {
			return fmt.Errorf("save: %w", err)
		}
		return nil
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return saved, nil
}
