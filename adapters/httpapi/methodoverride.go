package httpapi

import (
	"net/http"
	"strings"
)

// methodOverrideHeader lets a client that cannot send PATCH send it as a
// POST. wx.request, the mini-program's only HTTP client, offers GET, POST,
// PUT, DELETE, HEAD, OPTIONS, TRACE and CONNECT, but no PATCH.
const methodOverrideHeader = "X-HTTP-Method-Override"

// canonicalMethodOverrideHeader is its name as net/http keys it: looked up
// by map index, it costs no canonicalisation (Header.Get of the name above
// allocates one on every POST).
const canonicalMethodOverrideHeader = "X-Http-Method-Override"

// firstValue is Header.Get of a name already canonical.
func firstValue(h http.Header, canonical string) string {
	if v := h[canonical]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// methodOverride turns POST + "X-HTTP-Method-Override: PATCH" into PATCH
// before routing, so the request is routed, authenticated, validated and
// logged as the PATCH it stands for. No other substitution is made: a POST
// never becomes a GET, PUT or DELETE.
func methodOverride(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.EqualFold(strings.TrimSpace(firstValue(r.Header, canonicalMethodOverrideHeader)), http.MethodPatch) {
			r.Method = http.MethodPatch
		}
		next.ServeHTTP(w, r)
	})
}
