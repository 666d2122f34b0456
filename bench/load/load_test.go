package main

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func newUsers(t *testing.T, ctx context.Context, pool *pgxpool.Pool, n int) []uuid.UUID {
	t.Helper()
	ids := make([]uuid.UUID, n)
	for i := range ids {
		if err := pool.QueryRow(ctx, "INSERT INTO users DEFAULT VALUES RETURNING id").Scan(&ids[i]); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// TestSeedingFitsTheSchemaAndMinibackReadsIt runs the harness's own SQL
// (task seeding, session minting, task picking) against a migrated
// database, so a schema change breaks this test rather than a load run,
// and checks that miniback's stores take what it wrote: the seeded tasks
// read back through TodoStore, the minted refresh tokens rotate through
// SessionStore.
func TestSeedingFitsTheSchemaAndMinibackReadsIt(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := pgtest.NewDB(t)
	pool := db.Pool()
	users := newUsers(t, ctx, pool, 3)

	if err := seedTasks(ctx, pool, users, 60); err != nil {
		t.Fatal(err)
	}
	var total, dated, done, tagged, noted int
	err := pool.QueryRow(ctx, `SELECT count(*), count(due_at), count(*) FILTER (WHERE done), count(*) FILTER (WHERE tags <> '{}'),
		count(*) FILTER (WHERE notes <> '') FROM todos`).Scan(&total, &dated, &done, &tagged, &noted)
	if err != nil {
		t.Fatal(err)
	}
	if total != 180 || dated != 108 || done != 45 || tagged != 135 || noted != 60 {
		t.Errorf("seeded %d tasks: %d dated, %d done, %d tagged, %d with notes; want 180, 108, 45, 135, 60", total, dated, done, tagged, noted)
	}
	store := postgres.NewTodoStore(db)
	open := false
	page, err := store.ListTodos(ctx, portsQuery(users[0], &open))
	if err != nil || len(page) != 45 {
		t.Fatalf("miniback lists %d open tasks of the seeded user (%v), want 45", len(page), err)
	}
	for _, td := range page {
		if td.Title == "" || td.Done || (td.DueAt != nil && td.DueAt.Format("-07:00") != "+08:00") {
			t.Errorf("seeded task reads back as %+v", td)
		}
	}

	tokens, err := mintRefreshTokens(ctx, pool, users, 4)
	if err != nil {
		t.Fatal(err)
	}
	sessions := postgres.NewSessionStore(db)
	for _, tok := range tokens {
		parsed, err := domain.ParseRefreshToken(tok)
		if err != nil {
			t.Fatalf("a minted token is not miniback's format: %v", err)
		}
		next, err := domain.NewRefreshToken(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		rot, err := sessions.RotateRefreshToken(ctx, parsed.Hash(), next.Hash(), time.Now(),
			func(s domain.Session) (domain.Session, error) { return s, nil })
		if err != nil || rot.Reused || rot.Session.AppID == "" {
			t.Fatalf("miniback does not rotate a minted token: %+v, %v", rot, err)
		}
	}

	ids, err := pickPatchTasks(ctx, pool, users, 5)
	if err != nil {
		t.Fatal(err)
	}
	owners := map[uuid.UUID]bool{}
	tasks, err := currentVersions(ctx, pool, ids)
	if err != nil || len(tasks) != 5 {
		t.Fatalf("versions of %d picked tasks: %d (%v)", len(ids), len(tasks), err)
	}
	for _, pt := range tasks {
		owners[pt.owner] = true
		if pt.version != 1 {
			t.Errorf("task %s at version %d, want 1", pt.id, pt.version)
		}
	}
	if len(owners) != 3 {
		t.Errorf("the PATCH tasks belong to %d users, want them spread over all 3", len(owners))
	}
	some, err := someTasks(ctx, pool, users, 2)
	if err != nil || len(some) != 6 {
		t.Errorf("someTasks = %d tasks (%v), want 2 of each of 3 users", len(some), err)
	}
}

// portsQuery lists up to 100 of the user's tasks, newest first, filtered
// by done.
func portsQuery(user uuid.UUID, done *bool) ports.TodoQuery {
	return ports.TodoQuery{Owner: domain.UserID(user.String()), Filter: domain.TodoFilter{Done: done},
		Sort: domain.DefaultTodoSort, Limit: 100}
}

func TestParseWrkReadsTheBenchLine(t *testing.T) {
	out := "Running 10s test @ http://127.0.0.1:1\n  2 threads and 64 connections\n" +
		"BENCH requests=20000 duration_us=10000000 bytes=1 connect=0 read=1 write=0 status=7 timeout=2 p50_us=1500 p90_us=3000 p99_us=9000 max_us=20000\n"
	r, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.requests != 20000 || r.rps != 2000 || r.p50 != 1500*time.Microsecond || r.p99 != 9*time.Millisecond || r.non2xx != 7 || r.sockErr != 3 {
		t.Errorf("parseWrk = %+v", r)
	}
	if _, err := parseWrk("Running 10s test\n"); err == nil {
		t.Error("wrk output without a BENCH line parses")
	}
	if _, err := parseWrk("BENCH requests=1 duration_us=x\n"); err == nil {
		t.Error("a BENCH line with a bad number parses")
	}
}

func TestRoutesAreUniqueAndSelectable(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range allRoutes {
		if seen[r.key] || routeByKey(r.key) != r {
			t.Errorf("route key %q is not unique", r.key)
		}
		seen[r.key] = true
		if r.mode != "static" && r.mode != "idem" && r.mode != "patch" && r.mode != "refresh" {
			t.Errorf("%s: mode %q is not one load.lua knows", r.key, r.mode)
		}
		if !strings.Contains(string(loadLua), `"`+r.mode+`"`) {
			t.Errorf("%s: load.lua has no mode %q", r.key, r.mode)
		}
	}
	o, err := parseOptions([]string{"-routes", "me, patch", "-d", "3s"})
	if err != nil || len(o.routes) != 2 || o.routes[1] != "patch" || o.duration != 3*time.Second || o.connections != 64 || o.threads != 2 {
		t.Errorf("parseOptions = %+v, %v", o, err)
	}
	if _, err := parseOptions([]string{"-routes", "nope"}); err == nil {
		t.Error("an unknown route is accepted")
	}
	t.Setenv("BENCH_CONNECTIONS", "8")
	if o, err := parseOptions(nil); err != nil || o.connections != 8 || len(o.routes) != len(allRoutes) {
		t.Errorf("BENCH_CONNECTIONS=8: %+v, %v", o, err)
	}
}
