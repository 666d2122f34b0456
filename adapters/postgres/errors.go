package postgres

import (
	"context"
	"errors"
	"fmt"
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
// CodeConflict, and a database that cannot be reached (or does not answer
// before the deadline) is CodeUnavailable. Anything else is wrapped as it is
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
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		// Whatever the reason (refused, auth, no such database), no
		// connection means no service.
		return errUnavailable(err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == pgUniqueViolation:
			return &domain.Error{Code: domain.CodeConflict, Message: "The record already exists.", Err: err}
		case pgErr.Code == pgTooManyConnections, pgErr.Code == pgAdminShutdown,
			pgErr.Code == pgCrashShutdown, pgErr.Code == pgCannotConnectNow,
			strings.HasPrefix(pgErr.Code, pgConnectionException):
			return errUnavailable(err)
		}
		return fmt.Errorf("postgres: %w", err)
	}
	// A net.Error is a broken connection or a network timeout. The deadline may have passed while
	// waiting for a pooled connection or for the server's answer: either
	// way the database cannot serve us now.
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) {
		return errUnavailable(err)
	}
	return fmt.Errorf("postgres: %w", err)
}

// errNotFound reports a missing user. Users are the only rows this package
// looks up by id, so the message can name them.
func errNotFound(cause error) *domain.Error {
	return &domain.Error{Code: domain.CodeNotFound, Message: "The user does not exist.", Err: cause}
}

func errUnavailable(cause error) *domain.Error {
	return &domain.Error{Code: domain.CodeUnavailable, Message: "The database is unavailable; try again later.", Err: cause}
}
