package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
)

func TestMigrateAppliesEachMigrationOnceWhenReplicasRunItConcurrentlyAndAgain(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewURL(t)

	// Start from an empty database: the test database comes migrated.
	first := open(t, url)
	if _, err := first.Pool().Exec(ctx, "DROP SCHEMA public CASCADE; CREATE SCHEMA public"); err != nil {
		t.Fatal(err)
	}

	// Two replicas, each with its own pool, start at once.
	replicas := []*postgres.DB{first, open(t, url)}
	var wg sync.WaitGroup
	errs := make([]error, len(replicas))
	for i, db := range replicas {
		wg.Go(func() { errs[i] = postgres.Migrate(ctx, db) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: Migrate: %v", i, err)
		}
	}
	// And a restart finds nothing to do.
	if err := postgres.Migrate(ctx, first); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}

	var applied, distinct int
	err := first.Pool().QueryRow(ctx,
		"SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0 AND is_applied").Scan(&applied, &distinct)
	if err != nil {
		t.Fatal(err)
	}
	if applied == 0 || applied != distinct {
		t.Fatalf("goose_db_version has %d applied rows for %d versions, want one per version", applied, distinct)
	}
	if _, err := first.Pool().Exec(ctx, "SELECT id, nickname FROM users LIMIT 0"); err != nil {
		t.Fatalf("users table after migrating: %v", err)
	}
	// The job queue's migrations ran too, once each (river records them).
	var river, riverDistinct int
	err = first.Pool().QueryRow(ctx, "SELECT count(*), count(DISTINCT version) FROM river_migration").Scan(&river, &riverDistinct)
	if err != nil {
		t.Fatalf("river_migration after migrating: %v", err)
	}
	if river == 0 || river != riverDistinct {
		t.Fatalf("river_migration has %d rows for %d versions, want one per version", river, riverDistinct)
	}
	if _, err := first.Pool().Exec(ctx, "SELECT id, kind, state FROM river_job LIMIT 0"); err != nil {
		t.Fatalf("river_job table after migrating: %v", err)
	}
}

// open opens a pool on url, closed when the test ends.
func open(t *testing.T, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(db.Close)
	return db
}
