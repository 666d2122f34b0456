package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/httpapi"
	"github.com/miniback/miniback/adapters/jwx"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// deadlineRecorder is a recorder whose connection takes deadlines, as
// net/http's own writer does.
type deadlineRecorder struct{ *httptest.ResponseRecorder }

func (deadlineRecorder) SetReadDeadline(time.Time) error  { return nil }
func (deadlineRecorder) SetWriteDeadline(time.Time) error { return nil }

// BenchmarkServedMe serves GET /v1/me as cmd/miniback does: behind
// WithDeadlines, with the route deadlines on the request's context and
// the in-flight registry counting it, so that it measures what they cost
// per request on top of BenchmarkHotRoutes.
func BenchmarkServedMe(b *testing.B) {
	keyPEM, err := jwx.GenerateEd25519PEM()
	if err != nil {
		b.Fatal(err)
	}
	keys, err := jwx.ParsePrivateKeysPEM(keyPEM)
	if err != nil {
		b.Fatal(err)
	}
	tokens, err := jwx.New(jwx.Config{Keys: keys, Issuer: issuer, Audience: audience, TTL: tokenTTL})
	if err != nil {
		b.Fatal(err)
	}
	const userID = "3f8e5a1c-2b7d-4e9f-8a6b-1c2d3e4f5a6b"
	at := time.Date(2026, 3, 1, 9, 30, 15, 0, time.UTC)
	user := domain.User{ID: userID, Nickname: "Alice", Role: domain.RoleUser, CreatedAt: at, UpdatedAt: at}
	deadlines := httpapi.Deadlines{Body: 15 * time.Second, Answer: 60 * time.Second, File: time.Hour}
	h := httpapi.WithDeadlines(httpapi.NewHandler(httpapi.Deps{
		App:       &app.App{Profiles: app.Profiles{Users: memUsers{user: user}}},
		Verifier:  tokens,
		Deadlines: deadlines,
		InFlight:  httpapi.NewInFlight(),
	}), deadlines)
	token, err := tokens.IssueAccess(context.Background(), ports.AccessClaims{UserID: userID, SessionID: "7c1f4e2a-0b9d-4c8e-a5f6-3d2e1b0a9c8d", TokenID: "bench", Role: domain.RoleUser})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := deadlineRecorder{httptest.NewRecorder()}
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
