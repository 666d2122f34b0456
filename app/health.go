package app

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Health reports a server's health to administrators: the console's
// health page. Each source is an adapter's report on itself; a nil source
// is left out of the report (or reported as off).
type Health struct {
	Clock   ports.Clock
	Apps    Apps
	Version string
	Started time.Time
	// Database pings the database and reads its pool.
	Database ports.DatabaseStatus
	// WeChat is the WeChat client's breakers and errcodes; nil: none
	// reported.
	WeChat ports.WeChatStatus
	// Tokens reads the shared access tokens; nil when the deployment
	// keeps none (WeChat Cloud Hosting).
	Tokens ports.WeChatTokenReader
	// Jobs counts the job queue's jobs; nil: no queue, Jobs absent.
	Jobs ports.JobCounter
	// ProbeTimeout bounds each probe of a dependency; zero means
	// DefaultProbeTimeout.
	ProbeTimeout time.Duration
}

// DefaultProbeTimeout bounds a probe: a dependency that does not answer
// within it is reported down, as /readyz would.
const DefaultProbeTimeout = time.Second

// ServerProbes are what only the serving side knows: the readiness check
// /readyz answers with, the process's numbers, the rate limiter. Each may
// be nil.
type ServerProbes struct {
	Ready      ports.Readiness
	Runtime    ports.RuntimeStats
	RateLimits ports.RateLimitStatus
}

// Report gathers the health of this server, for an administrator. It
// fails only for a caller who is not one: a dependency that is down is
// part of the report.
func (uc Health) Report(ctx context.Context, actor domain.Role, sp ServerProbes) (domain.HealthReport, error) {
	if !actor.CanAdminister() {
		return domain.HealthReport{}, domain.Errorf(domain.CodeForbidden, "Only administrators may see the server's health.")
	}
	now := uc.Clock.Now()
	r := domain.HealthReport{Version: uc.Version, CheckedAt: now, Ready: true,
		Limits: domain.RateLimitStatus{Store: domain.RateLimitStoreOff}}
	if !uc.Started.IsZero() {
		r.Uptime = max(0, now.Sub(uc.Started))
	}
	if r.Version == "" {
		r.Version = "unknown"
	}

	// The readiness check and the ping each wait at most the probe
	// timeout, side by side.
	var wg sync.WaitGroup
	if sp.Ready != nil {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, uc.probeTimeout())
			defer cancel()
			r.Ready = sp.Ready.Ready(ctx) == nil
		})
	}
	if uc.Database != nil {
		wg.Go(func() { r.Database = uc.database(ctx) })
	}
	wg.Wait()

	for _, app := range uc.Apps.ids {
		r.WeChat = append(r.WeChat, uc.weChat(ctx, app, r.Database.OK || uc.Database == nil))
	}
	if sp.Runtime != nil {
		r.Runtime = sp.Runtime.RuntimeStats()
	}
	if sp.RateLimits != nil {
		r.Limits = sp.RateLimits.RateLimitStatus()
	}
	if uc.Jobs != nil {
		ctx, cancel := context.WithTimeout(ctx, uc.probeTimeout())
		defer cancel()
		if jobs, err := uc.Jobs.CountJobs(ctx); err == nil {
			r.Jobs = jobs
		}
	}
	return r, nil
}

// database pings and reads the pool.
func (uc Health) database(ctx context.Context) domain.DatabaseHealth {
	ctx, cancel := context.WithTimeout(ctx, uc.probeTimeout())
	defer cancel()
	pool := uc.Database.PoolStats()
	d := domain.DatabaseHealth{Pool: &pool}
	start := uc.Clock.Now()
	if err := uc.Database.Ping(ctx); err == nil {
		d.OK, d.Ping = true, max(0, uc.Clock.Now().Sub(start))
	}
	return d
}

// weChat reports one app. The token is read from the database only when
// the ping answered: a database that is down would only make the page
// wait once per app.
func (uc Health) weChat(ctx context.Context, app domain.AppID, dbUp bool) domain.WeChatAppHealth {
	h := domain.WeChatAppHealth{App: app, Breakers: []domain.WeChatBreaker{}}
	if uc.WeChat != nil {
		h.Breakers = append(h.Breakers, uc.WeChat.WeChatBreakers(app)...)
		domain.SortBreakers(h.Breakers)
		if e, ok := uc.WeChat.WeChatLastErrcode(app); ok {
			h.LastErrcode = &e
		}
	}
	if uc.Tokens != nil {
		var t domain.WeChatTokenHealth
		if dbUp {
			ctx, cancel := context.WithTimeout(ctx, uc.probeTimeout())
			st, err := uc.Tokens.WeChatToken(ctx, app)
			cancel()
			if err != nil {
				t.Error = fmt.Sprintf("the token state could not be read (%s)", domain.ErrorCode(err))
			} else {
				t = st.TokenHealth(uc.Clock.Now())
			}
		} else {
			t.Error = "the database did not answer"
		}
		h.Token = &t
	}
	return h
}

func (uc Health) probeTimeout() time.Duration {
	if uc.ProbeTimeout > 0 {
		return uc.ProbeTimeout
	}
	return DefaultProbeTimeout
}
