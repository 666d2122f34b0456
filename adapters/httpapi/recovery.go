package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/gin-gonic/gin"
)

// recoverPanics turns a panic in a handler into a 500 problem that shows
// nothing of the panic, and logs the panic value and stack for operators.
func recoverPanics(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				// The handler asked net/http to drop the connection.
				panic(v)
			}
			ctx := c.Request.Context()
			log.LogAttrs(ctx, slog.LevelError, "panic serving request",
				slog.String("request_id", requestIDFrom(ctx)),
				slog.String("panic", fmt.Sprint(v)),
				slog.String("stack", string(debug.Stack())))
			if !c.Writer.Written() {
				problemFor(ctx, internalError(errors.New("panic"))).write(c.Writer)
			}
			c.Abort()
		}()
		c.Next()
	}
}
