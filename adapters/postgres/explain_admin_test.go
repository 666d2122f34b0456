//go:build explain

package postgres_test

// The query plans of the admin lists on 50,000 users and 50,000 audit
// entries: the user search, a user's sessions and the audit log. Slow (it
// seeds the data), so behind a build tag:
//
//	go test -tags explain -run TestExplainAdminQueries -v ./adapters/postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/domain"
)

func TestExplainAdminQueries(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewURL(t)
	plain, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	start := time.Now()
	for _, stmt := range []string{
		// 50,000 users, one a minute; every other one in mini-program A,
		// every tenth with a password login, one admin in a thousand.
		`INSERT INTO users (nickname, created_at, updated_at, role)
		 SELECT 'user ' || i, now() - i * interval '1 minute', now(), CASE WHEN i % 1000 = 0 THEN 'admin' ELSE 'user' END
		 FROM generate_series(1, 50000) AS i`,
		`INSERT INTO wechat_identities (app_id, open_id, user_id, session_key)
		 SELECT CASE WHEN n % 2 = 0 THEN 'wxA' ELSE 'wxB' END, 'open-' || n, id, 'k'
		 FROM (SELECT id, row_number() OVER (ORDER BY created_at) AS n FROM users) u`,
		`INSERT INTO password_credentials (user_id, username, email, hash)
		 SELECT id, 'name' || n, 'mail' || n || '@example.com', '$argon2id$x'
		 FROM (SELECT id, row_number() OVER (ORDER BY created_at) AS n FROM users) u WHERE n % 10 = 0`,
		`INSERT INTO admin_audit (at, actor_id, action, target_kind, target_id)
		 SELECT now() - i * interval '1 second', CASE WHEN i % 100 = 0 THEN '00000000-0000-4000-8000-000000000001'::uuid END,
		        CASE WHEN i % 50 = 0 THEN 'user.disable' ELSE 'user.session.end' END, 'user', 'target-' || (i % 5000)
		 FROM generate_series(1, 50000) AS i`,
		// 200,000 sessions: four for every user, and 2,000 for one.
		`INSERT INTO sessions (user_id, created_at, last_used_at, idle_expires_at, absolute_expires_at, revoked_at, revoke_reason)
		 SELECT u.id, now() - g * interval '1 hour', now() - g * interval '1 hour', now() + interval '1 day', now() + interval '1 day',
		        CASE WHEN g % 2 = 0 THEN now() END, CASE WHEN g % 2 = 0 THEN 'logout' END
		 FROM users u, generate_series(1, 4) AS g`,
		`INSERT INTO sessions (user_id, created_at, last_used_at, idle_expires_at, absolute_expires_at)
		 SELECT (SELECT id FROM users ORDER BY created_at DESC OFFSET 100 LIMIT 1), now() - g * interval '1 minute', now(), now() + interval '1 day', now() + interval '1 day'
		 FROM generate_series(1, 2000) AS g`,
		`ANALYZE`,
	} {
		if _, err := plain.Pool().Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Printf("seeded 50,000 users and 50,000 audit entries in %s\n", time.Since(start).Round(time.Millisecond))

	rec := &recorder{}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.Tracer = rec
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := postgres.FromPool(pool)
	defer db.Close()
	users, admin := postgres.NewUserStore(db), postgres.NewAdminStore(db)

	show := func(name string, run func() error, mustWalk string) {
		t.Helper()
		if err := run(); err != nil {
			t.Fatal(err)
		}
		for _, q := range rec.take() {
			if !strings.HasPrefix(q.sql, "-- name:") {
				continue // begin, commit
			}
			q.args = adminArgs(q.args)
			custom := explain(t, plain.Pool(), q, false)
			if !q.prepared {
				fmt.Printf("\n=== %s\n%s\n--- custom plan (planned per execution: what runs)\n%s", name, firstLine(q.sql), custom)
			} else {
				generic := explain(t, plain.Pool(), q, true)
				fmt.Printf("\n=== %s\n%s\n--- custom plan\n%s--- generic plan\n%s", name, firstLine(q.sql), custom, generic)
				if !walks(generic, mustWalk) {
					t.Errorf("%s: the generic plan does not walk %s in order:\n%s", name, mustWalk, generic)
				}
			}
			if !walks(custom, mustWalk) {
				t.Errorf("%s: the plan does not walk %s in order:\n%s", name, mustWalk, custom)
			}
		}
	}
	list := func(q domain.UserQuery) func() error {
		return func() error { _, err := users.ListUsers(ctx, q, 21); return err }
	}
	show("users: first page, newest first", list(domain.UserQuery{}), "users_created_idx")
	show("users: admins (rare: a scan and a top-N sort is cheaper)", list(domain.UserQuery{Role: domain.RoleAdmin}), "")
	show("users: in mini-program wxA", list(domain.UserQuery{App: "wxA"}), "users_created_idx")
	show("users: search 'user 4999' (nickname, rare)", list(domain.UserQuery{Search: "user 4999"}), "")
	show("users: search a whole email", list(domain.UserQuery{Search: "mail40000@example.com"}), "")
	show("users: search a phone number", list(domain.UserQuery{Search: "13800138000"}), "")

	var someone domain.UserID
	if err := plain.Pool().QueryRow(ctx, "SELECT id::text FROM users ORDER BY created_at DESC OFFSET 100 LIMIT 1").Scan(&someone); err != nil {
		t.Fatal(err)
	}
	for _, state := range []domain.SessionState{domain.SessionsAll, domain.SessionsActive, domain.SessionsEnded} {
		show("the sessions of the user with 2,004 ("+string(state)+")", func() error {
			_, err := admin.ListUserSessions(ctx, someone, domain.SessionQuery{State: state}, time.Now(), 21)
			return err
		}, "sessions_user_id_idx")
	}
	show("a user's page (view)", func() error { _, err := admin.GetUserView(ctx, someone, time.Now()); return err }, "")

	audit := func(q domain.AuditQuery) func() error {
		return func() error { _, err := admin.ListAudit(ctx, q, 21); return err }
	}
	show("audit: first page", audit(domain.AuditQuery{}), "admin_audit_pkey")
	show("audit: by actor and action", audit(domain.AuditQuery{Actor: "00000000-0000-4000-8000-000000000001", Action: domain.AuditUserDisable}), "")
	show("audit: by actor", audit(domain.AuditQuery{Actor: "00000000-0000-4000-8000-000000000001"}), "")
	show("audit: by target", audit(domain.AuditQuery{TargetID: "target-42"}), "")
	show("audit: by action", audit(domain.AuditQuery{Action: domain.AuditUserDisable}), "")
}

// adminArgs turns the arguments explain's literal does not know into ones
// it does.
func adminArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case uuid.NullUUID:
			if v.Valid {
				out[i] = v.UUID
			} else {
				out[i] = nil
			}
		default:
			out[i] = a
		}
	}
	return out
}

// walks reports whether plan reads index in order under its Limit: an
// index scan of it, and no sort of everything it read (an incremental
// sort of the ties on the index's leading columns is fine). An empty
// index asks nothing.
func walks(plan, index string) bool {
	if index == "" {
		return true
	}
	return strings.Contains(plan, "using "+index) && !strings.Contains(plan, "top-N heapsort") &&
		!strings.Contains(plan, "Bitmap Index Scan on "+index)
}
