package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/miniback/miniback/migrations"
)

// Migrate applies the pending migrations of migrations.FS. It holds a
// PostgreSQL session advisory lock while it does, so replicas that start
// together apply each migration once: the others wait, then find nothing
// pending. It logs nothing. An unreachable database is reported as a
// *domain.Error with CodeUnavailable.
func Migrate(ctx context.Context, db *DB) error {
	// Poll for the lock every second for up to five minutes (goose's
	// default polls every five seconds, which makes a waiting replica slow).
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("create migration locker: %w", err)
	}
	// Closing sqlDB does not close the pgx pool it borrows from.
	sqlDB := stdlib.OpenDBFromPool(db.pool)
	defer sqlDB.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS,
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true), // only the SQL files, no Go migrations registered elsewhere
	)
	if err != nil {
		return fmt.Errorf("create migration provider: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return interpretError(fmt.Errorf("apply migrations: %w", err))
	}
	return nil
}
