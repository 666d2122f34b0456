package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/miniback/miniback/adapters/argon2id"
	"github.com/miniback/miniback/adapters/httpapi"
	"github.com/miniback/miniback/adapters/jobs"
	"github.com/miniback/miniback/adapters/jwx"
	"github.com/miniback/miniback/adapters/localstore"
	"github.com/miniback/miniback/adapters/metrics"
	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgcluster"
	"github.com/miniback/miniback/adapters/s3store"
	"github.com/miniback/miniback/adapters/wechat"
	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Main holds every component of a running miniback, wired in one readable
// place. Run starts them in dependency order; Close stops them in reverse.
type Main struct {
	Config Config
	Logger *slog.Logger

	cluster *pgcluster.Cluster // embedded PostgreSQL, when DATABASE_URL is empty
	db      *postgres.DB
	dbURL   string            // the database's, for the migrations' own connections
	sim     *wechatsim.Server // WeChat simulator, when no apps are configured
	// wechatAPI calls WeChat's token-bearing APIs (phone number, content
	// security, QR codes…) for every served app.
	wechatAPI *wechat.API
	local     *localstore.Store // local-disk storage, when MINIBACK_STORAGE=local
	ln        net.Listener
	server    *http.Server
	addr      net.Addr
	serveErr  chan error
	// debug serves pprof on MINIBACK_DEBUG_ADDR, when set (debug.go).
	debug     *http.Server
	debugAddr net.Addr
	// metrics is the Prometheus registry, served on MINIBACK_METRICS_ADDR
	// (metrics.go); nil when off.
	metrics       *metrics.Metrics
	metricsServer *http.Server
	metricsAddr   net.Addr

	// App is the use-cases, once Run has started.
	App *app.App
	// background is the revocation polling and listening (and the purges
	// when no job queue works here), from Run until Close.
	background *app.Background
	// Jobs is the durable job queue (jobs.go), and JobWorkers the job
	// kinds it works: a package that defines a job adds its worker with
	// river.AddWorker before Run starts the queue.
	Jobs       *jobs.Queue
	JobWorkers *jobs.Workers
	// riverUIStop stops river's UI (riverui.go), when it runs.
	riverUIStop context.CancelFunc

	// wechatTokens is the access token of each app, shared by every
	// replica through PostgreSQL; the background refreshes it ahead of
	// expiry.
	wechatTokens *wechat.SharedTokens

	// redis holds the rate limits' budgets, when MINIBACK_REDIS_URL is
	// set (ratelimit.go).
	redis io.Closer
	// stop is how serving stops (shutdown.go).
	stop stopping
}

// purgeInterval is how often an instance deletes long-ended sessions and
// old revocations. Every instance does; the deletes are idempotent.
const purgeInterval = time.Hour

// NewMain returns an unstarted Main logging JSON to logOut.
func NewMain(cfg Config, logOut io.Writer) *Main {
	level, _ := parseLogLevel(cfg.LogLevel) // validated by LoadConfig
	logger := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: level}))
	m := &Main{Config: cfg, Logger: logger, serveErr: make(chan error, 1)}
	m.stop.inFlight = httpapi.NewInFlight()
	return m
}

// Run opens the database, migrates it if configured to, sets up WeChat and
// token signing, and starts serving HTTP. It returns once the listener is
// open; serving goes on until Close.
func (m *Main) Run(ctx context.Context) error {
	started := time.Now()
	m.newMetrics()
	if err := m.openDatabase(ctx); err != nil {
		return err
	}
	if m.metrics != nil {
		m.metrics.WatchPool(m.db.Pool())
	}
	if m.Config.MigrateOnStart {
		if err := m.migrate(ctx); err != nil {
			return err
		}
	}
	weChat, apps, err := m.weChat()
	if err != nil {
		return err
	}
	tokens, err := m.tokens()
	if err != nil {
		return err
	}
	cursors, err := m.cursorCodec()
	if err != nil {
		return err
	}
	hasher, err := m.passwordHasher()
	if err != nil {
		return err
	}

	// Listen before wiring uploads: the public URL (and so every link the
	// API hands out) may depend on the port.
	if err := m.listen(); err != nil {
		return err
	}
	publicURL := m.publicURL()
	storage, err := m.storage(ctx, publicURL)
	if err != nil {
		return err
	}
	push := m.pushEndpoints()
	if err := m.newJobQueue(); err != nil {
		return err
	}
	users, sessions := postgres.NewUserStore(m.db), postgres.NewSessionStore(m.db)
	admin := postgres.NewAdminStore(m.db)
	p := app.Ports{
		Clock: app.SystemClock{}, WeChat: weChat, Tokens: tokens,
		Users: users, Binder: users, Deleter: users, UserAdmin: users,
		AdminStore: admin, AuditLog: admin, AccountStatus: admin,
		Sessions: sessions, RevocationFeed: sessions, SessionPurger: sessions,
		Todos: m.reminderTodos(), Uploads: postgres.NewUploadStore(m.db), Storage: storage,
		Attachments: postgres.NewAttachmentStore(m.db), AvatarLinks: httpapi.Links{PublicURL: publicURL},
		WeChatPhone: m.wechatAPI, Phones: users,
		ContentChecker: wechat.NewContentSecurity(m.wechatAPI), Moderation: postgres.NewModerationStore(m.db),
		SessionKeys: users,
		PushEvents:  postgres.NewPushStore(m.db), IdentitySessions: sessions,
		Subscriptions: postgres.NewSubscriptionStore(m.db),
		// Task reminders: the worker claims and finishes sends here and
		// sends them through the token-bearing caller.
		Reminders: postgres.NewReminderStore(m.db), SubscribeSender: m.wechatAPI,
		// The attempt counters also bound each user's new QR codes.
		Throttle:     postgres.NewAttemptThrottle(m.db),
		WxaCodeMaker: m.wechatAPI, Objects: storage,
	}
	m.wireJobAdmin(&p)
	content := m.contentChecks()
	if hasher != nil {
		p.Credentials, p.Hasher = postgres.NewCredentialStore(m.db), hasher
	}
	if m.Config.RevocationListen {
		p.RevocationListener = m.db
	}
	// The health page (GET /v1/admin/health): the database, the WeChat
	// client's breakers and errcodes, and the shared access tokens (none
	// on Cloud Hosting).
	p.Database = m.db
	if st, ok := weChat.(ports.WeChatStatus); ok {
		p.WeChatStatus = st
	}
	if m.wechatTokens != nil {
		p.WeChatTokens = postgres.NewWeChatTokenStore(m.db)
	}
	rules, _ := m.Config.UploadRules() // validated by LoadConfig
	m.logCloudRun()
	m.App = app.New(p, app.Options{
		Apps: apps, CloudRun: m.Config.CloudRun, SessionPolicy: m.Config.SessionPolicy(), PasswordAuth: m.Config.PasswordAuth, Cursors: cursors,
		UploadRules: rules, UploadTicketTTL: m.Config.UploadTicketTTL, UploadPendingTTL: m.Config.UploadTTL,
		Content: content, ContentMediaURLTTL: m.Config.ContentMediaURLTTL, Log: m.Logger,
		UploadDownloadTTL: m.Config.UploadDownloadTTL, WxaCodeUserLimit: m.Config.WxaCodeLimit(), WeChatDataMaxAge: m.Config.WeChatDataMaxAge,
		// A token issued just before a revocation lives for the access
		// TTL, and the verifier tolerates jwx.DefaultSkew past its exp.
		RevocationRetain: m.Config.AccessTokenTTL + jwx.DefaultSkew,
		Schedule: app.Schedule{
			RevocationPoll: m.Config.RevocationPoll, SessionPurge: purgeInterval,
			IdempotencyPurge: m.Config.IdempotencyPurgeInterval, UploadClean: m.Config.UploadCleanInterval,
			PushPurge: purgeInterval,
		},
		Push:    app.PushSettings{Endpoints: push, MaxAge: m.Config.WeChatPushMaxAge, Retention: m.Config.WeChatPushRetention},
		Version: versionLine(), Started: started,
		SubscribeTemplates: m.subscribeTemplates(),
	})
	// The revocations that still matter are loaded before the first
	// request is served; the background keeps them fresh.
	if err := m.App.Revocations.Refresh(ctx); err != nil {
		return fmt.Errorf("load revocations: %w", err)
	}
	if m.metrics != nil {
		m.metrics.WatchRevocations(m.App.Revocations.LastRead)
	}
	m.addReminderWorker()
	if err := m.startJobs(ctx); err != nil {
		return err
	}
	// Every replica checks; the lease in the store lets one of them call
	// stable_token per token lifetime. Cloud Hosting's open-API service
	// needs no token.
	if m.wechatTokens != nil {
		m.background.Repeat(app.Task{Name: "wechat token refresh", Every: wechat.RefreshEvery, AtStart: true,
			Run: m.wechatTokens.RefreshDue})
	}
	m.Logger.Info("revocations: each instance refuses a revoked session's tokens within the poll interval",
		"poll", m.Config.RevocationPoll.String(), "listen", m.Config.RevocationListen)

	// A nil *metrics.Metrics gives a RateLimits that records nothing.
	limiter, err := m.rateLimiter(ctx, m.metrics.RateLimits())
	if err != nil {
		return err
	}
	deps := httpapi.Deps{
		App:            m.App,
		Verifier:       tokens,
		JWKS:           tokens.PublicJWKS,
		Ready:          m.ready,
		Logger:         m.Logger,
		CORSOrigins:    m.Config.CORSOrigins,
		MaxBodyBytes:   m.Config.MaxBodyBytes,
		TrustedProxies: m.Config.TrustedProxies,
		RateLimits:     limiter,
		// A file and the few form fields of its ticket.
		MaxUploadBytes: rules.MaxBytes() + 64<<10,
		Deadlines:      m.Config.deadlines(),
		InFlight:       m.stop.inFlight,
		Metrics:        m.metrics,
	}
	if m.local != nil {
		deps.LocalFiles = m.local
	}
	if err := m.startDebug(); err != nil {
		return err
	}
	if err := m.startMetrics(); err != nil {
		return err
	}
	m.serve(httpapi.NewHandler(deps), publicURL, started)
	return nil
}

// pushEndpoints returns the apps whose message push is received: those
// of MINIBACK_WECHAT_PUSH, or, with the simulator and nothing configured,
// the simulator's app with development values, whose pushes the simulator
// delivers to this API (POST /wechatsim/push). The token and key are never
// logged.
func (m *Main) pushEndpoints() map[domain.AppID]domain.PushEndpoint {
	push, _ := m.Config.PushEndpoints() // validated by LoadConfig
	if len(push) == 0 && m.sim != nil {
		e, err := domain.NewPushEndpoint(wechatsim.DefaultPushToken, wechatsim.DefaultEncodingAESKey, domain.PushCompat)
		if err != nil {
			panic(fmt.Sprintf("the simulator's push settings: %v", err)) // constants: a broken build
		}
		push = map[domain.AppID]domain.PushEndpoint{wechatsim.DefaultAppID: e}
		pushURL := "http://" + displayAddr(m.addr) + "/v1/wechat/push/" + wechatsim.DefaultAppID
		m.sim.Simulator().SetPusher(wechatsim.DefaultAppID, &wechatsim.Pusher{
			URL: pushURL, AppID: wechatsim.DefaultAppID, Token: wechatsim.DefaultPushToken,
			EncodingAESKey: wechatsim.DefaultEncodingAESKey, Encrypted: true,
		})
		m.Logger.Warn("embedded default: message push for the simulator's app with the DEVELOPMENT Token and EncodingAESKey "+
			"(wechatsim.DefaultPushToken, wechatsim.DefaultEncodingAESKey; compat mode); deliver events with POST /wechatsim/push on the simulator",
			"appid", wechatsim.DefaultAppID, "push_url", pushURL, "simulator_url", m.sim.URL(), "replace_with", "MINIBACK_WECHAT_PUSH")
		return push
	}
	if len(push) == 0 {
		m.Logger.Info("wechat push: none configured; /v1/wechat/push answers 404", "set", "MINIBACK_WECHAT_PUSH")
		return push
	}
	for _, id := range slices.Sorted(maps.Keys(push)) {
		mode := push[id].Mode
		m.Logger.Info("wechat push: receiving", "appid", string(id), "mode", string(mode), "path", "/v1/wechat/push/"+string(id))
		if mode == domain.PushPlain {
			m.Logger.Warn("wechat push: plaintext mode (明文模式): its signature does not cover the body; prefer safe mode (安全模式) with an EncodingAESKey",
				"appid", string(id))
		}
	}
	return push
}

// objectStorage is what both storage adapters offer: ticketed uploads,
// and the server's own small objects.
type objectStorage interface {
	ports.ObjectStorage
	ports.ObjectBytes
}

// storage returns the object storage uploads (and cached QR codes) go to:
// an S3-compatible bucket, or the local disk behind this API server.
func (m *Main) storage(ctx context.Context, publicURL string) (objectStorage, error) {
	if m.Config.Storage == "s3" {
		cfg, _ := m.Config.s3Config() // validated by LoadConfig
		s, err := s3store.New(cfg)
		if err != nil {
			return nil, err
		}
		m.Logger.Info("storage: S3-compatible bucket", "endpoint", cfg.Endpoint, "bucket", cfg.Bucket,
			"region", cfg.Region, "path_style", cfg.PathStyle)
		checkCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := s.Check(checkCtx); err != nil {
			// Not fatal: a storage hiccup must not keep the API down;
			// uploads fail with 503 until it answers.
			m.Logger.Warn("storage: the bucket did not answer at start", "error", err.Error())
		}
		return s, nil
	}
	dir := m.Config.StorageDir
	if dir == "" {
		dir = filepath.Join(m.Config.DataDir, "files")
	}
	s, err := localstore.New(localstore.Config{Dir: dir, URL: httpapi.LocalStorageURL(publicURL)})
	if err != nil {
		return nil, err
	}
	m.local = s
	// A temporary file older than the longest an upload may last was left
	// by a process that died mid-write; younger ones may be another
	// process's uploads in progress.
	if n, err := s.RemoveStaleTemp(time.Now().Add(-m.Config.longestUpload())); err != nil {
		m.Logger.Warn("storage: could not remove every stale temporary file", "error", err.Error(), "removed", n)
	} else if n > 0 {
		m.Logger.Info("storage: removed temporary files left by an interrupted upload", "removed", n)
	}
	m.Logger.Warn("embedded default: local-disk storage; uploads go through this server (development only)",
		"dir", s.Dir(), "upload_url", httpapi.LocalStorageURL(publicURL), "replace_with", "MINIBACK_STORAGE=s3")
	return s, nil
}

// publicURL is MINIBACK_PUBLIC_URL, or http://localhost:PORT.
func (m *Main) publicURL() string {
	if m.Config.PublicURL != "" {
		return strings.TrimRight(m.Config.PublicURL, "/")
	}
	return "http://" + displayAddr(m.addr)
}

// GrantAdmin makes the user an administrator (miniback admin grant).
func (m *Main) GrantAdmin(ctx context.Context, id domain.UserID) (domain.User, error) {
	if err := m.openDatabase(ctx); err != nil {
		return domain.User{}, err
	}
	if m.Config.MigrateOnStart {
		if err := m.migrate(ctx); err != nil {
			return domain.User{}, err
		}
	}
	admin := postgres.NewAdminStore(m.db)
	return app.Admin{Users: postgres.NewUserStore(m.db), Store: admin,
		Audit: &app.Audit{Log: admin, Clock: app.SystemClock{}}, Clock: app.SystemClock{}}.Grant(ctx, id)
}

// Addr is the address the API listens on, once Run has returned.
func (m *Main) Addr() net.Addr { return m.addr }

// ServeErr delivers an error if the HTTP server stops on its own.
func (m *Main) ServeErr() <-chan error { return m.serveErr }

// Migrate applies the migrations and returns.
func (m *Main) Migrate(ctx context.Context) error {
	if err := m.openDatabase(ctx); err != nil {
		return err
	}
	if err := m.migrate(ctx); err != nil {
		return err
	}
	m.Logger.Info("migrations applied")
	return nil
}

// Close stops serving (letting in-flight requests finish within
// MINIBACK_SHUTDOWN_TIMEOUT), then releases everything Run opened.
//
// Requests still running after the timeout are cut and logged
// (shutdown.go); that is no error.
func (m *Main) Close() error {
	var errs []error
	if m.server != nil {
		errs = append(errs, m.stopServing())
	}
	if m.server == nil && m.ln != nil {
		errs = append(errs, m.ln.Close())
	}
	errs = append(errs, m.closeDebug(), m.closeMetrics(), m.stopJobs())
	if m.background != nil {
		m.background.Stop()
	}
	if m.local != nil {
		errs = append(errs, m.local.Close())
	}
	if m.redis != nil {
		errs = append(errs, m.redis.Close())
	}
	if m.sim != nil {
		errs = append(errs, m.sim.Close())
	}
	if m.db != nil {
		m.db.Close()
	}
	if m.cluster != nil {
		errs = append(errs, m.cluster.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	m.Logger.Info("stopped")
	return nil
}

func (m *Main) openDatabase(ctx context.Context) error {
	url := m.Config.DatabaseURL
	if url == "" {
		dir, err := filepath.Abs(filepath.Join(m.Config.DataDir, "pgdata"))
		if err != nil {
			return fmt.Errorf("data dir: %w", err)
		}
		m.cluster, err = pgcluster.Start(ctx, pgcluster.Options{DataDir: dir, Logger: m.Logger})
		if err != nil {
			return fmt.Errorf("start embedded PostgreSQL (set DATABASE_URL to use your own): %w", err)
		}
		if err := m.cluster.CreateDatabase(ctx, "miniback"); err != nil {
			return fmt.Errorf("create embedded database: %w", err)
		}
		url = m.cluster.URL("miniback")
		m.Logger.Info("embedded default: private PostgreSQL cluster from the local binaries",
			"data_dir", dir, "url", url, "owner", m.cluster.Owner(), "replace_with", "DATABASE_URL")
	} else {
		m.Logger.Info("database: DATABASE_URL")
	}
	db, err := postgres.OpenWith(ctx, url, m.Config.dbOptions())
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	m.db, m.dbURL = db, url
	c := m.Config
	m.Logger.Info("database pool", "max_conns", db.Pool().Config().MaxConns,
		"connect_timeout", c.DBConnectTimeout.String(), "operation_timeout", c.DBTimeout.String(),
		"statement_timeout", c.DBStatementTimeout.String(), "lock_timeout", c.DBLockTimeout.String(),
		"idle_in_transaction_timeout", c.DBIdleInTxTimeout.String())
	return nil
}

// migrate applies the migrations on connections of their own, whose
// statement timeout is MINIBACK_DB_MIGRATE_STATEMENT_TIMEOUT rather than
// the requests' (a migration may rewrite a big table).
func (m *Main) migrate(ctx context.Context) error {
	db, err := postgres.OpenWith(ctx, m.dbURL, m.Config.migrateOptions())
	if err != nil {
		return fmt.Errorf("migrate: open database: %w", err)
	}
	defer db.Close()
	if err := postgres.Migrate(ctx, db); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// weChat returns the code2Session client and the served apps: the real
// WeChat API for configured apps, else the simulator on its own listener.
func (m *Main) weChat() (ports.WeChatAuth, app.Apps, error) {
	apps, _ := m.Config.Apps() // validated by LoadConfig
	baseURL := m.Config.WeChatAPIBaseURL()
	if m.Config.UseSimulator() {
		sim, err := wechatsim.Start(m.Config.SimulatorAddr, wechatsim.Config{
			Apps:        map[string]string{wechatsim.DefaultAppID: wechatsim.DefaultSecret},
			OpenAPIHome: m.Config.simulatorOpenAPIHome(),
			// WeChat pushes a media check's verdict some time later.
			MediaVerdictDelay: 2 * time.Second,
		})
		if err != nil {
			return nil, app.Apps{}, fmt.Errorf("start WeChat simulator: %w", err)
		}
		m.sim = sim
		baseURL = sim.URL()
		apps = map[domain.AppID]string{wechatsim.DefaultAppID: wechatsim.DefaultSecret}
		m.Logger.Warn("embedded default: WeChat simulator (no MINIBACK_WECHAT_APPS set); log in with codes like dev-alice",
			"simulator_url", baseURL, "appid", wechatsim.DefaultAppID, "replace_with", "MINIBACK_WECHAT_APPS")
	} else {
		m.Logger.Info("wechat: real API", "base_url", baseURL, "apps", len(apps))
	}
	client, err := wechat.NewClient(wechat.Config{BaseURL: baseURL, Apps: apps, Timeout: m.Config.WeChatTimeout,
		Observer: m.wechatObserver(), Resilience: m.Config.WeChatResilience(m.Logger, m.wechatBreakerObserver())})
	if err != nil {
		return nil, app.Apps{}, fmt.Errorf("wechat client: %w", err)
	}
	m.logWeChatResilience()
	if m.Config.CloudRun {
		m.wechatAPI = m.openAPI(client)
	} else {
		shared, err := client.NewSharedTokens(wechat.SharedTokensConfig{Store: postgres.NewWeChatTokenStore(m.db), Log: m.Logger})
		if err != nil {
			return nil, app.Apps{}, fmt.Errorf("wechat access tokens: %w", err)
		}
		m.wechatTokens, m.wechatAPI = shared, client.API(shared)
		m.Logger.Info("wechat: one access token per app for every replica, kept in PostgreSQL and refreshed ahead of expiry by one of them",
			"replica", shared.Holder(), "refresh_check", wechat.RefreshEvery.String())
	}
	ids := make([]domain.AppID, 0, len(apps))
	for id := range apps {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return client, app.NewApps(ids...), nil
}

// passwordHasher returns the password hasher: Argon2id at OWASP's
// parameters behind the configured bound. When password accounts are
// switched off it returns nil, no hasher is made, and every operation
// answers password_auth_disabled.
func (m *Main) passwordHasher() (*argon2id.Hasher, error) {
	if !m.Config.PasswordAuth {
		m.Logger.Info("password accounts: switched off (MINIBACK_PASSWORD_AUTH=false)")
		return nil, nil
	}
	hasher, err := argon2id.New(argon2id.Config{Concurrency: m.Config.PasswordHashConcurrency})
	if err != nil {
		return nil, fmt.Errorf("password hasher: %w", err)
	}
	p := hasher.Params()
	m.Logger.Info("password accounts: on", "hash", "argon2id", "memory_kib", p.Memory, "time", p.Time,
		"threads", p.Threads, "concurrent_hashes", hasher.Concurrency())
	return hasher, nil
}

// tokens builds the access-token signer from the configured keys, or from a
// development key kept under the data dir so restarts don't log users out.
func (m *Main) tokens() (*jwx.Tokens, error) {
	pemData, err := m.Config.jwtKeysPEM()
	if err != nil {
		return nil, err
	}
	if len(pemData) == 0 {
		if pemData, err = m.devSigningKey(); err != nil {
			return nil, err
		}
	}
	keys, err := jwx.ParsePrivateKeysPEM(pemData)
	if err != nil {
		return nil, fmt.Errorf("JWT signing keys: %w", err)
	}
	m.Logger.Info("access tokens: a verified token is remembered until its exp", "cache_size", m.Config.TokenCacheSize)
	return jwx.New(jwx.Config{
		Keys: keys, Issuer: m.Config.JWTIssuer, Audience: m.Config.JWTAudience,
		TTL: m.Config.AccessTokenTTL, Clock: app.SystemClock{}, CacheSize: m.Config.TokenCacheSize,
	})
}

func (m *Main) devSigningKey() ([]byte, error) {
	path := filepath.Join(m.Config.DataDir, "dev-jwt-signing-key.pem")
	if b, err := os.ReadFile(path); err == nil {
		m.Logger.Warn("embedded default: DEVELOPMENT signing key from the data dir; never use it in production",
			"path", path, "replace_with", "MINIBACK_JWT_PRIVATE_KEYS")
		return b, nil
	}
	b, err := jwx.GenerateEd25519PEM()
	if err != nil {
		return nil, fmt.Errorf("generate development signing key: %w", err)
	}
	if err := os.MkdirAll(m.Config.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("save development signing key: %w", err)
	}
	m.Logger.Warn("embedded default: GENERATED a DEVELOPMENT signing key; never use it in production",
		"path", path, "replace_with", "MINIBACK_JWT_PRIVATE_KEYS")
	return b, nil
}

// cursorCodec keys list cursors with MINIBACK_CURSOR_SECRET, or with a
// development secret kept under the data dir so cursors survive restarts.
func (m *Main) cursorCodec() (app.CursorCodec, error) {
	secret := []byte(m.Config.CursorSecret)
	if len(secret) == 0 {
		var err error
		if secret, err = m.devCursorSecret(); err != nil {
			return app.CursorCodec{}, err
		}
	}
	c, err := app.NewCursorCodec(secret)
	if err != nil {
		return app.CursorCodec{}, fmt.Errorf("MINIBACK_CURSOR_SECRET: %w", err)
	}
	return c, nil
}

func (m *Main) devCursorSecret() ([]byte, error) {
	path := filepath.Join(m.Config.DataDir, "dev-cursor-secret")
	if b, err := os.ReadFile(path); err == nil && len(b) >= app.CursorSecretMinBytes {
		m.Logger.Warn("embedded default: DEVELOPMENT cursor secret from the data dir; never use it in production",
			"path", path, "replace_with", "MINIBACK_CURSOR_SECRET")
		return b, nil
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("generate development cursor secret: %w", err)
	}
	b := []byte(hex.EncodeToString(raw))
	if err := os.MkdirAll(m.Config.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("save development cursor secret: %w", err)
	}
	m.Logger.Warn("embedded default: GENERATED a DEVELOPMENT cursor secret; never use it in production",
		"path", path, "replace_with", "MINIBACK_CURSOR_SECRET")
	return b, nil
}

// listen opens the API's listener.
func (m *Main) listen() error {
	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.Addr, err)
	}
	m.ln, m.addr = ln, ln.Addr()
	return nil
}

// serve serves handler on the listener until Close.
func (m *Main) serve(handler http.Handler, publicURL string, started time.Time) {
	requests, cut := context.WithCancel(context.Background())
	m.stop.cut = cut
	m.server = newHTTPServer(m.Config, m.stop.closeWhenDraining(handler), m.Logger)
	m.server.BaseContext = func(net.Listener) context.Context { return requests }
	m.server.ConnState = m.stop.conns.track
	go func() {
		if err := m.server.Serve(m.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.serveErr <- err
		}
	}()
	base := "http://" + displayAddr(m.addr)
	m.Logger.Info("miniback is ready",
		"listen", base, "public_url", publicURL, "api_reference", base+"/docs", "openapi", base+"/openapi.yaml",
		"startup_ms", time.Since(started).Milliseconds())
}

// displayAddr turns ":8080" / "[::]:8080" into "localhost:8080" for URLs a
// person can click.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		if ok {
			return fmt.Sprintf("localhost:%d", tcp.Port)
		}
		return a.String()
	}
	return tcp.String()
}
