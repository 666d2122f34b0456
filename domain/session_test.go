package domain_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/domain"
)

var (
	t0     = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	policy = domain.SessionPolicy{IdleTTL: 30 * 24 * time.Hour, AbsoluteTTL: 90 * 24 * time.Hour}
)

func TestSessionPolicyStartCapsTheIdleExpiryAtTheAbsoluteOne(t *testing.T) {
	s := policy.Start("u", "wx1", "ua", t0)
	if !s.CreatedAt.Equal(t0) || !s.LastUsedAt.Equal(t0) || !s.IdleExpiresAt.Equal(t0.Add(policy.IdleTTL)) || !s.AbsoluteExpiresAt.Equal(t0.Add(policy.AbsoluteTTL)) {
		t.Errorf("session %+v", s)
	}
	short := domain.SessionPolicy{IdleTTL: time.Hour, AbsoluteTTL: time.Hour}
	if s := short.Start("u", "", "", t0); !s.IdleExpiresAt.Equal(s.AbsoluteExpiresAt) {
		t.Errorf("idle expiry %s past the absolute %s", s.IdleExpiresAt, s.AbsoluteExpiresAt)
	}
}

func TestSessionPolicyRefresh(t *testing.T) {
	start := policy.Start("u", "", "WeChat/8.0", t0)
	revoked := start
	revoked.RevokedAt, revoked.RevokeReason = t0.Add(time.Hour), domain.RevokeLogout
	tests := []struct {
		name         string
		s            domain.Session
		at           time.Time
		wantCode     domain.Code // "" when the refresh is allowed
		wantIdleExpy time.Time
	}{
		{"a fresh session moves its idle expiry on", start, t0.Add(time.Hour), "", t0.Add(time.Hour + policy.IdleTTL)},
		{"one second before the idle expiry is in time", start, t0.Add(policy.IdleTTL - time.Second), "", t0.Add(2*policy.IdleTTL - time.Second)},
		{"at the idle expiry it is expired", start, t0.Add(policy.IdleTTL), domain.CodeRefreshTokenExpired, time.Time{}},
		{"near the absolute expiry the idle expiry is capped", func() domain.Session {
			s := start
			s.IdleExpiresAt = t0.Add(policy.AbsoluteTTL)
			return s
		}(), t0.Add(policy.AbsoluteTTL - time.Hour), "", t0.Add(policy.AbsoluteTTL)},
		{"at the absolute expiry it is expired though used", func() domain.Session {
			s := start
			s.IdleExpiresAt = t0.Add(policy.AbsoluteTTL)
			return s
		}(), t0.Add(policy.AbsoluteTTL), domain.CodeRefreshTokenExpired, time.Time{}},
		{"a revoked session is revoked, not expired", revoked, t0.Add(2 * time.Hour), domain.CodeSessionRevoked, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := policy.Refresh(tt.s, "WeChat/8.1", tt.at)
			if tt.wantCode != "" {
				if domain.ErrorCode(err) != tt.wantCode {
					t.Fatalf("err = %v, want %s", err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.LastUsedAt.Equal(tt.at) || !got.IdleExpiresAt.Equal(tt.wantIdleExpy) || got.UserAgent != "WeChat/8.1" || !got.AbsoluteExpiresAt.Equal(tt.s.AbsoluteExpiresAt) {
				t.Errorf("after refresh %+v, want last use %s and idle expiry %s", got, tt.at, tt.wantIdleExpy)
			}
		})
	}
}

func TestSessionPolicyValidate(t *testing.T) {
	for _, tc := range []struct {
		p  domain.SessionPolicy
		ok bool
	}{
		{policy, true},
		{domain.SessionPolicy{IdleTTL: time.Hour, AbsoluteTTL: time.Hour}, true},
		{domain.SessionPolicy{IdleTTL: 2 * time.Hour, AbsoluteTTL: time.Hour}, false},
		{domain.SessionPolicy{IdleTTL: 0, AbsoluteTTL: time.Hour}, false},
	} {
		if err := tc.p.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: err = %v, want ok %t", tc.p, err, tc.ok)
		}
	}
}

func TestCleanUserAgent(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"kept", "Mozilla/5.0 MicroMessenger/8.0.40", "Mozilla/5.0 MicroMessenger/8.0.40"},
		{"trimmed", "  ua  ", "ua"},
		{"control characters dropped", "a\r\nb\x00c\x7f", "abc"},
		{"invalid UTF-8 dropped", "a\xffb", "ab"},
		{"clipped at a rune boundary", strings.Repeat("字", 100), strings.Repeat("字", 85)},
	} {
		if got := domain.CleanUserAgent(tc.in); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestRefreshTokensRoundTripAndOthersAreInvalid(t *testing.T) {
	tok, err := domain.NewRefreshToken(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := domain.ParseRefreshToken(tok.Reveal())
	if err != nil || parsed != tok || parsed.Hash() != tok.Hash() {
		t.Fatalf("ParseRefreshToken(%q) = %v, %v", tok.Reveal(), parsed, err)
	}
	for _, s := range []string{"", "mbr_", tok.Reveal() + "=", strings.ToUpper(tok.Reveal()[:4]) + tok.Reveal()[4:], "eyJ0eXAiOiJhdCtqd3QifQ.e30.c2ln"} {
		if _, err := domain.ParseRefreshToken(s); domain.ErrorCode(err) != domain.CodeRefreshTokenInvalid {
			t.Errorf("ParseRefreshToken(%q): err = %v, want refresh_token_invalid", s, err)
		}
	}
}

func TestRefreshTokenNeverPrints(t *testing.T) {
	tok, err := domain.NewRefreshToken(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h := tok.Hash()
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("refresh", "token", tok, "hash", h)
	j, _ := json.Marshal(map[string]any{"t": tok})
	raw := tok.Reveal()
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok), logged.String(), string(j)} {
		if strings.Contains(s, raw) || strings.Contains(s, raw[len(domain.RefreshTokenPrefix):]) {
			t.Errorf("refresh token printed: %s", s)
		}
	}
}

func TestUserQueryNormalize(t *testing.T) {
	cursor := domain.UserCursor{CreatedAt: t0.Add(123456 * time.Microsecond), ID: "3f8e5a1c-2b7d-4e9f-8a6b-1c2d3e4f5a6b"}
	tests := []struct {
		name       string
		q          domain.UserQuery
		wantFields []string
		check      func(t *testing.T, q domain.UserQuery)
	}{
		{name: "defaults", q: domain.UserQuery{}, check: func(t *testing.T, q domain.UserQuery) {
			if q.Limit != domain.UserPageDefault || q.After != nil {
				t.Errorf("%+v", q)
			}
		}},
		{name: "search is trimmed", q: domain.UserQuery{Search: "  小明 "}, check: func(t *testing.T, q domain.UserQuery) {
			if q.Search != "小明" {
				t.Errorf("search %q", q.Search)
			}
		}},
		{name: "a cursor is decoded exactly", q: domain.UserQuery{Cursor: cursor.Encode()}, check: func(t *testing.T, q domain.UserQuery) {
			if q.After == nil || q.After.ID != cursor.ID || !q.After.CreatedAt.Equal(cursor.CreatedAt) {
				t.Errorf("after %+v, want %+v", q.After, cursor)
			}
		}},
		{name: "limit 100 is allowed", q: domain.UserQuery{Limit: 100}},
		{name: "limit 1 is allowed", q: domain.UserQuery{Limit: 1}},
		{name: "limit 101 is refused", q: domain.UserQuery{Limit: 101}, wantFields: []string{"query.limit:out_of_range"}},
		{name: "negative limit is refused", q: domain.UserQuery{Limit: -1}, wantFields: []string{"query.limit:out_of_range"}},
		{name: "an unknown role is refused", q: domain.UserQuery{Role: "root"}, wantFields: []string{"query.role:invalid_value"}},
		{name: "a made-up cursor is refused", q: domain.UserQuery{Cursor: "eyJ0IjoiIn0"}, wantFields: []string{"query.cursor:invalid"}},
		{name: "a long search is refused", q: domain.UserQuery{Search: strings.Repeat("a", 65)}, wantFields: []string{"query.q:invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.q.Normalize()
			if tt.wantFields == nil {
				if err != nil {
					t.Fatal(err)
				}
				if tt.check != nil {
					tt.check(t, got)
				}
				return
			}
			var fields []string
			if e, ok := err.(*domain.Error); ok {
				for _, f := range e.Fields {
					fields = append(fields, f.Field+":"+f.Code)
				}
			}
			if strings.Join(fields, ",") != strings.Join(tt.wantFields, ",") {
				t.Errorf("err %v: fields %v, want %v", err, fields, tt.wantFields)
			}
		})
	}
}
