package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/jwx"
	"github.com/miniback/miniback/domain"
)

// logout logs out with token and checks the empty 204.
func logout(t *testing.T, e *env, token string) {
	t.Helper()
	res := e.apiFor(t).JSON("POST", "/v1/auth/logout", nil, bearer(token))
	if res.Status != http.StatusNoContent || len(res.Body) != 0 {
		t.Fatalf("logout: want 204 without a body\n%s", res)
	}
}

func TestLogoutWithTheTokenOfAnEndedSessionSucceeds(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		end  func(t *testing.T, l loginResponse)
	}{
		{"logged out before", func(t *testing.T, l loginResponse) { logout(t, e, l.AccessToken) }},
		{"ended from another session", func(t *testing.T, l loginResponse) {
			other := e.login(t, "dev-carol")
			if res := e.apiFor(t).JSON("DELETE", "/v1/auth/sessions", nil, bearer(other.AccessToken)); res.Status != http.StatusOK {
				t.Fatal(res)
			}
		}},
		{"account deleted", func(t *testing.T, l loginResponse) {
			if res := e.apiFor(t).JSON("DELETE", "/v1/me", nil, bearer(l.AccessToken)); res.Status != http.StatusNoContent {
				t.Fatal(res)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := e.login(t, "dev-carol")
			tc.end(t, l)
			// Still refused everywhere else...
			wantProblem(t, e.apiFor(t).Get("/v1/me", bearer(l.AccessToken)), http.StatusUnauthorized, domain.CodeSessionRevoked)
			wantProblem(t, e.apiFor(t).Get("/v1/auth/sessions", bearer(l.AccessToken)), http.StatusUnauthorized, domain.CodeSessionRevoked)
			wantProblem(t, e.apiFor(t).JSON("DELETE", "/v1/auth/sessions", nil, bearer(l.AccessToken)), http.StatusUnauthorized, domain.CodeSessionRevoked)
			wantProblem(t, e.apiFor(t).JSON("POST", "/v1/todos", map[string]any{"title": "a"}, bearer(l.AccessToken)), http.StatusUnauthorized, domain.CodeSessionRevoked)
			// ...but logging out (again) succeeds, as often as asked.
			logout(t, e, l.AccessToken)
			logout(t, e, l.AccessToken)
			if res := refresh(e.apiFor(t), l.RefreshToken); res.Status != http.StatusUnauthorized {
				t.Errorf("the ended session's refresh token: want 401\n%s", res)
			}
		})
	}
}

func TestLogoutStillWantsAValidUnexpiredToken(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	logout(t, e, l.AccessToken)
	expired := issue(t, e.issuerWith(t, jwx.Config{Clock: pinnedClock(time.Now().Add(-2 * time.Hour))}), l.User.ID)
	for name, tc := range map[string]struct {
		headers []string
		code    domain.Code
	}{
		"no token": {nil, domain.CodeTokenMissing},
		"garbage":  {[]string{"Authorization: Bearer garbage"}, domain.CodeTokenMalformed},
		"expired":  {[]string{bearer(expired)}, domain.CodeTokenExpired},
	} {
		t.Run(name, func(t *testing.T) {
			wantProblem(t, e.apiFor(t).JSON("POST", "/v1/auth/logout", nil, tc.headers...), http.StatusUnauthorized, tc.code)
		})
	}
}
