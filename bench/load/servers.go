package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is one of the two servers under test, started by the harness.
type server struct {
	name    string // "miniback" or "probe"
	base    string // http://127.0.0.1:port
	vars    string // URL of its /debug/vars
	debug   string // miniback's debug listener base, "" for the probe
	cmd     *exec.Cmd
	exited  chan struct{} // closed once the process has been waited for
	logPath string
	// authHeader is how a request names user u: a bearer token for
	// miniback, X-User-ID for the probe.
	authHeader func(u *benchUser) string
}

// build compiles miniback and the probe from the tree.
func (h *harness) build(ctx context.Context) error {
	for _, b := range []struct{ out, pkg string }{{"miniback", "./cmd/miniback"}, {"probe", "./bench/probe"}} {
		cmd := exec.CommandContext(ctx, goTool(), "build", "-o", filepath.Join(h.work, b.out), b.pkg)
		cmd.Dir = h.root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %w\n%s", b.pkg, err, out)
		}
	}
	return nil
}

// goTool is the go command that runs this harness.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(os.Getenv("GOROOT"), "bin", "go")
}

// findWrk finds wrk, or says how to install it.
func findWrk() (string, error) {
	p, err := exec.LookPath("wrk")
	if err != nil {
		return "", errors.New(`wrk is not installed: bench/load drives the servers with wrk (HTTP load generator, Lua-scripted).
  Debian/Ubuntu:  sudo apt-get install -y wrk
  macOS:          brew install wrk
then run again`)
	}
	return p, nil
}

// repoRoot is the directory of go.mod, found upwards from the working
// directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run bench/load from inside the miniback repository")
		}
		dir = parent
	}
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// cleanEnv is the environment without miniback's own settings, so a
// developer's local configuration does not leak into the measurement.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "MINIBACK_") || strings.HasPrefix(kv, "DATABASE_URL=") || strings.HasPrefix(kv, "GOMAXPROCS=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// startMiniback starts the built miniback on the fresh database: WeChat
// simulator (no apps configured), debug listener on, log level warn (no
// access log), a day-long access token so a long run never sees one
// expire. It migrates the database as it starts.
func (h *harness) startMiniback(ctx context.Context) (*server, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	debug, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &server{
		name: "miniback", base: "http://" + addr, debug: "http://" + debug, vars: "http://" + debug + "/debug/vars",
		logPath:    filepath.Join(h.work, "miniback.log"),
		authHeader: func(u *benchUser) string { return "Authorization: Bearer " + u.access },
	}
	cmd := exec.Command(filepath.Join(h.work, "miniback"))
	cmd.Env = append(cleanEnv(),
		"DATABASE_URL="+h.db.url,
		"MINIBACK_ADDR="+addr,
		"MINIBACK_DEBUG_ADDR="+debug,
		"MINIBACK_DATA_DIR="+filepath.Join(h.work, "miniback-data"),
		"MINIBACK_LOG_LEVEL=warn",
		"MINIBACK_ACCESS_TOKEN_TTL=24h",
		// One user at thousands of requests a second: budgets high enough
		// never to refuse, so the limiter still runs (its cost is measured)
		// but every answer is the route's own.
		"MINIBACK_RATE_LIMITS="+benchRateLimits,
		"MINIBACK_METRICS_ADDR=127.0.0.1:0",
	)
	if err := h.start(ctx, s, cmd, s.base+"/readyz"); err != nil {
		return nil, err
	}
	if err := h.db.connect(ctx); err != nil {
		return nil, errors.Join(err, s.stop())
	}
	return s, nil
}

// startProbe starts the built probe on the same database.
func (h *harness) startProbe(ctx context.Context) (*server, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &server{
		name: "probe", base: "http://" + addr, vars: "http://" + addr + "/debug/vars",
		logPath:    filepath.Join(h.work, "probe.log"),
		authHeader: func(u *benchUser) string { return "X-User-ID: " + u.id.String() },
	}
	cmd := exec.Command(filepath.Join(h.work, "probe"), "-addr", addr, "-db", h.db.url)
	cmd.Env = cleanEnv()
	if err := h.start(ctx, s, cmd, s.vars); err != nil {
		return nil, err
	}
	return s, nil
}

// start runs cmd with its output in s's log file and waits until ready
// answers 200.
func (h *harness) start(ctx context.Context, s *server, cmd *exec.Cmd, ready string) error {
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start %s: %w", s.name, err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		logFile.Close()
		close(s.exited)
	}()
	deadline := time.Now().Add(90 * time.Second)
	for {
		res, err := http.Get(ready)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exited:
			s.cmd = nil
			return fmt.Errorf("%s exited while starting (%v); its log:\n%s", s.name, waitErr, tail(s.logPath))
		case <-ctx.Done():
			return errors.Join(ctx.Err(), s.stop())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.Join(fmt.Errorf("%s not ready at %s after 90s; its log:\n%s", s.name, ready, tail(s.logPath)), s.stop())
		}
	}
}

// stop ends the server: SIGTERM, then SIGKILL after ten seconds.
func (s *server) stop() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	p := s.cmd.Process
	s.cmd = nil
	_ = p.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(10 * time.Second):
	}
	_ = p.Kill()
	<-s.exited
	return fmt.Errorf("%s did not stop within 10s of SIGTERM; killed", s.name)
}

func (s *server) pid() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// tail returns the end of a log file.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// memStats is the part of /debug/vars the harness reads.
type memStats struct {
	Mallocs   uint64
	HeapAlloc uint64
	Sys       uint64
}

func (s *server) memStats(ctx context.Context) (memStats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.vars, nil)
	if err != nil {
		return memStats{}, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return memStats{}, fmt.Errorf("%s /debug/vars: %w", s.name, err)
	}
	defer res.Body.Close()
	var v struct {
		MemStats memStats `json:"memstats"`
	}
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		return memStats{}, fmt.Errorf("%s /debug/vars: %w", s.name, err)
	}
	return v.MemStats, nil
}

// procMemory reads the resident set size and its peak (kB) from
// /proc/<pid>/status; zeros where there is no /proc.
func procMemory(pid int) (rssKB, hwmKB int64) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		for _, k := range []struct {
			prefix string
			into   *int64
		}{{"VmRSS:", &rssKB}, {"VmHWM:", &hwmKB}} {
			if rest, ok := strings.CutPrefix(line, k.prefix); ok {
				*k.into, _ = strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			}
		}
	}
	return rssKB, hwmKB
}

// httpClient is the harness's own client (seeding, cursors), with enough
// idle connections for its workers.
var httpClient = &http.Client{
	Timeout:   30 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 32},
}

// call sends a JSON request and decodes the answer into out (unless nil);
// any status but want is an error carrying the body.
func call(ctx context.Context, method, url, header string, body []byte, want int, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if name, value, ok := strings.Cut(header, ": "); ok {
		req.Header.Set(name, value)
	}
	res, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, url, res.StatusCode, bytes.TrimSpace(data))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, url, err)
		}
	}
	return nil
}

// benchRateLimits raises every budget the load routes meet far above any
// rate this machine reaches.
const benchRateLimits = "auth:ip=1000000/s,app=1000000/s;read:ip=1000000/s,user=1000000/s;write:ip=1000000/s,user=1000000/s"
