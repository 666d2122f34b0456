package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/miniback/miniback/domain"
)

// Defaults of Deps.MaxBodyBytes and Deps.MaxUploadBytes.
const (
	defaultMaxBodyBytes   = 1 << 20
	defaultMaxUploadBytes = 64 << 20
)

// limitBody refuses bodies over max bytes with 413: at once when
// Content-Length says so, otherwise when a read passes the limit (the
// validator reads the whole body first and answers the
// *http.MaxBytesError with 413). Bodies that carry a file to the local
// storage get maxUpload instead.
func (h *handler) limitBody(maxJSON, maxUpload int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		max := maxJSON
		if h.ops.streaming(c) {
			max = maxUpload
		}
		if c.Request.ContentLength > max {
			h.abort(c, tooLarge(max))
			return
		}
		if c.Request.Body != nil && c.Request.Body != http.NoBody {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, max)
		}
		c.Next()
	}
}

func tooLarge(max int64) error {
	return domain.Errorf(domain.CodeBodyTooLarge, "The request body must be at most %d bytes.", max)
}
