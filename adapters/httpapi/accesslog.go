package httpapi

import (
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"
)

// accessLog writes one line per request once it is answered. It names the
// route (the path pattern), never headers, query strings or bodies: those
// carry tokens, codes and personal data.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		ctx := c.Request.Context()
		attrs := []slog.Attr{
			slog.String("method", c.Request.Method),
			slog.String("route", routeLabel(c)),
			slog.Int("status", c.Writer.Status()),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("request_id", requestIDFrom(ctx)),
		}
		// c.Request is the one the handlers saw, so the claims the
		// authenticate middleware added are visible here.
		if claims, ok := claimsFrom(ctx); ok {
			attrs = append(attrs, slog.String("user_id", string(claims.UserID)))
		}
		log.LogAttrs(ctx, slog.LevelInfo, "http request", attrs...)
	}
}

// routeLabel is the matched route pattern, or a fixed label for requests
// that matched none: raw unmatched paths would let any caller write
// arbitrary text into the log.
func routeLabel(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "unmatched"
}
