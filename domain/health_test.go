package domain_test

import (
	"testing"
	"time"

	"github.com/miniback/miniback/domain"
)

func TestTokenHealthDescribesATokenWithoutItsValue(t *testing.T) {
	now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		state domain.WeChatTokenState
		want  domain.WeChatTokenHealth
	}{
		{"none stored", domain.WeChatTokenState{App: "wxa"}, domain.WeChatTokenHealth{}},
		{"fresh", domain.WeChatTokenState{Token: "t", FetchedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour)},
			domain.WeChatTokenHealth{Present: true, Fresh: true, Age: time.Hour, ExpiresIn: time.Hour}},
		{"within its last minutes: stored but not handed out", domain.WeChatTokenState{Token: "t", FetchedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(time.Second)},
			domain.WeChatTokenHealth{Present: true, Fresh: false, Age: 2 * time.Hour, ExpiresIn: time.Second}},
		{"expired", domain.WeChatTokenState{Token: "t", FetchedAt: now.Add(-3 * time.Hour), ExpiresAt: now.Add(-time.Hour)},
			domain.WeChatTokenHealth{Present: true, Age: 3 * time.Hour, ExpiresIn: -time.Hour}},
	} {
		if got := tc.state.TokenHealth(now); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestSortBreakersOrdersByAPI(t *testing.T) {
	bs := []domain.WeChatBreaker{{API: "stable_token"}, {API: "code2session"}, {API: "msg_sec_check"}}
	domain.SortBreakers(bs)
	if bs[0].API != "code2session" || bs[1].API != "msg_sec_check" || bs[2].API != "stable_token" {
		t.Errorf("%+v", bs)
	}
}
