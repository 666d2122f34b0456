package httpapi

import (
	"context"
	"runtime"
	"runtime/metrics"
	"time"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/adapters/ratelimit"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// GetAdminHealth answers the console's health page: the use-case gathers
// the report; this server adds what only it knows (readiness as /readyz
// checks it, the process's numbers, the rate limiter).
func (s *Server) GetAdminHealth(ctx context.Context, _ api.GetAdminHealthRequestObject) (api.GetAdminHealthResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.getAdminHealthFailure(ctx, errNoClaims)
	}
	probes := app.ServerProbes{Runtime: processStats{inFlight: s.inFlight}}
	if s.ready != nil {
		// The check /readyz answers with (GetReady), under the same
		// timeout.
		probes.Ready = ports.ReadinessFunc(s.ready)
	}
	if s.limiter != nil {
		probes.RateLimits = s.limiter
	}
	r, err := s.app.Health.Report(ctx, claims.Role, probes)
	if err != nil {
		return s.getAdminHealthFailure(ctx, err)
	}
	return api.GetAdminHealth200JSONResponse(toAdminHealth(r)), nil
}

// toAdminHealth maps the report to the wire type.
func toAdminHealth(r domain.HealthReport) api.AdminHealth {
	out := api.AdminHealth{
		Ready: r.Ready, Version: r.Version, CheckedAt: r.CheckedAt, UptimeSeconds: seconds(r.Uptime),
		Database: api.DatabaseHealth{Status: api.DatabaseUnavailable},
		Wechat:   make([]api.WeChatAppHealth, len(r.WeChat)),
		Runtime:  api.RuntimeHealth{Goroutines: r.Runtime.Goroutines, InFlight: r.Runtime.InFlight},
		RateLimits: api.RateLimitHealth{Store: api.RateLimitHealthStore(r.Limits.Store),
			FailingOpen: r.Limits.FailingOpen},
	}
	if r.Runtime.HeapBytes > 0 {
		heap := int(min(r.Runtime.HeapBytes, uint64(1<<62)))
		out.Runtime.HeapBytes = &heap
	}
	if r.Database.OK {
		ms := float32(r.Database.Ping.Seconds() * 1000)
		out.Database.Status, out.Database.PingMs = api.DatabaseOk, &ms
	}
	if p := r.Database.Pool; p != nil {
		waited := int(p.Waited)
		out.Database.Pool = &api.PoolHealth{Max: p.Max, Total: p.Total, Idle: p.Idle, Acquired: p.Acquired, Waiting: &waited}
	}
	for i, w := range r.WeChat {
		a := api.WeChatAppHealth{AppId: string(w.App), Breakers: make([]api.BreakerHealth, len(w.Breakers))}
		for j, b := range w.Breakers {
			a.Breakers[j] = api.BreakerHealth{Api: b.API, State: api.BreakerHealthState(b.State)}
		}
		if e := w.LastErrcode; e != nil {
			a.LastErrcode = &api.WeChatErrcodeHealth{Api: e.API, Errcode: e.Errcode, At: e.At}
		}
		if t := w.Token; t != nil {
			h := api.WeChatTokenHealth{Present: t.Present, Fresh: t.Fresh}
			if t.Present {
				age, exp := seconds(t.Age), int(t.ExpiresIn/time.Second)
				h.AgeSeconds, h.ExpiresInSeconds = &age, &exp
			}
			if t.Error != "" {
				h.Error = &t.Error
			}
			a.Token = &h
		}
		out.Wechat[i] = a
	}
	if r.Jobs != nil {
		jobs := r.Jobs
		out.Jobs = &jobs
	}
	return out
}

// seconds is d in whole seconds, never negative.
func seconds(d time.Duration) int { return int(max(0, d/time.Second)) }

// processStats is this process's numbers, for the health page.
type processStats struct{ inFlight *InFlight }

var _ ports.RuntimeStats = processStats{}

// heapMetric is the bytes of live and not yet swept heap objects; reading
// it does not stop the world (runtime.ReadMemStats would).
const heapMetric = "/memory/classes/heap/objects:bytes"

func (p processStats) RuntimeStats() domain.RuntimeStats {
	s := domain.RuntimeStats{Goroutines: runtime.NumGoroutine()}
	if p.inFlight != nil {
		s.InFlight = p.inFlight.Count()
	}
	sample := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(sample)
	if sample[0].Value.Kind() == metrics.KindUint64 {
		s.HeapBytes = sample[0].Value.Uint64()
	}
	return s
}

var _ ports.RateLimitStatus = (*ratelimit.Limiter)(nil)
