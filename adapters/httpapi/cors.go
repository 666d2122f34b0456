package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// CORS answers, fixed by what the API uses: bearer tokens in a header (so
// no cookies and no Access-Control-Allow-Credentials), JSON bodies and the
// request id.
const (
	corsAllowMethods  = "GET, POST, PATCH"
	corsAllowHeaders  = "Authorization, Content-Type, X-Request-ID"
	corsExposeHeaders = "X-Request-ID, Retry-After, WWW-Authenticate"
	corsMaxAge        = "600"
)

// cors lets the listed origins (exact "scheme://host[:port]" strings, never
// a wildcard) call the API from a browser. A request from any other origin
// is served without CORS headers, so the browser withholds the answer; a
// preflight from one gets an empty 204 that allows nothing. (Refusing with
// an error status would tell a browser no more, and gin-contrib/cors's bare
// 403 is not a problem document, hence this small middleware.)
func cors(origins []string) gin.HandlerFunc {
	allowed := make(map[string]bool, len(origins))
	for _, o := range origins {
		allowed[o] = true
	}
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Add("Vary", "Origin")
		origin := c.GetHeader("Origin")
		preflight := c.Request.Method == http.MethodOptions && c.GetHeader("Access-Control-Request-Method") != ""
		if preflight {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
		}
		ok := origin != "" && allowed[origin]
		if ok {
			h.Set("Access-Control-Allow-Origin", origin)
		}
		if !preflight {
			if ok {
				h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
			}
			c.Next()
			return
		}
		if ok {
			h.Set("Access-Control-Allow-Methods", corsAllowMethods)
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", corsMaxAge)
		}
		c.AbortWithStatus(http.StatusNoContent)
	}
}
