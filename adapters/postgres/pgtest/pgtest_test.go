package pgtest_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/miniback/miniback/adapters/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestNewDBReturnsAMigratedDatabase(t *testing.T) {
	db := pgtest.NewDB(t)
	var tables int
	err := db.Pool().QueryRow(context.Background(),
		"SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('users', 'wechat_identities')").Scan(&tables)
	if err != nil {
		t.Fatal(err)
	}
	if tables != 2 {
		t.Fatalf("found %d of the 2 migrated tables", tables)
	}
}

func TestEachTestDatabaseIsIsolated(t *testing.T) {
	ctx := context.Background()
	a, b := pgtest.NewDB(t), pgtest.NewDB(t)
	if _, err := a.Pool().Exec(ctx, "INSERT INTO users DEFAULT VALUES"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.Pool().QueryRow(ctx, "SELECT count(*) FROM users").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("the other database sees %d users", n)
	}
}

func TestTestDatabaseIsDroppedWhenItsTestEnds(t *testing.T) {
	ctx := context.Background()
	var name string
	t.Run("uses a database", func(t *testing.T) {
		conn, err := pgx.Connect(ctx, pgtest.NewURL(t))
		if err != nil {
			t.Fatal(err)
		}
		// Left open on purpose: the drop must not wait for it.
		if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
	})
	var exists bool
	err := pgtest.NewDB(t).Pool().QueryRow(ctx,
		"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if err != nil {
		t.Fatal(err)
	}
	if name == "" || exists {
		t.Fatalf("database %q still exists after its test", name)
	}
}
