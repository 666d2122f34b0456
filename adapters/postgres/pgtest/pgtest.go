// Package pgtest gives each test its own fresh, migrated PostgreSQL
// database.
//
// The server is chosen once per test process: TEST_DATABASE_URL if set
// (any postgres:// URL of a role that may create databases), else a
// testcontainers PostgreSQL container when a Docker engine answers, else a
// private cluster of the local PostgreSQL binaries (pgcluster) in a
// temporary directory. With none of them, tests are skipped, or fail when
// CI is "true" or "1".
//
// Every package using pgtest calls Main from its TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgcluster"
	"github.com/miniback/miniback/migrations"
)

const (
	// containerImage is the PostgreSQL image used when Docker answers.
	containerImage = "postgres:16-alpine"
	// templatePrefix and testPrefix name the databases pgtest creates.
	templatePrefix = "miniback_tmpl_"
	testPrefix     = "miniback_test_"
	// templateLockKey is the advisory lock taken while building the
	// template, since `go test ./...` runs packages as parallel processes
	// that may share one server.
	templateLockKey int64 = 0x6d696e69_62616b31 // "minibak1"
	// clusterDirPrefix names the temporary directories of ephemeral
	// clusters; the creating process's pid follows it.
	clusterDirPrefix = "miniback-pgtest-"
)

var (
	mainCalled atomic.Bool
	setupOnce  sync.Once
	shared     *server
	setupErr   error
)

// server is the PostgreSQL server of this test process.
type server struct {
	source   string   // where it came from, for messages
	base     *url.URL // URL of its maintenance database
	admin    *pgxpool.Pool
	template string       // migrated database every test database copies
	stop     func() error // ends what pgtest started; nil for TEST_DATABASE_URL
}

// unavailableError says no server could be found or started.
type unavailableError struct{ reasons []string }

func (e *unavailableError) Error() string {
	return "no PostgreSQL server: " + strings.Join(e.reasons, "; ")
}

// Main runs the tests, then stops the server pgtest started for them (if
// any) and removes its files, and exits with the tests' status.
func Main(m *testing.M) {
	mainCalled.Store(true)
	code := m.Run()
	if shared != nil {
		if err := shared.close(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: stop test server: %v\n", err)
		}
	}
	os.Exit(code)
}

// NewDB returns a pool on a fresh, migrated database of its own, closed
// and dropped when the test ends.
func NewDB(tb testing.TB) *postgres.DB {
	tb.Helper()
	dbURL := NewURL(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		tb.Fatalf("pgtest: open test database: %v", err)
	}
	tb.Cleanup(db.Close)
	return db
}

// NewURL returns the URL of a fresh, migrated database of its own, dropped
// when the test ends (open connections are closed then). It suits tests
// that hand the URL to the program under test.
func NewURL(tb testing.TB) string {
	tb.Helper()
	s := sharedServer(tb)
	name := testPrefix + randomHex(6)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := s.admin.Exec(ctx, "CREATE DATABASE "+ident(name)+" TEMPLATE "+ident(s.template)); err != nil {
		tb.Fatalf("pgtest: create test database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := s.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop test database %s: %v", name, err)
		}
	})
	return s.url(name)
}

// sharedServer returns this process's server, finding or starting it on
// first use. Without one it skips the test, or fails it on CI.
func sharedServer(tb testing.TB) *server {
	tb.Helper()
	if !mainCalled.Load() {
		tb.Fatal("pgtest: the package's TestMain must call pgtest.Main(m), which stops the test server afterwards")
	}
	setupOnce.Do(func() {
		start := time.Now()
		shared, setupErr = setup()
		if setupErr == nil {
			tb.Logf("pgtest: using %s (ready in %s)", shared.source, time.Since(start).Round(time.Millisecond))
		}
	})
	var unavailable *unavailableError
	switch {
	case setupErr == nil:
		return shared
	case errors.As(setupErr, &unavailable) && !inCI():
		tb.Skipf("pgtest: %v", setupErr)
	default:
		tb.Fatalf("pgtest: %v", setupErr)
	}
	return nil
}

func inCI() bool {
	ci := os.Getenv("CI")
	return ci == "true" || ci == "1"
}

// setup finds or starts a server and makes the migrated template on it.
func setup() (*server, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := findServer(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.makeTemplate(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("%s: %w", s.source, err), s.close())
	}
	return s, nil
}

// findServer picks the server: TEST_DATABASE_URL, a container, or a
// private cluster, in that order. A TEST_DATABASE_URL that does not work is
// an error, not a reason to fall back: the caller asked for that server.
func findServer(ctx context.Context) (*server, error) {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		s, err := connect(ctx, "TEST_DATABASE_URL", u, nil)
		if err != nil {
			return nil, fmt.Errorf("TEST_DATABASE_URL: %w", err)
		}
		return s, nil
	}
	var reasons []string
	s, err := startContainer(ctx)
	if err == nil {
		return s, nil
	}
	reasons = append(reasons, "testcontainers: "+err.Error())
	s, err = startCluster(ctx)
	if err == nil {
		return s, nil
	}
	reasons = append(reasons, "local binaries: "+err.Error())
	reasons = append(reasons, "set TEST_DATABASE_URL to use a server of your own")
	return nil, &unavailableError{reasons: reasons}
}

// connect opens the admin pool of the server whose maintenance database is
// at rawURL. stop, if not nil, ends the server; it is also called when
// connecting fails.
func connect(ctx context.Context, source, rawURL string, stop func() error) (*server, error) {
	fail := func(err error) (*server, error) {
		if stop != nil {
			err = errors.Join(err, stop())
		}
		return nil, err
	}
	base, err := url.Parse(rawURL)
	if err != nil || (base.Scheme != "postgres" && base.Scheme != "postgresql") {
		return fail(errors.New("want a postgres:// URL"))
	}
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return fail(err)
	}
	cfg.MaxConns = 4
	admin, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fail(err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := admin.Ping(pingCtx); err != nil {
		admin.Close()
		return fail(err)
	}
	return &server{source: source, base: base, admin: admin, stop: stop}, nil
}

// startContainer starts a PostgreSQL container, if a Docker engine answers
// within two seconds.
func startContainer(ctx context.Context) (*server, error) {
	if err := pingDocker(ctx); err != nil {
		return nil, err
	}
	ctr, err := tcpostgres.Run(ctx, containerImage,
		testcontainers.WithLogger(tclog.NewNoopLogger()),
		tcpostgres.BasicWaitStrategies(),
	)
	stop := func() error { return testcontainers.TerminateContainer(ctr) }
	if err != nil {
		return nil, errors.Join(err, stop())
	}
	u, err := ctr.ConnectionString(ctx, "sslmode=disable")
	if err != nil {
		return nil, errors.Join(err, stop())
	}
	return connect(ctx, "a testcontainers "+containerImage+" container", u, stop)
}

// pingDocker checks, quickly and quietly, that a Docker engine answers.
func pingDocker(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("no Docker engine: %w", err)
	}
	defer cli.Close()
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		return fmt.Errorf("no Docker engine: %w", err)
	}
	return nil
}

// startCluster starts a private cluster of the local PostgreSQL binaries
// in a temporary directory, which its stop function removes.
func startCluster(ctx context.Context) (*server, error) {
	reapOrphanClusters()
	dir, err := os.MkdirTemp("", clusterDirPrefix+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return nil, err
	}
	c, err := pgcluster.Start(ctx, pgcluster.Options{
		DataDir: filepath.Join(dir, "data"),
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	stop := func() error { return errors.Join(c.Close(), os.RemoveAll(dir)) }
	return connect(ctx, "a private PostgreSQL cluster in "+dir, c.URL("postgres"), stop)
}

// reapOrphanClusters removes the directories of ephemeral clusters whose
// test process died without calling Main's cleanup (killed, or timed out).
// Their servers notice that their data directory is gone and shut
// themselves down within a minute.
func reapOrphanClusters() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), clusterDirPrefix+"*"))
	for _, dir := range dirs {
		pidText, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(dir), clusterDirPrefix), "-")
		pid, err := strconv.Atoi(pidText)
		if err == nil && processGone(pid) {
			_ = os.RemoveAll(dir)
		}
	}
}

// processGone reports whether no process pid exists.
func processGone(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return true
	}
	return errors.Is(p.Signal(syscall.Signal(0)), os.ErrProcessDone)
}

// makeTemplate makes sure the server has the migrated template database
// of the current migrations. Its name carries a hash of the migration
// files, so a changed migration gets a new template. Processes sharing the
// server take turns through an advisory lock; the template is built under
// a temporary name and renamed when complete, so a process that dies while
// building leaves nothing another would mistake for a template.
func (s *server) makeTemplate(ctx context.Context) error {
	hash, err := migrationsHash()
	if err != nil {
		return err
	}
	s.template = templatePrefix + hash
	building := s.template + "_building"

	conn, err := s.admin.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire admin connection: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLockKey); err != nil {
		return fmt.Errorf("lock template: %w", err)
	}
	defer func() {
		// Failing to unlock is harmless: closing the session unlocks too.
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", templateLockKey)
	}()

	var exists bool
	err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", s.template).Scan(&exists)
	if err != nil || exists {
		return err
	}
	steps := []string{
		"DROP DATABASE IF EXISTS " + ident(building) + " WITH (FORCE)",
		"CREATE DATABASE " + ident(building) + " TEMPLATE template0",
	}
	for _, sql := range steps {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("create template: %w", err)
		}
	}
	if err := migrate(ctx, s.url(building)); err != nil {
		return err
	}
	steps = []string{
		// Nobody connects to a template: a connection would make every
		// CREATE DATABASE ... TEMPLATE fail.
		"ALTER DATABASE " + ident(building) + " WITH ALLOW_CONNECTIONS false",
		"ALTER DATABASE " + ident(building) + " RENAME TO " + ident(s.template),
	}
	for _, sql := range steps {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("finish template: %w", err)
		}
	}
	return nil
}

// migrate applies the migrations to the database at dbURL.
func migrate(ctx context.Context, dbURL string) error {
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("open template: %w", err)
	}
	defer db.Close()
	if err := postgres.Migrate(ctx, db); err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	return nil
}

// migrationsHash returns a short hash of the migration files' names and
// contents.
func migrationsHash() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash migrations: %w", err)
	}
	// The job queue's migrations come with the river module, not from
	// migrations.FS: a river upgrade must make a new template too.
	river, err := postgres.QueueSchemaVersion()
	if err != nil {
		return "", err
	}
	fmt.Fprintf(h, "river\x00%d", river)
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// url returns the URL of database name on the server.
func (s *server) url(name string) string {
	u := *s.base
	u.Path, u.RawPath = "/"+name, ""
	return u.String()
}

// close closes the admin pool and stops what pgtest started.
func (s *server) close() error {
	s.admin.Close()
	if s.stop == nil {
		return nil
	}
	return s.stop()
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// SkipIfShort skips a test that builds or starts the whole service (and
// its database) when the suite runs with -short on a developer's machine.
// Under CI it never skips: CI must run every end-to-end test, so -short
// there fails the test instead.
func SkipIfShort(tb testing.TB, what string) {
	tb.Helper()
	if !testing.Short() {
		return
	}
	if inCI() {
		tb.Fatalf("%s: -short is not allowed under CI, which must run this test", what)
	}
	tb.Skip(what + "; skipped with -short")
}
