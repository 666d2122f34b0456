package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
)

// abort answers err as a problem document and stops the handler chain.
// Middleware and the strict server's error hooks use it; operations answer
// with their typed responses instead.
func (h *handler) abort(c *gin.Context, err error) {
	ctx := c.Request.Context()
	p := problemFor(ctx, err)
	logFailure(ctx, h.log, p.Status, err)
	p.write(c.Writer)
	c.Abort()
}

// logFailure logs what operators must see: every 5xx answer with its
// cause, at error level for 500 (a bug or an unclassified failure) and warn
// for a dependency's failure. 4xx are the caller's doing; the access log
// has them. Causes are safe to log: adapters keep secrets out of errors.
func logFailure(ctx context.Context, log *slog.Logger, status int, err error) {
	if status < http.StatusInternalServerError {
		return
	}
	level := slog.LevelWarn
	msg := "dependency failure"
	if status == http.StatusInternalServerError {
		level, msg = slog.LevelError, "internal error"
	}
	log.LogAttrs(ctx, level, msg,
		slog.String("request_id", requestIDFrom(ctx)),
		slog.Int("status", status),
		slog.String("error", err.Error()))
}
