package httpapi

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/miniback/miniback/ports"
)

// ctxKey keys the values this package puts in a request's context.
type ctxKey int

const (
	requestKey ctxKey = iota
	claimsKey
)

// requestInfo is what a problem document and a log line say about the
// request they belong to.
type requestInfo struct {
	id        string
	path      string
	userAgent string // raw; the domain cleans it before keeping it
}

func withRequestInfo(ctx context.Context, info requestInfo) context.Context {
	return context.WithValue(ctx, requestKey, info)
}

// requestIDFrom returns the request id set by the requestID middleware, or
// "" outside a request.
func requestIDFrom(ctx context.Context) string {
	info, _ := ctx.Value(requestKey).(requestInfo)
	return info.id
}

// requestPathFrom returns the request's path, or "" outside a request.
func requestPathFrom(ctx context.Context) string {
	info, _ := ctx.Value(requestKey).(requestInfo)
	return info.path
}

// userAgentFrom returns the request's User-Agent header, or "".
func userAgentFrom(ctx context.Context) string {
	info, _ := ctx.Value(requestKey).(requestInfo)
	return info.userAgent
}

func withClaims(ctx context.Context, c ports.AccessClaims) context.Context {
	return context.WithValue(ctx, claimsKey, c)
}

// claimsFrom returns the claims of the verified access token, placed by the
// authenticate middleware. It is the only source of the caller's identity.
func claimsFrom(ctx context.Context) (ports.AccessClaims, bool) {
	c, ok := ctx.Value(claimsKey).(ports.AccessClaims)
	return c, ok && c.UserID != ""
}

// requestContext is the request's own context, for calls that reach out
// over HTTP (WeChat, the storage) or derive a context with a deadline. The
// *gin.Context the strict server passes is pooled and reused once the
// handler returns, while a derived context (context.WithTimeout starts a
// goroutine watching a parent it does not know) or net/http's transport may
// still consult it from another goroutine a moment later.
// The request context carries the same values (claims, request id) and
// cancellation.
func requestContext(ctx context.Context) context.Context {
	if c, ok := ctx.(*gin.Context); ok && c.Request != nil {
		return c.Request.Context()
	}
	return ctx
}
