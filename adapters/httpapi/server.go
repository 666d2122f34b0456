package httpapi

import (
	"context"
	"log/slog"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/adapters/localstore"
	"github.com/miniback/miniback/adapters/metrics"
	"github.com/miniback/miniback/adapters/ratelimit"
	"github.com/miniback/miniback/app"
)

// Server implements the operations of the spec on the use-cases, in one
// file per resource: <resource>.go holds its handlers and their mappings
// to the wire types, <resource>_failures.gen.go their failure functions
// (see responses.go). Expected outcomes are the operation's typed responses; an error is returned only
// when its status is not one the operation declares, and becomes a 500.
type Server struct {
	app   *app.App
	local localstore.Files
	jwks  func() ([]byte, error)
	ready func(context.Context) error
	log   *slog.Logger
	// metrics counts completed uploads; nil counts nothing.
	metrics *metrics.Metrics
	// inFlight and limiter report to the health page (adminhealth.go);
	// each may be nil.
	inFlight *InFlight
	limiter  *ratelimit.Limiter
}

var _ api.StrictServerInterface = (*Server)(nil)

// NewServer returns the strict server for d's use-cases. NewHandler wires
// it; it is exported for the interface assertion and for reuse.
func NewServer(d Deps) *Server {
	return &Server{app: d.App, local: d.LocalFiles, jwks: d.JWKS, ready: d.Ready, log: orDiscard(d.Logger),
		metrics: d.Metrics, inFlight: d.InFlight, limiter: d.RateLimits}
}
