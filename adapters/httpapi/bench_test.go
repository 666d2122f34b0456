package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/httpapi"
	"github.com/miniback/miniback/adapters/jwx"
	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// revokedSessions is how many revocations the set holds in the
// benchmarks: far more than a deployment sees in one access token TTL.
const revokedSessions = 10_000

// memSessions is a session store that answers from memory, so the full
// request benchmark measures the HTTP path, not the database.
type memSessions struct {
	ports.SessionStore
	list []domain.Session
}

func (m memSessions) ListActiveSessions(context.Context, domain.UserID, time.Time, int) ([]domain.Session, error) {
	return m.list, nil
}

// memUsers is a user store that answers from memory.
type memUsers struct {
	ports.UserStore
	user domain.User
}

func (m memUsers) GetUser(context.Context, domain.UserID) (domain.User, error) {
	return m.user, nil
}

// BenchmarkPlumbing measures what every request pays before and after
// its operation, with no token to verify: GET /healthz through the whole
// handler (request id, access log as production writes it, security
// headers, CORS, validation, the strict handler, JSON).
func BenchmarkPlumbing(b *testing.B) {
	h := httpapi.NewHandler(httpapi.Deps{App: &app.App{}, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkAuthenticatedRequestPath measures what every authenticated
// request pays for its token: signature and claims verification, then the
// revocation check, a lookup in this instance's in-memory set (here with
// 10,000 revoked sessions and users). A token seen before comes from the
// verifier's cache (as in production) and skips the verification. For
// comparison it also measures the full request through the router, and the
// database round trip the set saves.
func BenchmarkAuthenticatedRequestPath(b *testing.B) {
	ctx := context.Background()
	p, err := jwx.GenerateEd25519PEM()
	if err != nil {
		b.Fatal(err)
	}
	keys, err := jwx.ParsePrivateKeysPEM(p)
	if err != nil {
		b.Fatal(err)
	}
	tokens, err := jwx.New(jwx.Config{Keys: keys, Issuer: issuer, Audience: audience, TTL: tokenTTL})
	if err != nil {
		b.Fatal(err)
	}
	cached, err := jwx.New(jwx.Config{Keys: keys, Issuer: issuer, Audience: audience, TTL: tokenTTL, CacheSize: 10_000})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	revs := app.NewRevocations(nil, app.SystemClock{}, tokenTTL+jwx.DefaultSkew)
	many := make([]domain.Revocation, 0, revokedSessions)
	for i := range revokedSessions {
		many = append(many, domain.Revocation{SessionID: domain.SessionID(fmt.Sprintf("00000000-0000-4000-8000-%012d", i)), UserID: "u", RevokedAt: now})
		if i%10 == 0 {
			many = append(many, domain.Revocation{UserID: domain.UserID(fmt.Sprintf("10000000-0000-4000-8000-%012d", i)), RevokedAt: now})
		}
	}
	revs.Note(many...)

	const userID, sessionID = "3f8e5a1c-2b7d-4e9f-8a6b-1c2d3e4f5a6b", "7c1f4e2a-0b9d-4c8e-a5f6-3d2e1b0a9c8d"
	token, err := tokens.IssueAccess(ctx, ports.AccessClaims{UserID: userID, SessionID: sessionID, TokenID: "bench", Role: domain.RoleUser})
	if err != nil {
		b.Fatal(err)
	}

	b.Run("verify+revocation", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c, err := tokens.VerifyAccess(ctx, token)
			if err != nil || revs.Revoked(c) {
				b.Fatal("refused", err)
			}
		}
	})

	b.Run("verify+revocation, token seen before", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c, err := cached.VerifyAccess(ctx, token)
			if err != nil || revs.Revoked(c) {
				b.Fatal("refused", err)
			}
		}
	})

	b.Run("revocation check only", func(b *testing.B) {
		c, err := tokens.VerifyAccess(ctx, token)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if revs.Revoked(c) {
				b.Fatal("refused")
			}
		}
	})

	// Full requests through the router, with in-memory stores: without and
	// with the access log production writes (JSON at level info; here to
	// io.Discard).
	sess := domain.Session{ID: sessionID, UserID: userID, UserAgent: "bench", CreatedAt: now, LastUsedAt: now,
		IdleExpiresAt: now.Add(time.Hour), AbsoluteExpiresAt: now.Add(time.Hour)}
	user := domain.User{ID: userID, Nickname: "bench", Role: domain.RoleUser, CreatedAt: now, UpdatedAt: now}
	jsonLog := slog.New(slog.NewJSONHandler(io.Discard, nil))
	for _, bc := range []struct {
		name, path string
		log        *slog.Logger
	}{
		{"full GET /v1/auth/sessions, in-memory store", "/v1/auth/sessions", nil},
		{"full GET /v1/auth/sessions, in-memory store, JSON access log", "/v1/auth/sessions", jsonLog},
		{"full GET /v1/me, in-memory store, JSON access log", "/v1/me", jsonLog},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := httpapi.NewHandler(httpapi.Deps{
				App: &app.App{
					Sessions:    app.Sessions{Store: memSessions{list: []domain.Session{sess}}, Tokens: tokens, Clock: app.SystemClock{}, Policy: testPolicy},
					Profiles:    app.Profiles{Users: memUsers{user: user}},
					Revocations: revs,
				},
				Verifier: tokens,
				Logger:   bc.log,
			})
			req := httptest.NewRequest(http.MethodGet, bc.path, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}

	b.Run("database lookup instead, for comparison", func(b *testing.B) {
		db := pgtest.NewDB(b)
		users, store := postgres.NewUserStore(db), postgres.NewSessionStore(db)
		u, _, err := users.UpsertWeChatUser(ctx, domain.WeChatIdentity{AppID: appA, OpenID: "bench", SessionKey: "k"})
		if err != nil {
			b.Fatal(err)
		}
		tok, _ := domain.NewRefreshToken(randReader{})
		s, err := store.CreateSession(ctx, testPolicy.Start(u.ID, appA, "", now), tok.Hash())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			var revoked bool
			if err := db.Pool().QueryRow(ctx, "SELECT revoked_at IS NOT NULL FROM sessions WHERE id = $1", s.ID).Scan(&revoked); err != nil || revoked {
				b.Fatal(err)
			}
		}
	})
}

// randReader is a deterministic stand-in for crypto/rand in benchmarks.
type randReader struct{}

func (randReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i)
	}
	return len(p), nil
}
