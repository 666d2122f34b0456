package main

import (
	"strings"
	"testing"
	"time"
)

func TestLoadConfigDefaultsSelectTheEmbeddedDevelopmentSetup(t *testing.T) {
	cfg, err := LoadConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Production() || !cfg.UseSimulator() || cfg.DatabaseURL != "" || cfg.AccessTokenTTL != 15*time.Minute || cfg.Addr != ":8080" || cfg.TokenCacheSize != 10_000 {
		t.Errorf("defaults = %+v", cfg)
	}
	if cfg.ReadTimeout != 15*time.Second || cfg.WriteTimeout != time.Minute || cfg.UploadTimeout != 5*time.Minute {
		t.Errorf("timeouts: read %s, write %s, upload %s; want 15s, 1m, 5m", cfg.ReadTimeout, cfg.WriteTimeout, cfg.UploadTimeout)
	}
	if !cfg.PasswordAuth || cfg.PasswordHashConcurrency != 0 || len(cfg.TrustedProxies) != 0 {
		t.Errorf("password defaults: auth %t, concurrency %d, proxies %v; want on, 2 × GOMAXPROCS, none",
			cfg.PasswordAuth, cfg.PasswordHashConcurrency, cfg.TrustedProxies)
	}
}

func TestLoadConfigReadsPasswordAndProxySettings(t *testing.T) {
	cfg, err := LoadConfig([]string{"MINIBACK_PASSWORD_AUTH=false", "MINIBACK_PASSWORD_HASH_CONCURRENCY=3",
		"MINIBACK_TRUSTED_PROXIES=10.0.0.0/8,192.0.2.10,2001:db8::/32"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PasswordAuth || cfg.PasswordHashConcurrency != 3 || len(cfg.TrustedProxies) != 3 {
		t.Errorf("cfg = %+v", cfg)
	}
}

func TestLoadConfigTakesZeroToSwitchTheTokenCacheOff(t *testing.T) {
	cfg, err := LoadConfig([]string{"MINIBACK_TOKEN_CACHE_SIZE=0"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TokenCacheSize != 0 {
		t.Errorf("token cache size = %d, want 0", cfg.TokenCacheSize)
	}
}

func TestLoadConfigRefusesBadValuesNamingTheVariable(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want []string // substrings of the error
	}{
		{"production needs real parts", []string{"MINIBACK_ENV=production"},
			[]string{"DATABASE_URL is required", "MINIBACK_WECHAT_APPS is required", "MINIBACK_JWT_PRIVATE_KEYS", "MINIBACK_CURSOR_SECRET is required"}},
		{"short cursor secret", []string{"MINIBACK_CURSOR_SECRET=short"}, []string{"MINIBACK_CURSOR_SECRET must be at least 32 bytes"}},
		{"purge interval out of range", []string{"MINIBACK_IDEMPOTENCY_PURGE_INTERVAL=1s"}, []string{"MINIBACK_IDEMPOTENCY_PURGE_INTERVAL"}},
		{"unknown environment", []string{"MINIBACK_ENV=staging"}, []string{"MINIBACK_ENV"}},
		{"unparseable duration", []string{"MINIBACK_WECHAT_TIMEOUT=soon"}, []string{"MINIBACK_WECHAT_TIMEOUT"}},
		{"open data kept for seconds", []string{"MINIBACK_WECHAT_DATA_MAX_AGE=30s"}, []string{"MINIBACK_WECHAT_DATA_MAX_AGE must be between 1m and 720h"}},
		{"open data kept for a year", []string{"MINIBACK_WECHAT_DATA_MAX_AGE=8760h"}, []string{"MINIBACK_WECHAT_DATA_MAX_AGE"}},
		{"token TTL out of range", []string{"MINIBACK_ACCESS_TOKEN_TTL=10s"}, []string{"MINIBACK_ACCESS_TOKEN_TTL"}},
		{"negative token cache", []string{"MINIBACK_TOKEN_CACHE_SIZE=-1"}, []string{"MINIBACK_TOKEN_CACHE_SIZE"}},
		{"huge token cache", []string{"MINIBACK_TOKEN_CACHE_SIZE=2000000"}, []string{"MINIBACK_TOKEN_CACHE_SIZE"}},
		{"app without secret", []string{"MINIBACK_WECHAT_APPS=wx1"}, []string{"MINIBACK_WECHAT_APPS", `"appid:secret"`}},
		{"duplicate app", []string{"MINIBACK_WECHAT_APPS=wx1:a,wx1:b"}, []string{"listed twice"}},
		{"CORS origin with a path", []string{"MINIBACK_CORS_ORIGINS=https://a.example.com/x"}, []string{"MINIBACK_CORS_ORIGINS"}},
		{"both key sources", []string{"MINIBACK_JWT_PRIVATE_KEYS=x", "MINIBACK_JWT_PRIVATE_KEYS_FILE=y"}, []string{"not both"}},
		{"bad log level", []string{"MINIBACK_LOG_LEVEL=loud"}, []string{"MINIBACK_LOG_LEVEL"}},
		{"tiny body limit", []string{"MINIBACK_MAX_BODY_BYTES=10"}, []string{"MINIBACK_MAX_BODY_BYTES"}},
		{"non-http WeChat base URL", []string{"MINIBACK_WECHAT_BASE_URL=ftp://x"}, []string{"MINIBACK_WECHAT_BASE_URL"}},
		{"password auth not a boolean", []string{"MINIBACK_PASSWORD_AUTH=maybe"}, []string{"MINIBACK_PASSWORD_AUTH"}},
		{"negative hash concurrency", []string{"MINIBACK_PASSWORD_HASH_CONCURRENCY=-1"}, []string{"MINIBACK_PASSWORD_HASH_CONCURRENCY"}},
		{"huge hash concurrency", []string{"MINIBACK_PASSWORD_HASH_CONCURRENCY=1000"}, []string{"MINIBACK_PASSWORD_HASH_CONCURRENCY"}},
		{"negative pool size", []string{"MINIBACK_DB_MAX_CONNS=-1"}, []string{"MINIBACK_DB_MAX_CONNS"}},
		{"huge pool size", []string{"MINIBACK_DB_MAX_CONNS=5000"}, []string{"MINIBACK_DB_MAX_CONNS"}},
		{"pool size not a number", []string{"MINIBACK_DB_MAX_CONNS=many"}, []string{"MINIBACK_DB_MAX_CONNS"}},
		{"trusted proxy not an address", []string{"MINIBACK_TRUSTED_PROXIES=10.0.0.0/8,proxy.local"}, []string{"MINIBACK_TRUSTED_PROXIES", "proxy.local"}},
		{"idle lifetime shorter than an access token", []string{"MINIBACK_REFRESH_IDLE_TTL=5m"}, []string{"MINIBACK_REFRESH_IDLE_TTL"}},
		{"idle lifetime past the absolute one", []string{"MINIBACK_REFRESH_IDLE_TTL=100h", "MINIBACK_REFRESH_ABSOLUTE_TTL=50h"}, []string{"MINIBACK_REFRESH_ABSOLUTE_TTL"}},
		{"absolute lifetime over a year", []string{"MINIBACK_REFRESH_ABSOLUTE_TTL=9000h"}, []string{"MINIBACK_REFRESH_ABSOLUTE_TTL"}},
		{"revocation poll too fast", []string{"MINIBACK_REVOCATION_POLL=10ms"}, []string{"MINIBACK_REVOCATION_POLL"}},
		{"revocation poll too slow", []string{"MINIBACK_REVOCATION_POLL=5m"}, []string{"MINIBACK_REVOCATION_POLL"}},
		{"unparseable listen flag", []string{"MINIBACK_REVOCATION_LISTEN=maybe"}, []string{"MINIBACK_REVOCATION_LISTEN"}},
		{"production needs object storage and a public URL", []string{"MINIBACK_ENV=production"},
			[]string{"MINIBACK_STORAGE=s3 is required in production", "MINIBACK_PUBLIC_URL is required in production"}},
		{"unknown storage", []string{"MINIBACK_STORAGE=ftp"}, []string{"MINIBACK_STORAGE must be local or s3"}},
		{"s3 without its settings", []string{"MINIBACK_STORAGE=s3"},
			[]string{"MINIBACK_S3_ENDPOINT is required", "MINIBACK_S3_REGION is required", "MINIBACK_S3_BUCKET is required",
				"MINIBACK_S3_ACCESS_KEY is required", "MINIBACK_S3_SECRET_KEY is required"}},
		{"s3 endpoint with a path", []string{"MINIBACK_STORAGE=s3", "MINIBACK_S3_ENDPOINT=https://cos.ap-shanghai.myqcloud.com/bucket",
			"MINIBACK_S3_REGION=ap-shanghai", "MINIBACK_S3_BUCKET=b-1", "MINIBACK_S3_ACCESS_KEY=a", "MINIBACK_S3_SECRET_KEY=s"}, []string{"MINIBACK_S3_*", "no path"}},
		{"public URL that is not a URL", []string{"MINIBACK_PUBLIC_URL=api.example.com"}, []string{"MINIBACK_PUBLIC_URL"}},
		{"pending uploads shorter than their ticket", []string{"MINIBACK_UPLOAD_TTL=10m", "MINIBACK_UPLOAD_TICKET_TTL=15m"}, []string{"MINIBACK_UPLOAD_TTL"}},
		{"ticket longer than SigV4 allows", []string{"MINIBACK_UPLOAD_TICKET_TTL=200h", "MINIBACK_UPLOAD_TTL=300h"}, []string{"MINIBACK_UPLOAD_TICKET_TTL"}},
		{"download URL of seconds", []string{"MINIBACK_UPLOAD_DOWNLOAD_TTL=5s"}, []string{"MINIBACK_UPLOAD_DOWNLOAD_TTL"}},
		{"avatar limit of zero", []string{"MINIBACK_UPLOAD_AVATAR_MAX_BYTES=0"}, []string{"MINIBACK_UPLOAD_AVATAR_MAX_BYTES"}},
		{"read timeout too short", []string{"MINIBACK_READ_TIMEOUT=10ms"}, []string{"MINIBACK_READ_TIMEOUT must be between"}},
		{"unparseable read timeout", []string{"MINIBACK_READ_TIMEOUT=soon"}, []string{"MINIBACK_READ_TIMEOUT"}},
		{"upload timeout shorter than the JSON one", []string{"MINIBACK_READ_TIMEOUT=30s", "MINIBACK_UPLOAD_TIMEOUT=10s"}, []string{"MINIBACK_UPLOAD_TIMEOUT (10s) must be at least MINIBACK_READ_TIMEOUT"}},
		{"write timeout that cuts a login", []string{"MINIBACK_WRITE_TIMEOUT=10s"}, []string{"MINIBACK_WRITE_TIMEOUT (10s) must be at least MINIBACK_READ_TIMEOUT + MINIBACK_WECHAT_TIMEOUT (20s)"}},
		{"attachment type that is not a media type", []string{"MINIBACK_UPLOAD_ATTACHMENT_TYPES=image/png,pdf"}, []string{"MINIBACK_UPLOAD_ATTACHMENT_TYPES", `"pdf"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(tt.env)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestSessionDefaultsAreThirtyAndNinetyDaysAndOneSecondPolls(t *testing.T) {
	cfg, err := LoadConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.SessionPolicy()
	if p.IdleTTL != 30*24*time.Hour || p.AbsoluteTTL != 90*24*time.Hour || cfg.RevocationPoll != time.Second || !cfg.RevocationListen {
		t.Errorf("policy %+v, poll %s, listen %t", p, cfg.RevocationPoll, cfg.RevocationListen)
	}
	if err := p.Validate(); err != nil {
		t.Error(err)
	}
}

func TestLoadConfigNeverEchoesAnAppSecret(t *testing.T) {
	_, err := LoadConfig([]string{"MINIBACK_WECHAT_APPS=wx1:topsecret,broken"})
	if err == nil || strings.Contains(err.Error(), "topsecret") {
		t.Fatalf("err = %v", err)
	}
}

func TestSimulatorIsNeverUsedWithRealCredentials(t *testing.T) {
	cfg, err := LoadConfig([]string{"MINIBACK_WECHAT_APPS=wx1:s1,wx2:s2"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.UseSimulator() {
		t.Error("simulator active although apps are configured")
	}
	apps, _ := cfg.Apps()
	if len(apps) != 2 || apps["wx2"] != "s2" {
		t.Errorf("apps = %v", apps)
	}
}

func TestStorageDefaultsToTheLocalDiskAndS3IsConfigurable(t *testing.T) {
	cfg, err := LoadConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := cfg.UploadRules()
	if cfg.Storage != "local" || err != nil || rules["avatar"].MaxBytes != 5<<20 || len(rules["attachment"].Types) != 7 {
		t.Errorf("defaults: storage %q, rules %+v, %v", cfg.Storage, rules, err)
	}
	cfg, err = LoadConfig([]string{
		"MINIBACK_ENV=production", "DATABASE_URL=postgres://db/miniback", "MINIBACK_WECHAT_APPS=wx1:s1",
		"MINIBACK_JWT_PRIVATE_KEYS=pem", "MINIBACK_PUBLIC_URL=https://api.example.com",
		"MINIBACK_CURSOR_SECRET=0123456789abcdef0123456789abcdef",
		"MINIBACK_STORAGE=s3", "MINIBACK_S3_ENDPOINT=https://cos.ap-shanghai.myqcloud.com", "MINIBACK_S3_REGION=ap-shanghai",
		"MINIBACK_S3_BUCKET=photos-1250000000", "MINIBACK_S3_ACCESS_KEY=AKIDxxxx", "MINIBACK_S3_SECRET_KEY=topsecret",
		"MINIBACK_UPLOAD_AVATAR_TYPES=Image/JPEG", "MINIBACK_UPLOAD_AVATAR_MAX_BYTES=1048576",
	})
	if err != nil {
		t.Fatal(err)
	}
	rules, _ = cfg.UploadRules()
	if cfg.S3PathStyle || rules["avatar"].MaxBytes != 1<<20 || len(rules["avatar"].Types) != 1 || rules["avatar"].Types[0] != "image/jpeg" {
		t.Errorf("COS configuration: %+v, rules %+v", cfg, rules)
	}
}

func TestLoadConfigNeverEchoesTheS3SecretKey(t *testing.T) {
	_, err := LoadConfig([]string{"MINIBACK_STORAGE=s3", "MINIBACK_S3_SECRET_KEY=topsecret", "MINIBACK_S3_ENDPOINT=ftp://x"})
	if err == nil || strings.Contains(err.Error(), "topsecret") {
		t.Fatalf("err = %v", err)
	}
}
