package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// securityHeaders sets the headers every answer carries. API answers hold
// personal data and tokens, so nothing may cache them; the docs assets
// relax Cache-Control for themselves.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	c.Next()
}

// bearerChallenge adds the WWW-Authenticate header RFC 9110 requires on
// every 401. 401s come from two places, the authenticate middleware and the
// login operation's typed responses (a refused WeChat code), and the latter
// are written by generated code; so the header is added by a writer that
// looks at the status just before the header is sent.
func bearerChallenge(c *gin.Context) {
	tokenSent := c.GetHeader("Authorization") != ""
	c.Writer = &beforeHeaderWriter{ResponseWriter: c.Writer, before: func(status int, h http.Header) {
		if status != http.StatusUnauthorized || h.Get("WWW-Authenticate") != "" {
			return
		}
		v := `Bearer realm="miniback"`
		if tokenSent {
			v += `, error="invalid_token"`
		}
		h.Set("WWW-Authenticate", v)
	}}
	c.Next()
}

// beforeHeaderWriter calls before once, with the status and headers about
// to be sent. gin's writer only records WriteHeader and sends the header on
// the first Write, WriteString, WriteHeaderNow or Flush, so those are the
// methods that trigger the hook.
type beforeHeaderWriter struct {
	gin.ResponseWriter
	before func(status int, h http.Header)
	done   bool
}

func (w *beforeHeaderWriter) fire() {
	if !w.done && !w.Written() {
		w.done = true
		w.before(w.Status(), w.Header())
	}
}

func (w *beforeHeaderWriter) WriteHeaderNow() {
	w.fire()
	w.ResponseWriter.WriteHeaderNow()
}

func (w *beforeHeaderWriter) Write(b []byte) (int, error) {
	w.fire()
	return w.ResponseWriter.Write(b)
}

func (w *beforeHeaderWriter) WriteString(s string) (int, error) {
	w.fire()
	return w.ResponseWriter.WriteString(s)
}

func (w *beforeHeaderWriter) Flush() {
	w.fire()
	w.ResponseWriter.Flush()
}
