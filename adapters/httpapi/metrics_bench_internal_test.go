package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/miniback/miniback/adapters/metrics"
)

// BenchmarkRouteMetrics measures what the metrics middleware adds to a
// request: the same bare route served without it ("off") and with it
// ("on"); the difference is its cost (go test -bench RouteMetrics
// -benchmem ./adapters/httpapi/). The request and recorder are reused so
// that only the router and the middleware are measured.
func BenchmarkRouteMetrics(b *testing.B) {
	for _, bc := range []struct {
		name string
		m    *metrics.Metrics
	}{{"off", nil}, {"on", metrics.New()}} {
		b.Run(bc.name, func(b *testing.B) {
			gin.SetMode(gin.ReleaseMode)
			e := gin.New()
			rm := newRouteMetrics(bc.m)
			e.Use(rm.measure)
			e.GET("/v1/todos/:id", func(c *gin.Context) { c.Status(http.StatusOK) })
			rm.register(e)
			req := httptest.NewRequest(http.MethodGet, "/v1/todos/0f8e5a1c-2b7d-4e9f-8a6b-000000000000", nil)
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				e.ServeHTTP(w, req)
			}
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
		})
	}
	b.Run("on, parallel", func(b *testing.B) {
		gin.SetMode(gin.ReleaseMode)
		e := gin.New()
		rm := newRouteMetrics(metrics.New())
		e.Use(rm.measure)
		e.GET("/v1/todos/:id", func(c *gin.Context) { c.Status(http.StatusOK) })
		rm.register(e)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			req := httptest.NewRequest(http.MethodGet, "/v1/todos/0f8e5a1c-2b7d-4e9f-8a6b-000000000000", nil)
			w := httptest.NewRecorder()
			for pb.Next() {
				e.ServeHTTP(w, req)
			}
		})
	})
}

// TestRouteMetricsAllocateNothingPerRequest holds the middleware to no
// allocation once a route's series exist.
func TestRouteMetricsAllocateNothingPerRequest(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	rm := newRouteMetrics(metrics.New())
	e.Use(rm.measure)
	e.GET("/v1/todos/:id", func(c *gin.Context) { c.Status(http.StatusOK) })
	rm.register(e)
	req := httptest.NewRequest(http.MethodGet, "/v1/todos/0f8e5a1c-2b7d-4e9f-8a6b-000000000000", nil)
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req) // makes the series
	base := testing.AllocsPerRun(100, func() { e.ServeHTTP(w, req) })

	bare := gin.New()
	bare.GET("/v1/todos/:id", func(c *gin.Context) { c.Status(http.StatusOK) })
	without := testing.AllocsPerRun(100, func() { bare.ServeHTTP(w, req) })
	if base > without {
		t.Errorf("the metrics middleware allocates %v per request (%v with it, %v without)", base-without, base, without)
	}
}
