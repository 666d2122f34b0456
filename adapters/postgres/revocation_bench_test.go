package postgres_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// BenchmarkRevocationDelay measures how long after a revocation commits on
// one instance another instance refuses the session's tokens: instance B's
// revocation set is fed by its poller (every second, the default
// MINIBACK_REVOCATION_POLL), with and without the LISTEN wake-up. Each
// iteration revokes one session, at a random point of B's poll cycle, and
// spins until B's set has it. It reports the mean and the worst delay in
// milliseconds; ns/op is the same mean. Run it with -benchtime=Nx: an
// iteration takes up to two poll intervals.
func BenchmarkRevocationDelay(b *testing.B) {
	for _, tc := range []struct {
		name   string
		poll   time.Duration
		listen bool
	}{
		{"poll=1s", time.Second, false},
		{"poll=1s+listen", time.Second, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			var bg sync.WaitGroup
			defer bg.Wait()
			defer cancel()
			db := pgtest.NewDB(b)
			users, store := postgres.NewUserStore(db), postgres.NewSessionStore(db)
			u, _, err := users.UpsertWeChatUser(ctx, domain.WeChatIdentity{AppID: "wxapp", OpenID: "bench", SessionKey: "k"})
			if err != nil {
				b.Fatal(err)
			}
			onB := app.NewRevocations(store, app.SystemClock{}, time.Hour)
			if err := onB.Refresh(ctx); err != nil {
				b.Fatal(err)
			}
			bg.Go(func() { onB.Run(ctx, tc.poll, func(err error) { b.Error(err) }) })
			if tc.listen {
				bg.Go(func() { db.ListenRevocations(ctx, onB.Wake, nil) })
			}

			var delays []time.Duration
			for b.Loop() {
				b.StopTimer()
				tok := newToken(b)
				s, err := store.CreateSession(ctx, policy.Start(u.ID, "wxapp", "", time.Now()), tok.Hash())
				if err != nil {
					b.Fatal(err)
				}
				c := ports.AccessClaims{UserID: u.ID, SessionID: s.ID, IssuedAt: time.Now()}
				// Revoke at a random point of B's poll cycle.
				time.Sleep(rand.N(tc.poll))
				b.StartTimer()
				start := time.Now()
				if _, _, err := store.RevokeSession(ctx, u.ID, s.ID, domain.RevokeLogout, start); err != nil {
					b.Fatal(err)
				}
				for !onB.Revoked(c) {
					time.Sleep(100 * time.Microsecond)
				}
				delays = append(delays, time.Since(start))
			}
			var sum time.Duration
			for _, d := range delays {
				sum += d
			}
			b.ReportMetric(float64(sum.Microseconds())/float64(len(delays))/1000, "mean-ms")
			b.ReportMetric(float64(slices.Max(delays).Microseconds())/1000, "max-ms")
		})
	}
}
