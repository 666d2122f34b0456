package postgres_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// killer is a pgx tracer that breaks the connection about to run the
// statement numbered at (from 1), just before it is sent, so the store
// sends it on a connection that is gone.
type killer struct {
	at     int
	seen   int
	kill   func(conn *pgx.Conn) error
	killed bool
	err    error
}

func (k *killer) TraceQueryStart(ctx context.Context, conn *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	k.seen++
	if k.seen == k.at {
		k.err, k.killed = k.kill(conn), true
	}
	return ctx
}

func (k *killer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// terminate ends conn's backend with pg_terminate_backend from another
// connection and waits until it exited. PostgreSQL sends the client a
// FATAL 57P01 before it closes the socket (as on a fast shutdown).
func terminate(admin *pgxpool.Pool) func(*pgx.Conn) error {
	return func(conn *pgx.Conn) error {
		var gone bool
		err := admin.QueryRow(context.Background(), "SELECT pg_terminate_backend($1, 10000)", conn.PgConn().PID()).Scan(&gone)
		if err == nil && !gone {
			err = errors.New("the backend did not exit")
		}
		return err
	}
}

// cutter is a TCP proxy in front of the server whose cut drops every
// connection through it without a word, as a crash, `pg_ctl restart -m
// immediate` (which sends only a WARNING) or a network failure does: pgx
// then reads an unexpected EOF, and "conn closed" on the next use.
type cutter struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newCutter(t *testing.T, target string) *cutter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cutter{ln: ln, target: target}
	c.wg.Go(c.serve)
	t.Cleanup(func() { _ = ln.Close(); c.cut(); c.wg.Wait() })
	return c
}

func (c *cutter) serve() {
	for {
		client, err := c.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", c.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		c.mu.Lock()
		c.conns = append(c.conns, client, server)
		c.mu.Unlock()
		c.wg.Go(func() { _, _ = io.Copy(server, client); _ = server.Close() })
		c.wg.Go(func() { _, _ = io.Copy(client, server); _ = client.Close() })
	}
}

func (c *cutter) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		_ = conn.Close()
	}
	c.conns = nil
}

// killedBefore returns a DB like db, reaching the server through a
// cutter, whose connection is broken by how just before its statement
// number at, and the killer to ask whether that happened.
func killedBefore(t *testing.T, db *postgres.DB, at int, how string) (*postgres.DB, *killer) {
	t.Helper()
	cfg := db.Pool().Config()
	proxy := newCutter(t, net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port))))
	k := &killer{at: at, kill: terminate(db.Pool())}
	if how == "cut" {
		k.kill = func(*pgx.Conn) error { proxy.cut(); return nil }
	}
	addr := proxy.ln.Addr().(*net.TCPAddr)
	cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Fallbacks = addr.IP.String(), uint16(addr.Port), nil
	cfg.ConnConfig.Tracer = k
	cfg.MaxConns = 1 // the statements run one after the other, as k counts them
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("pool: %v", err)
	}
	return postgres.FromPool(pool), k
}

// TestStoresAnswerUnavailableWhenTheirConnectionIsKilled kills the
// connection of each store operation before each of its statements in
// turn (BEGIN, the locking read, the write, COMMIT, ...) and requires the
// answer to be a *domain.Error with CodeUnavailable, never an internal
// error: the HTTP layer turns that into 503 with Retry-After.
func TestStoresAnswerUnavailableWhenTheirConnectionIsKilled(t *testing.T) {
	for _, how := range []string{"terminate", "cut"} {
		t.Run(how, func(t *testing.T) { testConnectionLoss(t, how) })
	}
}

func testConnectionLoss(t *testing.T, how string) {
	db := pgtest.NewDB(t)
	ctx := context.Background()
	alice := newTaskOwner(t, db, "alice")
	task := createTodo(t, postgres.NewTodoStore(db), domain.Todo{Owner: alice, Title: "milk"})
	doomed := createTodo(t, postgres.NewTodoStore(db), domain.Todo{Owner: alice, Title: "doomed"})
	upload := newUpload(t, postgres.NewUploadStore(db), alice, time.Hour)
	newUpload(t, postgres.NewUploadStore(db), alice, -time.Hour) // for the cleaner to claim
	_, tok := startSession(t, postgres.NewSessionStore(db), alice)

	cases := []struct {
		name string
		op   func(db *postgres.DB) error
	}{
		{"get user", func(db *postgres.DB) error {
			_, err := postgres.NewUserStore(db).GetUser(ctx, alice)
			return err
		}},
		{"update user", func(db *postgres.DB) error {
			_, err := postgres.NewUserStore(db).UpdateUser(ctx, alice, func(u domain.User) (domain.User, error) {
				u.Nickname = "Alice"
				return u, nil
			})
			return err
		}},
		{"wechat first login", func(db *postgres.DB) error {
			_, _, err := postgres.NewUserStore(db).UpsertWeChatUser(ctx, identity("wxapp", "open-bob", "", "key"))
			return err
		}},
		{"create password user", func(db *postgres.DB) error {
			_, err := postgres.NewCredentialStore(db).CreatePasswordUser(ctx, credential("carol", "carol@example.com", hashA))
			return err
		}},
		{"count attempt", func(db *postgres.DB) error {
			_, err := postgres.NewAttemptThrottle(db).CountAttempt(ctx,
				domain.ThrottleKey{Scope: domain.ThrottleAccount, Key: "name:alice"}, t0, time.Minute)
			return err
		}},
		{"create todo once", func(db *postgres.DB) error {
			_, _, err := postgres.NewTodoStore(db).CreateTodoOnce(ctx,
				domain.Todo{Owner: alice, Title: "eggs", Priority: domain.PriorityNormal, Version: 1},
				ports.IdempotencyKey{Key: "k1", RequestHash: []byte{1}, Now: time.Now()})
			return err
		}},
		{"update todo", func(db *postgres.DB) error {
			_, err := postgres.NewTodoStore(db).UpdateTodo(ctx, alice, task.ID, func(td domain.Todo) (domain.Todo, error) {
				td.Title, td.Version = "oat milk", td.Version+1
				return td, nil
			})
			return err
		}},
		{"delete todo", func(db *postgres.DB) error {
			return postgres.NewTodoStore(db).DeleteTodo(ctx, alice, doomed.ID, func(domain.Todo) error { return nil })
		}},
		{"list todos", func(db *postgres.DB) error {
			_, err := postgres.NewTodoStore(db).ListTodos(ctx, ports.TodoQuery{Owner: alice,
				Sort: domain.TodoSort{Field: domain.SortByDueAt}, Limit: 10})
			return err
		}},
		{"attach", func(db *postgres.DB) error {
			_, _, err := postgres.NewAttachmentStore(db).Attach(ctx, alice, task.ID, upload.ID, 20, t0)
			return err
		}},
		{"update upload", func(db *postgres.DB) error {
			_, err := postgres.NewUploadStore(db).UpdateUpload(ctx, upload.ID, func(u domain.Upload) (domain.Upload, error) {
				return u.Verify(domain.ObjectInfo{Size: 10, ContentType: "text/plain"}, uploadT0.Add(time.Minute)), nil
			})
			return err
		}},
		{"delete expired uploads", func(db *postgres.DB) error {
			_, err := postgres.NewUploadStore(db).DeleteExpiredUploads(ctx, uploadT0, 10,
				func(context.Context, domain.Upload) error { return nil })
			return err
		}},
		{"rotate refresh token", func(db *postgres.DB) error {
			_, err := postgres.NewSessionStore(db).RotateRefreshToken(ctx, tok.Hash(), newToken(t).Hash(), t0.Add(time.Hour), refreshAt(t0.Add(time.Hour)))
			return err
		}},
		{"read revocations", func(db *postgres.DB) error {
			_, _, err := postgres.NewSessionStore(db).RevocationsSince(ctx, ports.RevocationCursor{}, t0)
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for at := 1; ; at++ {
				killedDB, k := killedBefore(t, db, at, how)
				err := c.op(killedDB)
				killedDB.Close()
				if k.err != nil {
					t.Fatalf("break the connection: %v", k.err)
				}
				if !k.killed {
					// Fewer than at statements: the operation ran untouched.
					if err != nil {
						t.Fatalf("without a kill: %v", err)
					}
					if at == 1 {
						t.Fatal("the operation ran no statement")
					}
					return
				}
				var de *domain.Error
				if !errors.As(err, &de) || de.Code != domain.CodeUnavailable {
					t.Errorf("broken before statement %d: %T %v; want a *domain.Error %s", at, err, err, domain.CodeUnavailable)
				}
			}
		})
	}
}

// TestUpdateTodoAnswersUnavailableWhenItsBackendIsKilledMidStatement kills
// the backend while the store's SELECT ... FOR UPDATE is in flight (it
// waits for a row lock another transaction holds).
func TestUpdateTodoAnswersUnavailableWhenItsBackendIsKilledMidStatement(t *testing.T) {
	db := pgtest.NewDB(t)
	ctx := context.Background()
	alice := newTaskOwner(t, db, "alice")
	todos := postgres.NewTodoStore(db)
	task := createTodo(t, todos, domain.Todo{Owner: alice, Title: "milk"})

	holder, err := db.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = holder.Rollback(ctx) }()
	if _, err := holder.Exec(ctx, "SELECT 1 FROM todos WHERE id = $1 FOR UPDATE", uuid.MustParse(string(task.ID))); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() {
		_, err := todos.UpdateTodo(ctx, alice, task.ID, func(td domain.Todo) (domain.Todo, error) {
			td.Title, td.Version = "oat milk", td.Version+1
			return td, nil
		})
		done <- err
	}()

	// Find the store's backend once it waits for the lock, and kill it.
	var waiter int32
	for waiter == 0 {
		err := db.Pool().QueryRow(ctx, `SELECT coalesce(min(pid), 0) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiter)
		if err != nil {
			t.Fatalf("find the waiting backend: %v", err)
		}
		if waiter == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	var killed bool
	if err := db.Pool().QueryRow(ctx, "SELECT pg_terminate_backend($1, 10000)", waiter).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminate backend %d: %v, %v", waiter, killed, err)
	}

	err = <-done
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.CodeUnavailable {
		t.Fatalf("UpdateTodo = %T %v; want a *domain.Error %s", err, err, domain.CodeUnavailable)
	}
	// The store's pool recovers: the next operation gets a fresh connection.
	if err := holder.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := todos.GetTodo(ctx, alice, task.ID); err != nil {
		t.Fatalf("GetTodo after the kill: %v", err)
	}
}
