package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/miniback/miniback/adapters/metrics"
)

// The RED metrics (rate, errors, duration) of every route: measure, a
// global middleware, runs outside the panic recovery so that it sees the
// final status, a recovered panic's 500 included. Its recorders are made
// once per route when the handler is built: a request costs a map lookup
// by gin's route pattern and the recorder's atomic updates, and labels are
// route templates and a known method, never the raw path.

// methodIndex numbers the methods a route can have; anything else
// (matched by no route) is methodOther.
const (
	methodGet = iota
	methodHead
	methodPost
	methodPut
	methodPatch
	methodDelete
	methodOptions
	methodOther
	methodCount
)

var methodNames = [methodCount]string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}

func methodIndex(m string) int {
	switch m {
	case http.MethodGet:
		return methodGet
	case http.MethodHead:
		return methodHead
	case http.MethodPost:
		return methodPost
	case http.MethodPut:
		return methodPut
	case http.MethodPatch:
		return methodPatch
	case http.MethodDelete:
		return methodDelete
	case http.MethodOptions:
		return methodOptions
	}
	return methodOther
}

// routeMetrics holds the recorder of each route and method.
type routeMetrics struct {
	m         *metrics.Metrics
	routes    map[string]*[methodCount]*metrics.Route // by gin's pattern (c.FullPath())
	unmatched [methodCount]*metrics.Route
}

// newRouteMetrics returns the recorders of m; nil (no metrics) records
// nothing.
func newRouteMetrics(m *metrics.Metrics) *routeMetrics {
	if m == nil {
		return nil
	}
	rm := &routeMetrics{m: m, routes: map[string]*[methodCount]*metrics.Route{}}
	for i, name := range methodNames {
		rm.unmatched[i] = m.Route(name, metrics.UnmatchedRoute)
	}
	return rm
}

// register makes the recorders of e's routes; NewHandler calls it once
// every route is registered. The route label is the spec's template
// (/v1/todos/{id}), as in the spec and the API reference.
func (rm *routeMetrics) register(e *gin.Engine) {
	if rm == nil {
		return
	}
	for _, r := range e.Routes() {
		byMethod := rm.routes[r.Path]
		if byMethod == nil {
			byMethod = &[methodCount]*metrics.Route{}
			rm.routes[r.Path] = byMethod
		}
		i := methodIndex(r.Method)
		byMethod[i] = rm.m.Route(methodNames[i], specPath(r.Path))
	}
}

// route returns the recorder of c's route and method.
func (rm *routeMetrics) route(c *gin.Context) *metrics.Route {
	i := methodIndex(c.Request.Method)
	if byMethod := rm.routes[c.FullPath()]; byMethod != nil && byMethod[i] != nil {
		return byMethod[i]
	}
	return rm.unmatched[i]
}

// measure records each request's route, method, status and duration.
func (rm *routeMetrics) measure(c *gin.Context) {
	if rm == nil {
		return // gin goes on with the next handler
	}
	r := rm.route(c)
	start := time.Now()
	r.Begin()
	// Deferred: a handler that panics with http.ErrAbortHandler (the
	// recovery re-panics it) still leaves the in-flight count.
	defer func() { r.End(c.Writer.Status(), time.Since(start)) }()
	c.Next()
}
