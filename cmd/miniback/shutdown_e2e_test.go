package main_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/adapters/httpapi/apitest"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/adapters/storagetest"
)

// startServer builds and starts miniback on a fresh database with env
// added, and returns its address, its command and its log.
func startServer(t *testing.T, env ...string) (string, *exec.Cmd, *syncBuffer) {
	t.Helper()
	pgtest.SkipIfShort(t, "builds and starts the binary")
	bin := buildBinary(t)
	addr := freeAddr(t)
	cmd := exec.Command(bin)
	cmd.Env = append(cleanEnv(),
		"MINIBACK_ADDR="+addr,
		"MINIBACK_DATA_DIR="+filepath.Join(t.TempDir(), "data"),
		"DATABASE_URL="+pgtest.NewURL(t),
	)
	cmd.Env = append(cmd.Env, env...)
	return addr, cmd, startAndWait(t, cmd, "miniback is ready")
}

// loginAndTicket logs a user in and returns an upload ticket for an
// avatar of size bytes.
func loginAndTicket(t *testing.T, c *apitest.Client, code string, size int) api.UploadTicket {
	t.Helper()
	login := c.JSON("POST", "/v1/auth/wechat", map[string]string{"code": code})
	if login.Status != http.StatusOK {
		t.Fatalf("login: %s", login)
	}
	var lr api.LoginResponse
	login.Decode(&lr)
	r := c.JSON("POST", "/v1/uploads", map[string]any{"purpose": "avatar", "content_type": "image/png", "size": size},
		"Authorization: Bearer "+lr.AccessToken)
	if r.Status != http.StatusCreated {
		t.Fatalf("ticket: %s", r)
	}
	var tk api.UploadTicket
	r.Decode(&tk)
	return tk
}

// countingReader is a tricklingReader that counts its reads.
type countingReader struct {
	tricklingReader
	reads atomic.Int32
}

func (r *countingReader) Read(p []byte) (int, error) {
	r.reads.Add(1)
	return r.tricklingReader.Read(p)
}

// slowUpload PUTs file to the ticket's URL, chunk bytes every every, on a
// goroutine; the result arrives on the returned channel (status 0 and the
// error when the request failed).
func slowUpload(tk api.UploadTicket, file []byte, chunk int, every time.Duration) (*countingReader, <-chan uploadResult) {
	body := &countingReader{tricklingReader: tricklingReader{data: file, chunk: chunk, every: every}}
	done := make(chan uploadResult, 1)
	go func() {
		req, err := http.NewRequest(http.MethodPut, tk.PutUrl, body)
		if err != nil {
			done <- uploadResult{err: err}
			return
		}
		req.ContentLength = int64(len(file))
		for k, v := range tk.PutHeaders {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- uploadResult{err: err}
			return
		}
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
		done <- uploadResult{status: res.StatusCode}
	}()
	return body, done
}

type uploadResult struct {
	status int
	err    error
}

// waitFor polls cond every 10 ms until it holds, failing the test after
// within.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// status is a GET's status on a connection of its own, or 0 when no
// connection could be made.
func status(addr, path string) (int, http.Header) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := c.Get("http://" + addr + path)
	if err != nil {
		return 0, nil
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return res.StatusCode, res.Header
}

// reuseGet is a GET through tr, whether it went on a connection tr had
// kept, and whether the server closes it after answering.
func reuseGet(tr *http.Transport, addr, path string) (status int, reused, closes bool) {
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return 0, false, false
	}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused },
	}))
	res, err := (&http.Client{Timeout: 5 * time.Second, Transport: tr}).Do(req)
	if err != nil {
		return 0, reused, false
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return res.StatusCode, reused, res.Close
}

// keepAliveGet is a GET from a client that would keep the connection,
// and whether the server closes it after answering.
func keepAliveGet(addr, path string) (int, bool) {
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Timeout: 5 * time.Second, Transport: tr}).Get("http://" + addr + path)
	if err != nil {
		return 0, false
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return res.StatusCode, res.Close
}

// exitCode waits for cmd and returns its exit code.
func exitCode(t *testing.T, cmd *exec.Cmd, within time.Duration, logs *syncBuffer) int {
	t.Helper()
	err := waitExit(cmd, within)
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.ExitCode()
	}
	t.Fatalf("exit: %v\n%s", err, logs.String())
	return -1
}

// TestSIGTERMDrainsThenFinishesTheRequestInFlightAgainstTheBuiltBinary
// is the rolling update: SIGTERM arrives while a file is being uploaded.
// /readyz answers 503 at once, the listener keeps accepting (and
// answering, with Connection: close) for the drain, then closes; the
// upload, longer than the drain, completes; the process exits 0.
func TestSIGTERMDrainsThenFinishesTheRequestInFlightAgainstTheBuiltBinary(t *testing.T) {
	const drain = time.Second
	addr, cmd, logs := startServer(t, "MINIBACK_SHUTDOWN_DRAIN="+drain.String(), "MINIBACK_SHUTDOWN_TIMEOUT=20s")
	c := apitest.NewRemote(t, "http://"+addr)
	if r := c.Get("/readyz"); r.Status != http.StatusOK {
		t.Fatalf("ready before the signal: %s", r)
	}
	// 2000 bytes, 100 every 150 ms: about 3 s, three times the drain.
	// A keep-alive client (a load balancer's pool) with an idle
	// connection open when the signal comes.
	lb := &http.Transport{}
	defer lb.CloseIdleConnections()
	if s, reused, _ := reuseGet(lb, addr, "/healthz"); s != http.StatusOK || reused {
		t.Fatalf("keep-alive client before the signal: %d (reused %t)", s, reused)
	}
	file := storagetest.Bytes(2000)
	body, done := slowUpload(loginAndTicket(t, c, "dev-drain", len(file)), file, 100, 150*time.Millisecond)
	waitFor(t, 5*time.Second, "the upload under way", func() bool { return body.reads.Load() >= 3 })

	signalled := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	notReady := waitFor(t, drain/2, "/readyz 503 after SIGTERM", func() bool {
		s, _ := status(addr, "/readyz")
		return s == http.StatusServiceUnavailable
	})
	if r := c.Get("/readyz"); r.Status != http.StatusServiceUnavailable || r.Problem().Code != "unavailable" {
		t.Errorf("/readyz while draining: %s", r)
	}
	// The idle connection still serves during the drain (closing it
	// under a balancer about to reuse it would fail that request), and
	// its answer closes it.
	if s, reused, closes := reuseGet(lb, addr, "/healthz"); time.Since(signalled) < drain && (s != http.StatusOK || !reused || !closes) {
		t.Errorf("the idle keep-alive connection during the drain: %d, reused %t, closed after %t; want 200 on it, then closed", s, reused, closes)
	}
	// Still serving during the drain, each answer closing its connection.
	if s, closes := keepAliveGet(addr, "/healthz"); time.Since(signalled) < drain && (s != http.StatusOK || !closes) {
		t.Errorf("during the drain /healthz answered %d, closing the connection: %t; want 200 and close", s, closes)
	}
	waitFor(t, drain+3*time.Second, "the listener closed after the drain", func() bool {
		s, _ := status(addr, "/healthz")
		return s == 0
	})
	closedAfter := time.Since(signalled)
	if closedAfter < drain {
		t.Errorf("the listener closed %s after SIGTERM, before the %s drain", closedAfter, drain)
	}

	select {
	case res := <-done:
		if res.status != http.StatusNoContent {
			t.Errorf("the upload in flight: %d %v; want 204\n%s", res.status, res.err, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the upload in flight did not finish")
	}
	finished := time.Since(signalled)
	if code := exitCode(t, cmd, 20*time.Second, logs); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0\n%s", code, logs.String())
	}
	t.Logf("after SIGTERM: /readyz 503 within %s, listener closed after %s (drain %s), the upload finished after %s, exit 0 after %s",
		notReady.Round(time.Millisecond), closedAfter.Round(time.Millisecond), drain, finished.Round(time.Millisecond),
		time.Since(signalled).Round(time.Millisecond))
	if strings.Contains(logs.String(), "cut the requests") {
		t.Errorf("a request was cut:\n%s", logs.String())
	}
}

// TestSIGTERMCutsARequestPastTheShutdownTimeoutAndExitsZero: an upload
// that outlives the shutdown timeout is cut; the log names how many
// requests on which route and connections were cut, the partial upload's
// temporary file is removed, and the process exits 0: the cut was the
// timeout's doing, not a failure.
func TestSIGTERMCutsARequestPastTheShutdownTimeoutAndExitsZero(t *testing.T) {
	storage := filepath.Join(t.TempDir(), "files")
	addr, cmd, logs := startServer(t, "MINIBACK_SHUTDOWN_DRAIN=0s", "MINIBACK_SHUTDOWN_TIMEOUT=1s", "MINIBACK_STORAGE_DIR="+storage)
	c := apitest.NewRemote(t, "http://"+addr)
	// 2000 bytes, 20 every 100 ms: 10 s.
	file := storagetest.Bytes(2000)
	_, done := slowUpload(loginAndTicket(t, c, "dev-cut", len(file)), file, 20, 100*time.Millisecond)
	waitFor(t, 5*time.Second, "the upload's temporary file", func() bool { return len(tempFilesUnder(storage)) == 1 })

	signalled := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := exitCode(t, cmd, 15*time.Second, logs); code != 0 {
		t.Fatalf("exit code %d after a cut, want 0\n%s", code, logs.String())
	}
	exited := time.Since(signalled)
	if res := <-done; res.status == http.StatusNoContent {
		t.Error("the cut upload was stored")
	}

	var cut struct {
		Requests    int            `json:"requests"`
		Connections int            `json:"connections"`
		Routes      map[string]int `json:"routes"`
		Timeout     string         `json:"timeout"`
	}
	if !logLine(logs.String(), "shutdown: timeout passed; cut the requests still in flight", &cut) {
		t.Fatalf("no log line says what was cut:\n%s", logs.String())
	}
	if cut.Requests != 1 || cut.Connections != 1 || cut.Routes["PUT /v1/local-storage"] != 1 || cut.Timeout != "1s" {
		t.Errorf("cut %+v; want 1 request on PUT /v1/local-storage, 1 connection, timeout 1s", cut)
	}
	if left := tempFilesUnder(storage); len(left) != 0 {
		t.Errorf("temporary files left by the cut upload: %v", left)
	}
	if strings.Contains(logs.String(), "still running; closing anyway") {
		t.Errorf("the cut handler did not return:\n%s", logs.String())
	}
	t.Logf("a request longer than the 1s shutdown timeout: cut and logged, exit 0 %s after SIGTERM", exited.Round(time.Millisecond))
}

// TestAStaleTemporaryFileIsRemovedAtStartAndAFreshOneKept: a temporary
// file a killed process left (older than the longest upload) is removed
// when the next process starts; a fresh one, which another process
// sharing the directory may be writing, is kept.
func TestAStaleTemporaryFileIsRemovedAtStartAndAFreshOneKept(t *testing.T) {
	storage := filepath.Join(t.TempDir(), "files")
	stale := filepath.Join(storage, "objects", "avatar", "u1", ".tmp-killed")
	fresh := filepath.Join(storage, "objects", "avatar", "u2", ".tmp-in-progress")
	for _, p := range []string{stale, fresh} {
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("partial"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	// Past the longest upload: 5m upload + 1m answer + grace.
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	_, cmd, logs := startServer(t, "MINIBACK_STORAGE_DIR="+storage)
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the stale temporary file is still there (%v)\n%s", err, logs.String())
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("the fresh temporary file was removed: %v", err)
	}
	var removed struct {
		Removed int `json:"removed"`
	}
	if !logLine(logs.String(), "storage: removed temporary files left by an interrupted upload", &removed) || removed.Removed != 1 {
		t.Errorf("no log line says 1 stale file was removed:\n%s", logs.String())
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if code := exitCode(t, cmd, 20*time.Second, logs); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

// logLine decodes into v the first JSON log line whose msg is msg.
func logLine(logs, msg string, v any) bool {
	for _, line := range strings.Split(logs, "\n") {
		var entry struct {
			Msg string `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == msg {
			return json.Unmarshal([]byte(line), v) == nil
		}
	}
	return false
}

// tempFilesUnder lists the storage's temporary files under dir.
func tempFilesUnder(dir string) []string {
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
			out = append(out, p)
		}
		return nil
	})
	return out
}
