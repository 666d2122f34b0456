package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/miniback/miniback/adapters/httpapi/apitest"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
)

// The console's cookie. The server sets it Secure whatever the scheme:
// browsers keep a Secure cookie over plain http on localhost (and only
// there), so a console on http://localhost:8080 works in development; the
// in-process tests read Set-Cookie directly.
const (
	consoleCookieName = "__Secure-miniback-console"
	csrfOK            = "X-Miniback-CSRF: 1"
	consoleHost       = "miniback.test"
)

// consoleSession mirrors api.ConsoleSession loosely, so that a test sees
// every member the server sent.
type consoleSession struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int    `json:"expires_in"`
	RefreshExpiresIn int    `json:"refresh_expires_in"`
	User             user   `json:"user"`
}

// consoleRequest sends a console request as the console's page does: to
// the host consoleHost, with the cookie (when not ""), and the given
// "Name: value" headers (an empty value removes a header).
func consoleRequest(t *testing.T, c *apitest.Client, path string, body any, cookie string, headers ...string) *apitest.Response {
	t.Helper()
	var r *bytes.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(data)
	} else {
		r = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(http.MethodPost, path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = consoleHost
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: consoleCookieName, Value: cookie})
	}
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		if value = strings.TrimSpace(value); value == "" {
			req.Header.Del(name)
		} else {
			req.Header.Set(name, value)
		}
	}
	return c.Do(req)
}

// browserHeaders are what a browser adds to the console page's fetch.
var browserHeaders = []string{csrfOK, "Origin: https://" + consoleHost, "Sec-Fetch-Site: same-origin"}

// signIn signs in to the console and returns the session and the cookie's
// refresh token.
func signIn(t *testing.T, c *apitest.Client, login, password string) (consoleSession, string) {
	t.Helper()
	res := consoleRequest(t, c, "/v1/console/session", map[string]string{"login": login, "password": password}, "", browserHeaders...)
	if res.Status != http.StatusOK {
		t.Fatalf("console sign-in: want 200\n%s", res)
	}
	var s consoleSession
	res.Decode(&s)
	return s, sessionCookieOf(t, res)
}

// sessionCookieOf returns the refresh token res sets in the console
// cookie, checking the cookie's attributes exactly.
func sessionCookieOf(t *testing.T, res *apitest.Response) string {
	t.Helper()
	sc := res.Header.Values("Set-Cookie")
	if len(sc) != 1 {
		t.Fatalf("want one Set-Cookie, got %q", sc)
	}
	var s consoleSession
	res.Decode(&s)
	c, err := http.ParseSetCookie(sc[0])
	if err != nil {
		t.Fatalf("Set-Cookie %q: %v", sc[0], err)
	}
	want := fmt.Sprintf("%s=%s; Path=/v1/console/; Max-Age=%d; HttpOnly; Secure; SameSite=Strict", consoleCookieName, c.Value, s.RefreshExpiresIn)
	if sc[0] != want || !strings.HasPrefix(c.Value, domain.RefreshTokenPrefix) {
		t.Fatalf("Set-Cookie\n %q, want\n %q with a refresh token", sc[0], want)
	}
	return c.Value
}

// consoleAdmin registers a password account and grants it admin.
func (e *env) consoleAdmin(t *testing.T, username string) loginResponse {
	t.Helper()
	l := e.register(t, username, username+"@example.com", alicePassword)
	if _, err := (app.Admin{Users: e.users}).Grant(context.Background(), domain.UserID(l.User.ID)); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestConsoleSignInPutsTheRefreshTokenOnlyInAStrictHttpOnlyCookie(t *testing.T) {
	e := newEnv(t)
	e.consoleAdmin(t, "root")
	res := consoleRequest(t, e.api, "/v1/console/session", map[string]string{"login": "root", "password": alicePassword}, "", browserHeaders...)
	if res.Status != http.StatusOK {
		t.Fatalf("want 200\n%s", res)
	}
	token := sessionCookieOf(t, res)
	if bytes.Contains(res.Body, []byte(token)) || bytes.Contains(res.Body, []byte(domain.RefreshTokenPrefix)) ||
		bytes.Contains(res.Body, []byte("refresh_token\"")) {
		t.Fatalf("the body holds a refresh token\n%s", res)
	}
	var s consoleSession
	res.Decode(&s)
	if s.AccessToken == "" || s.TokenType != "Bearer" || s.ExpiresIn <= 0 || s.RefreshExpiresIn <= 0 || s.User.Role != "admin" {
		t.Fatalf("session %+v", s)
	}
	// The access token works on the admin operations.
	if r := e.api.Get("/v1/admin/users", bearer(s.AccessToken)); r.Status != http.StatusOK {
		t.Fatalf("admin users with the console token: want 200\n%s", r)
	}
	if r := e.api.Get("/v1/admin/health", bearer(s.AccessToken)); r.Status != http.StatusOK {
		t.Fatalf("admin health with the console token: want 200\n%s", r)
	}
}

func TestConsoleSignInRefusesANonAdminAndLeavesNoSessionBehind(t *testing.T) {
	e := newEnv(t)
	bob := e.register(t, "bob", "bob@example.com", bobPassword)
	res := consoleRequest(t, e.api, "/v1/console/session", map[string]string{"login": "bob", "password": bobPassword}, "", browserHeaders...)
	wantProblem(t, res, http.StatusForbidden, domain.CodeConsoleAdminRequired)
	if sc := res.Header.Values("Set-Cookie"); len(sc) != 0 {
		t.Fatalf("a refused sign-in set %q", sc)
	}
	// Only the session of bob's registration is active.
	var list struct {
		Items []struct {
			Current bool `json:"current"`
		} `json:"items"`
	}
	e.api.Get("/v1/auth/sessions", bearer(bob.AccessToken)).Decode(&list)
	if len(list.Items) != 1 || !list.Items[0].Current {
		t.Fatalf("bob's active sessions: %+v, want only the current one", list.Items)
	}
}

func TestConsoleSignInWithAWrongPasswordIsInvalidCredentials(t *testing.T) {
	e := newEnv(t)
	e.consoleAdmin(t, "root")
	res := consoleRequest(t, e.api, "/v1/console/session", map[string]string{"login": "root", "password": bobPassword}, "", browserHeaders...)
	wantProblem(t, res, http.StatusUnauthorized, domain.CodeInvalidCredentials)
}

func TestConsoleRefreshRotatesTheCookieAndAReplayedCookieEndsTheSession(t *testing.T) {
	e := newEnv(t)
	e.consoleAdmin(t, "root")
	_, first := signIn(t, e.api, "root", alicePassword)

	res := consoleRequest(t, e.api, "/v1/console/refresh", nil, first, browserHeaders...)
	if res.Status != http.StatusOK {
		t.Fatalf("refresh: want 200\n%s", res)
	}
	second := sessionCookieOf(t, res)
	if second == first {
		t.Fatal("the refresh did not rotate the cookie")
	}
	if bytes.Contains(res.Body, []byte(domain.RefreshTokenPrefix)) {
		t.Fatalf("the body holds a refresh token\n%s", res)
	}
	var s consoleSession
	res.Decode(&s)
	if r := e.api.Get("/v1/admin/users", bearer(s.AccessToken)); r.Status != http.StatusOK {
		t.Fatalf("the refreshed access token: want 200\n%s", r)
	}

	// The old cookie again: reuse, which ends the session.
	wantProblem(t, consoleRequest(t, e.api, "/v1/console/refresh", nil, first, browserHeaders...),
		http.StatusUnauthorized, domain.CodeRefreshTokenReused)
	wantProblem(t, consoleRequest(t, e.api, "/v1/console/refresh", nil, second, browserHeaders...),
		http.StatusUnauthorized, domain.CodeSessionRevoked)
	wantProblem(t, e.api.Get("/v1/admin/users", bearer(s.AccessToken)), http.StatusUnauthorized, domain.CodeSessionRevoked)
}

func TestConsoleRefreshWithoutACookieIsRefreshTokenInvalid(t *testing.T) {
	e := newEnv(t)
	wantProblem(t, consoleRequest(t, e.api, "/v1/console/refresh", nil, "", browserHeaders...),
		http.StatusUnauthorized, domain.CodeRefreshTokenInvalid)
	wantProblem(t, consoleRequest(t, e.api, "/v1/console/refresh", nil, "not-a-token", browserHeaders...),
		http.StatusUnauthorized, domain.CodeRefreshTokenInvalid)
}

func TestConsoleRefreshOfAnAccountNoLongerAdminEndsItsSession(t *testing.T) {
	e := newEnv(t)
	root := e.consoleAdmin(t, "root")
	_, cookie := signIn(t, e.api, "root", alicePassword)
	if _, err := e.users.SetUserRole(context.Background(), domain.UserID(root.User.ID), domain.RoleUser); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, consoleRequest(t, e.api, "/v1/console/refresh", nil, cookie, browserHeaders...),
		http.StatusForbidden, domain.CodeConsoleAdminRequired)
}

func TestConsoleRequestsNotFromTheConsolePageAreCSRFRejected(t *testing.T) {
	e := newEnv(t)
	e.consoleAdmin(t, "root")
	_, cookie := signIn(t, e.api, "root", alicePassword)
	login := map[string]string{"login": "root", "password": alicePassword}
	for _, tc := range []struct {
		name    string
		headers []string
	}{
		{"no CSRF header", []string{"X-Miniback-CSRF:", "Origin: https://" + consoleHost, "Sec-Fetch-Site: same-origin"}},
		{"a CSRF header of another value", []string{"X-Miniback-CSRF: true"}},
		{"a cross-site Origin", []string{csrfOK, "Origin: https://evil.example"}},
		{"another origin of the same site", []string{csrfOK, "Origin: https://other." + consoleHost}},
		{"an opaque Origin", []string{csrfOK, "Origin: null"}},
		{"Sec-Fetch-Site cross-site", []string{csrfOK, "Sec-Fetch-Site: cross-site"}},
		{"Sec-Fetch-Site same-site", []string{csrfOK, "Origin: https://" + consoleHost, "Sec-Fetch-Site: same-site"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.apiFor(t)
			wantProblem(t, consoleRequest(t, c, "/v1/console/session", login, "", tc.headers...), http.StatusForbidden, domain.CodeCSRFRejected)
			wantProblem(t, consoleRequest(t, c, "/v1/console/refresh", nil, cookie, tc.headers...), http.StatusForbidden, domain.CodeCSRFRejected)
			wantProblem(t, consoleRequest(t, c, "/v1/console/logout", nil, cookie, tc.headers...), http.StatusForbidden, domain.CodeCSRFRejected)
		})
	}
	// None of them used the cookie: it still refreshes.
	if res := consoleRequest(t, e.api, "/v1/console/refresh", nil, cookie, browserHeaders...); res.Status != http.StatusOK {
		t.Fatalf("refresh after the refused requests: want 200\n%s", res)
	}
}

func TestConsoleAcceptsTheCSRFHeaderAloneWhenTheBrowserSaysNothingOfTheOrigin(t *testing.T) {
	e := newEnv(t)
	e.consoleAdmin(t, "root")
	_, cookie := signIn(t, e.api, "root", alicePassword)
	if res := consoleRequest(t, e.api, "/v1/console/refresh", nil, cookie, csrfOK); res.Status != http.StatusOK {
		t.Fatalf("want 200\n%s", res)
	}
}

func TestConsoleLogoutEndsTheSessionAndClearsTheCookie(t *testing.T) {
	e := newEnv(t)
	e.consoleAdmin(t, "root")
	s, cookie := signIn(t, e.api, "root", alicePassword)

	res := consoleRequest(t, e.api, "/v1/console/logout", nil, cookie, browserHeaders...)
	if res.Status != http.StatusNoContent {
		t.Fatalf("logout: want 204\n%s", res)
	}
	want := consoleCookieName + "=; Path=/v1/console/; Max-Age=0; HttpOnly; Secure; SameSite=Strict"
	if sc := res.Header.Values("Set-Cookie"); len(sc) != 1 || sc[0] != want {
		t.Fatalf("Set-Cookie %q, want %q", sc, want)
	}
	// The refresh stops working (signing out rotated the cookie's token
	// to find its session, so it is a reused one now), and so does the
	// access token.
	wantProblem(t, consoleRequest(t, e.api, "/v1/console/refresh", nil, cookie, browserHeaders...),
		http.StatusUnauthorized, domain.CodeRefreshTokenReused)
	wantProblem(t, e.api.Get("/v1/admin/users", bearer(s.AccessToken)), http.StatusUnauthorized, domain.CodeSessionRevoked)

	// Signing out again, or without a cookie, still clears it.
	for _, c := range []string{cookie, ""} {
		res := consoleRequest(t, e.api, "/v1/console/logout", nil, c, browserHeaders...)
		if sc := res.Header.Values("Set-Cookie"); res.Status != http.StatusNoContent || len(sc) != 1 || sc[0] != want {
			t.Fatalf("logout again: want 204 clearing the cookie\n%s\n%q", res, sc)
		}
	}
}

func TestConsolePathsAllowNoCrossOriginRequestsEvenFromAnAllowedOrigin(t *testing.T) {
	const allowed = "https://app.example"
	e := newEnv(t, withCORS(allowed))
	preflight := func(path string) http.Header {
		req, _ := http.NewRequest(http.MethodOptions, path, nil)
		req.Header.Set("Origin", allowed)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "x-miniback-csrf")
		res := e.api.Do(req)
		if res.Status != http.StatusNoContent {
			t.Fatalf("preflight of %s: want 204\n%s", path, res)
		}
		return res.Header
	}
	for _, p := range []string{"/v1/console/session", "/v1/console/refresh", "/v1/console/logout"} {
		h := preflight(p)
		if h.Get("Access-Control-Allow-Origin") != "" || h.Get("Access-Control-Allow-Credentials") != "" || h.Get("Access-Control-Allow-Headers") != "" {
			t.Errorf("preflight of %s from an allowed origin: %v, want nothing allowed", p, h)
		}
	}
	// The other paths still allow the origin, and never credentials.
	if h := preflight("/v1/todos"); h.Get("Access-Control-Allow-Origin") != allowed || h.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("preflight of /v1/todos: %v", h)
	}
	// A request that went without a preflight is refused by the CSRF rules.
	wantProblem(t, consoleRequest(t, e.api, "/v1/console/refresh", nil, "", csrfOK, "Origin: "+allowed),
		http.StatusForbidden, domain.CodeCSRFRejected)
}

func TestConsoleMangledCookieIsRefreshTokenInvalidAndSignOutClearsIt(t *testing.T) {
	e := newEnv(t)
	send := func(path, cookie string) *apitest.Response {
		req, _ := http.NewRequest(http.MethodPost, path, nil)
		req.Header.Set("X-Miniback-CSRF", "1")
		req.Header.Set("Cookie", consoleCookieName+"="+cookie)
		return e.api.Do(req)
	}
	for _, v := range []string{strings.Repeat("a", 5000), "mbr_\xff\xfe", "mbr_%00", `"mbr_"`} {
		wantProblem(t, send("/v1/console/refresh", v), http.StatusUnauthorized, domain.CodeRefreshTokenInvalid)
		if res := send("/v1/console/logout", v); res.Status != http.StatusNoContent || len(res.Header.Values("Set-Cookie")) != 1 {
			t.Errorf("logout with cookie %.20q: want 204 clearing it\n%s", v, res)
		}
	}
}
