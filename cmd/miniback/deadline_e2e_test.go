package main_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/adapters/httpapi/apitest"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/adapters/storagetest"
)

// TestSlowBodiesMeetTheirRoutesDeadlineAgainstTheBuiltBinary is issue 9's
// trickled body: with a 300 ms JSON deadline, a JSON body sent a byte
// every 100 ms is cut long before it is complete (a 400 problem or a
// closed connection, never a 500), while a file trickled to the local
// storage for seconds is still accepted under its own, longer deadline.
func TestSlowBodiesMeetTheirRoutesDeadlineAgainstTheBuiltBinary(t *testing.T) {
	pgtest.SkipIfShort(t, "builds and starts the binary")
	bin := buildBinary(t)
	addr := freeAddr(t)
	cmd := exec.Command(bin)
	cmd.Env = append(cleanEnv(),
		"MINIBACK_ADDR="+addr,
		"MINIBACK_DATA_DIR="+filepath.Join(t.TempDir(), "data"),
		"DATABASE_URL="+pgtest.NewURL(t),
		"MINIBACK_READ_TIMEOUT=300ms",
		"MINIBACK_UPLOAD_TIMEOUT=1m",
	)
	logs := startAndWait(t, cmd, "miniback is ready")

	// 100 bytes at 10 a second would take 10 s to arrive.
	got := trickleJSON(t, addr, "/v1/auth/wechat", 100, 100*time.Millisecond)
	t.Logf("trickled JSON body: %+v", got)
	if got.sentAll {
		t.Errorf("the server waited for the whole trickled JSON body despite its 300ms deadline (answer %d)", got.status)
	}
	if got.status != 0 && (got.status != http.StatusBadRequest || got.contentType != "application/problem+json") {
		t.Errorf("a JSON body past its deadline got %d %s %s; want a 400 problem or a closed connection", got.status, got.contentType, got.body)
	}
	if !got.closed {
		t.Error("the connection of the cut request stays open")
	}

	// The same server accepts a file trickled to the local storage for
	// about 2 s, several times the JSON deadline.
	c := apitest.NewRemote(t, "http://"+addr)
	login := c.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-slow-uploader"})
	if login.Status != http.StatusOK {
		t.Fatalf("login: %s", login)
	}
	var lr api.LoginResponse
	login.Decode(&lr)
	file := storagetest.Bytes(2000)
	r := c.JSON("POST", "/v1/uploads", map[string]any{"purpose": "avatar", "content_type": "image/png", "size": len(file)},
		"Authorization: Bearer "+lr.AccessToken)
	if r.Status != http.StatusCreated {
		t.Fatalf("ticket: %s", r)
	}
	var tk api.UploadTicket
	r.Decode(&tk)
	req, err := http.NewRequest(http.MethodPut, tk.PutUrl, &tricklingReader{data: file, chunk: 100, every: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(file))
	for k, v := range tk.PutHeaders {
		req.Header.Set(k, v)
	}
	if put := c.Do(req); put.Status != http.StatusNoContent {
		t.Errorf("a file trickled for longer than the JSON deadline: %s\n%s", put, logs.String())
	}

	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(cmd, 20*time.Second); err != nil {
		t.Fatalf("exit: %v\n%s", err, logs.String())
	}
}

// trickled is what a client trickling a body saw.
type trickled struct {
	sentAll     bool   // every byte was written before the server answered or hung up
	status      int    // the answer's status; 0 when the server hung up without one
	contentType string // the answer's
	body        string
	closed      bool // the server closed the connection (after its answer, if any)
}

// trickleJSON sends a POST of a JSON body of n bytes to path, a byte every
// every, over a raw connection, stopping when the server answers or hangs
// up.
func trickleJSON(t *testing.T, addr, path string, n int, every time.Duration) trickled {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Minute)) // the test's own backstop
	body := `{"code":"dev-` + strings.Repeat("x", n-len(`{"code":"dev-"}`)) + `"}`
	if _, err := fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
		path, addr, len(body)); err != nil {
		t.Fatal(err)
	}

	// The answer, then whether the server hangs up after it.
	answered := make(chan trickled, 1)
	hungUp := make(chan struct{})
	go func() {
		var got trickled
		br := bufio.NewReader(conn)
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			got.closed = true
			answered <- got
			return
		}
		b, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		got.status, got.contentType, got.body = res.StatusCode, res.Header.Get("Content-Type"), string(b)
		answered <- got
		if _, err := br.ReadByte(); err != nil {
			close(hungUp)
		}
	}()

	sent := 0
	var got trickled
	received := false
	for sent < len(body) && !received {
		select {
		case got = <-answered:
			received = true
			continue
		case <-time.After(every):
		}
		if _, err := conn.Write([]byte{body[sent]}); err != nil {
			break // the server hung up; its answer, if any, is on its way
		}
		sent++
	}
	if !received {
		select {
		case got = <-answered:
		case <-time.After(30 * time.Second):
			t.Fatal("no answer and no hang-up within 30 s")
		}
	}
	got.sentAll = sent == len(body)
	if !got.closed {
		select {
		case <-hungUp:
			got.closed = true
		case <-time.After(10 * time.Second):
		}
	}
	return got
}

// tricklingReader yields data a chunk at a time, one chunk every every.
type tricklingReader struct {
	data  []byte
	chunk int
	every time.Duration
}

func (r *tricklingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	time.Sleep(r.every)
	n := copy(p[:min(len(p), r.chunk)], r.data)
	r.data = r.data[n:]
	return n, nil
}
