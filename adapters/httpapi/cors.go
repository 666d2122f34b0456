package httpapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// CORS answers. Bearer tokens travel in a header, so there are no cookies
// and no Access-Control-Allow-Credentials. The one cookie, the console's
// (console.go), is same-origin: its paths allow no origin at all.
const corsMaxAge = "600"

// Request headers an allowed origin may send besides the spec's header
// parameters: the token, the JSON body's type, the caller's request id,
// and the PATCH-as-POST override.
var corsFixedRequestHeaders = []string{"Authorization", "Content-Type", "X-Request-ID", methodOverrideHeader}

// Response headers a browser client may read besides those the spec
// declares: the request id, the 401 challenge, and the rate-limit headers
// (draft-ietf-httpapi-ratelimit-headers), listed now so that clients built
// today can read them once they are sent.
var corsFixedExposeHeaders = []string{"X-Request-ID", "WWW-Authenticate", "Retry-After", "RateLimit", "RateLimit-Policy"}

// varyOrigin is the Vary of an answer that had none; nothing writes into it.
var varyOrigin = []string{"Origin"}

// corsPolicy is what an allowed origin may do: the header values of a
// preflight answer and of Access-Control-Expose-Headers.
type corsPolicy struct {
	methods, headers, expose string
}

// corsPolicyFor derives the policy from the spec's operations, so that a
// new operation's method, header parameter or response header reaches
// browsers without a hand-kept list going stale: every method an
// operation uses, plus HEAD (every GET answers it) and OPTIONS; every
// header parameter; every declared response header.
func corsPolicyFor(ops operations) corsPolicy {
	methods := []string{http.MethodHead, http.MethodOptions}
	headers := slices.Clone(corsFixedRequestHeaders)
	expose := slices.Clone(corsFixedExposeHeaders)
	for _, r := range ops {
		methods = append(methods, r.Method)
		for _, p := range slices.Concat(r.PathItem.Parameters, r.Operation.Parameters) {
			if p != nil && p.Value != nil && p.Value.In == "header" {
				headers = append(headers, p.Value.Name)
			}
		}
		if r.Operation.Responses == nil {
			continue
		}
		for _, res := range r.Operation.Responses.Map() {
			if res == nil || res.Value == nil {
				continue
			}
			for name := range res.Value.Headers {
				expose = append(expose, name)
			}
		}
	}
	return corsPolicy{methods: headerList(methods), headers: headerList(headers), expose: headerList(expose)}
}

// headerList joins names into one header value, each once (compared
// case-insensitively), in a stable order.
func headerList(names []string) string {
	seen := make(map[string]bool, len(names))
	out := make([]string, 0, len(names))
	for _, n := range names {
		if k := http.CanonicalHeaderKey(n); !seen[k] {
			seen[k] = true
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return strings.Join(out, ", ")
}

// cors lets the listed origins (exact "scheme://host[:port]" strings, never
// a wildcard) call the API from a browser. A request from any other origin
// is served without CORS headers, so the browser withholds the answer; a
// preflight from one gets an empty 204 that allows nothing. (Refusing with
// an error status would tell a browser no more, and gin-contrib/cors's bare
// 403 is not a problem document, hence this small middleware.)
func cors(origins []string, policy corsPolicy) gin.HandlerFunc {
	allowed := make(map[string]bool, len(origins))
	for _, o := range origins {
		allowed[o] = true
	}
	return func(c *gin.Context) {
		h := c.Writer.Header()
		// Most answers' only Vary: a shared slice, assigned by map index,
		// costs no allocation (see securityHeaders); Add copies it.
		if len(h["Vary"]) == 0 {
			h["Vary"] = varyOrigin
		} else {
			h.Add("Vary", "Origin")
		}
		origin := c.GetHeader("Origin")
		preflight := c.Request.Method == http.MethodOptions && c.GetHeader("Access-Control-Request-Method") != ""
		if preflight {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
		}
		// The console's cookie paths are same-origin only: no origin is
		// ever allowed there (console.go).
		ok := origin != "" && allowed[origin] && !consoleOnly(c.Request.URL.Path)
		if ok {
			h.Set("Access-Control-Allow-Origin", origin)
		}
		if !preflight {
			if ok {
				h.Set("Access-Control-Expose-Headers", policy.expose)
			}
			c.Next()
			return
		}
		if ok {
			h.Set("Access-Control-Allow-Methods", policy.methods)
			h.Set("Access-Control-Allow-Headers", policy.headers)
			h.Set("Access-Control-Max-Age", corsMaxAge)
		}
		c.AbortWithStatus(http.StatusNoContent)
	}
}
