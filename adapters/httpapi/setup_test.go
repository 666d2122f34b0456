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

	"github.com/miniback/miniback/adapters/argon2id"
	"github.com/miniback/miniback/adapters/httpapi"
	"github.com/miniback/miniback/adapters/httpapi/apitest"
	"github.com/miniback/miniback/adapters/jwx"
	"github.com/miniback/miniback/adapters/localstore"
	"github.com/miniback/miniback/adapters/metrics"
	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/adapters/ratelimit"
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
// tokens with a fresh key. Every response goes through apitest. More
// instances of the API (replicas) can be started on the same database with
// newInstance.
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
	hasher  *watchedHasher // the real Argon2id hasher, shared by the instances
	clock   *testClock     // the use-cases' clock; tests move it to expire sessions and idempotency keys
	users   *postgres.UserStore
	cfg     config
	weChat  ports.WeChatAuth
	// wechatAPI calls the simulator's token-bearing APIs (phone numbers)
	// with tokens kept in this process.
	wechatAPI *wechat.API
	// wechatClient is the WeChat client of every instance; the health
	// page reads its breakers and errcodes.
	wechatClient *wechat.Client
	cursors      app.CursorCodec
	// content is WeChat's content security through the simulator; the
	// first instance's Moderation use-case takes the pushed verdicts.
	content    ports.ContentChecker
	moderation *app.Moderation

	// Uploads: the first instance's use-case and the storage of all
	// instances (one bucket or directory).
	uploads *app.Uploads
	storage ports.ObjectStorage
	local   localstore.Files // with the local storage
	s3      *s3test.Server   // with the S3 storage
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
	passwordsOff  bool
	loginLimits   domain.LoginLimits
	proxies       []string
	keys          []jwx.Key // signing keys; nil means one fresh Ed25519 key
	// Test doubles for failures the real stores cannot be made to produce.
	sessionStore ports.SessionStore
	deleter      ports.AccountDeleter
	userAdmin    ports.UserAdmin
	storage      string // "local" (default) or "s3"
	rules        domain.UploadRules
	wxaLimit     domain.ThrottleRule // each user's new QR codes; zero: none
	// content: which fields WeChat's content security checks (none by
	// default, so other tests make no content security calls).
	content  domain.ContentChecks
	cloudRun bool // believe WeChat Cloud Hosting's identity headers on POST /v1/auth/cloudrun
	// Message push: the apps whose push is received, and the receiver
	// of media verdicts (nil: none).
	push  map[domain.AppID]domain.PushEndpoint
	media app.MediaVerdicts
	// limiter applies rate limits (nil: none); every instance shares it.
	limiter *ratelimit.Limiter
	// Request deadlines and the in-flight registry (none by default).
	deadlines httpapi.Deadlines
	inFlight  *httpapi.InFlight
	// metrics records requests and WeChat calls (metrics_test.go); nil: none.
	metrics *metrics.Metrics
	// resilience is the breakers and retries around WeChat; none by
	// default.
	resilience wechat.Resilience
}

type option func(*config)

// withContentChecks switches content security on for fields, with the
// failure policy onFailure.
func withContentChecks(onFailure domain.ContentFailurePolicy, fields ...domain.ContentField) option {
	return func(c *config) { c.content = domain.ContentChecks{Fields: fields, OnFailure: onFailure} }
}

// withPush receives the message push of these apps, handing media
// verdicts to media (which may be nil).
func withPush(endpoints map[domain.AppID]domain.PushEndpoint, media app.MediaVerdicts) option {
	return func(c *config) { c.push, c.media = endpoints, media }
}

// withStorage serves uploads from "local" disk or "s3" (a versitygw).
func withStorage(kind string) option { return func(c *config) { c.storage = kind } }

// withWxaCodeLimit bounds each user's new QR codes.
func withWxaCodeLimit(r domain.ThrottleRule) option { return func(c *config) { c.wxaLimit = r } }

// withUploadRules replaces the default per-purpose rules.
func withUploadRules(r domain.UploadRules) option { return func(c *config) { c.rules = r } }

// withApps configures several mini-programs (appA and appB).
func withApps(ids ...domain.AppID) option { return func(c *config) { c.apps = ids } }

func withWeChatTimeout(d time.Duration) option { return func(c *config) { c.wechatTimeout = d } }

// withWeChatResilience puts breakers and retries around WeChat.
func withWeChatResilience(r wechat.Resilience) option { return func(c *config) { c.resilience = r } }

// withProfileStore serves the profile operations from store; a test double
// for failures the real store cannot be made to produce.
func withProfileStore(s ports.UserStore) option { return func(c *config) { c.store = s } }

func withReady(f func(context.Context) error) option { return func(c *config) { c.ready = f } }

func withCORS(origins ...string) option { return func(c *config) { c.corsOrigins = origins } }

func withMaxBody(n int64) option { return func(c *config) { c.maxBodyBytes = n } }

// withFailingStores serves sessions, account deletion and the admin list
// from doubles (the login needs the real stores, so tests use hand-made
// tokens with them).
func withFailingStores(s ports.SessionStore, d ports.AccountDeleter, a ports.UserAdmin) option {
	return func(c *config) { c.sessionStore, c.deleter, c.userAdmin = s, d, a }
}

// withKeys signs with keys[0] and verifies with all of them.
func withKeys(keys ...jwx.Key) option { return func(c *config) { c.keys = keys } }

// withCloudRun switches the WeChat Cloud Hosting mode on.
func withCloudRun() option { return func(c *config) { c.cloudRun = true } }

// withoutPasswords switches password accounts off.
func withoutPasswords() option { return func(c *config) { c.passwordsOff = true } }

// withLoginLimits replaces the throttle's limits (15-minute windows).
func withLoginLimits(account, ip int) option {
	return func(c *config) {
		c.loginLimits = domain.LoginLimits{
			Account: domain.ThrottleRule{Limit: account, Window: 15 * time.Minute},
			IP:      domain.ThrottleRule{Limit: ip, Window: 15 * time.Minute},
		}
	}
}

// withTrustedProxies trusts X-Forwarded-For from these peers.
func withTrustedProxies(p ...string) option { return func(c *config) { c.proxies = p } }

// withDeadlines bounds each request's context as the server does.
func withDeadlines(d httpapi.Deadlines) option { return func(c *config) { c.deadlines = d } }

// withInFlight counts the requests being served in f.
func withInFlight(f *httpapi.InFlight) option { return func(c *config) { c.inFlight = f } }

// expecting500 lifts the rule that no test answers a 500.
func expecting500() option { return func(c *config) { c.allow500 = true } }

// testVersion is the version line the test API reports.
const testVersion = "miniback test"

// Session lifetimes of every env.
var testPolicy = domain.SessionPolicy{IdleTTL: 30 * 24 * time.Hour, AbsoluteTTL: 90 * 24 * time.Hour}

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
	client, err := wechat.NewClient(wechat.Config{BaseURL: sim.URL(), Apps: apps, Timeout: cfg.wechatTimeout, Observer: cfg.observer(),
		Resilience: cfg.resilience})
	if err != nil {
		t.Fatal(err)
	}
	seen := &observed{}

	var priv ed25519.PrivateKey
	if cfg.keys == nil {
		keyPEM, err := jwx.GenerateEd25519PEM()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.keys, err = jwx.ParsePrivateKeysPEM(keyPEM); err != nil {
			t.Fatal(err)
		}
		priv = privateKey(t, keyPEM)
	}

	cursors, err := app.NewCursorCodec([]byte("a test cursor secret, 32+ bytes long"))
	if err != nil {
		t.Fatal(err)
	}
	db := pgtest.NewDB(t)
	e := &env{
		db: db, sim: sim, priv: priv, logs: &syncBuffer{}, seen: seen, cfg: cfg,
		clock:     &testClock{},
		users:     postgres.NewUserStore(db),
		weChat:    &sessionKeyRecorder{WeChatAuth: client, seen: seen},
		wechatAPI: client.API(wechat.NewProcessTokens(client)), wechatClient: client,
		hasher:  &watchedHasher{PasswordHasher: sharedHasher(t), seen: seen},
		cursors: cursors,
		content: wechat.NewContentSecurity(client.API(wechat.NewProcessTokens(client))), // its own tokens, like a second replica
	}
	e.setUpStorage(t)
	first := e.newInstance(t, cfg.keys)
	e.api, e.handler, e.tokens, e.keys, e.uploads = first.api, first.handler, first.tokens, cfg.keys, first.app.Uploads
	e.moderation = first.app.Moderation
	t.Cleanup(func() { e.checkInvariants(t, cfg.allow500) })
	return e
}

// instance is one replica of the API: its own token keys, revocation set
// and handler, on the env's database.
type instance struct {
	api     *apitest.Client
	handler http.Handler
	tokens  *jwx.Tokens
	revs    *app.Revocations
	app     *app.App
}

// newInstance starts another replica on e's database, signing with
// keys[0] and verifying with all keys. Its revocation set reads the feed
// only when the test says (revs.Refresh) or runs it.
func (e *env) newInstance(t *testing.T, keys []jwx.Key) *instance {
	t.Helper()
	// The verifier caches tokens it has verified, as in production, so
	// every test of a secured operation also runs with tokens seen before.
	tokens, err := jwx.New(jwx.Config{Keys: keys, Issuer: issuer, Audience: audience, TTL: tokenTTL, CacheSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	store := postgres.NewSessionStore(e.db)
	sessionStore, deleter, userAdmin := ports.SessionStore(store), ports.AccountDeleter(e.users), ports.UserAdmin(e.users)
	if e.cfg.sessionStore != nil {
		sessionStore, deleter, userAdmin = e.cfg.sessionStore, e.cfg.deleter, e.cfg.userAdmin
	}
	a := app.New(app.Ports{
		Clock: e.clock, WeChat: e.weChat, Tokens: tokens,
		Users: e.users, Binder: e.users, Deleter: deleter, UserAdmin: userAdmin,
		Sessions: sessionStore, RevocationFeed: store,
		Credentials: postgres.NewCredentialStore(e.db), Hasher: e.hasher, Throttle: postgres.NewAttemptThrottle(e.db),
		Todos: postgres.NewTodoStore(e.db), Uploads: postgres.NewUploadStore(e.db), Storage: e.storage,
		Attachments: postgres.NewAttachmentStore(e.db), AvatarLinks: httpapi.Links{PublicURL: publicURL},
		WeChatPhone: e.wechatAPI, Phones: e.users,
		ContentChecker: e.content, Moderation: postgres.NewModerationStore(e.db),
		SessionKeys: e.users,
		PushEvents:  postgres.NewPushStore(e.db), IdentitySessions: store, MediaVerdicts: e.cfg.media, Subscriptions: postgres.NewSubscriptionStore(e.db),
		WxaCodeMaker: e.wechatAPI, Objects: e.storage.(ports.ObjectBytes),
		Database: e.db, WeChatStatus: e.wechatClient, WeChatTokens: postgres.NewWeChatTokenStore(e.db),
	}, app.Options{
		Apps: app.NewApps(e.cfg.apps...), CloudRun: e.cfg.cloudRun, SessionPolicy: testPolicy,
		PasswordAuth: !e.cfg.passwordsOff, LoginLimits: e.cfg.loginLimits, Cursors: e.cursors,
		UploadRules: e.cfg.rules, UploadTicketTTL: ticketTTL, UploadPendingTTL: pendingTTL, UploadDownloadTTL: dlTTL,
		RevocationRetain: tokenTTL + jwx.DefaultSkew, WxaCodeUserLimit: e.cfg.wxaLimit,
		Content: e.cfg.content,
		Log:     slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Push:    app.PushSettings{Endpoints: e.cfg.push},
		// Each app's reminder template (subscriptions_test.go).
		SubscribeTemplates: testSubscribeTemplates,
		Version:            testVersion, Started: time.Now(),
	})
	if e.cfg.store != nil {
		a.Profiles.Users = e.cfg.store // the profile operations alone
	}
	if err := a.Revocations.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	ready := e.cfg.ready
	if ready == nil {
		ready = e.db.Ping
	}
	h := httpapi.NewHandler(httpapi.Deps{
		App:            a,
		LocalFiles:     e.local,
		Verifier:       tokens,
		JWKS:           tokens.PublicJWKS,
		Ready:          ready,
		Logger:         slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		CORSOrigins:    e.cfg.corsOrigins,
		MaxBodyBytes:   e.cfg.maxBodyBytes,
		TrustedProxies: e.cfg.proxies,
		RateLimits:     e.cfg.limiter,
		Deadlines:      e.cfg.deadlines,
		InFlight:       e.cfg.inFlight,
		Metrics:        e.cfg.metrics,
	})
	handler := e.seen.wrap(h)
	return &instance{api: apitest.New(t, handler), handler: handler, tokens: tokens, revs: a.Revocations, app: a}
}

// setUpStorage makes the env's storage: a local directory or a versitygw
// bucket.
func (e *env) setUpStorage(t *testing.T) {
	t.Helper()
	switch e.cfg.storage {
	case "local":
		ls, err := localstore.New(localstore.Config{Dir: t.TempDir(), URL: httpapi.LocalStorageURL(publicURL), Clock: e.clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ls.Close() })
		e.storage, e.local = ls, ls
	case "s3":
		e.s3 = s3test.Start(t)
		st, err := s3store.New(s3store.Config{
			Endpoint: e.s3.Endpoint, Region: e.s3.Region, Bucket: e.s3.Bucket,
			AccessKey: e.s3.AccessKey, SecretKey: e.s3.SecretKey, PathStyle: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		e.storage = st
	default:
		t.Fatalf("unknown storage %q", e.cfg.storage)
	}
}

// testClock is the wall clock, moved forward by what tests Advance.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// apiFor returns a client reporting to t, for subtests.
func (e *env) apiFor(t *testing.T) *apitest.Client { return apitest.New(t, e.handler) }

// checkInvariants holds for every test: no 500 unless the test provokes
// one, and no WeChat session_key, password or password hash in any
// response body or log line.
func (e *env) checkInvariants(t *testing.T, allow500 bool) {
	t.Helper()
	e.seen.mu.Lock()
	defer e.seen.mu.Unlock()
	if !allow500 && e.seen.status500 > 0 {
		t.Errorf("%d responses were 500s", e.seen.status500)
	}
	logs := e.logs.String()
	if strings.Contains(logs, domain.RefreshTokenPrefix) {
		t.Errorf("a refresh token appeared in the log")
	}
	for _, k := range e.seen.sessionKeys {
		if bytes.Contains(e.seen.bodies.Bytes(), []byte(k)) {
			t.Errorf("a session_key appeared in a response body")
		}
		if strings.Contains(logs, k) {
			t.Errorf("a session_key appeared in the log")
		}
	}
	for _, s := range e.seen.passwordSecrets {
		if bytes.Contains(e.seen.bodies.Bytes(), []byte(s)) {
			t.Errorf("a password or password hash appeared in a response body")
		}
		if strings.Contains(logs, s) {
			t.Errorf("a password or password hash appeared in the log")
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
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int    `json:"expires_in"`
	RefreshToken     string `json:"refresh_token"`
	RefreshExpiresIn int    `json:"refresh_expires_in"`
	IsNewUser        bool   `json:"is_new_user"`
	User             user   `json:"user"`
}

type user struct {
	ID        string    `json:"id"`
	Nickname  string    `json:"nickname"`
	AvatarURL string    `json:"avatar_url"`
	Bio       string    `json:"bio"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// nil when absent, so a test can tell absent from empty.
	Username    *string `json:"username"`
	Email       *string `json:"email"`
	HasPassword *bool   `json:"has_password"`
}

// observed is what the tests saw go by: every response body and status,
// and every session_key WeChat handed out.
type observed struct {
	mu              sync.Mutex
	bodies          bytes.Buffer
	status500       int
	sessionKeys     []string
	passwordSecrets []string // passwords hashed or verified, and hashes made
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

// sharedHasher is one Argon2id hasher at OWASP's parameters for the whole
// test binary: making one computes its dummy hash.
var sharedHasher = func() func(t *testing.T) ports.PasswordHasher {
	var once sync.Once
	var h *argon2id.Hasher
	var err error
	return func(t *testing.T) ports.PasswordHasher {
		once.Do(func() { h, err = argon2id.New(argon2id.Config{}) })
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
}()

// watchedHasher is the real hasher, watched: it counts verifications and
// notes each password and hash so the tests can check that none leaks.
type watchedHasher struct {
	ports.PasswordHasher
	seen *observed

	mu       sync.Mutex
	verified []domain.PasswordHash
}

func (w *watchedHasher) note(secrets ...string) {
	w.seen.mu.Lock()
	defer w.seen.mu.Unlock()
	for _, s := range secrets {
		if len(s) >= 8 { // short strings would match innocent text
			w.seen.passwordSecrets = append(w.seen.passwordSecrets, s)
		}
	}
}

func (w *watchedHasher) Hash(ctx context.Context, p domain.Password) (domain.PasswordHash, error) {
	h, err := w.PasswordHasher.Hash(ctx, p)
	w.note(p.Reveal(), h.Reveal())
	return h, err
}

func (w *watchedHasher) Verify(ctx context.Context, h domain.PasswordHash, p domain.Password) (bool, bool, error) {
	w.note(p.Reveal(), h.Reveal())
	w.mu.Lock()
	w.verified = append(w.verified, h)
	w.mu.Unlock()
	return w.PasswordHasher.Verify(ctx, h, p)
}

// verifications returns the hashes verified so far.
func (w *watchedHasher) verifications() []domain.PasswordHash {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]domain.PasswordHash(nil), w.verified...)
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
