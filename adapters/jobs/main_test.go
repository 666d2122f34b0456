package jobs_test

import (
	"context"
	"testing"

	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// migrateRiver applies river's migrations (until the queue foundation runs
// them with ours).
func migrateRiver(t testing.TB, db *postgres.DB) {
	t.Helper()
	mig, err := rivermigrate.New(riverpgxv5.New(db.Pool()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mig.Migrate(context.Background(), rivermigrate.DirectionUp, nil); err != nil {
		t.Fatal(err)
	}
}
