package main

import (
	"fmt"
	"time"

	"github.com/miniback/miniback/adapters/postgres"
)

// The time bounds of the configuration: the database's and the drain.

// validateDBTimeouts checks the database time bounds.
func (c Config) validateDBTimeouts() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.DBConnectTimeout < 100*time.Millisecond || c.DBConnectTimeout > time.Minute {
		bad("MINIBACK_DB_CONNECT_TIMEOUT must be between 100ms and 1m, not %s", c.DBConnectTimeout)
	}
	// A request must still have time to say the database did not answer.
	if c.DBTimeout < 100*time.Millisecond || c.DBTimeout >= c.WriteTimeout {
		bad("MINIBACK_DB_TIMEOUT (%s) must be at least 100ms and shorter than MINIBACK_WRITE_TIMEOUT (%s)", c.DBTimeout, c.WriteTimeout)
	}
	serverSetting := func(name string, d, least time.Duration) {
		if d != 0 && (d < least || d > 24*time.Hour) {
			bad("%s must be 0 (the server's setting) or between %s and 24h, not %s", name, least, d)
		}
	}
	serverSetting("MINIBACK_DB_STATEMENT_TIMEOUT", c.DBStatementTimeout, 100*time.Millisecond)
	serverSetting("MINIBACK_DB_LOCK_TIMEOUT", c.DBLockTimeout, 10*time.Millisecond)
	serverSetting("MINIBACK_DB_MIGRATE_STATEMENT_TIMEOUT", c.DBMigrateStatementTimeout, time.Second)
	serverSetting("MINIBACK_DB_IDLE_IN_TRANSACTION_TIMEOUT", c.DBIdleInTxTimeout, time.Second)
	// Each of our transactions ends within MINIBACK_DB_TIMEOUT; the server
	// must not end one first.
	if c.DBIdleInTxTimeout != 0 && c.DBIdleInTxTimeout < c.DBTimeout {
		bad("MINIBACK_DB_IDLE_IN_TRANSACTION_TIMEOUT (%s) must be 0 or at least MINIBACK_DB_TIMEOUT (%s)", c.DBIdleInTxTimeout, c.DBTimeout)
	}
	return errs
}

// Drain is how long the listener stays open after SIGTERM while /readyz
// answers 503: MINIBACK_SHUTDOWN_DRAIN, or when unset 5s in production
// (a load balancer's health checks need a few seconds to notice) and
// nothing in development (Ctrl-C stops at once).
func (c Config) Drain() time.Duration {
	switch {
	case c.ShutdownDrain != nil:
		return *c.ShutdownDrain
	case c.Production():
		return defaultProductionDrain
	}
	return 0
}

// defaultProductionDrain is the drain when MINIBACK_SHUTDOWN_DRAIN is
// unset in production.
const defaultProductionDrain = 5 * time.Second

// dbOptions are the pool's settings.
func (c Config) dbOptions() postgres.Options {
	return postgres.Options{
		MaxConns: int32(c.DBMaxConns), ConnectTimeout: c.DBConnectTimeout, QueryTimeout: c.DBTimeout,
		StatementTimeout: c.DBStatementTimeout, LockTimeout: c.DBLockTimeout, IdleInTransactionTimeout: c.DBIdleInTxTimeout,
	}
}

// migrateOptions are the settings of the migrations' own pool: no bound
// of ours on a statement (goose's context is the caller's) and the
// migration statement timeout on the server.
func (c Config) migrateOptions() postgres.Options {
	return postgres.Options{
		MaxConns: 2, ConnectTimeout: c.DBConnectTimeout,
		StatementTimeout: c.DBMigrateStatementTimeout, IdleInTransactionTimeout: c.DBIdleInTxTimeout,
	}
}
