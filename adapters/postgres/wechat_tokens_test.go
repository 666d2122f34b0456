package postgres_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/domain"
)

// tokT0 is noon in Beijing.
var tokT0 = time.Date(2026, 3, 1, 4, 0, 0, 0, time.UTC)

const tokApp = domain.AppID("wxtoken0000000000")

// leased takes the lease for holder at now or fails the test.
func leased(t *testing.T, s *postgres.WeChatTokenStore, holder string, now time.Time) domain.WeChatTokenState {
	t.Helper()
	st, ok, err := s.AcquireWeChatTokenLease(context.Background(), tokApp, holder, now, now.Add(15*time.Second))
	if err != nil || !ok {
		t.Fatalf("acquire lease for %s: ok %t, err %v", holder, ok, err)
	}
	return st
}

func TestWeChatTokenStore_NothingStoredIsAnEmptyState(t *testing.T) {
	s := postgres.NewWeChatTokenStore(pgtest.NewDB(t))
	st, err := s.WeChatToken(context.Background(), tokApp)
	if err != nil {
		t.Fatal(err)
	}
	if st.App != tokApp || st.Token != "" || st.Generation != 0 || !st.ExpiresAt.IsZero() || st.LeaseHolder != "" {
		t.Fatalf("state %+v, want empty for %s", st, tokApp)
	}
}

func TestWeChatTokenStore_OneLeaseHolderAtATimeUntilTheLeaseEnds(t *testing.T) {
	s := postgres.NewWeChatTokenStore(pgtest.NewDB(t))
	ctx := context.Background()
	until := tokT0.Add(15 * time.Second)
	tests := []struct {
		name   string
		holder string
		now    time.Time
		ok     bool
	}{
		{"the first caller creates the row and takes it", "a", tokT0, true},
		{"another replica is refused while it runs", "b", tokT0.Add(14 * time.Second), false},
		{"its holder may take it again", "a", tokT0.Add(time.Second), true},
		{"another replica takes it once it ran out", "b", until.Add(time.Second), true},
	}
	for _, tt := range tests {
		st, ok, err := s.AcquireWeChatTokenLease(ctx, tokApp, tt.holder, tt.now, until)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if ok != tt.ok {
			t.Fatalf("%s: ok %t, want %t (state %+v)", tt.name, ok, tt.ok, st)
		}
		if !ok && st.LeaseHolder != "a" {
			t.Fatalf("%s: a refused caller should see the holder, got %q", tt.name, st.LeaseHolder)
		}
	}
	if err := s.ReleaseWeChatTokenLease(ctx, tokApp, "a"); err != nil { // not a's any more: no effect
		t.Fatal(err)
	}
	if st, _ := s.WeChatToken(ctx, tokApp); st.LeaseHolder != "b" {
		t.Fatalf("a released b's lease: %+v", st)
	}
	if err := s.ReleaseWeChatTokenLease(ctx, tokApp, "b"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.AcquireWeChatTokenLease(ctx, tokApp, "c", tokT0.Add(2*time.Second), until); !ok {
		t.Fatal("a released lease should be free")
	}
}

func TestWeChatTokenStore_ConcurrentReplicasGetOneLease(t *testing.T) {
	s := postgres.NewWeChatTokenStore(pgtest.NewDB(t))
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := s.AcquireWeChatTokenLease(context.Background(), tokApp, "replica-"+string(rune('a'+i)), tokT0, tokT0.Add(time.Minute))
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d replicas got the lease, want 1", won)
	}
}

func TestWeChatTokenStore_StoreIsForTheLeaseHolderAndCountsGenerations(t *testing.T) {
	s := postgres.NewWeChatTokenStore(pgtest.NewDB(t))
	ctx := context.Background()
	long := domain.WeChatAccessToken(strings.Repeat("T", 600)) // WeChat asks for 512 characters of room
	exp := tokT0.Add(2 * time.Hour)

	if _, ok, err := s.StoreWeChatToken(ctx, tokApp, "a", long, exp, tokT0); err != nil || ok {
		t.Fatalf("store without a lease: ok %t, err %v; want refused", ok, err)
	}
	leased(t, s, "a", tokT0)
	if _, ok, err := s.StoreWeChatToken(ctx, tokApp, "b", long, exp, tokT0); err != nil || ok {
		t.Fatalf("store by a replica without the lease: ok %t, err %v; want refused", ok, err)
	}
	st, ok, err := s.StoreWeChatToken(ctx, tokApp, "a", long, exp, tokT0)
	if err != nil || !ok {
		t.Fatalf("store by the holder: ok %t, err %v", ok, err)
	}
	if st.Token != long || !st.ExpiresAt.Equal(exp) || !st.FetchedAt.Equal(tokT0) || st.FetchedBy != "a" || st.Generation != 1 {
		t.Fatalf("stored state %+v", st)
	}
	if st.LeaseHolder != "" || !st.LeaseUntil.IsZero() {
		t.Fatalf("storing should end the lease: %+v", st)
	}

	// The same token again (normal mode before the rotation window) keeps
	// its generation; a different one counts.
	leased(t, s, "b", tokT0.Add(time.Hour))
	if st, _, _ = s.StoreWeChatToken(ctx, tokApp, "b", long, exp, tokT0.Add(time.Hour)); st.Generation != 1 || st.FetchedBy != "b" {
		t.Fatalf("same token: %+v, want generation 1 fetched by b", st)
	}
	leased(t, s, "b", tokT0.Add(2*time.Hour))
	if st, _, _ = s.StoreWeChatToken(ctx, tokApp, "b", "other", exp.Add(2*time.Hour), tokT0.Add(2*time.Hour)); st.Generation != 2 || st.Token != "other" {
		t.Fatalf("new token: %+v, want generation 2", st)
	}
	got, err := s.WeChatToken(ctx, tokApp)
	if err != nil || got != st {
		t.Fatalf("read back %+v (%v), want %+v", got, err, st)
	}
}

func TestWeChatTokenStore_SpendForcedRefreshKeepsWeChatsBudget(t *testing.T) {
	s := postgres.NewWeChatTokenStore(pgtest.NewDB(t))
	ctx := context.Background()
	b := domain.DefaultForceRefreshBudget
	spend := func(holder string, now time.Time) (domain.WeChatTokenState, bool) {
		t.Helper()
		st, ok, err := s.SpendForcedRefresh(ctx, tokApp, holder, now, b)
		if err != nil {
			t.Fatal(err)
		}
		return st, ok
	}
	if _, ok := spend("a", tokT0); ok {
		t.Fatal("spent without a lease")
	}
	leased(t, s, "a", tokT0)
	if _, ok := spend("b", tokT0); ok {
		t.Fatal("spent by a replica without the lease")
	}
	now := tokT0
	for i := 1; i <= b.PerDay; i++ {
		st, ok := spend("a", now)
		if !ok || st.Forced.Count != i || st.Forced.Day != "2026-03-01" || !st.Forced.Last.Equal(now) {
			t.Fatalf("spend %d: ok %t, %+v", i, ok, st.Forced)
		}
		if _, ok := spend("a", now.Add(b.Gap-time.Second)); ok {
			t.Fatalf("spend %d: a second one %s later was allowed", i, b.Gap-time.Second)
		}
		now = now.Add(b.Gap)
	}
	st, ok := spend("a", now)
	if ok {
		t.Fatalf("spend %d in one day was allowed: %+v", b.PerDay+1, st.Forced)
	}
	if e := b.Check(st.Forced, now); e == nil || e.Code != domain.CodeWeChatTokenUnavailable {
		t.Fatalf("the refused spend's state should explain it: %v (%+v)", e, st.Forced)
	}
	// Beijing midnight (16:00 UTC) starts a new budget.
	midnight := time.Date(2026, 3, 1, 16, 0, 0, 0, time.UTC)
	leased(t, s, "a", midnight)
	if st, ok = spend("a", midnight); !ok || st.Forced.Count != 1 || st.Forced.Day != "2026-03-02" {
		t.Fatalf("first spend of the next Beijing day: ok %t, %+v", ok, st.Forced)
	}
}

func TestWeChatTokenStore_StableTokenStopIsSharedAndOnlyMovesLater(t *testing.T) {
	s := postgres.NewWeChatTokenStore(pgtest.NewDB(t))
	ctx := context.Background()
	midnight := time.Date(2026, 3, 1, 16, 0, 0, 0, time.UTC) // 00:00 Beijing
	// No row yet: the stop creates it.
	if err := s.StopStableToken(ctx, tokApp, midnight); err != nil {
		t.Fatal(err)
	}
	st, err := s.WeChatToken(ctx, tokApp)
	if err != nil || !st.StableTokenNotBefore.Equal(midnight) || st.Token != "" || st.LeaseHolder != "" {
		t.Fatalf("after the stop: %+v (%v), want no token, no lease, not before %s", st, err, midnight)
	}
	if !st.StableTokenStopped(midnight.Add(-time.Second)) || st.StableTokenStopped(midnight) {
		t.Fatalf("stopped should hold until %s and end there: %+v", midnight, st)
	}
	// An earlier stop leaves the later one; a later one replaces it.
	if err := s.StopStableToken(ctx, tokApp, midnight.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if st, _ = s.WeChatToken(ctx, tokApp); !st.StableTokenNotBefore.Equal(midnight) {
		t.Fatalf("an earlier stop moved it to %s", st.StableTokenNotBefore)
	}
	// The lease and the token live alongside it.
	held := leased(t, s, "a", tokT0)
	if !held.StableTokenNotBefore.Equal(midnight) {
		t.Fatalf("the lease's state lacks the stop: %+v", held)
	}
	next := midnight.Add(24 * time.Hour)
	if err := s.StopStableToken(ctx, tokApp, next); err != nil {
		t.Fatal(err)
	}
	st, ok, err := s.StoreWeChatToken(ctx, tokApp, "a", "tok-1", tokT0.Add(2*time.Hour), tokT0)
	if err != nil || !ok || !st.StableTokenNotBefore.Equal(next) || st.Token != "tok-1" {
		t.Fatalf("store after the stop: ok %t, %+v (%v)", ok, st, err)
	}
}
