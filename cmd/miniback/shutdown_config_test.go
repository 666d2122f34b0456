package main

import (
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/postgres"
)

// prodEnv is a production configuration that validates.
var prodEnv = []string{
	"MINIBACK_ENV=production", "DATABASE_URL=postgres://db/miniback", "MINIBACK_WECHAT_APPS=wx1:s",
	"MINIBACK_JWT_PRIVATE_KEYS=k", "MINIBACK_CURSOR_SECRET=" + strings.Repeat("c", 32),
	"MINIBACK_STORAGE=s3", "MINIBACK_S3_ENDPOINT=https://cos.example.com", "MINIBACK_S3_REGION=r",
	"MINIBACK_S3_BUCKET=b-1", "MINIBACK_S3_ACCESS_KEY=a", "MINIBACK_S3_SECRET_KEY=s",
	"MINIBACK_PUBLIC_URL=https://api.example.com",
}

// TestTimeoutDefaultsBoundTheDatabaseAndTheDrain: unset, the database
// gets a 5s connect and operation bound, a 10s statement timeout, a 30s
// idle-in-transaction timeout and no lock timeout; migrations a 15m
// statement timeout; the drain is 5s in production and none in
// development; a set drain wins in both.
func TestTimeoutDefaultsBoundTheDatabaseAndTheDrain(t *testing.T) {
	dev, err := LoadConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := postgres.Options{ConnectTimeout: 5 * time.Second, QueryTimeout: 5 * time.Second,
		StatementTimeout: 10 * time.Second, IdleInTransactionTimeout: 30 * time.Second}
	if got := dev.dbOptions(); got != want {
		t.Errorf("pool options %+v, want %+v", got, want)
	}
	if got := dev.migrateOptions(); got.StatementTimeout != 15*time.Minute || got.QueryTimeout != 0 {
		t.Errorf("migration options %+v, want a 15m statement timeout and no operation bound", got)
	}
	if dev.Drain() != 0 || dev.ShutdownTimeout != 20*time.Second {
		t.Errorf("development: drain %s, shutdown timeout %s; want 0, 20s", dev.Drain(), dev.ShutdownTimeout)
	}
	prod, err := LoadConfig(prodEnv)
	if err != nil {
		t.Fatal(err)
	}
	if prod.Drain() != 5*time.Second {
		t.Errorf("production drain %s, want 5s", prod.Drain())
	}
	for _, env := range [][]string{{"MINIBACK_SHUTDOWN_DRAIN=0s"}, append([]string{"MINIBACK_SHUTDOWN_DRAIN=0s"}, prodEnv...)} {
		cfg, err := LoadConfig(env)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Drain() != 0 {
			t.Errorf("%v: drain %s, want the 0 set", env, cfg.Drain())
		}
	}
	set, err := LoadConfig([]string{"MINIBACK_SHUTDOWN_DRAIN=12s", "MINIBACK_DB_TIMEOUT=2s", "MINIBACK_DB_LOCK_TIMEOUT=1s",
		"MINIBACK_DB_STATEMENT_TIMEOUT=0", "MINIBACK_DB_MIGRATE_STATEMENT_TIMEOUT=0"})
	if err != nil {
		t.Fatal(err)
	}
	if o := set.dbOptions(); set.Drain() != 12*time.Second || o.QueryTimeout != 2*time.Second || o.LockTimeout != time.Second ||
		o.StatementTimeout != 0 || set.migrateOptions().StatementTimeout != 0 {
		t.Errorf("set values not taken: drain %s, options %+v, migration %+v", set.Drain(), o, set.migrateOptions())
	}
}

// TestTimeoutSettingsOutOfRangeAreRefusedNamingTheVariable is the
// validation table of the deadline and shutdown settings.
func TestTimeoutSettingsOutOfRangeAreRefusedNamingTheVariable(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		want string
	}{
		{"negative drain", []string{"MINIBACK_SHUTDOWN_DRAIN=-1s"}, "MINIBACK_SHUTDOWN_DRAIN must be between 0 and 5m"},
		{"drain of an hour", []string{"MINIBACK_SHUTDOWN_DRAIN=1h"}, "MINIBACK_SHUTDOWN_DRAIN must be between 0 and 5m"},
		{"unparseable drain", []string{"MINIBACK_SHUTDOWN_DRAIN=soon"}, "MINIBACK_SHUTDOWN_DRAIN"},
		{"no shutdown timeout", []string{"MINIBACK_SHUTDOWN_TIMEOUT=0s"}, "MINIBACK_SHUTDOWN_TIMEOUT must be between 0 and 1h"},
		{"shutdown timeout of a day", []string{"MINIBACK_SHUTDOWN_TIMEOUT=24h"}, "MINIBACK_SHUTDOWN_TIMEOUT must be between 0 and 1h"},
		{"connect timeout too short", []string{"MINIBACK_DB_CONNECT_TIMEOUT=1ms"}, "MINIBACK_DB_CONNECT_TIMEOUT must be between 100ms and 1m"},
		{"connect timeout too long", []string{"MINIBACK_DB_CONNECT_TIMEOUT=2m"}, "MINIBACK_DB_CONNECT_TIMEOUT"},
		{"no operation bound", []string{"MINIBACK_DB_TIMEOUT=0s"}, "MINIBACK_DB_TIMEOUT (0s) must be at least 100ms"},
		{"operation bound as long as the request's", []string{"MINIBACK_DB_TIMEOUT=1m"},
			"MINIBACK_DB_TIMEOUT (1m0s) must be at least 100ms and shorter than MINIBACK_WRITE_TIMEOUT (1m0s)"},
		{"negative statement timeout", []string{"MINIBACK_DB_STATEMENT_TIMEOUT=-1s"}, "MINIBACK_DB_STATEMENT_TIMEOUT must be 0"},
		{"statement timeout of a millisecond", []string{"MINIBACK_DB_STATEMENT_TIMEOUT=1ms"}, "MINIBACK_DB_STATEMENT_TIMEOUT"},
		{"lock timeout of days", []string{"MINIBACK_DB_LOCK_TIMEOUT=48h"}, "MINIBACK_DB_LOCK_TIMEOUT"},
		{"migration timeout of a millisecond", []string{"MINIBACK_DB_MIGRATE_STATEMENT_TIMEOUT=1ms"}, "MINIBACK_DB_MIGRATE_STATEMENT_TIMEOUT"},
		{"idle in transaction shorter than an operation", []string{"MINIBACK_DB_IDLE_IN_TRANSACTION_TIMEOUT=2s"},
			"MINIBACK_DB_IDLE_IN_TRANSACTION_TIMEOUT (2s) must be 0 or at least MINIBACK_DB_TIMEOUT (5s)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("LoadConfig(%v) = %v, want an error containing %q", tc.env, err, tc.want)
			}
		})
	}
	for _, ok := range [][]string{
		{"MINIBACK_DB_STATEMENT_TIMEOUT=0", "MINIBACK_DB_IDLE_IN_TRANSACTION_TIMEOUT=0", "MINIBACK_DB_MIGRATE_STATEMENT_TIMEOUT=0"},
		{"MINIBACK_DB_TIMEOUT=59s", "MINIBACK_DB_IDLE_IN_TRANSACTION_TIMEOUT=1m"},
		{"MINIBACK_SHUTDOWN_DRAIN=5m", "MINIBACK_SHUTDOWN_TIMEOUT=1h"},
	} {
		if _, err := LoadConfig(ok); err != nil {
			t.Errorf("LoadConfig(%v): %v", ok, err)
		}
	}
}
