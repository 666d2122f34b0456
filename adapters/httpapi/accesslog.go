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
		if !log.Enabled(ctx, slog.LevelInfo) {
			return
		}
		// The attributes go in an array of their own, not a slice that
		// grows: LogAttrs copies them into the record.
		var attrs [6]slog.Attr
		attrs[0] = slog.String("method", c.Request.Method)
		attrs[1] = slog.String("route", routeLabel(c))
		attrs[2] = slog.Int("status", c.Writer.Status())
		attrs[3] = slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000)
		attrs[4] = slog.String("request_id", requestIDFrom(ctx))
		n := 5
		// c.Request is the one the handlers saw, so the claims the
		// authenticate middleware added are visible here.
		if claims, ok := claimsFrom(ctx); ok {
			attrs[n] = slog.String("user_id", string(claims.UserID))
			n++
		}
		log.LogAttrs(ctx, slog.LevelInfo, "http request", attrs[:n]...)
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
