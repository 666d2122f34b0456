package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// listed reports whether the comma-separated header value holds name
// (header names compare case-insensitively).
func listed(value, name string) bool {
	for _, v := range strings.Split(value, ",") {
		if strings.EqualFold(strings.TrimSpace(v), name) {
			return true
		}
	}
	return false
}

// corsHeaders returns the Access-Control-* headers of h.
func corsHeaders(h http.Header) []string {
	var out []string
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			out = append(out, k+": "+h.Get(k))
		}
	}
	return out
}

func TestCORSPreflightAllowsEveryMethodAndHeaderTheSpecUses(t *testing.T) {
	const allowed, other = "https://app.example.com", "https://evil.example.com"
	e := newEnv(t, withCORS(allowed))
	preflight := func(t *testing.T, origin string) http.Header {
		t.Helper()
		req, _ := http.NewRequest(http.MethodOptions, "/v1/todos/3f8e5a1c-2b7d-4e9f-8a6b-1c2d3e4f5a6b", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "DELETE")
		req.Header.Set("Access-Control-Request-Headers", "authorization,if-match,idempotency-key")
		res := e.apiFor(t).Do(req)
		if res.Status != http.StatusNoContent || len(res.Body) != 0 {
			t.Fatalf("preflight: want an empty 204\n%s", res)
		}
		if !listed(strings.Join(res.Header.Values("Vary"), ","), "Origin") {
			t.Errorf("Vary %q does not name Origin", res.Header.Values("Vary"))
		}
		return res.Header
	}

	t.Run("allowed origin", func(t *testing.T) {
		h := preflight(t, allowed)
		if got := h.Get("Access-Control-Allow-Origin"); got != allowed {
			t.Errorf("Access-Control-Allow-Origin %q, want %q", got, allowed)
		}
		methods := h.Get("Access-Control-Allow-Methods")
		for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
			if !listed(methods, m) {
				t.Errorf("Access-Control-Allow-Methods %q lacks %s", methods, m)
			}
		}
		headers := h.Get("Access-Control-Allow-Headers")
		for _, name := range []string{"Authorization", "Content-Type", "X-Request-ID", "X-HTTP-Method-Override",
			"If-Match", "If-None-Match", "Idempotency-Key"} {
			if !listed(headers, name) {
				t.Errorf("Access-Control-Allow-Headers %q lacks %s", headers, name)
			}
		}
	})
	t.Run("other origin", func(t *testing.T) {
		if got := corsHeaders(preflight(t, other)); len(got) != 0 {
			t.Errorf("preflight from %s got CORS headers %q", other, got)
		}
		res := e.apiFor(t).Get("/healthz", "Origin: "+other)
		if res.Status != http.StatusOK {
			t.Fatal(res)
		}
		if got := corsHeaders(res.Header); len(got) != 0 {
			t.Errorf("answer to %s has CORS headers %q", other, got)
		}
	})
}

func TestCORSExposesTheResponseHeadersClientsRead(t *testing.T) {
	const allowed = "https://app.example.com"
	e := newEnv(t, withCORS(allowed))
	auth := e.signIn(t, "alice")
	res := e.api.JSON("POST", "/v1/todos", map[string]any{"title": "a"}, auth, "Origin: "+allowed, "Idempotency-Key: k1")
	if res.Status != http.StatusCreated {
		t.Fatal(res)
	}
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != allowed {
		t.Errorf("Access-Control-Allow-Origin %q, want %q", got, allowed)
	}
	expose := res.Header.Get("Access-Control-Expose-Headers")
	for _, name := range []string{"ETag", "Location", "Retry-After", "Idempotent-Replayed", "X-Request-ID",
		"WWW-Authenticate", "RateLimit", "RateLimit-Policy"} {
		if !listed(expose, name) {
			t.Errorf("Access-Control-Expose-Headers %q lacks %s", expose, name)
		}
	}
	if !listed(strings.Join(res.Header.Values("Vary"), ","), "Origin") {
		t.Errorf("Vary %q does not name Origin", res.Header.Values("Vary"))
	}
}
