package httpapi

import (
	"context"

	"github.com/gin-gonic/gin"
)

// clientIPKey keys the client's address in a request's context.
type clientIPKey struct{}

// clientIP puts the client's address in the request's context, for
// throttling. It is the peer's address, or what X-Forwarded-For /
// X-Real-IP say when the peer is one of Deps.TrustedProxies (gin's
// ClientIP); with no trusted proxies those headers are ignored, so a
// client cannot pick its own address.
func clientIP(c *gin.Context) {
	c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), clientIPKey{}, c.ClientIP()))
	c.Next()
}

// clientIPFrom returns the address clientIP stored, or "".
func clientIPFrom(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}
