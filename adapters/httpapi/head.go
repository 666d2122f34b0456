package httpapi

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// HEAD (RFC 9110 §9.3.2) is served for every GET route: the same status
// and headers as the GET, after the same authentication and validation,
// without the body. Two pieces do it. registerHead gives each GET route a
// HEAD twin that runs the GET's chain, so the router knows HEAD (the
// access log and the 405's Allow header name it); serveHead, around the
// whole API, drops the body of every answer to a HEAD, including the
// problem documents of 401s, 404s and 405s, and reports the length the
// body would have had.

// registerHead adds a HEAD route for each GET route of e, registered
// before it is called. A route of a spec operation runs operation (the
// per-operation middleware: authentication, validation) first, as its GET
// does.
func registerHead(e *gin.Engine, ops operations, operation ...gin.HandlerFunc) {
	for _, r := range e.Routes() {
		if r.Method != http.MethodGet {
			continue
		}
		chain := []gin.HandlerFunc{asGet}
		if ops[opKey{http.MethodGet, specPath(r.Path)}] != nil {
			chain = append(chain, operation...)
		}
		e.HEAD(r.Path, append(chain, r.HandlerFunc)...)
	}
}

// asGet runs the rest of a HEAD route's chain as the GET it mirrors, so
// that the per-operation middleware finds the GET's operation and the
// handler answers as for a GET. The middleware around it (the access log)
// sees HEAD again afterwards. The request is copied: the server's own
// keeps HEAD, so net/http sends no body either.
func asGet(c *gin.Context) {
	c.Request = c.Request.WithContext(c.Request.Context())
	c.Request.Method = http.MethodGet
	c.Next()
	c.Request.Method = http.MethodHead
}

// serveHead drops the body of every answer to a HEAD request and, unless
// the handler set one, sends the Content-Length the body had.
func serveHead(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		hw := &headWriter{w: w}
		next.ServeHTTP(hw, r)
		hw.finish()
	})
}

// headWriter counts the body instead of sending it, and holds the status
// back until the handler is done, when the body's length is known.
type headWriter struct {
	w      http.ResponseWriter
	status int
	size   int64
}

func (h *headWriter) Header() http.Header { return h.w.Header() }

func (h *headWriter) WriteHeader(status int) {
	if status < 200 { // informational answers go out as they come
		h.w.WriteHeader(status)
		return
	}
	if h.status == 0 {
		h.status = status
	}
}

func (h *headWriter) Write(p []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	h.size += int64(len(p))
	return len(p), nil
}

// Flush does nothing: the header goes out with its length in finish.
func (h *headWriter) Flush() {}

// Unwrap lets http.ResponseController reach the connection's writer.
func (h *headWriter) Unwrap() http.ResponseWriter { return h.w }

func (h *headWriter) finish() {
	status := h.status
	if status == 0 {
		status = http.StatusOK
	}
	hdr := h.w.Header()
	if h.size > 0 && hdr.Get("Content-Length") == "" && hdr.Get("Transfer-Encoding") == "" && bodyAllowed(status) {
		hdr.Set("Content-Length", strconv.FormatInt(h.size, 10))
	}
	h.w.WriteHeader(status)
}

// bodyAllowed reports whether an answer with status has a body (RFC 9110
// §6.4.1): not a 1xx, 204 or 304.
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}
