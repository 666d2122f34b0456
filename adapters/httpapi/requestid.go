package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"github.com/gin-gonic/gin"
)

// requestIDHeader carries the request id in both directions, in the
// canonical form of its name, so that reading and writing it by map index
// costs no canonicalisation.
const requestIDHeader = "X-Request-Id"

// maxRequestIDLen bounds an accepted incoming request id.
const maxRequestIDLen = 128

// requestContext installs the request's info (context.go) as its context,
// the one copy of the request the middleware makes. It gives every request
// an id: the caller's X-Request-ID when it is sane (so a proxy's id links
// its logs to ours), else a fresh random one. The id is echoed in the
// response and kept in the info, where the access log and problem
// documents find it, with the client's address (clientip.go).
//
// The info's parent is the server's context bounded by the route's answer
// deadline (Deps.Deadlines), so the operation and everything it calls
// stop waiting when the request's time is up.
func (h *handler) requestContext(c *gin.Context) {
	r := c.Request
	parent := r.Context()
	if _, answer := h.deadlines.limits(r); answer > 0 {
		ctx, cancel := context.WithTimeout(parent, answer)
		defer cancel()
		parent = ctx
	}
	var id string
	if v := r.Header[requestIDHeader]; len(v) > 0 && saneRequestID(v[0]) {
		id = v[0]
	} else {
		id = newRequestID()
	}
	info := &requestInfo{Context: parent, id: id, path: r.URL.Path, userAgent: r.Header.Get("User-Agent")}
	info.clientIP = h.clientIP(c)
	info.idHeader[0] = id
	// The slice is the info's own, with no room to grow: an Add of
	// another value copies it rather than writing into the info.
	c.Writer.Header()[requestIDHeader] = info.idHeader[:]
	c.Request = r.WithContext(info)
	c.Next()
}

// saneRequestID accepts 1 to 128 characters of [A-Za-z0-9._-]: enough for
// UUIDs and trace ids, and nothing that could forge a log line or header.
func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := range len(id) {
		switch c := id[i]; {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// newRequestID returns 128 random bits in hex. crypto/rand costs about
// 0.1 µs and no allocation here, so a cheaper scheme (a counter under a
// per-process prefix) would save nothing that matters and would tell
// callers how many requests the process serves.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	var s [32]byte
	hex.Encode(s[:], b[:])
	return string(s[:])
}
