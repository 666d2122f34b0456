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
func ownContext(f api.StrictHandlerFunc, _ string) api.StrictHandlerFunc {
	return func(c *gin.Context, request any) (any, error) {
		own := c.Copy()
		own.Writer = c.Writer
		return f(own, request)
	}
}
