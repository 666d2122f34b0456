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
	if cfg.Production() || !cfg.UseSimulator() || cfg.DatabaseURL != "" || cfg.AccessTokenTTL != 15*time.Minute || cfg.Addr != ":8080" {
		t.Errorf("defaults = %+v", cfg)
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
		{"token TTL out of range", []string{"MINIBACK_ACCESS_TOKEN_TTL=10s"}, []string{"MINIBACK_ACCESS_TOKEN_TTL"}},
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
		{"trusted proxy not an address", []string{"MINIBACK_TRUSTED_PROXIES=10.0.0.0/8,proxy.local"}, []string{"MINIBACK_TRUSTED_PROXIES", "proxy.local"}},
		{"idle lifetime shorter than an access token", []string{"MINIBACK_REFRESH_IDLE_TTL=5m"}, []string{"MINIBACK_REFRESH_IDLE_TTL"}},
		{"idle lifetime past the absolute one", []string{"MINIBACK_REFRESH_IDLE_TTL=100h", "MINIBACK_REFRESH_ABSOLUTE_TTL=50h"}, []string{"MINIBACK_REFRESH_ABSOLUTE_TTL"}},
		{"absolute lifetime over a year", []string{"MINIBACK_REFRESH_ABSOLUTE_TTL=9000h"}, []string{"MINIBACK_REFRESH_ABSOLUTE_TTL"}},
		{"revocation poll too fast", []string{"MINIBACK_REVOCATION_POLL=10ms"}, []string{"MINIBACK_REVOCATION_POLL"}},
		{"revocation poll too slow", []string{"MINIBACK_REVOCATION_POLL=5m"}, []string{"MINIBACK_REVOCATION_POLL"}},
		{"unparseable listen flag", []string{"MINIBACK_REVOCATION_LISTEN=maybe"}, []string{"MINIBACK_REVOCATION_LISTEN"}},
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
