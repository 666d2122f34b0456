package postgres_test

import (
	"context"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/domain"
)

// freezer is a TCP proxy in front of the server that can stop forwarding
// in both directions, as a frozen server (SIGSTOP, a VM paused, a network
// black hole) behaves: connections stay open, the kernel still accepts new
// ones, and nothing is ever answered.
type freezer struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	frozen bool
	thawed *sync.Cond
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newFreezer(t *testing.T, target string) *freezer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{ln: ln, target: target}
	f.thawed = sync.NewCond(&f.mu)
	f.wg.Go(f.serve)
	t.Cleanup(func() {
		f.thaw()
		_ = ln.Close()
		f.mu.Lock()
		for _, c := range f.conns {
			_ = c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return f
}

func (f *freezer) serve() {
	for {
		client, err := f.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", f.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		f.mu.Lock()
		f.conns = append(f.conns, client, server)
		f.mu.Unlock()
		f.wg.Go(func() { f.pipe(server, client) })
		f.wg.Go(func() { f.pipe(client, server) })
	}
}

// pipe copies from src to dst, holding each chunk while frozen.
func (f *freezer) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			f.mu.Lock()
			for f.frozen {
				f.thawed.Wait()
			}
			f.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (f *freezer) freeze() {
	f.mu.Lock()
	f.frozen = true
	f.mu.Unlock()
}

func (f *freezer) thaw() {
	f.mu.Lock()
	f.frozen = false
	f.mu.Unlock()
	f.thawed.Broadcast()
}

// through returns rawURL with its host and port replaced by the proxy's.
func through(t *testing.T, rawURL string, proxy net.Listener) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = proxy.Addr().String()
	return u.String()
}

func targetOf(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func openWith(t *testing.T, rawURL string, opts postgres.Options) *postgres.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := postgres.OpenWith(ctx, rawURL, opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(db.Close)
	return db
}

// TestAStoreAnswersUnavailableWithinTheQueryTimeoutWhenTheServerFreezes
// is the frozen database of issue 13: with the server silent, a read, a
// transaction and a new connection each give up after the query timeout
// with CodeUnavailable (a 503 for the client), the pool holds no
// connection afterwards, and once the server answers again the same store
// serves.
func TestAStoreAnswersUnavailableWithinTheQueryTimeoutWhenTheServerFreezes(t *testing.T) {
	const timeout = 300 * time.Millisecond
	direct := pgtest.NewURL(t)
	owner := newTaskOwner(t, openWith(t, direct, postgres.Options{}), "frozen")
	proxy := newFreezer(t, targetOf(t, direct))
	db := openWith(t, through(t, direct, proxy.ln), postgres.Options{QueryTimeout: timeout, ConnectTimeout: timeout, MaxConns: 2})
	todos := postgres.NewTodoStore(db)
	td := createTodo(t, todos, domain.Todo{ID: domain.TodoID(uuid.NewString()), Owner: owner, Title: "before the freeze"})

	proxy.freeze()
	for _, op := range []struct {
		name string
		run  func(context.Context) error
	}{
		{"read", func(ctx context.Context) error { _, err := todos.GetTodo(ctx, owner, td.ID); return err }},
		{"transaction", func(ctx context.Context) error {
			_, err := todos.UpdateTodo(ctx, owner, td.ID, func(t domain.Todo) (domain.Todo, error) { t.Done = true; return t, nil })
			return err
		}},
		// The two connections given up on above are still being closed
		// (see below): this one waits for a slot or connects through the
		// frozen proxy, and the query timeout ends either.
		{"third operation", func(ctx context.Context) error { _, err := todos.GetTodo(ctx, owner, td.ID); return err }},
	} {
		start := time.Now()
		err := op.run(context.Background())
		took := time.Since(start)
		t.Logf("%s with the server frozen: %s after %s", op.name, domain.ErrorCode(err), took.Round(time.Millisecond))
		if domain.ErrorCode(err) != domain.CodeUnavailable {
			t.Errorf("%s: %v, want unavailable", op.name, err)
		}
		if took > timeout+time.Second {
			t.Errorf("%s took %s with a query timeout of %s", op.name, took, timeout)
		}
	}

	// pgx closes a connection it gave up on in the background, after a
	// cancel request to the server (up to 15 s); the pool's slot is free
	// once that is done, soon after the server answers again.
	proxy.thaw()
	thawed := time.Now()
	waitReleased(t, db, 5*time.Second)
	t.Logf("every pool slot free %s after the server answered again", time.Since(thawed).Round(time.Millisecond))
	if _, err := todos.GetTodo(context.Background(), owner, td.ID); err != nil {
		t.Fatalf("after the server answers again: %v", err)
	}
}

// TestServerTimeoutsAreSetOnEveryConnection: the pool's connections carry
// statement_timeout, lock_timeout and idle_in_transaction_session_timeout
// from the options, and a URL that sets one keeps its own.
func TestServerTimeoutsAreSetOnEveryConnection(t *testing.T) {
	direct := pgtest.NewURL(t)
	opts := postgres.Options{StatementTimeout: 1500 * time.Millisecond, LockTimeout: 700 * time.Millisecond,
		IdleInTransactionTimeout: 30 * time.Second}
	for _, tc := range []struct {
		name string
		url  string
		want [3]string
	}{
		{"from the options", direct, [3]string{"1500ms", "700ms", "30s"}},
		{"the URL's parameter wins", direct + "&statement_timeout=2000", [3]string{"2s", "700ms", "30s"}},
		{"the URL's options wins", direct + "&options=-c%20lock_timeout%3D9000", [3]string{"1500ms", "9s", "30s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openWith(t, tc.url, opts)
			var got [3]string
			err := db.Pool().QueryRow(context.Background(),
				"SELECT current_setting('statement_timeout'), current_setting('lock_timeout'), current_setting('idle_in_transaction_session_timeout')").
				Scan(&got[0], &got[1], &got[2])
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("statement, lock, idle-in-transaction timeouts = %v, want %v", got, tc.want)
			}
		})
	}
}

// lockTodo holds a row lock on the task in a transaction of its own until
// the test ends, so that a store's write on it waits.
func lockTodo(t *testing.T, db *postgres.DB, id domain.TodoID) {
	t.Helper()
	tx, err := db.Pool().Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	if _, err := tx.Exec(context.Background(), "SELECT 1 FROM todos WHERE id = $1 FOR UPDATE", string(id)); err != nil {
		t.Fatal(err)
	}
}

// TestTheServerEndsAStatementPastItsTimeoutAsUnavailable: a write waiting
// on a lock past statement_timeout or lock_timeout is ended by the server
// itself, and the store answers unavailable (a 503), not an internal
// error.
func TestTheServerEndsAStatementPastItsTimeoutAsUnavailable(t *testing.T) {
	for _, opts := range []postgres.Options{
		{StatementTimeout: 200 * time.Millisecond},
		{LockTimeout: 200 * time.Millisecond},
	} {
		direct := pgtest.NewURL(t)
		holder := openWith(t, direct, postgres.Options{})
		owner := newTaskOwner(t, holder, "locked")
		todos := postgres.NewTodoStore(openWith(t, direct, opts))
		td := createTodo(t, todos, domain.Todo{ID: domain.TodoID(uuid.NewString()), Owner: owner, Title: "locked"})
		lockTodo(t, holder, td.ID)

		start := time.Now()
		_, err := todos.UpdateTodo(context.Background(), owner, td.ID, func(t domain.Todo) (domain.Todo, error) { return t, nil })
		if domain.ErrorCode(err) != domain.CodeUnavailable || time.Since(start) > 5*time.Second {
			t.Errorf("%+v: a write waiting on a lock got %v after %s; want unavailable after about 200ms", opts, err, time.Since(start))
		}
	}
}

// TestAQueryTimeoutFreesTheConnectionAndTheServerEndsTheStatement proves
// what happens to a statement the client stops waiting for on a live
// server: pgx gives up on the connection at once, sends the server a
// cancel request and closes it, so the pool's slot is free and the
// backend, with its place in the lock queue, is gone long before
// statement_timeout (which stays the server's own guard for a client that
// cannot reach it).
func TestAQueryTimeoutFreesTheConnectionAndTheServerEndsTheStatement(t *testing.T) {
	direct := pgtest.NewURL(t)
	holder := openWith(t, direct, postgres.Options{})
	owner := newTaskOwner(t, holder, "waiter")
	db := openWith(t, direct+"&application_name=bound-waiter", postgres.Options{
		QueryTimeout: 300 * time.Millisecond, StatementTimeout: 1500 * time.Millisecond})
	todos := postgres.NewTodoStore(db)
	td := createTodo(t, todos, domain.Todo{ID: domain.TodoID(uuid.NewString()), Owner: owner, Title: "contended"})
	lockTodo(t, holder, td.ID)

	start := time.Now()
	_, err := todos.UpdateTodo(context.Background(), owner, td.ID, func(t domain.Todo) (domain.Todo, error) { return t, nil })
	gaveUp := time.Since(start)
	if domain.ErrorCode(err) != domain.CodeUnavailable || gaveUp > 2*time.Second {
		t.Fatalf("a write waiting on a lock: %v after %s; want unavailable after the 300ms query timeout", err, gaveUp)
	}
	waitReleased(t, db, 2*time.Second)
	t.Logf("the pool's slot was free %s after the client gave up", (time.Since(start) - gaveUp).Round(time.Millisecond))
	for {
		var waiting int
		if err := holder.Pool().QueryRow(context.Background(),
			"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bound-waiter' AND state = 'active'").Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting == 0 {
			t.Logf("client gave up after %s; the server ended the backend by %s", gaveUp.Round(time.Millisecond),
				time.Since(start).Round(time.Millisecond))
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("the abandoned statement still runs on the server after %s", time.Since(start))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitReleased waits until the pool holds no acquired connection.
func waitReleased(t *testing.T, db *postgres.DB, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for db.Pool().Stat().AcquiredConns() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still acquired %s after the timeout", db.Pool().Stat().AcquiredConns(), within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestConnectTimeoutEndsAConnectionAttemptTheServerNeverAnswers: a server
// that accepts TCP connections and says nothing fails OpenWith after the
// connect timeout, not after the caller's (here: none) deadline.
func TestConnectTimeoutEndsAConnectionAttemptTheServerNeverAnswers(t *testing.T) {
	direct := pgtest.NewURL(t)
	proxy := newFreezer(t, targetOf(t, direct))
	proxy.freeze()
	start := time.Now()
	db, err := postgres.OpenWith(context.Background(), through(t, direct, proxy.ln), postgres.Options{ConnectTimeout: 300 * time.Millisecond})
	if err == nil {
		db.Close()
		t.Fatal("connected to a server that never answers")
	}
	if took := time.Since(start); took > 2*time.Second || domain.ErrorCode(err) != domain.CodeUnavailable {
		t.Errorf("open against a silent server: %v after %s; want unavailable after about 300ms", err, took)
	}
}
