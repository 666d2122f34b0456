package httpapi

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/gin-gonic/gin"
)

// requestIDHeader carries the request id in both directions.
const requestIDHeader = "X-Request-ID"

// maxRequestIDLen bounds an accepted incoming request id.
const maxRequestIDLen = 128

// requestID gives every request an id: the caller's X-Request-ID when it is
// sane (so a proxy's id links its logs to ours), else a fresh random one.
// The id is echoed in the response and put in the request's context, where
// the access log and problem documents find it.
func requestID(c *gin.Context) {
	id := c.GetHeader(requestIDHeader)
	if !saneRequestID(id) {
		id = newRequestID()
	}
	c.Header(requestIDHeader, id)
	c.Request = c.Request.WithContext(withRequestInfo(c.Request.Context(),
		requestInfo{id: id, path: c.Request.URL.Path, userAgent: c.Request.UserAgent()}))
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

// newRequestID returns 128 random bits in hex.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
