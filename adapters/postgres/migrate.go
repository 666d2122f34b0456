package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/miniback/miniback/migrations"
)

// Migrate applies the pending migrations of migrations.FS, then the job
// queue's (river's own, embedded in its module: rivermigrate). It holds a
// PostgreSQL session advisory lock for both, so replicas that start
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
	// The lock is taken here rather than by goose, so that it also covers
	// river's migrations: one lock, one order (ours, then the queue's).
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return interpretError(fmt.Errorf("migration lock connection: %w", err))
	}
	defer conn.Close()
	if err := locker.SessionLock(ctx, conn); err != nil {
		return interpretError(fmt.Errorf("take the migration lock: %w", err))
	}
	defer func() { _ = locker.SessionUnlock(context.WithoutCancel(ctx), conn) }()

	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS,
		goose.WithDisableGlobalRegistry(true), // only the SQL files, no Go migrations registered elsewhere
	)
	if err != nil {
		return fmt.Errorf("create migration provider: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return interpretError(fmt.Errorf("apply migrations: %w", err))
	}
	return migrateQueue(ctx, db)
}

// migrateQueue applies river's pending migrations (its river_job,
// river_leader, river_queue… tables): an upgrade of the river module that
// brings new ones applies them at the next start.
func migrateQueue(ctx context.Context, db *DB) error {
	m, err := rivermigrate.New(riverpgxv5.New(db.pool), nil)
	if err != nil {
		return fmt.Errorf("create job queue migrator: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return interpretError(fmt.Errorf("apply job queue migrations: %w", err))
	}
	return nil
}

// QueueSchemaVersion is the newest migration of the job queue's schema
// this build applies (a river upgrade raises it).
func QueueSchemaVersion() (int, error) {
	m, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		return 0, fmt.Errorf("create job queue migrator: %w", err)
	}
	all := m.AllVersions()
	if len(all) == 0 {
		return 0, nil
	}
	return all[len(all)-1].Version, nil
}
