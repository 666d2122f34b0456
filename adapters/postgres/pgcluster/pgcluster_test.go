package pgcluster

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// startCluster starts a cluster in dir, skipping the test (failing it on
// CI) when the PostgreSQL binaries are not installed. The cluster is
// closed when the test ends, and any server still running on dir (one a
// test orphaned) is shut down.
func startCluster(t *testing.T, dir string, port int) *Cluster {
	t.Helper()
	requireBinaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	c, err := Start(ctx, Options{DataDir: dir, Port: port, Logger: log})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		stopOrphan(t, dir)
	})
	return c
}

// stopOrphan shuts down a server still running on dir (fast shutdown).
func stopOrphan(t *testing.T, dir string) {
	t.Helper()
	if pid := postmasterPIDIfAny(dir); pid != 0 && serverState(pid, dir) == running {
		_ = syscall.Kill(pid, syscall.SIGINT)
		waitGone(t, pid)
	}
}

// abandon makes c give up the data dir without stopping its server, as
// the death of its process would.
func abandon(t *testing.T, c *Cluster) {
	t.Helper()
	if err := c.unlock(); err != nil {
		t.Fatal(err)
	}
	c.owned = false
}

func query(t *testing.T, url, sql string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var s string
	if err := conn.QueryRow(ctx, sql, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func execSQL(t *testing.T, url, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func TestStartCreateDatabaseCloseAndRestartKeepsData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c := startCluster(t, dir, 0)
	if err := c.CreateDatabase(context.Background(), "app"); err != nil {
		t.Fatalf("CreateDatabase: %v", err)
	}
	if err := c.CreateDatabase(context.Background(), "app"); err != nil {
		t.Fatalf("CreateDatabase of an existing database: %v", err)
	}
	execSQL(t, c.URL("app"), "CREATE TABLE kept AS SELECT 'hello' AS v")
	pid := postmasterPID(t, dir)
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	waitGone(t, pid)

	c = startCluster(t, dir, 0)
	if got := query(t, c.URL("app"), "SELECT v FROM kept"); got != "hello" {
		t.Fatalf("after restart got %q, want hello", got)
	}
	if !strings.HasPrefix(c.URL("x"), "postgres://postgres@127.0.0.1:") {
		t.Errorf("URL = %q", c.URL("x"))
	}
}

func TestStartOnAFixedPort(t *testing.T) {
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	c := startCluster(t, filepath.Join(t.TempDir(), "data"), port)
	if got := query(t, c.URL("postgres"), "SHOW port"); got != strconv.Itoa(port) {
		t.Fatalf("server port = %s, want %d", got, port)
	}
}

func TestStartRecoversFromACrashedServer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c := startCluster(t, dir, 0)
	execSQL(t, c.URL("postgres"), "CREATE TABLE survived AS SELECT 'yes' AS v")

	// Kill the postmaster and its backends without letting them clean up,
	// leaving postmaster.pid behind as a crash would; its owner goes too.
	pid := postmasterPID(t, dir)
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil { // pg_ctl makes it a process group leader
		t.Fatalf("kill server: %v", err)
	}
	waitGone(t, pid)
	abandon(t, c)
	if _, err := os.Stat(filepath.Join(dir, "postmaster.pid")); err != nil {
		t.Fatalf("postmaster.pid should outlive a crash: %v", err)
	}

	c = startCluster(t, dir, 0)
	if !c.Owner() {
		t.Fatal("the Start after the crash does not own the cluster")
	}
	if got := query(t, c.URL("postgres"), "SELECT v FROM survived"); got != "yes" {
		t.Fatalf("after crash recovery got %q, want yes", got)
	}
}

// TestASecondStartBorrowsTheRunningServer is issue 9's second process on
// the data dir of a running server: it must use that server, and closing
// it must leave the server running for its owner.
func TestASecondStartBorrowsTheRunningServer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	a := startCluster(t, dir, 0)
	execSQL(t, a.URL("postgres"), "CREATE TABLE shared AS SELECT 'from a' AS v")
	pid := postmasterPID(t, dir)

	b := startCluster(t, dir, 0)
	if !a.Owner() || b.Owner() {
		t.Fatalf("Owner() = %v for the first, %v for the second; want only the first", a.Owner(), b.Owner())
	}
	if b.URL("postgres") != a.URL("postgres") {
		t.Fatalf("the borrower connects to %s, the server is at %s", b.URL("postgres"), a.URL("postgres"))
	}
	if got := query(t, b.URL("postgres"), "SELECT v FROM shared"); got != "from a" {
		t.Fatalf("the borrower reads %q", got)
	}
	if err := b.CreateDatabase(context.Background(), "app"); err != nil {
		t.Fatalf("CreateDatabase through the borrower: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("borrower's Close: %v", err)
	}

	if serverState(pid, dir) != running || postmasterPID(t, dir) != pid {
		t.Fatal("the borrower's Close stopped the owner's server")
	}
	if got := query(t, a.URL("app"), "SELECT 'still serving'"); got != "still serving" {
		t.Fatalf("the owner's server answers %q", got)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("owner's Close: %v", err)
	}
	waitGone(t, pid)
}

// TestConcurrentStartsShareOneServer starts two processes' worth of
// Start on a new data dir at once: one initialises and starts the server,
// the other waits for it and borrows it.
func TestConcurrentStartsShareOneServer(t *testing.T) {
	requireBinaries(t)
	dir := filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	results := make(chan *Cluster, 2)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			c, err := Start(ctx, Options{DataDir: dir})
			if err != nil {
				errs <- err
				return
			}
			results <- c
		}()
	}
	var cs []*Cluster
	for range 2 {
		select {
		case c := <-results:
			cs = append(cs, c)
		case err := <-errs:
			t.Fatalf("Start: %v", err)
		}
	}
	t.Cleanup(func() {
		for _, c := range cs {
			_ = c.Close()
		}
		stopOrphan(t, dir)
	})
	if cs[0].Owner() == cs[1].Owner() {
		t.Fatalf("Owner() = %v and %v; want exactly one owner", cs[0].Owner(), cs[1].Owner())
	}
	if cs[0].URL("postgres") != cs[1].URL("postgres") {
		t.Fatalf("two servers: %s and %s", cs[0].URL("postgres"), cs[1].URL("postgres"))
	}
	for _, c := range cs {
		if got := query(t, c.URL("postgres"), "SELECT 'up'"); got != "up" {
			t.Fatalf("got %q", got)
		}
	}
}

// ownerDirEnv makes the test binary an owner process (see TestMain).
const ownerDirEnv = "PGCLUSTER_TEST_OWNER_DIR"

// TestMain lets a test run this binary as a separate process that owns a
// cluster and never closes it, to be killed.
func TestMain(m *testing.M) {
	if dir := os.Getenv(ownerDirEnv); dir != "" {
		c, err := Start(context.Background(), Options{DataDir: dir})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("port %d\n", c.port)
		time.Sleep(time.Hour) // until killed
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// TestStartRecoversTheServerOfAKilledOwner runs an owner in another
// process: while it lives, Start borrows its server; once it is killed
// (SIGKILL: no Close, its server keeps running), Start takes the data dir
// over, stopping the orphaned server and starting its own.
func TestStartRecoversTheServerOfAKilledOwner(t *testing.T) {
	requireBinaries(t)
	dir := filepath.Join(t.TempDir(), "data")
	owner := exec.Command(os.Args[0], "-test.run=^$")
	owner.Env = append(os.Environ(), ownerDirEnv+"="+dir)
	owner.Stderr = t.Output()
	out, err := owner.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := owner.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = owner.Process.Kill()
		_ = owner.Wait()
		stopOrphan(t, dir)
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("the owner process did not start its cluster: %v", err)
	}
	ownerPort, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "port ")))
	if err != nil {
		t.Fatalf("owner said %q", line)
	}
	oldPID := postmasterPID(t, dir)

	borrowed := startCluster(t, dir, 0)
	if borrowed.Owner() || borrowed.port != ownerPort {
		t.Fatalf("with its owner alive, Start owns=%v on port %d; want a borrower on %d", borrowed.Owner(), borrowed.port, ownerPort)
	}
	execSQL(t, borrowed.URL("postgres"), "CREATE TABLE kept AS SELECT 'yes' AS v")
	if err := borrowed.Close(); err != nil {
		t.Fatal(err)
	}
	if serverState(oldPID, dir) != running {
		t.Fatal("the borrower's Close stopped the other process's server")
	}

	if err := owner.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = owner.Wait()
	if serverState(oldPID, dir) != running {
		t.Fatal("the server died with its owner; this test needs it orphaned")
	}

	c := startCluster(t, dir, 0)
	if !c.Owner() {
		t.Fatal("Start after the owner's death borrows instead of taking over")
	}
	waitGone(t, oldPID)
	if got := query(t, c.URL("postgres"), "SELECT v FROM kept"); got != "yes" {
		t.Fatalf("after the takeover got %q, want yes", got)
	}
}

func TestMissingBinaryErrorNamesIt(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("PATH", empty)
	defer func(old string) { versionedBins = old }(versionedBins)
	versionedBins = filepath.Join(empty, "*", "bin")

	_, err := findBinDir()
	if err == nil {
		t.Fatal("findBinDir found binaries in an empty PATH")
	}
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
}

func TestCompareVersionDirsOrdersNumerically(t *testing.T) {
	tests := []struct {
		a, b string
		want int // sign
	}{
		{"/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/9.6/bin", 1},
		{"/usr/lib/postgresql/9.6/bin", "/usr/lib/postgresql/10/bin", -1},
		{"/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/16/bin", 0},
	}
	for _, tt := range tests {
		got := compareVersionDirs(tt.a, tt.b)
		if (got > 0) != (tt.want > 0) || (got < 0) != (tt.want < 0) {
			t.Errorf("compareVersionDirs(%s, %s) = %d, want sign %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func postmasterPID(t *testing.T, dir string) int {
	t.Helper()
	pid := postmasterPIDIfAny(dir)
	if pid == 0 {
		t.Fatalf("no postmaster.pid in %s", dir)
	}
	return pid
}

// postmasterPIDIfAny returns the pid in dir's postmaster.pid, or 0.
func postmasterPIDIfAny(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(first)
	return pid
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if err := syscall.Kill(pid, 0); err != nil {
			return
		}
	}
	t.Fatalf("process %d still exists", pid)
}

func TestStartOnATakenPortFailsWithTheServerLog(t *testing.T) {
	requireBinaries(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Start(ctx, Options{DataDir: filepath.Join(t.TempDir(), "data"), Port: port})
	if err == nil {
		_ = c.Close()
		t.Fatal("Start succeeded on a taken port")
	}
	if !strings.Contains(err.Error(), "could not bind") {
		t.Fatalf("error does not carry the server's reason: %v", err)
	}
	t.Log(err)
}

// requireBinaries skips the test when the PostgreSQL binaries are not
// installed, and fails it instead under CI, which must run it.
func requireBinaries(t *testing.T) {
	t.Helper()
	if _, err := findBinDir(); err != nil {
		if ci := os.Getenv("CI"); ci == "true" || ci == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}
