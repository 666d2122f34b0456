package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/httpapi"
	"github.com/miniback/miniback/adapters/jwx"
	"github.com/miniback/miniback/adapters/ratelimit"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// BenchmarkRateLimitOverhead serves GET /v1/me (the hot path: address
// and user budgets both apply) through the whole handler, stores in
// memory, without limits and with the memory backend: the difference is
// what the limits cost a request. "many addresses" spreads the requests
// over 64k client addresses and 1000 users, as real traffic does.
//
//	go test -run '^$' -bench RateLimitOverhead -benchmem ./adapters/httpapi/
func BenchmarkRateLimitOverhead(b *testing.B) {
	keyPEM, err := jwx.GenerateEd25519PEM()
	if err != nil {
		b.Fatal(err)
	}
	keys, err := jwx.ParsePrivateKeysPEM(keyPEM)
	if err != nil {
		b.Fatal(err)
	}
	tokens, err := jwx.New(jwx.Config{Keys: keys, Issuer: issuer, Audience: audience, TTL: tokenTTL, CacheSize: 2000})
	if err != nil {
		b.Fatal(err)
	}
	const userID = "3f8e5a1c-2b7d-4e9f-8a6b-1c2d3e4f5a6b"
	at := time.Date(2026, 3, 1, 9, 30, 15, 0, time.UTC)
	user := domain.User{ID: userID, Nickname: "Alice", Role: domain.RoleUser, CreatedAt: at, UpdatedAt: at}
	// Budgets no benchmark exhausts, so every request pays the full path.
	policy, err := ratelimit.ParsePolicy("read:ip=1000000/s,user=1000000/s,app=1000000/s")
	if err != nil {
		b.Fatal(err)
	}
	handler := func(l *ratelimit.Limiter) http.Handler {
		return httpapi.NewHandler(httpapi.Deps{
			App:        &app.App{Profiles: app.Profiles{Users: memUsers{user: user}}},
			Verifier:   tokens,
			RateLimits: l,
		})
	}
	var tokenList []string
	for i := range 1000 {
		tok, err := tokens.IssueAccess(context.Background(), ports.AccessClaims{UserID: userID, SessionID: "7c1f4e2a-0b9d-4c8e-a5f6-3d2e1b0a9c8d",
			TokenID: "bench" + strconv.Itoa(i), Role: domain.RoleUser, AppID: "wx00000000000000a1"})
		if err != nil {
			b.Fatal(err)
		}
		tokenList = append(tokenList, tok)
	}
	var addrs []string
	for i := range 1 << 16 {
		addrs = append(addrs, "10.1."+strconv.Itoa(i>>8)+"."+strconv.Itoa(i&255)+":4711")
	}
	for _, bc := range []struct {
		name    string
		limiter *ratelimit.Limiter
		spread  bool
	}{
		{"no limits", nil, false},
		{"memory backend", ratelimit.New(policy, ratelimit.Options{}), false},
		{"no limits, many addresses", nil, true},
		{"memory backend, many addresses", ratelimit.New(policy, ratelimit.Options{}), true},
	} {
		h := handler(bc.limiter)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, "/v1/me", nil)
				token := tokenList[0]
				if bc.spread {
					req.RemoteAddr = addrs[i%len(addrs)]
					token = tokenList[i%len(tokenList)]
				}
				req.Header.Set("Authorization", "Bearer "+token)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				i++
			}
		})
	}
}
