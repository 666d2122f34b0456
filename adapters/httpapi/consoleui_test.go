package httpapi_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// consoleCSP: scripts and styles only from files of this server, no framing.
const consoleCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// The console's page and assets come from the binary, under a CSP that
// allows no inline script or style, and the page itself has none.
func TestConsoleServesTheEmbeddedAppUnderAStrictCSP(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/console", "/console/", "/console/index.html"} {
		page := e.api.Get(path)
		if page.Status != http.StatusOK || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(string(page.Body), `<div id="app">`) {
			t.Fatalf("GET %s: want the console page\n%s", path, page)
		}
		if got := page.Header.Get("Content-Security-Policy"); got != consoleCSP {
			t.Errorf("GET %s: CSP %q, want %q", path, got, consoleCSP)
		}
		if got := page.Header.Get("Cache-Control"); got != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache", path, got)
		}
		if got := page.Header.Get("X-Frame-Options"); got != "DENY" {
			t.Errorf("GET %s: X-Frame-Options %q, want DENY", path, got)
		}
	}
	page := string(e.api.Get("/console").Body)
	// Inline code would be refused by the CSP: every script has a src,
	// there is no <style> element and no style or on* attribute.
	for _, m := range regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1) {
		if !strings.Contains(m, ` src="/console/assets/`) {
			t.Errorf("an inline script: %s", m)
		}
	}
	if regexp.MustCompile(`<style|\sstyle=|\son[a-z]+=`).MatchString(page) {
		t.Errorf("inline style or handler in the page:\n%s", page)
	}
	assets := regexp.MustCompile(`(?:src|href)="(/console/assets/[^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(assets) < 2 {
		t.Fatalf("the page loads %d assets, want a script and a stylesheet:\n%s", len(assets), page)
	}
	for _, a := range assets {
		res := e.api.Get(a[1])
		if res.Status != http.StatusOK || len(res.Body) == 0 {
			t.Fatalf("GET %s: want 200 with a body\n%s", a[1], res)
		}
		if got := res.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("GET %s: Cache-Control %q, want a year, immutable", a[1], got)
		}
		ext := a[1][strings.LastIndex(a[1], "."):]
		if want := map[string]string{".js": "text/javascript", ".css": "text/css"}[ext]; !strings.HasPrefix(res.Header.Get("Content-Type"), want) {
			t.Errorf("GET %s: Content-Type %q, want %s", a[1], res.Header.Get("Content-Type"), want)
		}
	}
}

func TestConsoleAnswersNotFoundOutsideItsAssets(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/console/assets/", "/console/assets", "/console/assets/nope.js", "/console/nowhere",
		"/console/assets/../index.html/x", "/console/../openapi.json"} {
		res := e.api.Get(path)
		if res.Status == http.StatusOK {
			t.Errorf("GET %s: 200, want a refusal\n%s", path, res)
		}
		if res.Status == http.StatusNotFound && !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("GET %s: a 404 that is not a problem document\n%s", path, res)
		}
	}
}

// A second load of the page with its ETag costs no body.
func TestConsolePageRevalidatesWithItsETag(t *testing.T) {
	e := newEnv(t)
	first := e.api.Get("/console")
	etag := first.Header.Get("ETag")
	if etag == "" {
		t.Fatalf("no ETag\n%s", first)
	}
	if res := e.api.Get("/console", "If-None-Match: "+etag); res.Status != http.StatusNotModified || len(res.Body) != 0 {
		t.Fatalf("want 304 without a body\n%s", res)
	}
}
