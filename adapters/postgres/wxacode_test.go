package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/domain"
)

// Each user's new mini-program codes are counted by the attempt throttle
// under a scope of their own, apart from login attempts.
func TestAttemptThrottleCountsMiniProgramCodesUnderTheirOwnScope(t *testing.T) {
	db := pgtest.NewDB(t)
	th := postgres.NewAttemptThrottle(db)
	ctx := context.Background()
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	key := domain.WxaCodeThrottleKey("7c1e3a52-9d0b-4f5e-8a61-2b3c4d5e6f70")
	login := domain.UserThrottleKey("7c1e3a52-9d0b-4f5e-8a61-2b3c4d5e6f70")
	for i := 1; i <= 3; i++ {
		w, err := th.CountAttempt(ctx, key, t0.Add(time.Duration(i)*time.Minute), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if w.Count != i || !w.Start.Equal(t0.Add(time.Minute)) {
			t.Fatalf("attempt %d: %+v", i, w)
		}
	}
	if w, err := th.CountAttempt(ctx, login, t0, time.Hour); err != nil || w.Count != 1 {
		t.Fatalf("the user's password attempts share the count: %+v %v", w, err)
	}
	if n, err := th.Sweep(ctx, domain.ThrottleWxaCode, t0.Add(2*time.Hour)); err != nil || n != 1 {
		t.Fatalf("Sweep deleted %d (%v), want the ended wxacode window", n, err)
	}
}
