package httpapi

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/ports"
)

// ctxKey keys the values this package puts in a request's context.
type ctxKey int

const (
	requestKey ctxKey = iota
	claimsKey
)

// requestInfo is what the middleware keeps about one request: what a
// problem document and a log line say about it, the client's address, the
// caller's verified claims, and the 401 challenge's writer. It is one
// allocation per request, and it is itself the request's context (the
// server's, with Value answering requestKey), so that one
// http.Request.WithContext, which copies the whole request, serves every
// middleware: a context.WithValue layer per value would cost a context, a
// boxed value and a request copy each.
//
// The fields are written only by the middleware, on the request's
// goroutine, before the operation runs (the claims by authenticate); from
// then on they are read-only, so goroutines an operation starts may read
// them.
type requestInfo struct {
	context.Context // the server's context of the request

	id        string
	path      string
	userAgent string // raw; the domain cleans it before keeping it
	clientIP  string
	claims    ports.AccessClaims

	// idHeader backs the X-Request-Id response header's value slice.
	idHeader [1]string
	// writer is bearerChallenge's writer.
	writer beforeHeaderWriter
}

// Value answers requestKey with the info itself, and any other key from
// the server's context.
func (r *requestInfo) Value(key any) any {
	if key == any(requestKey) {
		return r
	}
	return r.Context.Value(key)
}

// withRequestInfo returns info as a request's context whose server
// context is parent.
func withRequestInfo(parent context.Context, info requestInfo) *requestInfo {
	info.Context = parent
	return &info
}

// infoFrom returns the request's info, or nil outside a request.
func infoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(requestKey).(*requestInfo)
	return info
}

// requestIDFrom returns the request id set by the requestContext
// middleware, or "" outside a request.
func requestIDFrom(ctx context.Context) string {
	if info := infoFrom(ctx); info != nil {
		return info.id
	}
	return ""
}

// requestPathFrom returns the request's path, or "" outside a request.
func requestPathFrom(ctx context.Context) string {
	if info := infoFrom(ctx); info != nil {
		return info.path
	}
	return ""
}

// userAgentFrom returns the request's User-Agent header, or "".
func userAgentFrom(ctx context.Context) string {
	if info := infoFrom(ctx); info != nil {
		return info.userAgent
	}
	return ""
}

// clientIPFrom returns the client's address requestContext stored, or "".
func clientIPFrom(ctx context.Context) string {
	if info := infoFrom(ctx); info != nil {
		return info.clientIP
	}
	return ""
}

// setClaims makes the claims of the verified access token the request's,
// for the operation and the access log. In a request that has its info
// (every request through the handler) they go there, which spares
// another copy of the request; elsewhere they go in a context layer of
// their own.
func setClaims(c *gin.Context, claims ports.AccessClaims) {
	if info := infoFrom(c.Request.Context()); info != nil {
		info.claims = claims
		return
	}
	c.Request = c.Request.WithContext(withClaims(c.Request.Context(), claims))
}

func withClaims(ctx context.Context, c ports.AccessClaims) context.Context {
	return context.WithValue(ctx, claimsKey, c)
}

// claimsFrom returns the claims of the verified access token, placed by the
// authenticate middleware. It is the only source of the caller's identity.
func claimsFrom(ctx context.Context) (ports.AccessClaims, bool) {
	var c ports.AccessClaims
	if info := infoFrom(ctx); info != nil && info.claims.UserID != "" {
		c = info.claims
	} else {
		c, _ = ctx.Value(claimsKey).(ports.AccessClaims)
	}
	return c, c.UserID != ""
}

// ownContext is the strict server's middleware: it hands each operation a
// *gin.Context of its own rather than gin's. gin pools its contexts and
// reuses one for the next request as soon as the handler returns, while a
// context derived in an operation (context.WithTimeout may start a
// goroutine watching a parent it does not know) or net/http's transport
// may still consult it from another goroutine a moment later. The copy is
// never reused: it carries the same request, and so the same values
// (claims, request id), deadline and cancellation, for as long as anything
// holds it. Its Writer is the live one, for the few operations that set a
// header themselves.
//
// The copy costs one allocation: gin's Copy clones no Keys map when the
// request has none (this package sets none) and no parameters when the
// route has none. The operation's signature takes a *gin.Context, so no
// lighter context.Context can stand in for it.
func ownContext(f api.StrictHandlerFunc, _ string) api.StrictHandlerFunc {
	return func(c *gin.Context, request any) (any, error) {
		own := c.Copy()
		own.Writer = c.Writer
		return f(own, request)
	}
}
