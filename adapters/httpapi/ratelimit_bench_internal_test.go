package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/miniback/miniback/adapters/ratelimit"
	"github.com/miniback/miniback/ports"
)

// BenchmarkRateLimitMiddleware isolates what the two rate limit
// middleware add to a request of GET /v1/me (group read: address and user
// budgets) with the memory backend: the same minimal chain (request
// context, claims) with and without them, so the difference is not lost in
// the noise of a whole request (BenchmarkRateLimitOverhead).
//
//	go test -run '^$' -bench RateLimitMiddleware -benchmem ./adapters/httpapi/
func BenchmarkRateLimitMiddleware(b *testing.B) {
	ops, err := loadOperations()
	if err != nil {
		b.Fatal(err)
	}
	groups, err := rateGroupsOf(ops)
	if err != nil {
		b.Fatal(err)
	}
	policy, err := ratelimit.ParsePolicy("read:ip=1000000/s,user=1000000/s")
	if err != nil {
		b.Fatal(err)
	}
	gin.SetMode(gin.ReleaseMode)
	claims := ports.AccessClaims{UserID: "3f8e5a1c-2b7d-4e9f-8a6b-1c2d3e4f5a6b", SessionID: "s", AppID: "wx00000000000000a1"}
	authenticated := func(c *gin.Context) { setClaims(c, claims) }
	ok := func(c *gin.Context) { c.Status(http.StatusNoContent) }
	engine := func(limits bool) *gin.Engine {
		h := &handler{ops: ops, rateGroups: groups, limiter: ratelimit.New(policy, ratelimit.Options{})}
		e := gin.New()
		chain := []gin.HandlerFunc{h.requestContext, authenticated, ok}
		if limits {
			chain = []gin.HandlerFunc{h.requestContext, h.limitClient, authenticated, h.limitCaller, ok}
		}
		e.GET("/v1/me", chain...)
		return e
	}
	addrs := make([]string, 1<<16)
	for i := range addrs {
		addrs[i] = "10.1." + strconv.Itoa(i>>8) + "." + strconv.Itoa(i&255) + ":4711"
	}
	for _, bc := range []struct {
		name   string
		limits bool
		spread bool
	}{
		{"without", false, false},
		{"with", true, false},
		{"without, 64k addresses", false, true},
		{"with, 64k addresses", true, true},
	} {
		e := engine(bc.limits)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			req := httptest.NewRequest(http.MethodGet, "/v1/me", nil)
			rec := httptest.NewRecorder()
			i := 0
			for b.Loop() {
				if bc.spread {
					req.RemoteAddr = addrs[i&(1<<16-1)]
				}
				e.ServeHTTP(rec, req)
				i++
			}
			if rec.Code != http.StatusNoContent {
				b.Fatalf("status %d", rec.Code)
			}
		})
	}
}
