package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Tiny fakes of the health page's sources.

type fakeDatabase struct {
	ping  func(ctx context.Context) error
	stats domain.PoolStats
}

func (f fakeDatabase) Ping(ctx context.Context) error { return f.ping(ctx) }
func (f fakeDatabase) PoolStats() domain.PoolStats    { return f.stats }

type fakeWeChatStatus map[domain.AppID][]domain.WeChatBreaker

func (f fakeWeChatStatus) WeChatBreakers(app domain.AppID) []domain.WeChatBreaker { return f[app] }
func (f fakeWeChatStatus) WeChatLastErrcode(domain.AppID) (domain.WeChatErrcodeAt, bool) {
	return domain.WeChatErrcodeAt{}, false
}

type fakeTokenReader func(ctx context.Context, app domain.AppID) (domain.WeChatTokenState, error)

func (f fakeTokenReader) WeChatToken(ctx context.Context, app domain.AppID) (domain.WeChatTokenState, error) {
	return f(ctx, app)
}

type fakeJobs map[string]int

func (f fakeJobs) CountJobs(context.Context) (map[string]int, error) { return f, nil }

var healthNow = time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)

func TestHealthIsForAdministratorsOnly(t *testing.T) {
	_, err := app.Health{Clock: fixedClock{healthNow}}.Report(context.Background(), domain.RoleUser, app.ServerProbes{})
	if domain.ErrorCode(err) != domain.CodeForbidden {
		t.Fatalf("err %v, want forbidden", err)
	}
}

func TestHealthReportsEachSourceAndSortsTheBreakers(t *testing.T) {
	uc := app.Health{
		Clock: fixedClock{healthNow}, Apps: app.NewApps("wxa", "wxb"), Version: "miniback v1", Started: healthNow.Add(-time.Hour),
		Database: fakeDatabase{ping: func(context.Context) error { return nil }, stats: domain.PoolStats{Max: 10, Total: 3, Idle: 2, Acquired: 1}},
		WeChat:   fakeWeChatStatus{"wxa": {{API: "stable_token", State: domain.BreakerOpen}, {API: "code2session", State: domain.BreakerClosed}}},
		Tokens: fakeTokenReader(func(_ context.Context, app domain.AppID) (domain.WeChatTokenState, error) {
			if app == "wxb" {
				return domain.WeChatTokenState{App: app}, nil
			}
			return domain.WeChatTokenState{App: app, Token: "t", ExpiresAt: healthNow.Add(time.Hour), FetchedAt: healthNow.Add(-time.Hour)}, nil
		}),
		Jobs: fakeJobs{"queued": 2, "failed": 1},
	}
	r, err := uc.Report(context.Background(), domain.RoleAdmin, app.ServerProbes{
		Ready: ports.ReadinessFunc(func(context.Context) error { return nil }),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Ready || r.Version != "miniback v1" || r.Uptime != time.Hour || !r.Database.OK || r.Database.Pool.Total != 3 {
		t.Errorf("report %+v", r)
	}
	if len(r.WeChat) != 2 || r.WeChat[0].Breakers[0].API != "code2session" || r.WeChat[0].Breakers[1].State != domain.BreakerOpen {
		t.Fatalf("wechat %+v", r.WeChat)
	}
	if tok := r.WeChat[0].Token; tok == nil || !tok.Present || !tok.Fresh || tok.Age != time.Hour || tok.ExpiresIn != time.Hour {
		t.Errorf("wxa token %+v", tok)
	}
	if tok := r.WeChat[1].Token; tok == nil || tok.Present || len(r.WeChat[1].Breakers) != 0 {
		t.Errorf("wxb %+v", r.WeChat[1])
	}
	if r.Limits.Store != domain.RateLimitStoreOff || r.Jobs["queued"] != 2 {
		t.Errorf("limits %+v, jobs %v", r.Limits, r.Jobs)
	}
}

func TestHealthWithTheDatabaseDownSaysSoAndReadsNoToken(t *testing.T) {
	reads := 0
	uc := app.Health{
		Clock: fixedClock{healthNow}, Apps: app.NewApps("wxa"),
		Database: fakeDatabase{ping: func(ctx context.Context) error {
			if _, ok := ctx.Deadline(); !ok {
				t.Error("the ping has no deadline")
			}
			return errors.New("connection refused")
		}},
		Tokens: fakeTokenReader(func(context.Context, domain.AppID) (domain.WeChatTokenState, error) {
			reads++
			return domain.WeChatTokenState{}, nil
		}),
	}
	r, err := uc.Report(context.Background(), domain.RoleAdmin, app.ServerProbes{
		Ready: ports.ReadinessFunc(func(context.Context) error { return errors.New("not ready") }),
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Ready || r.Database.OK || r.Version != "unknown" {
		t.Errorf("ready %v, database %+v, version %q", r.Ready, r.Database, r.Version)
	}
	if reads != 0 || r.WeChat[0].Token == nil || r.WeChat[0].Token.Error == "" {
		t.Errorf("token reads %d, token %+v: want none and an error", reads, r.WeChat[0].Token)
	}
}
