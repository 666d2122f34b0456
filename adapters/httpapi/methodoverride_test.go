package httpapi_test

import (
	"net/http"
	"testing"
)

func TestPostWithPatchOverrideEditsProfileLikePatch(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	auth := bearer(l.AccessToken)

	res := e.api.JSON("POST", "/v1/me", map[string]string{"nickname": "Alice"}, auth, "X-HTTP-Method-Override: patch")
	if res.Status != http.StatusOK {
		t.Fatalf("want 200\n%s", res)
	}
	var got user
	e.api.Get("/v1/me", auth).Decode(&got)
	if got.Nickname != "Alice" {
		t.Errorf("nickname after the overridden POST is %q, want Alice", got.Nickname)
	}

	// The override goes through the same validation as a real PATCH.
	res = e.api.JSON("POST", "/v1/me", map[string]any{"role": "admin"}, auth, "X-HTTP-Method-Override: PATCH")
	if res.Status != http.StatusBadRequest || res.Problem().Code != "validation_failed" {
		t.Errorf("an overridden PATCH with an unknown field: want 400 validation_failed\n%s", res)
	}
}

func TestMethodOverrideTurnsPostOnlyIntoPatch(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	for _, method := range []string{"GET", "DELETE", "PUT"} {
		res := e.api.JSON("POST", "/v1/me", map[string]string{"nickname": "x"}, bearer(l.AccessToken), "X-HTTP-Method-Override: "+method)
		if res.Status != http.StatusMethodNotAllowed {
			t.Errorf("POST overridden to %s: want 405 (only PATCH may be asked for)\n%s", method, res)
		}
	}
	// Only a POST can be overridden.
	res := e.api.JSON("PUT", "/v1/me", map[string]string{"nickname": "x"}, bearer(l.AccessToken), "X-HTTP-Method-Override: PATCH")
	if res.Status != http.StatusMethodNotAllowed {
		t.Errorf("PUT with a PATCH override: want 405\n%s", res)
	}
}
