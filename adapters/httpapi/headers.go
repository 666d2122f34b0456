package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// securityHeaders sets the headers every answer carries. API answers hold
// personal data and tokens, so nothing may cache them; the docs assets
// relax Cache-Control for themselves.
//
// The names are canonical and the values are shared slices, assigned by
// map index: Header.Set would canonicalise each name and allocate each
// value's slice, on every request. The slices have no room to grow, so an
// Add copies one rather than writing into it, and Set replaces it.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h["X-Content-Type-Options"] = nosniff
	h["X-Frame-Options"] = deny
	h["Referrer-Policy"] = noReferrer
	h["Cache-Control"] = noStore
	c.Next()
}

// The values of securityHeaders; nothing writes into them.
var (
	nosniff    = []string{"nosniff"}
	deny       = []string{"DENY"}
	noReferrer = []string{"no-referrer"}
	noStore    = []string{"no-store"}
)

// bearerChallenge makes sure every 401 carries the WWW-Authenticate header
// RFC 9110 requires. authenticate sets a precise one for refused tokens;
// the other 401s (a refused WeChat code on login) are written by generated
// code, so a writer adds the plain challenge just before the header is
// sent, when the status is known.
//
// The writer lives in the request's info, allocated once for the request
// (context.go); a request without one (none through the handler) gets its
// own.
func bearerChallenge(c *gin.Context) {
	var w *beforeHeaderWriter
	if info := infoFrom(c.Request.Context()); info != nil {
		w = &info.writer
	} else {
		w = new(beforeHeaderWriter)
	}
	*w = beforeHeaderWriter{ResponseWriter: c.Writer, before: addChallenge}
	c.Writer = w
	c.Next()
}

// addChallenge gives a 401 that has no challenge the plain one.
func addChallenge(status int, h http.Header) {
	if status == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "" {
		h["Www-Authenticate"] = plainChallenge
	}
}

// plainChallenge is addChallenge's header value; nothing writes into it.
var plainChallenge = []string{challenge}

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
