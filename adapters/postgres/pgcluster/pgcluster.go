// Package pgcluster runs a private PostgreSQL server from the locally
// installed binaries (initdb, pg_ctl, postgres). The run command uses it as
// its embedded default database and pgtest as its last-resort test server.
//
// The server listens on 127.0.0.1 only and trusts every local connection as
// the superuser "postgres": it is for development and tests, not production.
// Several processes may open one data directory: the first owns the server,
// the others borrow it (see Cluster).
package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Options configure Start.
type Options struct {
	// DataDir is the cluster's data directory. Start creates and initialises
	// it (initdb) unless it already holds a cluster (a PG_VERSION file).
	DataDir string
	// Port is the TCP port to listen on at 127.0.0.1; 0 picks a free one.
	// A Cluster that borrows a running server uses that server's port.
	Port int
	// Logger receives progress messages; nil discards them.
	Logger *slog.Logger
}

// Cluster is a PostgreSQL server on a data directory, opened by Start.
//
// One process at a time owns a data directory: it holds an exclusive
// flock on DataDir+".lock" for as long as its Cluster is open, started the
// server, and stops it at Close. Any other process that opens the
// directory meanwhile (a second server, "miniback admin grant") borrows
// the running server: it connects to it and leaves it running at Close.
// The kernel drops the lock when its holder dies, however it dies, so a
// lock that can be taken means a server still running on the directory
// was left by a dead owner: the new owner stops it and starts its own.
type Cluster struct {
	bin     string   // directory holding initdb, pg_ctl and postgres
	runAs   []string // command prefix running as the postgres user; nil unless root
	dataDir string   // absolute
	port    int
	log     *slog.Logger
	// lock is the owner's locked DataDir+".lock"; nil for a borrower and
	// after Close.
	lock *os.File
	// owned is whether this Cluster started the server and stops it.
	owned bool
}

// superuser is the cluster's superuser, made by initdb -U.
const superuser = "postgres"

// versionedBins is where Debian-style packages install each major
// version's binaries; a variable so tests can hide them.
var versionedBins = "/usr/lib/postgresql/*/bin"

// startAttempts bounds the retries when a picked free port is taken by
// someone else before the server binds it.
const startAttempts = 3

// borrowWait bounds how long Start waits for the server of a live owner
// to accept connections: the owner may be running initdb and starting it
// (pg_ctl waits up to 60 s).
const borrowWait = 3 * time.Minute

// pollInterval is how often a waiting Start looks at the owner again.
const pollInterval = 100 * time.Millisecond

// Start opens the cluster in opts.DataDir. When another live process owns
// the directory, Start borrows its server once it accepts connections.
// Otherwise this process becomes the owner: it initialises the cluster if
// needed and starts the server, returning once it accepts connections. As
// root it runs initdb and the server as the postgres user (PostgreSQL
// refuses to run as root), handing the data directory to that user and
// making its parent directories traversable.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.DataDir == "" {
		return nil, errors.New("pgcluster: Options.DataDir is required")
	}
	dataDir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: resolve data dir: %w", err)
	}
	c := &Cluster{dataDir: dataDir, port: opts.Port, log: opts.Logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Dir(dataDir), 0o700); err != nil {
		return nil, fmt.Errorf("pgcluster: create data dir: %w", err)
	}
	lock, err := os.OpenFile(c.lockPath(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: open lock file: %w", err)
	}
	waitUntil := time.Now().Add(borrowWait)
	for waited := false; ; waited = true {
		owned, err := tryLock(lock)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("pgcluster: lock %s: %w", c.lockPath(), err), lock.Close())
		}
		if owned {
			c.lock, c.owned = lock, true
			if err := c.startOwned(ctx); err != nil {
				return nil, errors.Join(err, c.unlock())
			}
			return c, nil
		}
		// A live process owns the directory: use its server once it is up.
		if port, ok := c.runningServer(ctx); ok {
			_ = lock.Close() // a borrower holds nothing
			if opts.Port != 0 && opts.Port != port {
				c.log.Warn("pgcluster: the running server listens on another port than the one asked for",
					"dir", dataDir, "port", port, "asked", opts.Port)
			}
			c.port = port
			c.log.Info("pgcluster: using the server of the process that owns the data dir; it stays running when this one exits",
				"dir", dataDir, "port", port, "owner_pid", c.ownerPID())
			return c, nil
		}
		if !waited {
			c.log.Info("pgcluster: waiting for the server of the process that owns the data dir",
				"dir", dataDir, "owner_pid", c.ownerPID())
		}
		if time.Now().After(waitUntil) {
			_ = lock.Close()
			return nil, fmt.Errorf("pgcluster: %s belongs to process %d, whose server did not accept connections within %s",
				dataDir, c.ownerPID(), borrowWait)
		}
		select {
		case <-ctx.Done():
			_ = lock.Close()
			return nil, fmt.Errorf("pgcluster: waiting for the server of process %d: %w", c.ownerPID(), ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

// startOwned initialises and starts the server of a data dir this process
// has just locked, recording its pid in the lock file for the messages of
// borrowers.
func (c *Cluster) startOwned(ctx context.Context) error {
	previous := c.ownerPID()
	if err := c.lock.Truncate(0); err != nil {
		return fmt.Errorf("pgcluster: write lock file: %w", err)
	}
	if _, err := c.lock.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		return fmt.Errorf("pgcluster: write lock file: %w", err)
	}
	var err error
	if c.bin, err = findBinDir(); err != nil {
		return err
	}
	if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
		return fmt.Errorf("pgcluster: create data dir: %w", err)
	}
	if os.Geteuid() == 0 {
		if c.runAs, err = handToPostgresUser(c.dataDir); err != nil {
			return err
		}
	}
	if err := c.initdb(ctx); err != nil {
		return err
	}
	if err := c.clearStalePID(ctx, previous); err != nil {
		return err
	}
	if err := c.start(ctx, c.port == 0); err != nil {
		return err
	}
	c.log.Info("pgcluster: server started", "dir", c.dataDir, "port", c.port, "bin", c.bin)
	return nil
}

// lockPath is the owner's lock file, beside the data dir: initdb wants
// an empty directory, and the lock must be held before initdb runs.
func (c *Cluster) lockPath() string { return c.dataDir + ".lock" }

// ownerPID is the pid the lock file names: the live owner's while it is
// locked, the last owner's otherwise; 0 when it names none.
func (c *Cluster) ownerPID() int {
	b, err := os.ReadFile(c.lockPath())
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// runningServer returns the port of the server running on the data dir
// once it accepts connections. Its postmaster.pid says where it listens
// and, since PostgreSQL 10, whether it is ready.
func (c *Cluster) runningServer(ctx context.Context) (int, bool) {
	b, err := os.ReadFile(filepath.Join(c.dataDir, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 4 {
		return 0, false // being written
	}
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || serverState(pid, c.dataDir) == gone {
		return 0, false // left by a crash: the owner is about to replace it
	}
	port, err := strconv.Atoi(strings.TrimSpace(lines[3]))
	if err != nil || port <= 0 {
		return 0, false
	}
	if len(lines) >= 8 && strings.TrimSpace(lines[7]) != "ready" {
		return 0, false // starting or stopping
	}
	pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(pingCtx, c.urlOn(port, "postgres"))
	if err != nil {
		return 0, false
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := conn.Ping(pingCtx); err != nil {
		return 0, false
	}
	return port, true
}

// Owner reports whether this Cluster started the server (and so stops it
// at Close) rather than borrowing another process's.
func (c *Cluster) Owner() bool { return c.owned }

// URL returns the connection URL of database dbname on the cluster.
func (c *Cluster) URL(dbname string) string { return c.urlOn(c.port, dbname) }

func (c *Cluster) urlOn(port int, dbname string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", superuser, port, url.PathEscape(dbname))
}

// CreateDatabase creates database name unless it exists.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("pgcluster: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if err != nil {
		return fmt.Errorf("pgcluster: look up database %q: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: created concurrently
		return nil
	}
	if err != nil {
		return fmt.Errorf("pgcluster: create database %q: %w", name, err)
	}
	return nil
}

// Close releases the cluster. The owner shuts its server down (fast mode:
// open transactions roll back), waits until it has exited and gives up the
// data dir; a borrower leaves the server running for its owner. Borrowers
// still connected when the owner closes lose their connections.
func (c *Cluster) Close() error {
	if !c.owned || c.lock == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	_, err := c.run(ctx, "pg_ctl", "stop", "-D", c.dataDir, "-m", "fast", "-w", "-t", "60")
	// Unlock even when the stop failed: the next owner then finds the
	// server orphaned and stops it itself.
	if err := errors.Join(err, c.unlock()); err != nil {
		return err
	}
	c.log.Info("pgcluster: server stopped", "dir", c.dataDir)
	return nil
}

// unlock gives up the ownership of the data dir.
func (c *Cluster) unlock() error {
	if c.lock == nil {
		return nil
	}
	err := c.lock.Close() // closing the file drops its flock
	c.lock = nil
	if err != nil {
		return fmt.Errorf("pgcluster: unlock: %w", err)
	}
	return nil
}

// initdb initialises the data directory unless it already holds a cluster.
func (c *Cluster) initdb(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(c.dataDir, "PG_VERSION")); err == nil {
		return nil
	}
	c.log.Info("pgcluster: initialising data dir", "dir", c.dataDir)
	_, err := c.run(ctx, "initdb", "-D", c.dataDir, "-U", superuser, "--auth=trust", "-E", "UTF8", "--locale=C")
	return err
}

// clearStalePID deals with a postmaster.pid left by an earlier owner that
// died without stopping its server (previousOwner is its pid, if known).
// Only the owner calls it, so no live process is using such a server: one
// still running is stopped, to start again with this run's options; a pid
// file whose server is gone is removed. When it cannot tell (no /proc), it
// leaves the file to the server, which does its own check.
func (c *Cluster) clearStalePID(ctx context.Context, previousOwner int) error {
	pidFile := filepath.Join(c.dataDir, "postmaster.pid")
	b, err := os.ReadFile(pidFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pgcluster: read postmaster.pid: %w", err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return fmt.Errorf("pgcluster: %s is not a postmaster.pid (first line %q)", pidFile, first)
	}
	switch serverState(pid, c.dataDir) {
	case running:
		c.log.Warn("pgcluster: stopping a server whose owning process is gone", "dir", c.dataDir, "pid", pid,
			"owner_pid", previousOwner)
		_, err := c.run(ctx, "pg_ctl", "stop", "-D", c.dataDir, "-m", "fast", "-w", "-t", "60")
		return err
	case gone:
		c.log.Warn("pgcluster: removing the postmaster.pid of a server that crashed", "dir", c.dataDir, "pid", pid)
		if err := os.Remove(pidFile); err != nil {
			return fmt.Errorf("pgcluster: remove stale postmaster.pid: %w", err)
		}
	}
	return nil
}

// start starts the server and waits until it is ready. With pickPort it
// picks a free port, and picks another if that one is taken meanwhile.
func (c *Cluster) start(ctx context.Context, pickPort bool) error {
	logFile := filepath.Join(c.dataDir, "postgres.log")
	for attempt := 1; ; attempt++ {
		if pickPort {
			port, err := freePort()
			if err != nil {
				return err
			}
			c.port = port
		}
		mark := fileSize(logFile)
		_, err := c.run(ctx, "pg_ctl", "start", "-D", c.dataDir, "-l", logFile, "-w", "-t", "60",
			"-o", c.serverOptions())
		if err == nil {
			return nil
		}
		tail := readFrom(logFile, mark)
		if pickPort && attempt < startAttempts && strings.Contains(tail, "could not bind") {
			continue
		}
		return fmt.Errorf("%w\nserver log %s:\n%s", err, logFile, tail)
	}
}

// serverOptions are the postgres command-line options; pg_ctl passes them
// through a shell, so paths are quoted.
func (c *Cluster) serverOptions() string {
	// The server creates its Unix socket in the data dir, away from the
	// system server's. A socket path must fit in 107 bytes; beyond that
	// the server listens on TCP only.
	socketDir := c.dataDir
	if len(socketDir)+len("/.s.PGSQL.65535") > 107 {
		socketDir = ""
	}
	return fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s", c.port, shellQuote(socketDir))
}

// run runs one of the PostgreSQL binaries, as the postgres user when
// needed, and returns its output; a failure's error includes the output.
func (c *Cluster) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	argv := append(slices.Clone(c.runAs), filepath.Join(c.bin, name))
	argv = append(argv, args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = c.dataDir // a directory the postgres user can enter
	// The server pg_ctl starts writes to its log file, not to our pipes;
	// WaitDelay guards against a child that keeps them open anyway.
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("pgcluster: %s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return out, nil
}

// findBinDir returns the directory holding initdb, pg_ctl and postgres: the
// one of initdb on PATH, else the newest /usr/lib/postgresql/*/bin.
func findBinDir() (string, error) {
	names := []string{"initdb", "pg_ctl", "postgres"}
	var dirs []string
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			if real, err := filepath.EvalSymlinks(p); err == nil {
				p = real
			}
			dirs = append(dirs, filepath.Dir(p))
		}
	}
	versioned, _ := filepath.Glob(versionedBins)
	slices.SortFunc(versioned, func(a, b string) int { return compareVersionDirs(b, a) }) // newest first
	dirs = append(dirs, versioned...)

	for _, dir := range dirs {
		if slices.IndexFunc(names, func(n string) bool { return !isExecutable(filepath.Join(dir, n)) }) < 0 {
			return dir, nil
		}
	}
	var missing []string
	for _, name := range names {
		_, err := exec.LookPath(name)
		if err != nil && !slices.ContainsFunc(versioned, func(d string) bool { return isExecutable(filepath.Join(d, name)) }) {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return "", fmt.Errorf("pgcluster: initdb, pg_ctl and postgres are not in one directory (searched %s)", strings.Join(dirs, ", "))
	}
	return "", fmt.Errorf("pgcluster: %s not found in PATH or %s: install the PostgreSQL server binaries (Debian/Ubuntu: apt-get install postgresql)",
		strings.Join(missing, ", "), versionedBins)
}

// compareVersionDirs orders /usr/lib/postgresql/<version>/bin paths by
// version number, so 15 sorts after 9.6.
func compareVersionDirs(a, b string) int {
	va := strings.Split(filepath.Base(filepath.Dir(a)), ".")
	vb := strings.Split(filepath.Base(filepath.Dir(b)), ".")
	for i := 0; i < len(va) && i < len(vb); i++ {
		na, _ := strconv.Atoi(va[i])
		nb, _ := strconv.Atoi(vb[i])
		if na != nb {
			return na - nb
		}
	}
	return len(va) - len(vb)
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// handToPostgresUser prepares dataDir for a server run as the postgres user
// by root: it owns the data dir and can traverse every parent. It returns
// the command prefix that runs a program as that user.
func handToPostgresUser(dataDir string) ([]string, error) {
	runuser, err := exec.LookPath("runuser")
	if err != nil {
		return nil, fmt.Errorf("pgcluster: running as root needs runuser to start PostgreSQL as the postgres user: %w", err)
	}
	u, err := user.Lookup(superuser)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: running as root needs a %q system user to run PostgreSQL: %w", superuser, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := chownTree(dataDir, uid, gid); err != nil {
		return nil, err
	}
	for dir := filepath.Dir(dataDir); ; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("pgcluster: %w", err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(dir, fi.Mode().Perm()|0o001); err != nil {
				return nil, fmt.Errorf("pgcluster: make %s traversable for the postgres user: %w", dir, err)
			}
		}
		if dir == filepath.Dir(dir) {
			return []string{runuser, "-u", superuser, "--"}, nil
		}
	}
}

// chownTree gives dir and everything below it to uid:gid, unless dir is
// already theirs (then so is its content, from an earlier run).
func chownTree(dir string, uid, gid int) error {
	if owner, ok := ownerOf(dir); ok && owner == uid {
		return nil
	}
	err := filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, gid)
	})
	if err != nil {
		return fmt.Errorf("pgcluster: give the data dir to the postgres user: %w", err)
	}
	return nil
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgcluster: pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// shellQuote quotes s for /bin/sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// readFrom returns the content of path after offset, for showing what the
// server logged during a failed start.
func readFrom(path string, offset int64) string {
	b, err := os.ReadFile(path)
	if err != nil || offset > int64(len(b)) {
		return ""
	}
	return strings.TrimSpace(string(b[offset:]))
}
