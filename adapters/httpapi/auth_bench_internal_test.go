package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/miniback/miniback/adapters/jwx"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// BenchmarkAuthenticateMiddleware measures the authenticate middleware
// alone, on a router with nothing else: the route lookup, the bearer
// header, the verification (with and without the cache) and the
// revocation check, up to the claims in the request's context.
func BenchmarkAuthenticateMiddleware(b *testing.B) {
	ops, err := loadOperations()
	if err != nil {
		b.Fatal(err)
	}
	p, err := jwx.GenerateEd25519PEM()
	if err != nil {
		b.Fatal(err)
	}
	keys, err := jwx.ParsePrivateKeysPEM(p)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		cache int
	}{{"verified", 0}, {"token seen before", 10_000}} {
		b.Run(tc.name, func(b *testing.B) {
			tokens, err := jwx.New(jwx.Config{Keys: keys, Issuer: "miniback", Audience: "miniback-api", CacheSize: tc.cache})
			if err != nil {
				b.Fatal(err)
			}
			token, err := tokens.IssueAccess(context.Background(), ports.AccessClaims{
				UserID: "3f8e5a1c-2b7d-4e9f-8a6b-1c2d3e4f5a6b", SessionID: "7c1f4e2a-0b9d-4c8e-a5f6-3d2e1b0a9c8d", TokenID: "bench", Role: domain.RoleUser})
			if err != nil {
				b.Fatal(err)
			}
			h := &handler{log: slog.New(slog.DiscardHandler), verifier: tokens, revoked: app.NewRevocations(nil, app.SystemClock{}, 0), ops: ops}
			gin.SetMode(gin.ReleaseMode)
			e := gin.New()
			e.GET("/v1/me", h.authenticate, func(c *gin.Context) {
				if _, ok := claimsFrom(c.Request.Context()); !ok {
					c.Status(http.StatusInternalServerError)
					return
				}
				c.Status(http.StatusNoContent)
				c.Writer.WriteHeaderNow()
			})
			req := httptest.NewRequest(http.MethodGet, "/v1/me", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			w := &statusWriter{header: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				w.code = 0
				e.ServeHTTP(w, req)
				if w.code != http.StatusNoContent {
					b.Fatalf("status %d", w.code)
				}
			}
		})
	}
}

// statusWriter is a reusable http.ResponseWriter that keeps the status
// only, so that the benchmark measures the middleware, not a recorder.
type statusWriter struct {
	header http.Header
	code   int
}

func (w *statusWriter) Header() http.Header         { return w.header }
func (w *statusWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *statusWriter) WriteHeader(code int)        { w.code = code }
