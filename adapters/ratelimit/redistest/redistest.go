// Package redistest gives tests a real Redis: the shared one
// (TEST_REDIS_URL, or 127.0.0.1:6379) with a key prefix of the test's own,
// or a private redis-server process the test may stop and freeze.
//
// Without a Redis a test is skipped on a developer's machine and fails
// under CI (CI=true): .ci/run starts one.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultURL is the shared Redis when TEST_REDIS_URL is unset.
const DefaultURL = "redis://127.0.0.1:6379/0"

// Shared returns the URL of the shared test Redis and a key prefix no
// other test uses. The test fails under CI, and is skipped elsewhere, when
// no Redis answers there.
func Shared(t testing.TB) (url, prefix string) {
	t.Helper()
	url = os.Getenv("TEST_REDIS_URL")
	source := "TEST_REDIS_URL"
	if url == "" {
		url, source = DefaultURL, "the default "+DefaultURL
	}
	if err := ping(url); err != nil {
		unavailable(t, fmt.Sprintf("no Redis answers at %s (%v)", source, err))
	}
	return url, Prefix(t)
}

// Prefix returns a key prefix unique to this run of the test.
func Prefix(t testing.TB) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := strings.NewReplacer("/", ".", " ", "_").Replace(t.Name())
	return "test:" + name + ":" + hex.EncodeToString(b[:]) + ":"
}

// Client returns a client of url, closed when the test ends.
func Client(t testing.TB, url string) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func ping(url string) error {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return err
	}
	opts.DialTimeout, opts.MaxRetries = 2*time.Second, -1
	c := redis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return c.Ping(ctx).Err()
}

func unavailable(t testing.TB, why string) {
	t.Helper()
	if ci := os.Getenv("CI"); ci == "true" || ci == "1" {
		t.Fatalf("redistest: %s; CI must provide Redis (.ci/run starts redis-server)", why)
	}
	t.Skipf("redistest: %s; start one with: redis-server --port 6379 --daemonize yes", why)
}

// Server is a private redis-server process, on a free loopback port with
// persistence off, stopped when the test ends.
type Server struct {
	URL  string
	Addr string
	cmd  *exec.Cmd
	dir  string
	t    testing.TB
}

// Start runs a private redis-server (from PATH). The test fails under CI,
// and is skipped elsewhere, when there is none.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		unavailable(t, "redis-server is not installed (Debian: apt-get install redis-server)")
	}
	s := &Server{dir: t.TempDir(), t: t}
	var lastErr error
	for range 3 {
		if lastErr = s.start(bin); lastErr == nil {
			t.Cleanup(s.Stop)
			return s
		}
	}
	t.Fatalf("redistest: start redis-server: %v", lastErr)
	return nil
}

func (s *Server) start(bin string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s.URL = "redis://" + s.Addr + "/0"
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning")
	cmd.Dir = s.dir
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd = cmd
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ping(s.URL) == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond) // waiting for a process to listen, not for time to pass
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	s.cmd = nil
	return errors.New("redis-server did not answer within 10s")
}

// Stop kills the server (as a crash would) and waits for it to exit.
// Stopping a stopped server does nothing.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT) // in case it is frozen
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Freeze stops the process (SIGSTOP): it keeps its connections and its
// port but answers nothing, like a Redis stuck in a long command or behind
// a stalled network. Thaw resumes it.
func (s *Server) Freeze() { s.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server.
func (s *Server) Thaw() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.t.Helper()
	if s.cmd == nil {
		s.t.Fatal("redistest: the server is not running")
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("redistest: signal %v: %v", sig, err)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
