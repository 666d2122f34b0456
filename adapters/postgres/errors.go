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

// PostgreSQL error codes this package tells apart.
const (
	pgUniqueViolation     = "23505"
	pgTooManyConnections  = "53300"
	pgAdminShutdown       = "57P01"
	pgCrashShutdown       = "57P02"
	pgCannotConnectNow    = "57P03"
	pgConnectionException = "08" // class prefix
)

// interpretError classifies a database error as a *domain.Error where the
// caller can act on it: no row is CodeNotFound, a unique violation is
// CodeConflict, and a database that cannot be reached, a connection lost
// mid-use, or no answer before the deadline is CodeUnavailable. Anything else is wrapped as it is
// and so stays internal. Errors already classified pass through unchanged.
func interpretError(err error) error {
	if err == nil {
		return nil
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return errNotFound(err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == pgUniqueViolation:
			return &domain.Error{Code: domain.CodeConflict, Message: "The record already exists.", Err: err}
		case pgErr.Code == pgTooManyConnections, pgErr.Code == pgAdminShutdown,
			pgErr.Code == pgCrashShutdown, pgErr.Code == pgCannotConnectNow,
			strings.HasPrefix(pgErr.Code, pgConnectionException),
			pgErr.SeverityUnlocalized == "FATAL", pgErr.SeverityUnlocalized == "PANIC":
			// A FATAL error ends the session: the server closes the
			// connection after sending it.
			return errUnavailable(err)
		}
		return fmt.Errorf("postgres: %w", err)
	}
	if connectionLost(err) {
		return errUnavailable(err)
	}
	return fmt.Errorf("postgres: %w", err)
}

// connectionLost reports whether err says the database could not be
// reached or stopped answering: no connection could be made, the
// connection broke (the server restarted or killed our backend; pgx then
// reports an unexpected EOF, a network error, or "conn closed" for the
// next use), or the deadline passed while waiting for a pooled connection
// or for the server's answer. A statement that was in flight may or may
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
		errors.Is(err, context.DeadlineExceeded)
}

// errNotFound reports a missing user. Users are the only rows this package
// looks up by id, so the message can name them.
func errNotFound(cause error) *domain.Error {
	return &domain.Error{Code: domain.CodeNotFound, Message: "The user does not exist.", Err: cause}
}

func errUnavailable(cause error) *domain.Error {
	return &domain.Error{Code: domain.CodeUnavailable, Err: cause,
		Message: "The database is unavailable, so whether the request took effect is unknown; retry later, with the same Idempotency-Key if it had one."}
}
