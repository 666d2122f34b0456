package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/miniback/miniback/adapters/postgres/pgcluster"
	"github.com/miniback/miniback/adapters/wechat/wechatsim"
)

// database is the fresh database both servers run on.
type database struct {
	source string // where the server came from, for the report
	name   string
	url    string
	pool   *pgxpool.Pool // the harness's own connections (seeding, versions)
	close  func() error
}

// openDatabase finds a server as pgtest does, TEST_DATABASE_URL or else a
// private cluster of the local PostgreSQL binaries under work, and creates
// a fresh database on it. Its close drops the database (or stops the
// cluster).
func openDatabase(ctx context.Context, work string) (*database, error) {
	admin := os.Getenv("TEST_DATABASE_URL")
	source := "TEST_DATABASE_URL"
	stopCluster := func() error { return nil }
	if admin == "" {
		c, err := pgcluster.Start(ctx, pgcluster.Options{
			DataDir: filepath.Join(work, "pgdata"),
			Logger:  slog.New(slog.DiscardHandler),
		})
		if err != nil {
			return nil, fmt.Errorf("no TEST_DATABASE_URL, and a private cluster did not start: %w", err)
		}
		admin, source, stopCluster = c.URL("postgres"), "a private PostgreSQL cluster (pgcluster)", c.Close
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "miniback_bench_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("%s: %w", source, err), stopCluster())
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	_ = conn.Close(ctx)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("create database: %w", err), stopCluster())
	}
	u, err := url.Parse(admin)
	if err != nil {
		return nil, errors.Join(err, stopCluster())
	}
	u.Path = "/" + name
	db := &database{source: source, name: name, url: u.String()}
	db.close = func() error {
		if db.pool != nil {
			db.pool.Close()
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var errs []error
		if conn, err := pgx.Connect(ctx, admin); err != nil {
			errs = append(errs, err)
		} else {
			_, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
			errs = append(errs, err, conn.Close(ctx))
		}
		return errors.Join(append(errs, stopCluster())...)
	}
	return db, nil
}

// connect opens the harness's pool, once miniback has migrated.
func (db *database) connect(ctx context.Context) error {
	pool, err := pgxpool.New(ctx, db.url)
	if err != nil {
		return err
	}
	db.pool = pool
	return pool.Ping(ctx)
}

// seedTasksSQL gives each user in $1 $2 tasks shaped like a person's list:
// varied titles, notes on a third, a due time (+08:00) on three in five,
// a quarter done, tags, three priorities, created over the past weeks.
// It writes every column CreateTodo writes, within the schema's checks.
const seedTasksSQL = `
INSERT INTO todos (user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, created_at, updated_at)
SELECT u.id,
       (ARRAY['Buy groceries', 'Call mom', 'Finish the quarterly report', 'Book the dentist',
              'Pay rent', 'Water the plants', 'Reply to emails', 'Plan the trip'])[1 + g % 8] || ' #' || g,
       CASE WHEN g % 3 = 0 THEN 'Remember the receipts; check the list twice before leaving.' ELSE '' END,
       CASE WHEN g % 5 < 3 THEN t.created + (g % 30) * interval '1 day' END,
       CASE WHEN g % 5 < 3 THEN 28800 END,
       g % 3,
       g % 4 = 0,
       CASE WHEN g % 4 = 0 THEN t.created + interval '1 hour' END,
       CASE g % 4 WHEN 0 THEN '{}'::text[] WHEN 1 THEN ARRAY['work'] WHEN 2 THEN ARRAY['home', 'errands'] ELSE ARRAY['health'] END,
       t.created,
       t.created
FROM unnest($1::uuid[]) AS u(id)
CROSS JOIN generate_series(1, $2::int) AS g
CROSS JOIN LATERAL (SELECT now() - g * interval '7 minutes' - random() * interval '1 minute' AS created) AS t`

// seedTasks bulk-inserts n tasks for each of users.
func seedTasks(ctx context.Context, pool *pgxpool.Pool, users []uuid.UUID, n int) error {
	if _, err := pool.Exec(ctx, seedTasksSQL, users, n); err != nil {
		return fmt.Errorf("seed tasks: %w", err)
	}
	return nil
}

// mintSessionsSQL opens sessions as a WeChat login does (the simulator's
// app, miniback's default lifetimes), each with a first refresh token.
const mintSessionsSQL = `
WITH s AS (
    INSERT INTO sessions (id, user_id, app_id, user_agent, created_at, last_used_at, idle_expires_at, absolute_expires_at)
    SELECT id, user_id, $3, 'bench/load', now(), now(), now() + interval '720 hours', now() + interval '2160 hours'
    FROM unnest($1::uuid[], $2::uuid[]) AS s(id, user_id)
    RETURNING id
)
INSERT INTO refresh_tokens (hash, session_id, generation, created_at)
SELECT t.hash, t.session_id, 1, now()
FROM unnest($4::bytea[], $1::uuid[]) AS t(hash, session_id)
JOIN s ON s.id = t.session_id`

// mintRefreshTokens opens n sessions spread over users and returns their
// refresh tokens (miniback's format), each good for one rotation.
func mintRefreshTokens(ctx context.Context, pool *pgxpool.Pool, users []uuid.UUID, n int) ([]string, error) {
	ids := make([]uuid.UUID, n)
	owners := make([]uuid.UUID, n)
	hashes := make([][]byte, n)
	tokens := make([]string, n)
	for i := range n {
		b := make([]byte, 32)
		_, _ = rand.Read(b) // crypto/rand.Read never fails
		tokens[i] = "mbr_" + base64.RawURLEncoding.EncodeToString(b)
		h := sha256.Sum256([]byte(tokens[i]))
		ids[i], owners[i], hashes[i] = uuid.New(), users[i%len(users)], h[:]
	}
	tag, err := pool.Exec(ctx, mintSessionsSQL, ids, owners, wechatsim.DefaultAppID, hashes)
	if err != nil {
		return nil, fmt.Errorf("mint refresh tokens: %w", err)
	}
	if tag.RowsAffected() != int64(n) {
		return nil, fmt.Errorf("mint refresh tokens: %d of %d stored", tag.RowsAffected(), n)
	}
	return tokens, nil
}

// patchTask is a task a PATCH run edits, at its current version.
type patchTask struct {
	id, owner uuid.UUID
	version   int
}

// pickPatchTasks chooses n tasks of the users, spread over them, for the
// PATCH runs.
func pickPatchTasks(ctx context.Context, pool *pgxpool.Pool, users []uuid.UUID, n int) ([]uuid.UUID, error) {
	rows, err := pool.Query(ctx, `
SELECT id FROM (
    SELECT id, row_number() OVER (PARTITION BY user_id ORDER BY created_at DESC) AS k, user_id
    FROM todos WHERE user_id = ANY($1)
) AS t ORDER BY k, user_id LIMIT $2`, users, n)
	if err != nil {
		return nil, fmt.Errorf("pick tasks to patch: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("pick tasks to patch: %w", err)
	}
	if len(ids) < n {
		return nil, fmt.Errorf("pick tasks to patch: %d of %d", len(ids), n)
	}
	return ids, nil
}

// currentVersions reads the tasks' owners and versions, just before a run.
func currentVersions(ctx context.Context, pool *pgxpool.Pool, ids []uuid.UUID) ([]patchTask, error) {
	rows, err := pool.Query(ctx, `SELECT id, user_id, version FROM todos WHERE id = ANY($1) ORDER BY id`, ids)
	if err != nil {
		return nil, fmt.Errorf("read task versions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (patchTask, error) {
		var t patchTask
		err := r.Scan(&t.id, &t.owner, &t.version)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("read task versions: %w", err)
	}
	if len(out) != len(ids) {
		return nil, fmt.Errorf("read task versions: %d of %d tasks exist", len(out), len(ids))
	}
	return out, nil
}

// someTasks returns up to perUser task ids of each user (newest first),
// for GET /v1/todos/{id}.
func someTasks(ctx context.Context, pool *pgxpool.Pool, users []uuid.UUID, perUser int) ([]patchTask, error) {
	rows, err := pool.Query(ctx, `
SELECT id, user_id, version FROM (
    SELECT id, user_id, version, row_number() OVER (PARTITION BY user_id ORDER BY created_at DESC) AS k
    FROM todos WHERE user_id = ANY($1)
) AS t WHERE k <= $2 ORDER BY k, user_id`, users, perUser)
	if err != nil {
		return nil, fmt.Errorf("pick tasks: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (patchTask, error) {
		var t patchTask
		err := r.Scan(&t.id, &t.owner, &t.version)
		return t, err
	})
}
