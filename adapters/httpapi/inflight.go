package httpapi

import (
	"context"
	"sync"

	"github.com/gin-gonic/gin"
)

// InFlight counts the requests being served, by route: when a shutdown
// runs out of time, it says how many requests it cut and on which routes,
// and waits for their handlers to return (so their clean-up runs) before
// the database closes.
type InFlight struct {
	mu     sync.Mutex
	routes map[route]int
	total  int
	// idle, made by Wait while requests are served, is closed when
	// total next falls to zero; nil when nobody waits, so that a
	// request costs no channel.
	idle chan struct{}
}

// route is a method and the route template it matched ("" for none).
type route struct{ method, path string }

// NewInFlight returns an empty registry.
func NewInFlight() *InFlight {
	return &InFlight{routes: map[route]int{}}
}

// track is the middleware that counts a request while the rest of the
// chain serves it; on a nil registry it only passes the request on. It
// runs after routing, so the route template is known.
func (f *InFlight) track(c *gin.Context) {
	if f == nil {
		c.Next()
		return
	}
	k := route{c.Request.Method, c.FullPath()}
	f.mu.Lock()
	f.routes[k]++
	f.total++
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.routes[k]--
		f.total--
		if f.total == 0 && f.idle != nil {
			close(f.idle)
			f.idle = nil
		}
		f.mu.Unlock()
	}()
	c.Next()
}

// Count is the number of requests being served.
func (f *InFlight) Count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.total
}

// Routes returns the requests being served by "METHOD /route/{template}"
// ("METHOD (no route)" for paths the API does not have).
func (f *InFlight) Routes() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.routes))
	for k, n := range f.routes {
		if n == 0 {
			continue
		}
		name := k.method + " " + specPath(k.path)
		if k.path == "" {
			name = k.method + " (no route)"
		}
		out[name] += n
	}
	return out
}

// Wait returns when no request is being served, or with ctx's error.
func (f *InFlight) Wait(ctx context.Context) error {
	f.mu.Lock()
	if f.total == 0 {
		f.mu.Unlock()
		return nil
	}
	if f.idle == nil {
		f.idle = make(chan struct{})
	}
	idle := f.idle
	f.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
