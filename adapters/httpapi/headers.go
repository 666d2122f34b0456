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

// bearerChallenge makes sure every 401 carries the WWW-Authenticate header
// RFC 9110 requires. authenticate sets a precise one for refused tokens;
// the other 401s (a refused WeChat code on login) are written by generated
// code, so a writer adds the plain challenge just before the header is
// sent, when the status is known.
func bearerChallenge(c *gin.Context) {
	c.Writer = &beforeHeaderWriter{ResponseWriter: c.Writer, before: func(status int, h http.Header) {
		if status == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "" {
			h.Set("WWW-Authenticate", challenge)
		}
	}}
	c.Next()
}

// challenge is the WWW-Authenticate value of a 401 (RFC 6750).
const challenge = `Bearer realm="miniback"`

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
