package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/miniback/miniback/domain"
)

// fakeServer is a PostgreSQL server that completes the startup of one
// connection and then answers its first statement with onStatement, so
// that pgx produces the errors it produces when a real server goes away.
func fakeServer(t *testing.T, onStatement func(b *pgproto3.Backend, c *net.TCPConn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			// pgx opens a second connection to cancel a statement whose
			// context ended; closing it at once lets pgx move on.
			wg.Go(func() { serveFake(c.(*net.TCPConn), onStatement) })
		}
	})
	return "postgres://postgres@" + ln.Addr().String() + "/db?sslmode=disable"
}

func serveFake(c *net.TCPConn, onStatement func(b *pgproto3.Backend, c *net.TCPConn)) {
	defer c.Close()
	b := pgproto3.NewBackend(c, c)
	startup, err := b.ReceiveStartupMessage()
	if _, ok := startup.(*pgproto3.StartupMessage); err != nil || !ok {
		return
	}
	b.Send(&pgproto3.AuthenticationOk{})
	b.Send(&pgproto3.BackendKeyData{ProcessID: 1, SecretKey: []byte{0, 0, 0, 1}})
	b.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	if err := b.Flush(); err != nil {
		return
	}
	if _, err := b.Receive(); err != nil {
		return
	}
	onStatement(b, c)
}

// failedExec connects to a fake server and returns the errors of a first
// and a second statement on that connection.
func failedExec(t *testing.T, ctx context.Context, onStatement func(b *pgproto3.Backend, c *net.TCPConn)) (first, second error) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), fakeServer(t, onStatement))
	if err != nil {
		t.Fatalf("connect to the fake server: %v", err)
	}
	defer conn.Close(context.Background())
	// With arguments, as every sqlc query: the extended protocol.
	_, first = conn.Exec(ctx, "UPDATE todos SET done = $1", true)
	_, second = conn.Exec(context.Background(), "SELECT 1")
	if first == nil {
		t.Fatal("the statement succeeded on a connection the server dropped")
	}
	return first, second
}

func TestInterpretErrorClassifiesDatabaseErrors(t *testing.T) {
	// A real connect failure: nothing listens on port 1.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, connectErr := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:1/x?connect_timeout=2")
	if connectErr == nil {
		t.Fatal("connected to port 1")
	}

	// The server closes the connection mid-statement (a crash, or
	// `pg_ctl restart -m immediate`): pgx reads an unexpected EOF, and the
	// connection's next use is "conn closed".
	eof, closed := failedExec(t, context.Background(), func(*pgproto3.Backend, *net.TCPConn) {})
	// The server ends the session (pg_terminate_backend, a fast shutdown):
	// a FATAL 57P01 error, then the connection is gone.
	terminated, _ := failedExec(t, context.Background(), func(b *pgproto3.Backend, _ *net.TCPConn) {
		b.Send(&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: "57P01",
			Message: "terminating connection due to administrator command"})
		_ = b.Flush()
	})
	// The connection is reset (a host or network failure).
	reset, _ := failedExec(t, context.Background(), func(_ *pgproto3.Backend, c *net.TCPConn) {
		_ = c.SetLinger(0) // close with RST
	})
	// The server does not answer before the request's deadline.
	short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelShort()
	silent, _ := failedExec(t, short, func(b *pgproto3.Backend, _ *net.TCPConn) {
		for { // read, never answer, until the client gives up
			msg, err := b.Receive()
			if _, bye := msg.(*pgproto3.Terminate); bye || err != nil {
				return
			}
		}
	})
	// The deadline passed before the statement was sent.
	expired, cancelExpired := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancelExpired()
	neverSent, _ := failedExec(t, expired, func(*pgproto3.Backend, *net.TCPConn) {})

	// Pin what pgx returns, so that each case below stands for what its
	// name says.
	var opErr *net.OpError
	switch {
	case !errors.Is(eof, io.ErrUnexpectedEOF):
		t.Fatalf("mid-statement close: %T %v, want unexpected EOF", eof, eof)
	case !errors.Is(closed, pgconn.ErrConnClosed):
		t.Fatalf("statement after the close: %T %v, want conn closed", closed, closed)
	case !errors.As(reset, &opErr):
		t.Fatalf("reset: %T %v, want a *net.OpError", reset, reset)
	case !pgconn.Timeout(silent) || !errors.Is(silent, context.DeadlineExceeded):
		t.Fatalf("silent server: %T %v, want a pgconn timeout", silent, silent)
	case !pgconn.SafeToRetry(neverSent):
		t.Fatalf("expired context: %T %v, want an error safe to retry", neverSent, neverSent)
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
		{"deadline while acquiring", fmt.Errorf("acquire: %w", context.DeadlineExceeded), domain.CodeUnavailable},
		{"server closed the connection mid-statement", eof, domain.CodeUnavailable},
		{"statement on a closed connection", closed, domain.CodeUnavailable},
		{"backend terminated", terminated, domain.CodeUnavailable},
		{"connection reset", reset, domain.CodeUnavailable},
		{"no answer before the deadline", silent, domain.CodeUnavailable},
		{"deadline passed before sending", neverSent, domain.CodeUnavailable},
		{"server shutting down", &pgconn.PgError{Code: "57P01"}, domain.CodeUnavailable},
		{"crash shutdown", &pgconn.PgError{Code: "57P02"}, domain.CodeUnavailable},
		{"server starting", &pgconn.PgError{Code: "57P03"}, domain.CodeUnavailable},
		{"too many connections", &pgconn.PgError{Code: "53300"}, domain.CodeUnavailable},
		{"connection exception class", &pgconn.PgError{Code: "08006"}, domain.CodeUnavailable},
		{"statement_timeout", &pgconn.PgError{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "57014"}, domain.CodeUnavailable},
		{"lock_timeout", &pgconn.PgError{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "55P03"}, domain.CodeUnavailable},
		{"caller stopped waiting", fmt.Errorf("acquire: %w", context.Canceled), domain.CodeUnavailable},
		{"idle session timeout (FATAL)", &pgconn.PgError{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: "57P05"}, domain.CodeUnavailable},
		{"other server error", &pgconn.PgError{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "42P01"}, domain.CodeInternal},
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

func TestInterpretErrorAnswersBareCodesThatStoresWord(t *testing.T) {
	missing := fmt.Errorf("lock todo: %w", pgx.ErrNoRows)
	var de *domain.Error
	if bare := interpretError(missing); !errors.As(bare, &de) || de.Message != "" || de.Err != missing {
		t.Fatalf("interpretError(no rows) = %#v; want a bare not_found caused by the database error", bare)
	}

	worded := notFoundAs(missing, domain.ErrTodoNotFound)
	if domain.ErrorCode(worded) != domain.CodeNotFound || domain.ErrorMessage(worded) != "The task does not exist." ||
		!errors.Is(worded, pgx.ErrNoRows) {
		t.Errorf("notFoundAs(no rows, task) = %v", worded)
	}
	// A not-found a step already worded keeps its words.
	if kept := notFoundAs(domain.ErrUploadNotFound(), domain.ErrTodoNotFound); domain.ErrorMessage(kept) != "The upload does not exist." {
		t.Errorf("notFoundAs(upload not found, task) = %v", kept)
	}
	// Other codes pass.
	if lost := notFoundAs(io.ErrUnexpectedEOF, domain.ErrTodoNotFound); domain.ErrorCode(lost) != domain.CodeUnavailable {
		t.Errorf("notFoundAs(EOF, task) = %v", lost)
	}
}
