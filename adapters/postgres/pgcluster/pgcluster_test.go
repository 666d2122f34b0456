package pgcluster

import (
	"context"
	"log/slog"
	"net"
	"os"
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
// stopped when the test ends, unless the test stopped it already.
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
		if state := serverState(postmasterPIDIfAny(dir), dir); state == running {
			_ = c.Stop()
		}
	})
	return c
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

func TestStartCreateDatabaseStopAndRestartKeepsData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c := startCluster(t, dir, 0)
	if err := c.CreateDatabase(context.Background(), "app"); err != nil {
		t.Fatalf("CreateDatabase: %v", err)
	}
	if err := c.CreateDatabase(context.Background(), "app"); err != nil {
		t.Fatalf("CreateDatabase of an existing database: %v", err)
	}
	execSQL(t, c.URL("app"), "CREATE TABLE kept AS SELECT 'hello' AS v")
	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}

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
	// leaving postmaster.pid behind as a crash would.
	pid := postmasterPID(t, dir)
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil { // pg_ctl makes it a process group leader
		t.Fatalf("kill server: %v", err)
	}
	waitGone(t, pid)
	if _, err := os.Stat(filepath.Join(dir, "postmaster.pid")); err != nil {
		t.Fatalf("postmaster.pid should outlive a crash: %v", err)
	}

	c = startCluster(t, dir, 0)
	if got := query(t, c.URL("postgres"), "SELECT v FROM survived"); got != "yes" {
		t.Fatalf("after crash recovery got %q, want yes", got)
	}
}

func TestStartStopsAServerLeftRunning(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	first := startCluster(t, dir, 0)
	oldPID := postmasterPID(t, dir)

	// The earlier run "forgot" to stop: starting again takes over the dir.
	c := startCluster(t, dir, 0)
	waitGone(t, oldPID)
	if got := query(t, c.URL("postgres"), "SELECT 'up'"); got != "up" {
		t.Fatalf("got %q", got)
	}
	if _, err := pgx.Connect(context.Background(), first.URL("postgres")); err == nil && first.port != c.port {
		t.Fatal("the old server still answers on its port")
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
		_ = c.Stop()
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
