package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/httpapi"
	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/wechat"
	"github.com/miniback/miniback/domain"
)

// adminHealth mirrors api.AdminHealth loosely, with pointers where a test
// tells absent from zero.
type adminHealth struct {
	Ready         bool      `json:"ready"`
	Version       string    `json:"version"`
	CheckedAt     time.Time `json:"checked_at"`
	UptimeSeconds *int      `json:"uptime_seconds"`
	Database      struct {
		Status string   `json:"status"`
		PingMs *float64 `json:"ping_ms"`
		Pool   *struct {
			Max, Total, Idle, Acquired int
		} `json:"pool"`
	} `json:"database"`
	Wechat []struct {
		AppID string `json:"app_id"`
		Token *struct {
			Present          bool   `json:"present"`
			Fresh            bool   `json:"fresh"`
			AgeSeconds       *int   `json:"age_seconds"`
			ExpiresInSeconds *int   `json:"expires_in_seconds"`
			Error            string `json:"error"`
		} `json:"token"`
		Breakers []struct {
			API   string `json:"api"`
			State string `json:"state"`
		} `json:"breakers"`
		LastErrcode *struct {
			API     string    `json:"api"`
			Errcode int       `json:"errcode"`
			At      time.Time `json:"at"`
		} `json:"last_errcode"`
	} `json:"wechat"`
	Runtime struct {
		Goroutines int  `json:"goroutines"`
		InFlight   int  `json:"in_flight"`
		HeapBytes  *int `json:"heap_bytes"`
	} `json:"runtime"`
	RateLimits struct {
		Store       string `json:"store"`
		FailingOpen bool   `json:"failing_open"`
	} `json:"rate_limits"`
	Jobs map[string]int `json:"jobs"`
}

func getHealth(t *testing.T, e *env, access string) adminHealth {
	t.Helper()
	res := e.api.Get("/v1/admin/health", bearer(access))
	if res.Status != http.StatusOK {
		t.Fatalf("GET /v1/admin/health: want 200\n%s", res)
	}
	var h adminHealth
	res.Decode(&h)
	return h
}

func TestAdminHealthIsForAdminsOnly(t *testing.T) {
	e := newEnv(t)
	alice := e.login(t, "dev-alice")
	wantProblem(t, e.api.Get("/v1/admin/health", bearer(alice.AccessToken)), http.StatusForbidden, domain.CodeForbidden)
	wantProblem(t, e.api.Get("/v1/admin/health"), http.StatusUnauthorized, domain.CodeTokenMissing)
}

func TestAdminHealthReportsReadinessVersionDatabaseAndTheProcess(t *testing.T) {
	e := newEnv(t, withInFlight(httpapi.NewInFlight()))
	root := e.admin(t, "dev-root")
	h := getHealth(t, e, root.AccessToken)

	if !h.Ready || h.Version != testVersion || h.UptimeSeconds == nil || time.Since(h.CheckedAt) > time.Minute {
		t.Errorf("ready %v, version %q, uptime %v, checked at %s", h.Ready, h.Version, h.UptimeSeconds, h.CheckedAt)
	}
	if h.Database.Status != "ok" || h.Database.PingMs == nil || h.Database.Pool == nil ||
		h.Database.Pool.Max < 1 || h.Database.Pool.Total < 1 || h.Database.Pool.Total != h.Database.Pool.Idle+h.Database.Pool.Acquired {
		t.Errorf("database %+v", h.Database)
	}
	// One entry per served app; no breakers without resilience settings;
	// no token stored yet (the test API keeps its tokens in memory).
	if len(h.Wechat) != 1 || h.Wechat[0].AppID != appA || len(h.Wechat[0].Breakers) != 0 || h.Wechat[0].LastErrcode != nil ||
		h.Wechat[0].Token == nil || h.Wechat[0].Token.Present || h.Wechat[0].Token.Fresh {
		t.Errorf("wechat %+v", h.Wechat)
	}
	// This very request is in flight.
	if h.Runtime.Goroutines < 1 || h.Runtime.InFlight < 1 || h.Runtime.HeapBytes == nil {
		t.Errorf("runtime %+v", h.Runtime)
	}
	if h.RateLimits.Store != "off" || h.RateLimits.FailingOpen {
		t.Errorf("rate limits %+v, want off", h.RateLimits)
	}
	if h.Jobs != nil {
		t.Errorf("jobs %v, want absent without a queue", h.Jobs)
	}
}

func TestAdminHealthShowsTheSharedTokenTheBreakersAndWeChatsLastErrcode(t *testing.T) {
	r := wechat.DefaultResilience()
	r.Retry.Retries = 0
	r.Breaker = wechat.BreakerSettings{ConsecutiveFailures: 3, OpenFor: 10 * time.Minute, Probes: 1}
	e := newEnv(t, withWeChatResilience(r), withApps(appA, appB))
	root := refreshed(t, e.api, e.consoleAdmin(t, "root").RefreshToken) // a token with the admin role
	// WeChat refuses a code: its errcode is the app's last.
	if res := e.api.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "err-40029", "appid": appA}); res.Status != http.StatusUnauthorized {
		t.Fatalf("login with a bad code: want 401\n%s", res)
	}
	// Another replica stored appA's shared token a minute ago.
	store := postgres.NewWeChatTokenStore(e.db)
	ctx, now := context.Background(), time.Now()
	if _, ok, err := store.AcquireWeChatTokenLease(ctx, appA, "replica-2", now, now.Add(time.Minute)); err != nil || !ok {
		t.Fatalf("lease: %v %v", ok, err)
	}
	if _, ok, err := store.StoreWeChatToken(ctx, appA, "replica-2", "a-token-never-shown", now.Add(7140*time.Second), now.Add(-time.Minute)); err != nil || !ok {
		t.Fatalf("store: %v %v", ok, err)
	}

	res := e.api.Get("/v1/admin/health", bearer(root.AccessToken))
	if res.Status != http.StatusOK {
		t.Fatalf("want 200\n%s", res)
	}
	if bytes.Contains(res.Body, []byte("a-token-never-shown")) {
		t.Fatal("the health page shows an access token")
	}
	var h adminHealth
	res.Decode(&h)
	if len(h.Wechat) != 2 || h.Wechat[0].AppID != appA || h.Wechat[1].AppID != appB {
		t.Fatalf("wechat %+v, want appA and appB", h.Wechat)
	}
	a, b := h.Wechat[0], h.Wechat[1]
	if a.Token == nil || !a.Token.Present || !a.Token.Fresh || a.Token.AgeSeconds == nil || *a.Token.AgeSeconds < 59 ||
		a.Token.ExpiresInSeconds == nil || *a.Token.ExpiresInSeconds < 7000 || *a.Token.ExpiresInSeconds > 7140 {
		t.Errorf("appA token %+v", a.Token)
	}
	if len(a.Breakers) != 1 || a.Breakers[0].API != "code2session" || a.Breakers[0].State != "closed" {
		t.Errorf("appA breakers %+v, want code2session closed", a.Breakers)
	}
	if a.LastErrcode == nil || a.LastErrcode.Errcode != 40029 || a.LastErrcode.API != "code2session" {
		t.Errorf("appA last errcode %+v, want 40029 of code2session", a.LastErrcode)
	}
	if b.Token == nil || b.Token.Present || len(b.Breakers) != 0 || b.LastErrcode != nil {
		t.Errorf("appB %+v, want nothing yet", b)
	}
}

func TestAdminHealthAnswers200WhenTheServerIsNotReady(t *testing.T) {
	e := newEnv(t, withReady(func(context.Context) error { return errors.New("draining") }))
	root := e.admin(t, "dev-root")
	if h := getHealth(t, e, root.AccessToken); h.Ready || h.Database.Status != "ok" {
		t.Errorf("ready %v, database %q: want not ready, database ok", h.Ready, h.Database.Status)
	}
}

func TestAdminHealthSaysTheRateLimitsAreInMemory(t *testing.T) {
	e := newEnv(t, withRateLimits(t, "read:ip=1000/m"))
	root := e.admin(t, "dev-root")
	if h := getHealth(t, e, root.AccessToken); h.RateLimits.Store != "memory" || h.RateLimits.FailingOpen {
		t.Errorf("rate limits %+v, want memory", h.RateLimits)
	}
}
