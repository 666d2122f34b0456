package httpapi

import (
	"net/http"
	"strings"
)

// methodOverrideHeader lets a client that cannot send PATCH send it as a
// POST. wx.request, the mini-program's only HTTP client, offers GET, POST,
// PUT, DELETE, HEAD, OPTIONS, TRACE and CONNECT, but no PATCH.
const methodOverrideHeader = "X-HTTP-Method-Override"

// methodOverride turns POST + "X-HTTP-Method-Override: PATCH" into PATCH
// before routing, so the request is routed, authenticated, validated and
// logged as the PATCH it stands for. No other substitution is made: a POST
// never becomes a GET, PUT or DELETE.
func methodOverride(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.EqualFold(strings.TrimSpace(r.Header.Get(methodOverrideHeader)), http.MethodPatch) {
			r.Method = http.MethodPatch
		}
		next.ServeHTTP(w, r)
	})
}
