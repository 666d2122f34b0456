package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/miniback/miniback/domain"
)

// How this package reports errors:
//
//   - interpretError turns a database error into a bare domain code (no
//     row: CodeNotFound, a unique violation: CodeConflict, a lost or
//     unreachable database: CodeUnavailable) with the database error as
//     its cause, or leaves it internal.
//   - A store method then says what was not found (notFoundAs with a
//     domain constructor such as domain.ErrTodoNotFound): the words are
//     the domain's, never this package's.
//   - A method does not prefix its errors with its own name; the use-case
//     that called it does. Inside a transaction a step's error names its
//     statement ("lock todo: ..."), so that a log says which one failed.

// PostgreSQL error codes this package tells apart.
const (
	pgUniqueViolation     = "23505"
	pgFKViolation         = "23503" // a row for a user (or task) that does not exist (any more)
	pgTooManyConnections  = "53300"
	pgAdminShutdown       = "57P01"
	pgCrashShutdown       = "57P02"
	pgCannotConnectNow    = "57P03"
	pgQueryCanceled       = "57014" // statement_timeout, or a cancel request
	pgLockNotAvailable    = "55P03" // lock_timeout
	pgConnectionException = "08"    // class prefix
)

// interpretError classifies a database error as a bare *domain.Error where
// the caller can act on it: no row is CodeNotFound, a unique violation is
// CodeConflict, and a database that cannot be reached, a connection lost
// mid-use, no answer before the deadline, or a statement the server gave
// up on (statement_timeout, lock_timeout) is CodeUnavailable. Anything
// else is wrapped as it is and so stays internal. Errors already
// classified pass through unchanged.
func interpretError(err error) error {
	if err == nil {
		return nil
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &domain.Error{Code: domain.CodeNotFound, Err: err}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == pgUniqueViolation:
			return &domain.Error{Code: domain.CodeConflict, Err: err}
		case pgErr.Code == pgFKViolation && namesUser(pgErr.ConstraintName):
			// The row's user was deleted between the request's token
			// check and this write (every such key cascades or nulls on
			// delete, so only a race gets here).
			return domain.ErrAccountGone(err)
		case pgErr.Code == pgFKViolation:
			return &domain.Error{Code: domain.CodeNotFound, Err: err}
		case pgErr.Code == pgTooManyConnections, pgErr.Code == pgAdminShutdown,
			pgErr.Code == pgCrashShutdown, pgErr.Code == pgCannotConnectNow,
			strings.HasPrefix(pgErr.Code, pgConnectionException),
			pgErr.SeverityUnlocalized == "FATAL", pgErr.SeverityUnlocalized == "PANIC":
			// A FATAL error ends the session: the server closes the
			// connection after sending it.
			return &domain.Error{Code: domain.CodeUnavailable, Err: err}
		case pgErr.Code == pgQueryCanceled, pgErr.Code == pgLockNotAvailable:
			// The server gave up on the statement (statement_timeout,
			// lock_timeout): the database is too slow to serve now.
			return &domain.Error{Code: domain.CodeUnavailable, Err: err}
		}
		return fmt.Errorf("postgres: %w", err)
	}
	if connectionLost(err) {
		return &domain.Error{Code: domain.CodeUnavailable, Err: err}
	}
	return fmt.Errorf("postgres: %w", err)
}

// namesUser reports whether a foreign key constraint is one of the
// references to users (PostgreSQL names them <table>_user_id_fkey and
// uploads_owner_id_fkey).
func namesUser(constraint string) bool {
	return strings.HasSuffix(constraint, "_user_id_fkey") || strings.HasSuffix(constraint, "_owner_id_fkey")
}

// connectionLost reports whether err says the database could not be
// reached or stopped answering: no connection could be made, the
// connection broke (the server restarted or killed our backend; pgx then
// reports an unexpected EOF, a network error, or "conn closed" for the
// next use), or the deadline passed while waiting for a pooled connection
// or for the server's answer, or the caller stopped waiting (the client
// went away, or shutdown cut the request). A statement that was in flight may or may
// not have committed; the caller cannot tell, which is why the answer is
// "unavailable, retry" and never an internal error.
func connectionLost(err error) bool {
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || // refused, auth, no such database: no service either way
		errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		pgconn.SafeToRetry(err) || // failed before anything reached the server
		pgconn.Timeout(err) ||
		errors.As(err, &netErr) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// notFoundAs interprets err and gives a bare not-found the domain's words
// for what the caller looked for (e.g. domain.ErrTodoNotFound). Every
// other error, including a not-found already worded, passes as
// interpretError leaves it.
func notFoundAs(err error, what func(cause error) *domain.Error) error {
	err = interpretError(err)
	var de *domain.Error
	if errors.As(err, &de) && de.Code == domain.CodeNotFound && de.Message == "" {
		return what(de.Err)
	}
	return err
}

// isViolation reports whether err is a PostgreSQL error with the given
// code and, when constraint is not empty, on that constraint.
func isViolation(err error, code, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code && (constraint == "" || pgErr.ConstraintName == constraint)
}
