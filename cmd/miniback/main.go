// Command miniback serves the miniback API.
//
//	miniback                      start the server (same as "miniback serve")
//	miniback migrate              apply database migrations and exit
//	miniback admin grant <user>   make the user (a user id) an administrator
//	miniback --version            print the version and exit
//
// With nothing configured it runs on embedded development defaults: a
// private PostgreSQL cluster under MINIBACK_DATA_DIR, the WeChat simulator
// and a generated signing key. Each default is announced in the log.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/miniback/miniback/domain"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Environ(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "miniback:", err)
		os.Exit(1)
	}
}

// run executes one subcommand; it returns when ctx is cancelled (serve) or
// the work is done (migrate).
func run(ctx context.Context, args, environ []string, logOut io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
	}
	// These answer without reading the configuration: a container's
	// smoke test runs them with nothing configured.
	switch cmd {
	case "version", "--version", "-version":
		_, err := fmt.Fprintln(logOut, versionLine())
		return err
	case "help", "-h", "--help":
		_, err := fmt.Fprintln(logOut, "usage: miniback [serve|migrate|admin grant <user id>|--version]")
		return err
	}
	cfg, err := LoadConfig(environ)
	if err != nil {
		return err
	}
	m := NewMain(cfg, logOut)
	switch cmd {
	case "serve":
		return serve(ctx, m)
	case "migrate":
		defer m.Close()
		return m.Migrate(ctx)
	case "admin":
		if len(args) != 3 || args[1] != "grant" {
			return errors.New("usage: miniback admin grant <user id>")
		}
		defer m.Close()
		u, err := m.GrantAdmin(ctx, domain.UserID(args[2]))
		if err != nil {
			if domain.ErrorCode(err) == domain.CodeNotFound {
				return fmt.Errorf("no user has id %q", args[2])
			}
			return err
		}
		m.Logger.Info("granted admin; it takes effect with the user's next token (refresh or login)", "user_id", string(u.ID))
		return nil
	default:
		return fmt.Errorf("unknown command %q (want serve, migrate, admin or --version)", cmd)
	}
}

// serve runs the server until ctx is cancelled (SIGINT/SIGTERM), then
// shuts down gracefully (shutdown.go): it drains, lets in-flight requests
// finish, and cuts those that outlive MINIBACK_SHUTDOWN_TIMEOUT, which is
// logged and no failure.
func serve(ctx context.Context, m *Main) error {
	if err := m.Run(ctx); err != nil {
		return errors.Join(err, m.Close())
	}
	select {
	case <-ctx.Done():
		m.Drain()
	case err := <-m.ServeErr():
		return errors.Join(fmt.Errorf("http server: %w", err), m.Close())
	}
	return m.Close()
}
