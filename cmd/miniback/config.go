package main

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/miniback/miniback/adapters/s3store"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
)

// Config is the whole runtime configuration, read from the environment
// (12-factor). Every variable is listed in the README. Empty values select
// the embedded development defaults, each announced at start-up.
type Config struct {
	// Env is "development" (embedded defaults allowed) or "production"
	// (every default that is unsafe in production becomes an error).
	Env string `env:"MINIBACK_ENV" envDefault:"development"`

	Addr            string        `env:"MINIBACK_ADDR" envDefault:":8080"`
	ShutdownTimeout time.Duration `env:"MINIBACK_SHUTDOWN_TIMEOUT" envDefault:"20s"`
	LogLevel        string        `env:"MINIBACK_LOG_LEVEL" envDefault:"info"`
	CORSOrigins     []string      `env:"MINIBACK_CORS_ORIGINS" envSeparator:","`
	MaxBodyBytes    int64         `env:"MINIBACK_MAX_BODY_BYTES" envDefault:"1048576"`

	// On SIGTERM /readyz answers 503 at once and the listener stays open
	// for ShutdownDrain (unset: 5s in production, 0 in development; see
	// Drain), so that load balancers stop sending requests before it
	// closes; then the requests in flight get ShutdownTimeout to finish,
	// and those still running are cut (shutdown.go).
	ShutdownDrain *time.Duration `env:"MINIBACK_SHUTDOWN_DRAIN"`

	// ReadTimeout bounds how long a request body may take to arrive and
	// WriteTimeout a whole request, headers to answer; UploadTimeout
	// replaces both for a file to or from the local-disk storage.
	ReadTimeout   time.Duration `env:"MINIBACK_READ_TIMEOUT" envDefault:"15s"`
	WriteTimeout  time.Duration `env:"MINIBACK_WRITE_TIMEOUT" envDefault:"60s"`
	UploadTimeout time.Duration `env:"MINIBACK_UPLOAD_TIMEOUT" envDefault:"5m"`
	// TrustedProxies lists the reverse proxies (addresses or CIDR ranges)
	// whose X-Forwarded-For names the client; empty trusts none.
	TrustedProxies []string `env:"MINIBACK_TRUSTED_PROXIES" envSeparator:","`

	// DatabaseURL selects an external PostgreSQL; empty starts a private
	// cluster under DataDir from the local PostgreSQL binaries.
	DatabaseURL    string `env:"DATABASE_URL"`
	DataDir        string `env:"MINIBACK_DATA_DIR" envDefault:".miniback"`
	MigrateOnStart bool   `env:"MINIBACK_MIGRATE_ON_START" envDefault:"true"`

	// DBMaxConns caps the database connection pool; 0 means
	// postgres.DefaultMaxConns. A pool_max_conns in DATABASE_URL wins.
	DBMaxConns int `env:"MINIBACK_DB_MAX_CONNS" envDefault:"0"`
	// Database time bounds (postgres.Options): DBConnectTimeout bounds
	// opening a connection; DBTimeout each database operation of a
	// request or background task, enforced by miniback itself (a request
	// on a stalled database answers 503 after it); the others are the
	// server settings statement_timeout, lock_timeout and
	// idle_in_transaction_session_timeout of every pooled connection (0
	// leaves the server's). DBMigrateStatementTimeout is statement_timeout
	// on the migrations' own connections (0: none), which may rewrite big
	// tables. A setting in DATABASE_URL wins.
	DBConnectTimeout          time.Duration `env:"MINIBACK_DB_CONNECT_TIMEOUT" envDefault:"5s"`
	DBTimeout                 time.Duration `env:"MINIBACK_DB_TIMEOUT" envDefault:"5s"`
	DBStatementTimeout        time.Duration `env:"MINIBACK_DB_STATEMENT_TIMEOUT" envDefault:"10s"`
	DBLockTimeout             time.Duration `env:"MINIBACK_DB_LOCK_TIMEOUT" envDefault:"0"`
	DBIdleInTxTimeout         time.Duration `env:"MINIBACK_DB_IDLE_IN_TRANSACTION_TIMEOUT" envDefault:"30s"`
	DBMigrateStatementTimeout time.Duration `env:"MINIBACK_DB_MIGRATE_STATEMENT_TIMEOUT" envDefault:"15m"`

	// WeChatApps lists "appid:secret" pairs. Empty starts the WeChat
	// simulator instead (development only).
	WeChatApps string `env:"MINIBACK_WECHAT_APPS"`
	// WeChatBaseURL is WeChat's API root; empty means
	// https://api.weixin.qq.com, or with CloudRun the open-API service's
	// http://api.weixin.qq.com (see WeChatAPIBaseURL).
	WeChatBaseURL string        `env:"MINIBACK_WECHAT_BASE_URL"`
	WeChatTimeout time.Duration `env:"MINIBACK_WECHAT_TIMEOUT" envDefault:"5s"`
	SimulatorAddr string        `env:"MINIBACK_WECHAT_SIMULATOR_ADDR" envDefault:"127.0.0.1:0"`
	// WeChatDataMaxAge is how old (by WeChat's watermark) open data sent
	// to POST /v1/me/wechat-data may be.
	WeChatDataMaxAge time.Duration `env:"MINIBACK_WECHAT_DATA_MAX_AGE" envDefault:"1h"`

	// Breakers and retries around WeChat (wechatresilience.go), per AppID
	// and API. Retries: at most WeChatRetries per call, the first after
	// WeChatRetryBackoff, doubling up to WeChatRetryMaxBackoff, and per
	// AppID and API at most WeChatRetryBudgetMin + WeChatRetryBudget ×
	// calls over 10 s. The breaker opens after WeChatBreakerFailures
	// failures in a row, or when WeChatBreakerRatio of at least
	// WeChatBreakerMinCalls calls in WeChatBreakerWindow failed; it then
	// answers 503 wechat_unavailable for WeChatBreakerOpen, and closes
	// after WeChatBreakerProbes successful probes.
	WeChatRetries         int           `env:"MINIBACK_WECHAT_RETRIES" envDefault:"2"`
	WeChatRetryBackoff    time.Duration `env:"MINIBACK_WECHAT_RETRY_BACKOFF" envDefault:"100ms"`
	WeChatRetryMaxBackoff time.Duration `env:"MINIBACK_WECHAT_RETRY_MAX_BACKOFF" envDefault:"1s"`
	WeChatRetryBudget     float64       `env:"MINIBACK_WECHAT_RETRY_BUDGET" envDefault:"0.1"`
	WeChatRetryBudgetMin  int           `env:"MINIBACK_WECHAT_RETRY_BUDGET_MIN" envDefault:"5"`
	WeChatBreaker         bool          `env:"MINIBACK_WECHAT_BREAKER" envDefault:"true"`
	WeChatBreakerFailures int           `env:"MINIBACK_WECHAT_BREAKER_FAILURES" envDefault:"5"`
	WeChatBreakerRatio    float64       `env:"MINIBACK_WECHAT_BREAKER_RATIO" envDefault:"0.5"`
	WeChatBreakerMinCalls int           `env:"MINIBACK_WECHAT_BREAKER_MIN_CALLS" envDefault:"20"`
	WeChatBreakerWindow   time.Duration `env:"MINIBACK_WECHAT_BREAKER_WINDOW" envDefault:"1m"`
	WeChatBreakerOpen     time.Duration `env:"MINIBACK_WECHAT_BREAKER_OPEN" envDefault:"30s"`
	WeChatBreakerProbes   int           `env:"MINIBACK_WECHAT_BREAKER_PROBES" envDefault:"1"`

	// CloudRun is the WeChat Cloud Hosting (微信云托管) mode: POST
	// /v1/auth/cloudrun believes the caller identity the gateway puts in
	// X-WX-* headers, and WeChat APIs go through the open-API service
	// without an access token. CloudRunTrustGateway acknowledges, in
	// production, that the service is reachable only through that
	// gateway (cloudrun.go says why both are needed).
	CloudRun             bool `env:"MINIBACK_CLOUDRUN" envDefault:"false"`
	CloudRunTrustGateway bool `env:"MINIBACK_CLOUDRUN_TRUST_GATEWAY" envDefault:"false"`

	// WeChatPush lists the apps whose message push (消息推送) this
	// deployment receives at /v1/wechat/push/{appid}, as
	// "appid:token:encodingAESKey[:mode]" (mode safe, the default with a
	// key, or compat) or "appid:token" (plain), comma-separated. Empty
	// serves none (with the simulator: its app, with development values).
	WeChatPush string `env:"MINIBACK_WECHAT_PUSH"`
	// WeChatPushMaxAge is how far a push's timestamp may be from the
	// clock; WeChatPushRetention how long received messages are kept.
	WeChatPushMaxAge    time.Duration `env:"MINIBACK_WECHAT_PUSH_MAX_AGE" envDefault:"5m"`
	WeChatPushRetention time.Duration `env:"MINIBACK_WECHAT_PUSH_RETENTION" envDefault:"720h"`

	// SubscribeTemplatesJSON configures the subscribe-message templates of
	// each app, as JSON: [{"appid","purpose","template_id","page","state",
	// "lang","fields":{"thing1":"title","time2":"due_at"}}] (subscribe.go).
	// Empty configures none (with the simulator: its reminder template).
	SubscribeTemplatesJSON string `env:"MINIBACK_SUBSCRIBE_TEMPLATES"`

	// JWTPrivateKeys holds one or more PEM private keys (Ed25519 or P-256);
	// the first signs, all verify. JWTPrivateKeysFile names a file instead.
	JWTPrivateKeys     string        `env:"MINIBACK_JWT_PRIVATE_KEYS"`
	JWTPrivateKeysFile string        `env:"MINIBACK_JWT_PRIVATE_KEYS_FILE"`
	JWTIssuer          string        `env:"MINIBACK_JWT_ISSUER" envDefault:"miniback"`
	JWTAudience        string        `env:"MINIBACK_JWT_AUDIENCE" envDefault:"miniback-api"`
	AccessTokenTTL     time.Duration `env:"MINIBACK_ACCESS_TOKEN_TTL" envDefault:"15m"`
	// TokenCacheSize is how many verified access tokens each instance
	// remembers, so that a token sent again skips the signature check
	// until its exp (revocation is still checked on every request); 0
	// verifies every time.
	TokenCacheSize int `env:"MINIBACK_TOKEN_CACHE_SIZE" envDefault:"10000"`

	// PasswordAuth switches password accounts (register, password login,
	// setting a password) on or off for this deployment.
	PasswordAuth bool `env:"MINIBACK_PASSWORD_AUTH" envDefault:"true"`
	// PasswordHashConcurrency bounds the Argon2id hashes computed at once
	// (19 MiB each); 0 means 2 × GOMAXPROCS.
	PasswordHashConcurrency int `env:"MINIBACK_PASSWORD_HASH_CONCURRENCY" envDefault:"0"`

	// PublicURL is how clients reach this API (https://api.example.com),
	// for the links it hands out: avatar links and, with the local
	// storage, upload and download URLs. Empty means http://localhost:PORT.
	PublicURL string `env:"MINIBACK_PUBLIC_URL"`

	// Storage is where uploaded files go: "local" (the API server keeps
	// them under StorageDir; development) or "s3" (an S3-compatible bucket:
	// Tencent COS, Aliyun OSS, MinIO, AWS).
	Storage         string `env:"MINIBACK_STORAGE" envDefault:"local"`
	StorageDir      string `env:"MINIBACK_STORAGE_DIR"`
	S3Endpoint      string `env:"MINIBACK_S3_ENDPOINT"`
	S3Region        string `env:"MINIBACK_S3_REGION"`
	S3Bucket        string `env:"MINIBACK_S3_BUCKET"`
	S3AccessKey     string `env:"MINIBACK_S3_ACCESS_KEY"`
	S3SecretKey     string `env:"MINIBACK_S3_SECRET_KEY"`
	S3PathStyle     bool   `env:"MINIBACK_S3_PATH_STYLE" envDefault:"false"`
	S3PublicBaseURL string `env:"MINIBACK_S3_PUBLIC_BASE_URL"`

	// Upload lifetimes and per-purpose rules.
	UploadTTL           time.Duration `env:"MINIBACK_UPLOAD_TTL" envDefault:"24h"`
	UploadTicketTTL     time.Duration `env:"MINIBACK_UPLOAD_TICKET_TTL" envDefault:"15m"`
	UploadDownloadTTL   time.Duration `env:"MINIBACK_UPLOAD_DOWNLOAD_TTL" envDefault:"1h"`
	UploadCleanInterval time.Duration `env:"MINIBACK_UPLOAD_CLEAN_INTERVAL" envDefault:"1m"`
	AvatarMaxBytes      int64         `env:"MINIBACK_UPLOAD_AVATAR_MAX_BYTES" envDefault:"5242880"`
	AvatarTypes         []string      `env:"MINIBACK_UPLOAD_AVATAR_TYPES" envSeparator:"," envDefault:"image/jpeg,image/png,image/webp"`
	AttachmentMaxBytes  int64         `env:"MINIBACK_UPLOAD_ATTACHMENT_MAX_BYTES" envDefault:"20971520"`
	AttachmentTypes     []string      `env:"MINIBACK_UPLOAD_ATTACHMENT_TYPES" envSeparator:"," envDefault:"image/jpeg,image/png,image/webp,image/gif,application/pdf,text/plain,video/mp4"`

	// Mini-program codes: how many not cached yet each user may make per
	// window (0: no limit; administrators are never limited).
	WxaCodeUserLimit  int           `env:"MINIBACK_WXACODE_USER_LIMIT" envDefault:"100"`
	WxaCodeUserWindow time.Duration `env:"MINIBACK_WXACODE_USER_WINDOW" envDefault:"1h"`

	// CursorSecret keys the HMAC of list cursors (at least 32 bytes; all
	// replicas share it). Empty uses a development secret kept under
	// DataDir.
	CursorSecret string `env:"MINIBACK_CURSOR_SECRET"`
	// IdempotencyPurgeInterval is how often expired idempotency keys are
	// deleted.
	IdempotencyPurgeInterval time.Duration `env:"MINIBACK_IDEMPOTENCY_PURGE_INTERVAL" envDefault:"1h"`

	// JobsWorkers is how many jobs of the queue (jobs.go) this process
	// works at once; 0 works none (the process still inserts jobs, and the
	// deployment's maintenance is left to the replicas that work jobs).
	JobsWorkers int `env:"MINIBACK_JOBS_WORKERS" envDefault:"10"`
	// JobsPollInterval is how often a worker looks for due jobs besides
	// the notifications of new ones: a scheduled job starts at most this
	// late.
	JobsPollInterval time.Duration `env:"MINIBACK_JOBS_POLL_INTERVAL" envDefault:"1s"`
	// JobsUI serves river's own UI (riverui) at /riverui/ on the metrics
	// listener (MINIBACK_METRICS_ADDR), never on the public one.
	JobsUI bool `env:"MINIBACK_JOBS_UI" envDefault:"false"`

	// RefreshIdleTTL ends a session not refreshed for this long;
	// RefreshAbsoluteTTL ends every session this long after its login.
	RefreshIdleTTL     time.Duration `env:"MINIBACK_REFRESH_IDLE_TTL" envDefault:"720h"`
	RefreshAbsoluteTTL time.Duration `env:"MINIBACK_REFRESH_ABSOLUTE_TTL" envDefault:"2160h"`
	// RevocationPoll is how often each instance reads the revocation feed:
	// the bound on how long a revoked session's access token still works
	// on another instance. RevocationListen also wakes the reader on
	// PostgreSQL NOTIFY (turn it off behind a transaction-mode pooler,
	// where LISTEN does not work).
	RevocationPoll   time.Duration `env:"MINIBACK_REVOCATION_POLL" envDefault:"1s"`
	RevocationListen bool          `env:"MINIBACK_REVOCATION_LISTEN" envDefault:"true"`

	// DebugAddr opens a second listener with pprof and memory statistics
	// (debug.go); empty, the default, opens none.
	DebugAddr string `env:"MINIBACK_DEBUG_ADDR"`
	// MetricsAddr is the Prometheus /metrics listener (metrics.go):
	// host:port, or off; empty means 127.0.0.1:9090 in development and
	// :9090 in production.
	MetricsAddr string `env:"MINIBACK_METRICS_ADDR"`

	// Content security (content.go): the fields WeChat checks
	// (comma-separated, or none, or all; empty means
	// domain.DefaultContentFields), what happens to text WeChat cannot
	// check (accept and flag, or refuse with 503), and how long the image
	// URL WeChat downloads from works.
	ContentCheck        string        `env:"MINIBACK_CONTENT_CHECK"`
	ContentCheckFailure string        `env:"MINIBACK_CONTENT_CHECK_FAILURE" envDefault:"accept"`
	ContentMediaURLTTL  time.Duration `env:"MINIBACK_CONTENT_MEDIA_URL_TTL" envDefault:"24h"`

	// Rate limits (ratelimit.go): each group's budgets over the defaults
	// ("off": none); the Redis every replica shares them through (empty:
	// each replica's memory, bounded by RateLimitMaxKeys); how long a
	// call to it may take; and what a request gets when it fails (open:
	// through; local: this replica's memory decides).
	RateLimits            string        `env:"MINIBACK_RATE_LIMITS"`
	RedisURL              string        `env:"MINIBACK_REDIS_URL"`
	RateLimitRedisTimeout time.Duration `env:"MINIBACK_RATE_LIMIT_REDIS_TIMEOUT" envDefault:"100ms"`
	RateLimitRedisFailure string        `env:"MINIBACK_RATE_LIMIT_REDIS_FAILURE" envDefault:"open"`
	RateLimitMaxKeys      int           `env:"MINIBACK_RATE_LIMIT_MAX_KEYS" envDefault:"100000"`
}

// maxTokenCacheSize bounds MINIBACK_TOKEN_CACHE_SIZE: an entry is a few
// hundred bytes, so a million is some hundreds of MB.
const maxTokenCacheSize = 1_000_000

// maxPresign is the longest lifetime a SigV4 presigned URL may have.
const maxPresign = 7 * 24 * time.Hour

// LoadConfig reads the configuration from environ (os.Environ() form) and
// validates it, reporting every problem at once.
func LoadConfig(environ []string) (Config, error) {
	vars := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	var cfg Config
	if err := env.ParseWithOptions(&cfg, env.Options{Environment: vars}); err != nil {
		return Config{}, fmt.Errorf("invalid configuration:\n  %w", nameVariables(err))
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// maxDBMaxConns bounds MINIBACK_DB_MAX_CONNS: far more connections than
// any PostgreSQL server is configured to accept.
const maxDBMaxConns = 1000

// Production reports whether unsafe defaults are forbidden.
func (c Config) Production() bool { return c.Env == "production" }

// Validate checks values and combinations, naming the variable at fault.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if c.Env != "development" && c.Env != "production" {
		bad("MINIBACK_ENV must be development or production, not %q", c.Env)
	}
	if c.Addr == "" {
		bad("MINIBACK_ADDR must not be empty")
	}
	if _, err := parseLogLevel(c.LogLevel); err != nil {
		bad("MINIBACK_LOG_LEVEL: %v", err)
	}
	if c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 64<<20 {
		bad("MINIBACK_MAX_BODY_BYTES must be between 1024 and 67108864, not %d", c.MaxBodyBytes)
	}
	if c.ShutdownTimeout <= 0 || c.ShutdownTimeout > time.Hour {
		bad("MINIBACK_SHUTDOWN_TIMEOUT must be between 0 and 1h, not %s", c.ShutdownTimeout)
	}
	if c.ShutdownDrain != nil && (*c.ShutdownDrain < 0 || *c.ShutdownDrain > 5*time.Minute) {
		bad("MINIBACK_SHUTDOWN_DRAIN must be between 0 and 5m, not %s", *c.ShutdownDrain)
	}
	if c.ReadTimeout < 100*time.Millisecond || c.ReadTimeout > 10*time.Minute {
		bad("MINIBACK_READ_TIMEOUT must be between 100ms and 10m, not %s", c.ReadTimeout)
	}
	if c.UploadTimeout < c.ReadTimeout || c.UploadTimeout > 24*time.Hour {
		bad("MINIBACK_UPLOAD_TIMEOUT (%s) must be at least MINIBACK_READ_TIMEOUT (%s) and at most 24h", c.UploadTimeout, c.ReadTimeout)
	}
	// A login reads its body, then waits on WeChat: its answer must still
	// be allowed out.
	if c.WriteTimeout < c.ReadTimeout+c.WeChatTimeout || c.WriteTimeout > time.Hour {
		bad("MINIBACK_WRITE_TIMEOUT (%s) must be at least MINIBACK_READ_TIMEOUT + MINIBACK_WECHAT_TIMEOUT (%s) and at most 1h",
			c.WriteTimeout, c.ReadTimeout+c.WeChatTimeout)
	}
	for _, o := range c.CORSOrigins {
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
			bad("MINIBACK_CORS_ORIGINS: %q is not an origin like https://example.com", o)
		}
	}
	for _, p := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				bad("MINIBACK_TRUSTED_PROXIES: %q is not an IP address or CIDR range", p)
			}
		}
	}
	errs = append(errs, c.validateDBTimeouts()...)
	if c.DBMaxConns < 0 || c.DBMaxConns > maxDBMaxConns {
		bad("MINIBACK_DB_MAX_CONNS must be between 0 (max(16, 4 × GOMAXPROCS)) and %d, not %d", maxDBMaxConns, c.DBMaxConns)
	}
	if c.PasswordHashConcurrency < 0 || c.PasswordHashConcurrency > 256 {
		bad("MINIBACK_PASSWORD_HASH_CONCURRENCY must be between 0 (2 × GOMAXPROCS) and 256, not %d", c.PasswordHashConcurrency)
	}
	if _, err := c.Apps(); err != nil {
		bad("MINIBACK_WECHAT_APPS: %v", err)
	}
	errs = append(errs, c.validatePush()...)
	errs = append(errs, c.validateSubscribeTemplates()...)
	if c.WeChatBaseURL != "" {
		if u, err := url.Parse(c.WeChatBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("MINIBACK_WECHAT_BASE_URL must be an http(s) URL, not %q", c.WeChatBaseURL)
		}
	}
	errs = append(errs, c.validateCloudRun()...)
	if c.WeChatTimeout <= 0 || c.WeChatTimeout > time.Minute {
		bad("MINIBACK_WECHAT_TIMEOUT must be between 0 and 1m, not %s", c.WeChatTimeout)
	}
	if c.WeChatDataMaxAge < time.Minute || c.WeChatDataMaxAge > 30*24*time.Hour {
		bad("MINIBACK_WECHAT_DATA_MAX_AGE must be between 1m and 720h, not %s", c.WeChatDataMaxAge)
	}
	if c.JWTPrivateKeys != "" && c.JWTPrivateKeysFile != "" {
		bad("set MINIBACK_JWT_PRIVATE_KEYS or MINIBACK_JWT_PRIVATE_KEYS_FILE, not both")
	}
	if c.JWTIssuer == "" || c.JWTAudience == "" {
		bad("MINIBACK_JWT_ISSUER and MINIBACK_JWT_AUDIENCE must not be empty")
	}
	if c.AccessTokenTTL < time.Minute || c.AccessTokenTTL > 24*time.Hour {
		bad("MINIBACK_ACCESS_TOKEN_TTL must be between 1m and 24h, not %s", c.AccessTokenTTL)
	}
	if c.TokenCacheSize < 0 || c.TokenCacheSize > maxTokenCacheSize {
		bad("MINIBACK_TOKEN_CACHE_SIZE must be between 0 (no cache) and %d, not %d", maxTokenCacheSize, c.TokenCacheSize)
	}
	if c.CursorSecret != "" && len(c.CursorSecret) < app.CursorSecretMinBytes {
		bad("MINIBACK_CURSOR_SECRET must be at least %d bytes (e.g. openssl rand -base64 32)", app.CursorSecretMinBytes)
	}
	if c.JobsWorkers < 0 || c.JobsWorkers > 1000 {
		bad("MINIBACK_JOBS_WORKERS must be between 0 and 1000, not %d", c.JobsWorkers)
	}
	if c.JobsPollInterval < 10*time.Millisecond || c.JobsPollInterval > time.Hour {
		bad("MINIBACK_JOBS_POLL_INTERVAL must be between 10ms and 1h, not %s", c.JobsPollInterval)
	}
	if c.IdempotencyPurgeInterval < time.Minute || c.IdempotencyPurgeInterval > 24*time.Hour {
		bad("MINIBACK_IDEMPOTENCY_PURGE_INTERVAL must be between 1m and 24h, not %s", c.IdempotencyPurgeInterval)
	}
	if c.RefreshIdleTTL < c.AccessTokenTTL || c.RefreshIdleTTL > c.RefreshAbsoluteTTL {
		bad("MINIBACK_REFRESH_IDLE_TTL (%s) must be at least MINIBACK_ACCESS_TOKEN_TTL (%s) and at most MINIBACK_REFRESH_ABSOLUTE_TTL (%s)",
			c.RefreshIdleTTL, c.AccessTokenTTL, c.RefreshAbsoluteTTL)
	}
	if c.RefreshAbsoluteTTL > 366*24*time.Hour {
		bad("MINIBACK_REFRESH_ABSOLUTE_TTL must be at most 8784h (a year), not %s", c.RefreshAbsoluteTTL)
	}
	if c.RevocationPoll < 100*time.Millisecond || c.RevocationPoll > time.Minute {
		bad("MINIBACK_REVOCATION_POLL must be between 100ms and 1m, not %s", c.RevocationPoll)
	}
	errs = append(errs, c.validateUploads()...)
	errs = append(errs, c.validateWxaCode()...)
	errs = append(errs, c.validateDebug()...)
	errs = append(errs, c.validateMetrics()...)
	errs = append(errs, c.validateContent()...)
	errs = append(errs, c.validateRateLimits()...)
	errs = append(errs, c.validateWeChatResilience()...)
	if c.Production() {
		if c.CursorSecret == "" {
			bad("MINIBACK_CURSOR_SECRET is required in production (every replica needs the same one)")
		}
		if c.Storage == "local" {
			bad("MINIBACK_STORAGE=s3 is required in production (the local-disk storage streams files through the API server; it is for development)")
		}
		if c.PublicURL == "" {
			bad("MINIBACK_PUBLIC_URL is required in production (avatar links are built from it)")
		}
		if c.DatabaseURL == "" {
			bad("DATABASE_URL is required in production (the embedded cluster is for development)")
		}
		if c.WeChatApps == "" {
			bad("MINIBACK_WECHAT_APPS is required in production (the WeChat simulator is for development)")
		}
		if c.JWTPrivateKeys == "" && c.JWTPrivateKeysFile == "" {
			bad("MINIBACK_JWT_PRIVATE_KEYS or MINIBACK_JWT_PRIVATE_KEYS_FILE is required in production")
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid configuration:\n  %w", joinLines(errs))
	}
	return nil
}

// validateUploads checks the storage and upload settings.
func (c Config) validateUploads() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			bad("MINIBACK_PUBLIC_URL must be an http(s) URL like https://api.example.com, not %q", c.PublicURL)
		}
	}
	switch c.Storage {
	case "local":
	case "s3":
		for _, v := range [][2]string{
			{"MINIBACK_S3_ENDPOINT", c.S3Endpoint}, {"MINIBACK_S3_REGION", c.S3Region}, {"MINIBACK_S3_BUCKET", c.S3Bucket},
			{"MINIBACK_S3_ACCESS_KEY", c.S3AccessKey}, {"MINIBACK_S3_SECRET_KEY", c.S3SecretKey},
		} {
			if strings.TrimSpace(v[1]) == "" {
				bad("%s is required with MINIBACK_STORAGE=s3", v[0])
			}
		}
		if _, err := c.s3Config(); err != nil && c.S3Endpoint != "" {
			bad("MINIBACK_S3_*: %v", err)
		}
	default:
		bad("MINIBACK_STORAGE must be local or s3, not %q", c.Storage)
	}
	if c.UploadTicketTTL < time.Minute || c.UploadTicketTTL > maxPresign {
		bad("MINIBACK_UPLOAD_TICKET_TTL must be between 1m and 168h, not %s", c.UploadTicketTTL)
	}
	if c.UploadTTL < c.UploadTicketTTL {
		bad("MINIBACK_UPLOAD_TTL (%s) must be at least MINIBACK_UPLOAD_TICKET_TTL (%s): a pending upload must outlive its ticket", c.UploadTTL, c.UploadTicketTTL)
	}
	if c.UploadDownloadTTL < time.Minute || c.UploadDownloadTTL > maxPresign {
		bad("MINIBACK_UPLOAD_DOWNLOAD_TTL must be between 1m and 168h, not %s", c.UploadDownloadTTL)
	}
	if c.UploadCleanInterval < time.Second {
		bad("MINIBACK_UPLOAD_CLEAN_INTERVAL must be at least 1s, not %s", c.UploadCleanInterval)
	}
	if _, err := c.UploadRules(); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// UploadRules are the per-purpose rules from the MINIBACK_UPLOAD_* variables.
func (c Config) UploadRules() (domain.UploadRules, error) {
	var errs []error
	rule := func(name string, maxBytes int64, types []string) domain.UploadRule {
		if maxBytes < 1 || maxBytes > 5<<30 {
			errs = append(errs, fmt.Errorf("MINIBACK_UPLOAD_%s_MAX_BYTES must be between 1 and 5368709120 (5 GiB, one S3 PUT), not %d", name, maxBytes))
		}
		var norm []string
		for _, t := range types {
			n, err := domain.NormalizeContentType(t)
			if err != nil {
				errs = append(errs, fmt.Errorf("MINIBACK_UPLOAD_%s_TYPES: %q is not a media type like image/png", name, t))
				continue
			}
			norm = append(norm, n)
		}
		if len(types) == 0 {
			errs = append(errs, fmt.Errorf("MINIBACK_UPLOAD_%s_TYPES must list at least one media type", name))
		}
		return domain.UploadRule{Types: norm, MaxBytes: maxBytes}
	}
	rules := domain.UploadRules{
		domain.PurposeAvatar:     rule("AVATAR", c.AvatarMaxBytes, c.AvatarTypes),
		domain.PurposeAttachment: rule("ATTACHMENT", c.AttachmentMaxBytes, c.AttachmentTypes),
	}
	if len(errs) > 0 {
		return nil, joinLines(errs)
	}
	return rules, nil
}

// s3Config is the S3 adapter's configuration.
func (c Config) s3Config() (s3store.Config, error) {
	cfg := s3store.Config{
		Endpoint: c.S3Endpoint, Region: c.S3Region, Bucket: c.S3Bucket,
		AccessKey: c.S3AccessKey, SecretKey: c.S3SecretKey,
		PathStyle: c.S3PathStyle, PublicBaseURL: c.S3PublicBaseURL,
	}
	// New checks the endpoint and URLs and makes no request.
	_, err := s3store.New(cfg)
	return cfg, err
}

// Apps parses MINIBACK_WECHAT_APPS ("wxid:secret,wxid2:secret2").
func (c Config) Apps() (map[domain.AppID]string, error) {
	apps := map[domain.AppID]string{}
	if strings.TrimSpace(c.WeChatApps) == "" {
		return apps, nil
	}
	for _, pair := range strings.Split(c.WeChatApps, ",") {
		id, secret, ok := strings.Cut(strings.TrimSpace(pair), ":")
		if !ok || id == "" || secret == "" {
			// Never echo the pair: it holds a secret.
			return nil, errors.New(`each entry must be "appid:secret"`)
		}
		if _, dup := apps[domain.AppID(id)]; dup {
			return nil, fmt.Errorf("appid %s is listed twice", id)
		}
		apps[domain.AppID(id)] = secret
	}
	return apps, nil
}

// validatePush checks the message push settings.
func (c Config) validatePush() []error {
	var errs []error
	push, err := c.PushEndpoints()
	if err != nil {
		errs = append(errs, fmt.Errorf("MINIBACK_WECHAT_PUSH: %w", err))
	}
	if apps, err := c.Apps(); err == nil && len(apps) > 0 {
		for _, id := range slices.Sorted(maps.Keys(push)) {
			if _, ok := apps[id]; !ok {
				errs = append(errs, fmt.Errorf("MINIBACK_WECHAT_PUSH: appid %s is not in MINIBACK_WECHAT_APPS", id))
			}
		}
	}
	if c.WeChatPushMaxAge < 30*time.Second || c.WeChatPushMaxAge > time.Hour {
		errs = append(errs, fmt.Errorf("MINIBACK_WECHAT_PUSH_MAX_AGE must be between 30s and 1h, not %s", c.WeChatPushMaxAge))
	}
	if c.WeChatPushRetention < time.Hour || c.WeChatPushRetention > 366*24*time.Hour {
		errs = append(errs, fmt.Errorf("MINIBACK_WECHAT_PUSH_RETENTION must be between 1h and 8784h (a year), not %s", c.WeChatPushRetention))
	}
	return errs
}

// PushEndpoints parses MINIBACK_WECHAT_PUSH
// ("wxid:token:encodingAESKey[:mode],wxid2:token2"). Errors name the
// appid, never the token or the key.
func (c Config) PushEndpoints() (map[domain.AppID]domain.PushEndpoint, error) {
	out := map[domain.AppID]domain.PushEndpoint{}
	if strings.TrimSpace(c.WeChatPush) == "" {
		return out, nil
	}
	for i, entry := range strings.Split(c.WeChatPush, ",") {
		parts := strings.Split(strings.TrimSpace(entry), ":")
		if len(parts) < 2 || len(parts) > 4 || parts[0] == "" {
			return nil, fmt.Errorf(`entry %d must be "appid:token:encodingAESKey[:mode]" or "appid:token"`, i+1)
		}
		id := domain.AppID(parts[0])
		key, mode := "", domain.PushMode("")
		if len(parts) > 2 {
			key = parts[2]
		}
		if len(parts) > 3 {
			mode = domain.PushMode(parts[3])
		}
		e, err := domain.NewPushEndpoint(parts[1], key, mode)
		if err != nil {
			return nil, fmt.Errorf("appid %s: %w", id, err)
		}
		if _, dup := out[id]; dup {
			return nil, fmt.Errorf("appid %s is listed twice", id)
		}
		out[id] = e
	}
	return out, nil
}

// UseSimulator reports whether the built-in WeChat simulator serves logins:
// only when no real credentials are configured, and never in production.
func (c Config) UseSimulator() bool { return c.WeChatApps == "" && !c.Production() }

// SessionPolicy is the configured session lifetimes.
func (c Config) SessionPolicy() domain.SessionPolicy {
	return domain.SessionPolicy{IdleTTL: c.RefreshIdleTTL, AbsoluteTTL: c.RefreshAbsoluteTTL}
}

func (c Config) jwtKeysPEM() ([]byte, error) {
	if c.JWTPrivateKeysFile != "" {
		b, err := os.ReadFile(c.JWTPrivateKeysFile)
		if err != nil {
			return nil, fmt.Errorf("read MINIBACK_JWT_PRIVATE_KEYS_FILE: %w", err)
		}
		return b, nil
	}
	return []byte(c.JWTPrivateKeys), nil
}

func parseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(s))
	return l, err
}

// nameVariables rewrites the env library's parse errors, which name Go
// struct fields, to name the environment variable a person has to fix.
func nameVariables(err error) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return err
	}
	errs := make([]error, 0, len(agg.Errors))
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			if f, ok := reflect.TypeOf(Config{}).FieldByName(pe.Name); ok {
				errs = append(errs, fmt.Errorf("%s: %w", f.Tag.Get("env"), pe.Err))
				continue
			}
		}
		errs = append(errs, e)
	}
	return joinLines(errs)
}

// joinLines joins errors one per line, for a readable start-up failure.
func joinLines(errs []error) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return errors.New(strings.Join(msgs, "\n  "))
}
