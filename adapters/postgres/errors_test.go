package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/miniback/miniback/domain"
)

func TestInterpretErrorClassifiesDatabaseErrors(t *testing.T) {
	// A real connect failure: nothing listens on port 1.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, connectErr := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:1/x?connect_timeout=2")
	if connectErr == nil {
		t.Fatal("connected to port 1")
	}
	classified := domain.Errorf(domain.CodeInvalid, "already classified")

	tests := []struct {
		name string
		err  error
		want domain.Code
	}{
		{"no rows", fmt.Errorf("get user: %w", pgx.ErrNoRows), domain.CodeNotFound},
		{"unique violation", &pgconn.PgError{Code: "23505"}, domain.CodeConflict},
		{"connect failure", connectErr, domain.CodeUnavailable},
		{"deadline", fmt.Errorf("acquire: %w", context.DeadlineExceeded), domain.CodeUnavailable},
		{"server shutting down", &pgconn.PgError{Code: "57P01"}, domain.CodeUnavailable},
		{"too many connections", &pgconn.PgError{Code: "53300"}, domain.CodeUnavailable},
		{"connection exception class", &pgconn.PgError{Code: "08006"}, domain.CodeUnavailable},
		{"other server error", &pgconn.PgError{Code: "42P01"}, domain.CodeInternal},
		{"other error", errors.New("boom"), domain.CodeInternal},
		{"already classified", classified, domain.CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := interpretError(tt.err)
			if code := domain.ErrorCode(got); code != tt.want {
				t.Fatalf("code = %s, want %s (%v)", code, tt.want, got)
			}
			if !errors.Is(got, tt.err) {
				t.Fatalf("%v does not wrap %v", got, tt.err)
			}
		})
	}
	if interpretError(nil) != nil {
		t.Fatal("interpretError(nil) != nil")
	}
}
