package httpapi_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/httpapi"
	"github.com/miniback/miniback/adapters/httpapi/apitest"
	"github.com/miniback/miniback/adapters/jwx"
	"github.com/miniback/miniback/adapters/localstore"
	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/adapters/s3store"
	"github.com/miniback/miniback/adapters/s3store/s3test"
	"github.com/miniback/miniback/adapters/wechat"
	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The mini-programs the simulator knows.
const (
	appA    = "wx00000000000000a1"
	secretA = "secret-of-app-a"
	appB    = "wx00000000000000b2"
	secretB = "secret-of-app-b"
)

// Token claims the handler's verifier requires.
const (
	issuer   = "miniback"
	audience = "miniback-api"
	tokenTTL = 15 * time.Minute
)

// env is the API wired to real components: PostgreSQL (pgtest), the real
// WeChat client against the simulator on a loopback listener, and jwx
// tokens with a fresh key. Every response goes through apitest.
type env struct {
	api     *apitest.Client // for the test that made the env
	handler http.Handler
	db      *postgres.DB
	sim     *wechatsim.Server
	tokens  *jwx.Tokens
	keys    []jwx.Key
	priv    ed25519.PrivateKey // keys[0]'s private key, to forge tokens
	logs    *syncBuffer
	seen    *observed

	// Uploads: the use-case as wired and its storage. clock is read by
	// the task and upload use-cases and the local storage.
	uploads *app.Uploads
	storage ports.ObjectStorage
	s3      *s3test.Server // with the S3 storage
	clock   *shiftedClock
}

// Upload settings of the test API.
const (
	publicURL  = "http://miniback.test"
	ticketTTL  = 15 * time.Minute
	pendingTTL = 24 * time.Hour
	dlTTL      = time.Hour
)

// config holds what a test may change from the defaults.
type config struct {
	apps          []domain.AppID
	wechatTimeout time.Duration
	store         ports.UserStore // replaces the real store of Profiles
	ready         func(context.Context) error
	corsOrigins   []string
	maxBodyBytes  int64
	allow500      bool
	storage       string // "local" (default) or "s3"
	rules         domain.UploadRules
}

type option func(*config)

// withApps configures several mini-programs (appA and appB).
func withApps(ids ...domain.AppID) option { return func(c *config) { c.apps = ids } }

func withWeChatTimeout(d time.Duration) option { return func(c *config) { c.wechatTimeout = d } }

// withProfileStore serves the profile operations from store; a test double
// for failures the real store cannot be made to produce.
func withProfileStore(s ports.UserStore) option { return func(c *config) { c.store = s } }

func withReady(f func(context.Context) error) option { return func(c *config) { c.ready = f } }

func withCORS(origins ...string) option { return func(c *config) { c.corsOrigins = origins } }

func withMaxBody(n int64) option { return func(c *config) { c.maxBodyBytes = n } }

// withStorage serves uploads from "local" disk or "s3" (a versitygw).
func withStorage(kind string) option { return func(c *config) { c.storage = kind } }

// withUploadRules replaces the default per-purpose rules.
func withUploadRules(r domain.UploadRules) option { return func(c *config) { c.rules = r } }

// expecting500 lifts the rule that no test answers a 500.
func expecting500() option { return func(c *config) { c.allow500 = true } }

func newEnv(t *testing.T, opts ...option) *env {
	t.Helper()
	cfg := config{apps: []domain.AppID{appA}, wechatTimeout: 2 * time.Second, storage: "local", rules: domain.DefaultUploadRules()}
	for _, o := range opts {
		o(&cfg)
	}

	sim, err := wechatsim.Start("127.0.0.1:0", wechatsim.Config{Apps: map[string]string{appA: secretA, appB: secretB}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	secrets := map[domain.AppID]string{appA: secretA, appB: secretB}
	apps := make(map[domain.AppID]string, len(cfg.apps))
	for _, id := range cfg.apps {
		apps[id] = secrets[id]
	}
	client, err := wechat.NewClient(wechat.Config{BaseURL: sim.URL(), Apps: apps, Timeout: cfg.wechatTimeout})
	if err != nil {
		t.Fatal(err)
	}
	seen := &observed{}
	weChat := &sessionKeyRecorder{WeChatAuth: client, seen: seen}

	keyPEM, err := jwx.GenerateEd25519PEM()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := jwx.ParsePrivateKeysPEM(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := jwx.New(jwx.Config{Keys: keys, Issuer: issuer, Audience: audience, TTL: tokenTTL})
	if err != nil {
		t.Fatal(err)
	}

	db := pgtest.NewDB(t)
	users := postgres.NewUserStore(db)
	cursors, err := app.NewCursorCodec([]byte("a test cursor secret, 32+ bytes long"))
	if err != nil {
		t.Fatal(err)
	}
	clock := &shiftedClock{}
	profileStore := ports.UserStore(users)
	if cfg.store != nil {
		profileStore = cfg.store
	}
	ready := cfg.ready
	if ready == nil {
		ready = db.Ping
	}
	var storage ports.ObjectStorage
	var local ports.LocalFiles
	var s3srv *s3test.Server
	switch cfg.storage {
	case "local":
		ls, err := localstore.New(localstore.Config{Dir: t.TempDir(), URL: httpapi.LocalStorageURL(publicURL), Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ls.Close() })
		storage, local = ls, ls
	case "s3":
		s3srv = s3test.Start(t)
		st, err := s3store.New(s3store.Config{
			Endpoint: s3srv.Endpoint, Region: s3srv.Region, Bucket: s3srv.Bucket,
			AccessKey: s3srv.AccessKey, SecretKey: s3srv.SecretKey, PathStyle: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		storage = st
	default:
		t.Fatalf("unknown storage %q", cfg.storage)
	}
	uploads := &app.Uploads{
		Store: postgres.NewUploadStore(db), Storage: storage, Clock: clock, Rules: cfg.rules,
		TicketTTL: ticketTTL, PendingTTL: pendingTTL, DownloadTTL: dlTTL,
	}

	logs := &syncBuffer{}
	h := httpapi.NewHandler(httpapi.Deps{
		Login: app.WeChatLogin{
			Apps: app.NewApps(cfg.apps...), WeChat: weChat, Users: users, Tokens: tokens, Clock: ports.SystemClock{},
		},
		Profiles:     app.Profiles{Users: profileStore, Uploads: uploads, Links: httpapi.Links{PublicURL: publicURL}},
		Todos:        app.Todos{Store: postgres.NewTodoStore(db), Cursors: cursors, Clock: clock},
		Uploads:      uploads,
		Attachments:  app.Attachments{Store: postgres.NewAttachmentStore(db), Uploads: uploads},
		LocalFiles:   local,
		Verifier:     tokens,
		Ready:        ready,
		Logger:       slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		CORSOrigins:  cfg.corsOrigins,
		MaxBodyBytes: cfg.maxBodyBytes,
	})

	e := &env{
		handler: seen.wrap(h), db: db, sim: sim, tokens: tokens, keys: keys,
		priv: privateKey(t, keyPEM), logs: logs, seen: seen, clock: clock,
		uploads: uploads, storage: storage, s3: s3srv,
	}
	e.api = apitest.New(t, e.handler)
	t.Cleanup(func() { e.checkInvariants(t, cfg.allow500) })
	return e
}

// apiFor returns a client reporting to t, for subtests.
func (e *env) apiFor(t *testing.T) *apitest.Client { return apitest.New(t, e.handler) }

// checkInvariants holds for every test: no 500 unless the test provokes
// one, and no WeChat session_key in any response body or log line.
func (e *env) checkInvariants(t *testing.T, allow500 bool) {
	t.Helper()
	e.seen.mu.Lock()
	defer e.seen.mu.Unlock()
	if !allow500 && e.seen.status500 > 0 {
		t.Errorf("%d responses were 500s", e.seen.status500)
	}
	logs := e.logs.String()
	for _, k := range e.seen.sessionKeys {
		if bytes.Contains(e.seen.bodies.Bytes(), []byte(k)) {
			t.Errorf("a session_key appeared in a response body")
		}
		if strings.Contains(logs, k) {
			t.Errorf("a session_key appeared in the log")
		}
	}
}

// login logs in with code and returns the response body.
func (e *env) login(t *testing.T, code string) loginResponse {
	t.Helper()
	res := e.api.JSON("POST", "/v1/auth/wechat", map[string]string{"code": code})
	if res.Status != http.StatusOK {
		t.Fatalf("login with %q: want 200\n%s", code, res)
	}
	var l loginResponse
	res.Decode(&l)
	return l
}

// bearer returns the Authorization header for token.
func bearer(token string) string { return "Authorization: Bearer " + token }

// loginResponse mirrors api.LoginResponse loosely, so a test can see every
// member the server sent.
type loginResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	IsNewUser   bool   `json:"is_new_user"`
	User        user   `json:"user"`
}

type user struct {
	ID        string    `json:"id"`
	Nickname  string    `json:"nickname"`
	AvatarURL string    `json:"avatar_url"`
	Bio       string    `json:"bio"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// observed is what the tests saw go by: every response body and status,
// and every session_key WeChat handed out.
type observed struct {
	mu          sync.Mutex
	bodies      bytes.Buffer
	status500   int
	sessionKeys []string
}

// wrap records the status and body of each response of h.
func (o *observed) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&teeWriter{ResponseWriter: w, o: o}, r)
	})
}

type teeWriter struct {
	http.ResponseWriter
	o *observed
}

func (w *teeWriter) WriteHeader(status int) {
	if status == http.StatusInternalServerError {
		w.o.mu.Lock()
		w.o.status500++
		w.o.mu.Unlock()
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *teeWriter) Write(b []byte) (int, error) {
	w.o.mu.Lock()
	w.o.bodies.Write(b)
	w.o.mu.Unlock()
	return w.ResponseWriter.Write(b)
}

// sessionKeyRecorder is the real WeChat client, watched: it notes each
// session_key so the tests can check that none leaks.
type sessionKeyRecorder struct {
	ports.WeChatAuth
	seen *observed
}

func (r *sessionKeyRecorder) Code2Session(ctx context.Context, app domain.AppID, code string) (domain.WeChatIdentity, error) {
	id, err := r.WeChatAuth.Code2Session(ctx, app, code)
	if err == nil {
		r.seen.mu.Lock()
		r.seen.sessionKeys = append(r.seen.sessionKeys, id.SessionKey.Reveal())
		r.seen.mu.Unlock()
	}
	return id, err
}

// shiftedClock is the wall clock moved by a shift a test sets, to make
// idempotency keys expire.
type shiftedClock struct {
	mu    sync.Mutex
	shift time.Duration
}

func (c *shiftedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.shift)
}

func (c *shiftedClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.shift += d
}

// syncBuffer is a log destination safe for concurrent writers.
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

// privateKey parses the PKCS #8 Ed25519 key jwx generated.
func privateKey(t *testing.T, keyPEM []byte) ed25519.PrivateKey {
	t.Helper()
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		t.Fatal("no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(ed25519.PrivateKey)
}
