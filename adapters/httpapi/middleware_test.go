package httpapi_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/miniback/miniback/domain"
)

func TestUnknownPathIsNotFoundProblem(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/nowhere", "/v1/me/", "/v1/users/42"} {
		res := e.api.Get(path)
		if res.Status != http.StatusNotFound || res.Problem().Code != string(domain.CodeNotFound) {
			t.Errorf("GET %s: want 404 not_found\n%s", path, res)
		}
	}
}

func TestWrongMethodIsMethodNotAllowedProblem(t *testing.T) {
	e := newEnv(t)
	res := e.api.JSON("PUT", "/v1/me", nil)
	if res.Status != http.StatusMethodNotAllowed || res.Problem().Code != string(domain.CodeMethodNotAllowed) {
		t.Fatalf("want 405 method_not_allowed\n%s", res)
	}
	if allow := res.Header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "PATCH") || !strings.Contains(allow, "DELETE") {
		t.Errorf("Allow %q, want GET, PATCH and DELETE", allow)
	}
	if res := e.api.Get("/v1/auth/wechat"); res.Status != http.StatusMethodNotAllowed {
		t.Errorf("GET /v1/auth/wechat: want 405\n%s", res)
	}
}

func TestRequestIDIsEchoed(t *testing.T) {
	e := newEnv(t)
	const id = "proxy-7f3a.1_B"
	res := e.api.Get("/v1/me", "X-Request-ID: "+id)
	if got := res.Header.Get("X-Request-ID"); got != id {
		t.Errorf("X-Request-ID %q, want the caller's %q", got, id)
	}
	if p := res.Problem(); p.RequestId == nil || *p.RequestId != id {
		t.Errorf("problem request_id %v, want %q", p.RequestId, id)
	}
	if !strings.Contains(e.logs.String(), `"request_id":"`+id+`"`) {
		t.Errorf("the access log does not carry the request id:\n%s", e.logs)
	}
}

func TestRequestIDIsGeneratedWhenMissingOrNotSane(t *testing.T) {
	e := newEnv(t)
	generated := regexp.MustCompile(`^[0-9a-f]{32}$`)
	seen := map[string]bool{}
	for name, header := range map[string]string{
		"missing":        "",
		"bad characters": "X-Request-ID: id with spaces\"{}",
		"too long":       "X-Request-ID: " + strings.Repeat("a", 129),
	} {
		var headers []string
		if header != "" {
			headers = append(headers, header)
		}
		id := e.api.Get("/healthz", headers...).Header.Get("X-Request-ID")
		if !generated.MatchString(id) || seen[id] {
			t.Errorf("%s: X-Request-ID %q, want a fresh generated id", name, id)
		}
		seen[id] = true
	}
}

func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	e := newEnv(t)
	want := map[string]string{
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "no-referrer",
		"Cache-Control":          "no-store",
	}
	token := e.login(t, "dev-alice").AccessToken
	for _, res := range []struct {
		name string
		h    http.Header
	}{
		{"200", e.api.Get("/v1/me", bearer(token)).Header},
		{"401", e.api.Get("/v1/me").Header},
		{"400", e.api.JSON("POST", "/v1/auth/wechat", `{}`).Header},
		{"404", e.api.Get("/nowhere").Header},
		{"docs", e.api.Get("/docs").Header},
	} {
		for k, v := range want {
			if got := res.h.Get(k); got != v {
				t.Errorf("%s: %s %q, want %q", res.name, k, got, v)
			}
		}
	}
}

func TestCORSAllowsOnlyListedOrigins(t *testing.T) {
	const allowed, other = "https://app.example.com", "https://evil.example.com"
	e := newEnv(t, withCORS(allowed))

	preflight := func(t *testing.T, origin string) http.Header {
		req, _ := http.NewRequest(http.MethodOptions, "/v1/me", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "PATCH")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		res := e.apiFor(t).Do(req)
		if res.Status != http.StatusNoContent {
			t.Fatalf("preflight: want 204\n%s", res)
		}
		return res.Header
	}

	t.Run("allowed origin", func(t *testing.T) {
		res := e.apiFor(t).Get("/healthz", "Origin: "+allowed)
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != allowed {
			t.Errorf("Access-Control-Allow-Origin %q, want %q", got, allowed)
		}
		if res.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Error("credentials allowed; bearer tokens need none")
		}
		h := preflight(t, allowed)
		if h.Get("Access-Control-Allow-Origin") != allowed || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "PATCH") ||
			!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "authorization") {
			t.Errorf("preflight headers %v: want PATCH and Authorization allowed for %s", h, allowed)
		}
	})
	t.Run("other origin", func(t *testing.T) {
		res := e.apiFor(t).Get("/healthz", "Origin: "+other)
		if res.Status != http.StatusOK || res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("status %d, Access-Control-Allow-Origin %q: want the answer without CORS headers", res.Status, res.Header.Get("Access-Control-Allow-Origin"))
		}
		h := preflight(t, other)
		for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers"} {
			if h.Get(k) != "" {
				t.Errorf("preflight from %s got %s %q", other, k, h.Get(k))
			}
		}
	})
	t.Run("no wildcard", func(t *testing.T) {
		e := newEnv(t, withCORS("*"))
		if got := e.api.Get("/healthz", "Origin: "+other).Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("\"*\" in the list allowed %s (%q)", other, got)
		}
	})
}

func TestAccessLogNamesRouteStatusAndUserButNoSecrets(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	e.api.Get("/v1/me", bearer(l.AccessToken), "X-Request-ID: trace-42")

	var entry map[string]any
	for _, line := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if m["request_id"] == "trace-42" {
			entry = m
		}
	}
	want := map[string]any{"method": "GET", "route": "/v1/me", "status": float64(200), "user_id": l.User.ID}
	for k, v := range want {
		if entry[k] != v {
			t.Errorf("access log %s = %v, want %v (entry %v)", k, entry[k], v, entry)
		}
	}
	if _, ok := entry["duration_ms"]; !ok {
		t.Errorf("access log has no duration: %v", entry)
	}
	logs := e.logs.String()
	for _, secret := range []string{l.AccessToken, "Bearer", "dev-alice", secretA} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains %q", secret)
		}
	}
}

// TestSharedHeaderValuesStayAsTheyWere: the security headers, Vary and
// the plain challenge are value slices shared by every answer; an answer
// that adds to one of them (a preflight adds to Vary) or replaces it (the
// docs relax Cache-Control) leaves the next answers' alone.
func TestSharedHeaderValuesStayAsTheyWere(t *testing.T) {
	const origin = "https://app.example.com"
	e := newEnv(t, withCORS(origin))
	for range 2 {
		req, _ := http.NewRequest(http.MethodOptions, "/v1/me", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "GET")
		if res := e.api.Do(req); len(res.Header.Values("Vary")) != 3 {
			t.Fatalf("preflight Vary %q, want Origin and the two request headers", res.Header.Values("Vary"))
		}
		if res := e.api.Get("/docs/assets/swagger-ui.css"); res.Header.Get("Cache-Control") == "no-store" {
			t.Fatalf("docs Cache-Control %q, want it relaxed", res.Header.Get("Cache-Control"))
		}
		res := e.api.Get("/v1/me", "Origin: "+origin)
		want := map[string][]string{
			"Vary":                   {"Origin"},
			"Cache-Control":          {"no-store"},
			"X-Frame-Options":        {"DENY"},
			"X-Content-Type-Options": {"nosniff"},
			"Referrer-Policy":        {"no-referrer"},
			"Www-Authenticate":       {`Bearer realm="miniback"`},
		}
		for k, v := range want {
			if got := res.Header.Values(k); !slices.Equal(got, v) {
				t.Errorf("%s %q, want %q", k, got, v)
			}
		}
	}
}
