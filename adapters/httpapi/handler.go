// Package httpapi serves miniback's HTTP API, described by /openapi.yaml,
// on Gin with the oapi-codegen strict server in package api.
//
// A POST with "X-HTTP-Method-Override: PATCH" is taken as the PATCH it
// stands for (mini-programs cannot send PATCH), and every GET route also
// answers HEAD (head.go). Every request then passes,
// in order: request id, access log, metrics, panic recovery,
// security headers, CORS, the 401 challenge, the body size limit; then,
// for the spec's operations, the rate limit per client address,
// authentication, the rate limits per user and AppID, validation
// against the embedded spec, and a wx.login code exchange's per-AppID
// rate limit; then the operation. Every failure is an RFC 9457
// application/problem+json document whose code comes from the domain.
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/adapters/localstore"
	"github.com/miniback/miniback/adapters/metrics"
	"github.com/miniback/miniback/adapters/ratelimit"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Deps is what the HTTP API needs from the rest of miniback: the
// use-cases, and the settings only HTTP has.
type Deps struct {
	// App serves the operations; it is required. Its Revocations, when
	// set, refuses the tokens of revoked sessions and deleted accounts
	// after Verifier accepts them.
	App *app.App
	// LocalFiles is the local-disk storage's HTTP side; nil when files go
	// to S3-compatible storage (the /v1/local-storage paths answer 404).
	LocalFiles localstore.Files
	// Verifier checks the bearer token of secured operations.
	Verifier ports.TokenVerifier
	// JWKS returns the public JWK Set for /.well-known/jwks.json.
	JWKS func() ([]byte, error)
	// Ready reports whether the dependencies (the database) can serve;
	// nil means always ready.
	Ready func(ctx context.Context) error
	// Logger gets the access log and failures; nil discards.
	Logger *slog.Logger
	// CORSOrigins lists the exact origins ("https://example.com") browsers
	// may call the API from; empty allows none.
	CORSOrigins []string
	// MaxBodyBytes caps a request body; zero means 1 MiB.
	MaxBodyBytes int64
	// MaxUploadBytes caps a request body that carries a file to the local
	// storage (whose ticket caps the file itself); zero means 64 MiB.
	MaxUploadBytes int64
	// TrustedProxies lists the addresses or CIDR ranges of the reverse
	// proxies whose X-Forwarded-For names the client; empty trusts none.
	TrustedProxies []string
	// RateLimits applies the request budgets of each operation's group
	// (ratelimit.go); nil limits nothing.
	RateLimits *ratelimit.Limiter
	// Deadlines bound each request's context by its route's answer
	// deadline; zero values set none. The connection's own deadlines are
	// WithDeadlines', around the handler.
	Deadlines Deadlines
	// InFlight, when set, counts the requests being served by route, for
	// a shutdown to say what it cut.
	InFlight *InFlight
	// Metrics records each request (metrics.go) and completed uploads;
	// nil records nothing.
	Metrics *metrics.Metrics
}

// handler holds what the middleware shares.
type handler struct {
	log      *slog.Logger
	verifier ports.TokenVerifier
	revoked  *app.Revocations // nil checks nothing
	ops      operations
	// trustsProxies is whether Deps.TrustedProxies lists any.
	trustsProxies bool
	// limiter applies the rate limits (nil: none), by each operation's
	// group.
	limiter    *ratelimit.Limiter
	rateGroups routeGroups
	// apps are the mini-programs served, to resolve a code exchange's
	// AppID for its app budget (limitCodeExchange).
	apps app.Apps
	// deadlines bound each request's context (Deps.Deadlines).
	deadlines Deadlines
}

// NewHandler returns the HTTP API. It panics if the embedded spec cannot be
// loaded, which only a broken build can cause, or if a trusted proxy is not
// an address or CIDR range (the configuration validates them first).
func NewHandler(d Deps) http.Handler {
	ops, err := loadOperations()
	if err != nil {
		panic(fmt.Sprintf("httpapi: %v", err))
	}
	h := &handler{log: orDiscard(d.Logger), verifier: d.Verifier, revoked: d.App.Revocations, ops: ops,
		trustsProxies: len(d.TrustedProxies) > 0, deadlines: d.Deadlines, limiter: d.RateLimits, apps: d.App.Login.Apps}
	if h.rateGroups, err = rateGroupsOf(ops); err != nil {
		panic(fmt.Sprintf("httpapi: %v", err))
	}
	maxBody := d.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = defaultMaxBodyBytes
	}
	maxUpload := d.MaxUploadBytes
	if maxUpload <= 0 {
		maxUpload = defaultMaxUploadBytes
	}

	// Release mode (a process-wide setting) keeps gin from printing its
	// routes and debug warnings; gin.New adds no logger or recovery of its
	// own, since ours below write problem documents.
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	// The API's paths are exact: /v1/me/ is not /v1/me, and redirects
	// would not be problem documents.
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	// Handlers get the *gin.Context as their context.Context; with the
	// fallback it carries the request context's values (request id,
	// claims), deadline and cancellation.
	e.ContextWithFallback = true
	// gin trusts every proxy by default; trust only the configured ones.
	if err := e.SetTrustedProxies(d.TrustedProxies); err != nil {
		panic(fmt.Sprintf("httpapi: trusted proxies: %v", err))
	}

	rm := newRouteMetrics(d.Metrics)
	e.Use(
		h.requestContext,
		d.InFlight.track,
		accessLog(h.log),
		rm.measure,
		recoverPanics(h.log),
		securityHeaders,
		cors(d.CORSOrigins, corsPolicyFor(ops)),
		bearerChallenge,
		h.limitBody(maxBody, maxUpload),
	)
	e.NoRoute(func(c *gin.Context) {
		h.abort(c, domain.Errorf(domain.CodeNotFound, "There is nothing at this path."))
	})
	e.NoMethod(func(c *gin.Context) {
		// gin has set the Allow header.
		h.abort(c, domain.Errorf(domain.CodeMethodNotAllowed, "This path does not accept %s.", c.Request.Method))
	})

	strict := api.NewStrictHandlerWithOptions(NewServer(d), []api.StrictMiddlewareFunc{ownContext}, api.StrictGinServerOptions{
		RequestErrorHandlerFunc:  h.requestDecodeError,
		HandlerErrorFunc:         h.internal,
		ResponseErrorHandlerFunc: h.internal,
	})
	// Authentication and validation run as the route group's middleware,
	// before the generated wrapper binds path, query and header
	// parameters: a caller without a valid token learns nothing about what
	// the operation accepts, and a bad parameter gets the validator's field
	// errors rather than the binder's bare refusal. The rate limits
	// surround authentication: per client address before anything costs,
	// per user and AppID as soon as the token says who it is, and, for a
	// wx.login code exchange, per the AppID its valid body is for.
	// The console's cookie operations refuse a request not from the
	// console's own page before anything else (guardConsole, console.go).
	perOperation := []gin.HandlerFunc{h.limitClient, h.guardConsole, h.authenticate, h.limitCaller, h.validate, h.limitCodeExchange}
	operationsGroup := e.Group("", perOperation...)
	api.RegisterHandlersWithOptions(operationsGroup, strict, api.GinServerOptions{
		ErrorHandler: h.parameterError,
	})
	registerDocs(e)
	registerConsole(e)
	registerHead(e, h.ops, perOperation...)
	rm.register(e)
	return serveHead(methodOverride(e))
}

// requestDecodeError answers a body the strict handler could not decode
// (the validator lets few through).
func (h *handler) requestDecodeError(c *gin.Context, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		h.abort(c, tooLarge(tooBig.Limit))
		return
	}
	if h.ops.streaming(c) {
		h.abort(c, badForm(err))
		return
	}
	h.abort(c, malformedJSON(err))
}

// internal answers an error an operation returned (its status is not one
// the operation declares, or it is unclassified) or failed to write: a 500
// that echoes nothing, with the error logged.
func (h *handler) internal(c *gin.Context, err error) {
	if c.Writer.Written() {
		logFailure(c.Request.Context(), h.log, http.StatusInternalServerError, err)
		return
	}
	h.abort(c, internalError(err))
}

// parameterError answers a path or query parameter the generated wrapper
// could not bind. Authentication and validation already ran as the route
// group's middleware, so the caller is authenticated and the validator let
// the parameter through (it checks no uuid format, say): name the parameter
// from the wrapper's message.
func (h *handler) parameterError(c *gin.Context, err error, _ int) {
	if route := h.ops.route(c); route != nil {
		for _, p := range route.Operation.Parameters {
			if p.Value != nil && strings.Contains(err.Error(), "parameter "+p.Value.Name+":") {
				e := domain.Invalid(domain.FieldError{Field: p.Value.In + "." + p.Value.Name, Code: "invalid_format",
					Message: p.Value.Name + " is not in the expected format"})
				e.Err = err
				h.abort(c, e)
				return
			}
		}
	}
	h.abort(c, &domain.Error{Code: domain.CodeInvalid, Message: "A parameter is invalid.", Err: err})
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
