package domain_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/domain"
)

// tokenT0 is 12:00 in Beijing (04:00 UTC).
var tokenT0 = time.Date(2026, 3, 1, 4, 0, 0, 0, time.UTC)

func TestWeChatTokenState_UsableDueAndRecentlyFetched(t *testing.T) {
	exp := tokenT0.Add(2 * time.Hour)
	tok := domain.WeChatTokenState{Token: "t", ExpiresAt: exp, FetchedAt: tokenT0}
	tests := []struct {
		name                  string
		state                 domain.WeChatTokenState
		now                   time.Time
		usable, due, recently bool
	}{
		{"no token", domain.WeChatTokenState{}, tokenT0, false, true, false},
		{"just fetched", tok, tokenT0, true, false, true},
		{"30 s after the fetch", tok, tokenT0.Add(30 * time.Second), true, false, false},
		{"an instant before the refresh window", tok, exp.Add(-4*time.Minute - time.Nanosecond), true, false, false},
		{"at the refresh window (4 min left)", tok, exp.Add(-4 * time.Minute), true, true, false},
		{"an instant before the minimum life", tok, exp.Add(-30*time.Second - time.Nanosecond), true, true, false},
		{"with 30 s left", tok, exp.Add(-30 * time.Second), false, true, false},
		{"expired", tok, exp.Add(time.Minute), false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.state.Usable(tt.now); got != tt.usable {
				t.Errorf("Usable = %t, want %t", got, tt.usable)
			}
			if got := tt.state.Due(tt.now); got != tt.due {
				t.Errorf("Due = %t, want %t", got, tt.due)
			}
			if got := tt.state.RecentlyFetched(tt.now); got != tt.recently {
				t.Errorf("RecentlyFetched = %t, want %t", got, tt.recently)
			}
		})
	}
}

func TestBeijingDay_TurnsAtMidnightUTCPlus8(t *testing.T) {
	tests := []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 3, 1, 15, 59, 59, 0, time.UTC), "2026-03-01"},
		{time.Date(2026, 3, 1, 16, 0, 0, 0, time.UTC), "2026-03-02"},
		{time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), "2026-03-01"},
		{time.Date(2026, 2, 28, 23, 0, 0, 0, time.FixedZone("PST", -8*3600)), "2026-03-01"},
	}
	for _, tt := range tests {
		if got := domain.BeijingDay(tt.at); got != tt.want {
			t.Errorf("BeijingDay(%s) = %s, want %s", tt.at, got, tt.want)
		}
	}
}

func TestNextBeijingMidnight_IsTheStartOfTheNextBeijingDay(t *testing.T) {
	next := time.Date(2026, 3, 1, 16, 0, 0, 0, time.UTC) // 2026-03-02 00:00 in Beijing
	for _, at := range []time.Time{
		time.Date(2026, 2, 28, 16, 0, 0, 0, time.UTC), // 00:00 in Beijing: a whole day to go
		time.Date(2026, 3, 1, 1, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 1, 15, 59, 59, 0, time.UTC),
	} {
		if got := domain.NextBeijingMidnight(at); !got.Equal(next) {
			t.Errorf("NextBeijingMidnight(%s) = %s, want %s", at, got, next)
		}
	}
	if got := domain.NextBeijingMidnight(next); !got.Equal(next.Add(24 * time.Hour)) {
		t.Errorf("at midnight itself: %s, want the day after", got)
	}
}

func TestForceRefreshBudget_AllowsTwentyADayThirtySecondsApart(t *testing.T) {
	b := domain.DefaultForceRefreshBudget
	today := domain.BeijingDay(tokenT0)
	midnight := time.Date(2026, 3, 1, 16, 0, 0, 0, time.UTC) // 00:00 on 2 March in Beijing
	tests := []struct {
		name      string
		spent     domain.ForcedRefreshes
		now       time.Time
		allowed   bool
		retryHint time.Duration
	}{
		{"never forced", domain.ForcedRefreshes{}, tokenT0, true, 0},
		{"19 today, a minute ago", domain.ForcedRefreshes{Day: today, Count: 19, Last: tokenT0.Add(-time.Minute)}, tokenT0, true, 0},
		{"20 today", domain.ForcedRefreshes{Day: today, Count: 20, Last: tokenT0.Add(-time.Hour)}, tokenT0, false, midnight.Sub(tokenT0)},
		{"20 yesterday", domain.ForcedRefreshes{Day: "2026-02-28", Count: 20, Last: tokenT0.Add(-20 * time.Hour)}, tokenT0, true, 0},
		{"20 today, then Beijing midnight", domain.ForcedRefreshes{Day: today, Count: 20, Last: tokenT0}, midnight, true, 0},
		{"10 s ago", domain.ForcedRefreshes{Day: today, Count: 1, Last: tokenT0.Add(-10 * time.Second)}, tokenT0, false, 20 * time.Second},
		{"exactly 30 s ago", domain.ForcedRefreshes{Day: today, Count: 1, Last: tokenT0.Add(-30 * time.Second)}, tokenT0, true, 0},
		{"the gap spans Beijing midnight", domain.ForcedRefreshes{Day: today, Count: 20, Last: midnight.Add(-29 * time.Second)}, midnight, false, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := b.Check(tt.spent, tt.now)
			if (err == nil) != tt.allowed {
				t.Fatalf("Check = %v, want allowed %t", err, tt.allowed)
			}
			if err == nil {
				return
			}
			if err.Code != domain.CodeWeChatTokenUnavailable {
				t.Errorf("code %s, want %s", err.Code, domain.CodeWeChatTokenUnavailable)
			}
			if err.RetryAfter != tt.retryHint {
				t.Errorf("RetryAfter %s, want %s", err.RetryAfter, tt.retryHint)
			}
			if err.Message == "" || err.Err == nil {
				t.Errorf("want a client message and a cause for the log: %+v", err)
			}
		})
	}
}

func TestForceRefreshBudget_SpendCountsPerBeijingDay(t *testing.T) {
	b := domain.DefaultForceRefreshBudget
	f := b.Spend(domain.ForcedRefreshes{}, tokenT0)
	f = b.Spend(f, tokenT0.Add(time.Minute))
	if f.Count != 2 || f.Day != "2026-03-01" || !f.Last.Equal(tokenT0.Add(time.Minute)) {
		t.Fatalf("two spends: %+v", f)
	}
	next := tokenT0.Add(12 * time.Hour) // 00:00 on 2 March in Beijing
	if f = b.Spend(f, next); f.Count != 1 || f.Day != "2026-03-02" {
		t.Fatalf("a spend on the next Beijing day: %+v", f)
	}
	if got := f.Today(next.Add(24 * time.Hour)); got != 0 {
		t.Fatalf("Today a day later = %d, want 0", got)
	}
}

func TestWeChatAccessTokenNeverPrints(t *testing.T) {
	const raw = "ACCESS-TOKEN-raw-value_123"
	st := domain.WeChatTokenState{App: "wx1", Token: raw}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("state", "state", st, "token", st.Token)
	js, _ := json.Marshal(st)
	for _, s := range []string{fmt.Sprint(st), fmt.Sprintf("%v %+v %#v %s %q", st, st, st, st.Token, st.Token), logged.String(), string(js)} {
		if strings.Contains(s, raw) {
			t.Errorf("access token printed: %s", s)
		}
	}
	if st.Token.Reveal() != raw {
		t.Error("Reveal must return the raw token")
	}
}
