package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/adapters/httpapi/apitest"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/adapters/s3store/s3test"
	"github.com/miniback/miniback/adapters/storagetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestNewcomerFlowAgainstTheBuiltBinary builds miniback and starts it with
// nothing configured, exactly as the README's run command does: it must
// come up on the embedded defaults (a private PostgreSQL cluster made with
// initdb, the WeChat simulator, a generated development key), announce each
// of them, and serve the README's curl flow. SIGTERM must then stop it
// cleanly, finishing a request that is still in flight.
func TestNewcomerFlowAgainstTheBuiltBinary(t *testing.T) {
	pgtest.SkipIfShort(t, "builds and starts the binary")
	bin := buildBinary(t)
	addr := freeAddr(t)
	dataDir := filepath.Join(t.TempDir(), "data")

	cmd := exec.Command(bin)
	cmd.Env = append(cleanEnv(),
		"MINIBACK_ADDR="+addr,
		"MINIBACK_DATA_DIR="+dataDir,
		"MINIBACK_WECHAT_TIMEOUT=2s",
		"MINIBACK_SHUTDOWN_TIMEOUT=15s",
	)
	logs := startAndWait(t, cmd, "miniback is ready")

	for _, announced := range []string{
		"embedded default: private PostgreSQL cluster",
		"embedded default: WeChat simulator",
		"embedded default: GENERATED a DEVELOPMENT signing key",
		`"msg":"password accounts: on","hash":"argon2id","memory_kib":19456,"time":2,"threads":1`,
		"embedded default: GENERATED a DEVELOPMENT cursor secret",
		"embedded default: local-disk storage",
		"rate limits: in this process's memory",
		`"api_reference":"http://` + addr + `/docs"`,
	} {
		if !strings.Contains(logs.String(), announced) {
			t.Errorf("start-up log does not announce %q:\n%s", announced, logs.String())
		}
	}

	c := apitest.NewRemote(t, "http://"+addr)

	// The README's curl flow.
	login := c.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-alice"})
	if login.Status != http.StatusOK {
		t.Fatalf("login: %s", login)
	}
	var lr api.LoginResponse
	login.Decode(&lr)
	auth := "Authorization: Bearer " + lr.AccessToken

	me := c.Get("/v1/me", auth)
	if me.Status != http.StatusOK {
		t.Fatalf("GET /v1/me: %s", me)
	}
	patched := c.JSON("PATCH", "/v1/me", map[string]string{"nickname": "Alice", "bio": "hi"}, auth)
	if patched.Status != http.StatusOK {
		t.Fatalf("PATCH /v1/me: %s", patched)
	}
	var u api.User
	c.Get("/v1/me", auth).Decode(&u)
	if u.Nickname != "Alice" || u.Bio != "hi" || u.Id != lr.User.Id {
		t.Errorf("profile after PATCH = %+v", u)
	}
	// A photo through the local-disk storage, exactly as wx.uploadFile
	// sends it, then as the avatar.
	avatarURL := uploadAvatar(t, c, auth, "http://"+addr)
	if !strings.HasPrefix(avatarURL, "http://"+addr+"/v1/avatars/") {
		t.Errorf("avatar_url = %q", avatarURL)
	}
	if files, _ := filepath.Glob(filepath.Join(dataDir, "files", "objects", "avatar", "*.png")); len(files) != 1 {
		t.Errorf("the data dir holds %v, want the one avatar", files)
	}

	// Tasks: create a few, list a first page.
	for i := range 3 {
		if r := c.JSON("POST", "/v1/todos", map[string]any{"title": fmt.Sprint("task ", i)}, auth); r.Status != http.StatusCreated {
			t.Fatalf("POST /v1/todos: %s", r)
		}
	}
	var page api.TodoPage
	c.Get("/v1/todos?limit=2", auth).Decode(&page)
	cursor, err := page.NextCursor.Get()
	if len(page.Items) != 2 || err != nil {
		t.Fatalf("first page: %+v", page)
	}

	if r := c.Get("/readyz"); r.Status != http.StatusOK {
		t.Errorf("readyz: %s", r)
	}

	// While the server runs, the operator makes alice an admin from a
	// second process on the same data dir, and a second server starts
	// there too: both share the running embedded cluster, and neither
	// stops it when it exits (issue 9).
	grant := exec.Command(bin, "admin", "grant", lr.User.Id.String())
	grant.Env = cmd.Env
	if out, err := grant.CombinedOutput(); err != nil || !bytes.Contains(out, []byte("granted admin")) ||
		!bytes.Contains(out, []byte("using the server of the process that owns the data dir")) {
		t.Fatalf("admin grant while the server runs: %v\n%s", err, out)
	}
	sharedAddr := freeAddr(t)
	shared := exec.Command(bin)
	shared.Env = append(cleanEnv(), "MINIBACK_ADDR="+sharedAddr, "MINIBACK_DATA_DIR="+dataDir)
	sharedLogs := startAndWait(t, shared, "miniback is ready")
	if r := apitest.NewRemote(t, "http://"+sharedAddr).Get("/v1/me", auth); r.Status != http.StatusOK {
		t.Errorf("a second server on the data dir: %s\n%s", r, sharedLogs.String())
	}
	_ = shared.Process.Signal(syscall.SIGTERM)
	if err := waitExit(shared, 20*time.Second); err != nil {
		t.Fatalf("the second server's exit: %v\n%s", err, sharedLogs.String())
	}
	if r := c.Get("/readyz"); r.Status != http.StatusOK {
		t.Fatalf("readyz after the admin command and the second server exited: %s\n%s", r, logs.String())
	}
	if r := c.Get("/v1/me", auth); r.Status != http.StatusOK {
		t.Fatalf("GET /v1/me after the admin command and the second server exited: %s", r)
	}
	if r := c.Get("/docs"); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "<html") {
		t.Errorf("docs: %s", r)
	}

	// Password accounts are on by default: register, then log in by email.
	const password = "Vq3-bandersnatch"
	if r := c.JSON("POST", "/v1/auth/register", map[string]string{"username": "bob", "email": "bob@example.com", "password": password}); r.Status != http.StatusCreated {
		t.Errorf("register: %s", r)
	}
	if r := c.JSON("POST", "/v1/auth/login", map[string]string{"login": "BOB@example.com", "password": password}); r.Status != http.StatusOK {
		t.Errorf("password login: %s", r)
	}

	// A second login on another device: refresh, then two replicas.
	second := c.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-alice"})
	var phone api.LoginResponse
	second.Decode(&phone)
	refreshed := c.JSON("POST", "/v1/auth/refresh", map[string]string{"refresh_token": phone.RefreshToken})
	if refreshed.Status != http.StatusOK {
		t.Fatalf("refresh: %s", refreshed)
	}
	var pair api.TokenResponse
	refreshed.Decode(&pair)
	if pair.RefreshToken == phone.RefreshToken {
		t.Error("refresh returned the same refresh token")
	}
	if r := c.JSON("POST", "/v1/auth/refresh", map[string]string{"refresh_token": phone.RefreshToken}); r.Status != http.StatusUnauthorized || r.Problem().Code != "refresh_token_reused" {
		t.Errorf("reusing the rotated refresh token: %s", r)
	}
	third := c.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-alice"})
	var tablet api.LoginResponse
	third.Decode(&tablet)

	// Replica B: another process on the same database and signing key.
	addrB := freeAddr(t)
	cmdB := exec.Command(bin)
	cmdB.Env = append(cleanEnv(),
		"MINIBACK_ADDR="+addrB,
		"DATABASE_URL="+databaseURL(t, logs.String()),
		"MINIBACK_DATA_DIR="+filepath.Join(t.TempDir(), "data-b"),
		"MINIBACK_JWT_PRIVATE_KEYS_FILE="+filepath.Join(dataDir, "dev-jwt-signing-key.pem"),
	)
	logsB := startAndWait(t, cmdB, "miniback is ready")
	b := apitest.NewRemote(t, "http://"+addrB)
	tabletAuth := "Authorization: Bearer " + tablet.AccessToken
	if r := b.Get("/v1/me", tabletAuth); r.Status != http.StatusOK {
		t.Fatalf("B refuses A's token: %s", r)
	}
	if r := c.JSON("POST", "/v1/auth/logout", nil, tabletAuth); r.Status != http.StatusNoContent {
		t.Fatalf("logout on A: %s", r)
	}
	loggedOut := time.Now()
	if r := c.Get("/v1/me", tabletAuth); r.Status != http.StatusUnauthorized || r.Problem().Code != "session_revoked" {
		t.Errorf("A accepts its own logged-out token: %s", r)
	}
	for {
		r := b.Get("/v1/me", tabletAuth)
		if r.Status == http.StatusUnauthorized && r.Problem().Code == "session_revoked" {
			break
		}
		if time.Since(loggedOut) > 30*time.Second {
			t.Fatalf("B still accepts the logged-out token: %s\n%s", r, logsB.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("replica B refused the token %s after the logout on A", time.Since(loggedOut).Round(time.Millisecond))
	if r := b.JSON("POST", "/v1/auth/refresh", map[string]string{"refresh_token": tablet.RefreshToken}); r.Status != http.StatusUnauthorized || r.Problem().Code != "session_revoked" {
		t.Errorf("refresh of the logged-out session on B: %s", r)
	}
	_ = cmdB.Process.Signal(syscall.SIGTERM)
	if err := waitExit(cmdB, 20*time.Second); err != nil {
		t.Fatalf("B's exit: %v\n%s", err, logsB.String())
	}

	// A login that is still waiting on (slow) WeChat when SIGTERM arrives
	// must get its full answer (a 504 problem) before the process exits.
	inFlight := make(chan *apitest.Response, 1)
	go func() { inFlight <- c.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "err-slow"}) }()
	time.Sleep(300 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-inFlight:
		if r.Status != http.StatusGatewayTimeout || r.Problem().Code != "wechat_timeout" {
			t.Errorf("in-flight request during shutdown: %s", r)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("in-flight request got no answer during shutdown")
	}
	if err := waitExit(cmd, 20*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), `"msg":"stopped"`) {
		t.Errorf("no clean stop in the log:\n%s", logs.String())
	}
	// Secrets never reach the log.
	cursorSecret, err := os.ReadFile(filepath.Join(dataDir, "dev-cursor-secret"))
	if err != nil || len(cursorSecret) < 32 {
		t.Fatalf("development cursor secret: %q, %v", cursorSecret, err)
	}
	for _, secret := range []string{"session_key", "PRIVATE KEY", "wechatsim-dev-secret", "mbr_", string(cursorSecret), password, "$argon2id$"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("log contains %q", secret)
		}
	}

	// While it is stopped, the admin command starts the cluster itself.
	missing := exec.Command(bin, "admin", "grant", "3f8e5a1c-2b7d-4e9f-8a6b-1c2d3e4f5a6b")
	missing.Env = cmd.Env
	if out, err := missing.CombinedOutput(); err == nil || !bytes.Contains(out, []byte("no user has id")) {
		t.Errorf("admin grant of an unknown user: %v\n%s", err, out)
	}

	// A restart on the same data dir keeps the user and the signing key: the
	// old token still works.
	cmd2 := exec.Command(bin)
	cmd2.Env = cmd.Env
	logs2 := startAndWait(t, cmd2, "miniback is ready")
	var again api.User
	if r := c.Get("/v1/me", auth); r.Status != http.StatusOK {
		t.Fatalf("token after restart: %s\n%s", r, logs2.String())
	} else {
		r.Decode(&again)
	}
	if again.Nickname != "Alice" {
		t.Errorf("after restart nickname = %q, want the stored one", again.Nickname)
	}
	// The cursor secret is kept too: a cursor from before the restart
	// still reads the next page.
	var rest api.TodoPage
	if r := c.Get("/v1/todos?limit=2&cursor="+cursor, auth); r.Status != http.StatusOK {
		t.Errorf("cursor after restart: %s", r)
	} else if r.Decode(&rest); len(rest.Items) != 1 || rest.Items[0].Title != "task 0" {
		t.Errorf("second page after restart: %+v", rest)
	}
	// The old token still says "user"; its refresh carries the new role.
	if r := c.Get("/v1/admin/users", auth); r.Status != http.StatusForbidden {
		t.Errorf("admin list with the pre-grant token: %s", r)
	}
	var adminPair api.TokenResponse
	if r := c.JSON("POST", "/v1/auth/refresh", map[string]string{"refresh_token": lr.RefreshToken}); r.Status != http.StatusOK {
		t.Fatalf("refresh after restart: %s", r)
	} else {
		r.Decode(&adminPair)
	}
	var users api.UserPage
	if r := c.Get("/v1/admin/users?q=Alice", "Authorization: Bearer "+adminPair.AccessToken); r.Status != http.StatusOK {
		t.Fatalf("admin list: %s", r)
	} else {
		r.Decode(&users)
	}
	if len(users.Items) != 1 || users.Items[0].Role != api.RoleAdmin {
		t.Errorf("admin list = %+v", users)
	}
	if r := c.Get("/.well-known/jwks.json"); r.Status != http.StatusOK {
		t.Errorf("jwks: %s", r)
	}
	_ = cmd2.Process.Signal(syscall.SIGTERM)
	if err := waitExit(cmd2, 20*time.Second); err != nil {
		t.Fatalf("second exit: %v", err)
	}
}

// uploadAvatar uploads a picture with a ticket as wx.uploadFile does,
// completes it, downloads it, makes it the avatar and follows the avatar
// link; it returns avatar_url. Every answer of the API is checked against
// the spec; the storage's own answers (S3) are checked by status.
func uploadAvatar(t *testing.T, c *apitest.Client, auth, apiBase string) string {
	t.Helper()
	picture := storagetest.Bytes(4321)
	r := c.JSON("POST", "/v1/uploads", map[string]any{"purpose": "avatar", "content_type": "image/png", "size": len(picture), "file_name": "me.png"}, auth)
	if r.Status != http.StatusCreated {
		t.Fatalf("ticket: %s", r)
	}
	var tk api.UploadTicket
	r.Decode(&tk)
	storage := func(req *http.Request) (int, []byte) {
		if strings.HasPrefix(req.URL.String(), apiBase+"/") {
			res := c.Do(req)
			return res.Status, res.Body
		}
		status, body, err := storagetest.Send(http.DefaultClient, req)
		if err != nil {
			t.Fatal(err)
		}
		return status, []byte(body)
	}
	if status, body := storage(storagetest.WxUploadFile(tk.Url, tk.Fields, string(tk.FileField), "wxfile://tmp_me.png", "image/png", picture)); status != http.StatusNoContent {
		t.Fatalf("wx.uploadFile to %s: %d %s", tk.Url, status, body)
	}
	r = c.JSON("POST", "/v1/uploads/"+tk.Id.String()+"/complete", nil, auth)
	if r.Status != http.StatusOK {
		t.Fatalf("complete: %s", r)
	}
	var u api.Upload
	r.Decode(&u)
	if u.Status != api.Ready || u.DownloadUrl == nil {
		t.Fatalf("completed upload: %+v", u)
	}
	get := func(url string) *http.Request {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	if status, body := storage(get(*u.DownloadUrl)); status != http.StatusOK || !bytes.Equal(body, picture) {
		t.Errorf("download: %d, %d bytes", status, len(body))
	}
	r = c.JSON("PATCH", "/v1/me", map[string]string{"avatar_upload_id": tk.Id.String()}, auth)
	if r.Status != http.StatusOK {
		t.Fatalf("PATCH avatar_upload_id: %s", r)
	}
	var me api.User
	r.Decode(&me)
	link := c.Do(get(me.AvatarUrl))
	if link.Status != http.StatusFound {
		t.Fatalf("avatar link: %s", link)
	}
	if status, body := storage(get(link.Header.Get("Location"))); status != http.StatusOK || !bytes.Equal(body, picture) {
		t.Errorf("avatar picture: %d, %d bytes", status, len(body))
	}
	return me.AvatarUrl
}

// TestS3StorageAgainstTheBuiltBinary configures the built binary for an
// S3-compatible bucket (versitygw) as a team configures it for Tencent
// COS, with its own database: the upload goes straight to the bucket.
func TestS3StorageAgainstTheBuiltBinary(t *testing.T) {
	pgtest.SkipIfShort(t, "builds and starts the binary")
	s3 := s3test.Start(t)
	bin := buildBinary(t)
	addr := freeAddr(t)
	cmd := exec.Command(bin)
	cmd.Env = append(cleanEnv(),
		"MINIBACK_ADDR="+addr,
		"MINIBACK_DATA_DIR="+filepath.Join(t.TempDir(), "data"),
		"DATABASE_URL="+pgtest.NewURL(t),
		"MINIBACK_PUBLIC_URL=http://"+addr,
		"MINIBACK_STORAGE=s3",
		"MINIBACK_S3_ENDPOINT="+s3.Endpoint,
		"MINIBACK_S3_REGION="+s3.Region,
		"MINIBACK_S3_BUCKET="+s3.Bucket,
		"MINIBACK_S3_ACCESS_KEY="+s3.AccessKey,
		"MINIBACK_S3_SECRET_KEY="+s3.SecretKey,
		"MINIBACK_S3_PATH_STYLE=true",
	)
	logs := startAndWait(t, cmd, "miniback is ready")
	if !strings.Contains(logs.String(), `"msg":"storage: S3-compatible bucket"`) || strings.Contains(logs.String(), "local-disk storage") {
		t.Errorf("start-up log does not announce the bucket:\n%s", logs.String())
	}
	c := apitest.NewRemote(t, "http://"+addr)
	login := c.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-carol"})
	if login.Status != http.StatusOK {
		t.Fatalf("login: %s", login)
	}
	var lr api.LoginResponse
	login.Decode(&lr)
	uploadAvatar(t, c, "Authorization: Bearer "+lr.AccessToken, "http://"+addr)

	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(cmd, 20*time.Second); err != nil {
		t.Fatalf("exit: %v", err)
	}
	if strings.Contains(logs.String(), s3.SecretKey) {
		t.Error("the S3 secret key reached the log")
	}
}

// TestStartupFailsClearlyOnBadConfiguration proves a bad environment stops
// the binary at once with a message naming the variable.
func TestStartupFailsClearlyOnBadConfiguration(t *testing.T) {
	pgtest.SkipIfShort(t, "builds the binary")
	bin := buildBinary(t)
	cmd := exec.Command(bin)
	cmd.Env = append(cleanEnv(), "MINIBACK_ENV=production", "MINIBACK_ACCESS_TOKEN_TTL=5s")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("started with a bad configuration:\n%s", out)
	}
	for _, want := range []string{"DATABASE_URL is required in production", "MINIBACK_ACCESS_TOKEN_TTL", "MINIBACK_WECHAT_APPS is required"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

func buildBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "miniback-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "miniback")
		out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// databaseURL is the embedded cluster's URL, from the start-up log.
func databaseURL(t *testing.T, logs string) string {
	t.Helper()
	for _, line := range strings.Split(logs, "\n") {
		var entry struct {
			Msg string `json:"msg"`
			URL string `json:"url"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && strings.HasPrefix(entry.Msg, "embedded default: private PostgreSQL cluster") {
			return entry.URL
		}
	}
	t.Fatalf("no database URL in the log:\n%s", logs)
	return ""
}

// cleanEnv is the test's environment without miniback's own variables, so
// a developer's settings cannot change what the test proves.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "MINIBACK_") || strings.HasPrefix(kv, "DATABASE_URL=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer collects the child's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startAndWait starts cmd and waits for a log line containing ready. The
// process is killed at the end of the test if it is still running.
func startAndWait(t *testing.T, cmd *exec.Cmd, ready string) *syncBuffer {
	t.Helper()
	return startAndWaitUntil(t, t, cmd, ready)
}

// startAndWaitUntil is startAndWait for a process that outlives the test
// t that starts it: it is killed at the end of owner.
func startAndWaitUntil(t *testing.T, owner testing.TB, cmd *exec.Cmd, ready string) *syncBuffer {
	t.Helper()
	logs := &syncBuffer{}
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	owner.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logs, line)
			if strings.Contains(line, ready) {
				once.Do(func() { close(found) })
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	exited := make(chan error, 1)
	go func() {
		<-ctx.Done()
		exited <- ctx.Err()
	}()
	select {
	case <-found:
		return logs
	case <-exited:
		t.Fatalf("miniback did not become ready within 90s:\n%s", logs.String())
		return nil
	}
}

func waitExit(cmd *exec.Cmd, timeout time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		return fmt.Errorf("did not exit within %s", timeout)
	}
}
