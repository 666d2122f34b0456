package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/miniback/miniback/domain"
)

func TestAccessTokenReadsOwnProfile(t *testing.T) {
	e := newEnv(t)
	alice := e.login(t, "dev-alice")
	bob := e.login(t, "dev-bob")

	for _, l := range []loginResponse{alice, bob} {
		res := e.api.Get("/v1/me", bearer(l.AccessToken))
		if res.Status != http.StatusOK {
			t.Fatalf("want 200\n%s", res)
		}
		var got user
		res.Decode(&got)
		if got.ID != l.User.ID {
			t.Errorf("GET /v1/me with %s's token returned user %s", l.User.ID, got.ID)
		}
	}
}

func TestPatchMeUpdatesAndPersists(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	auth := bearer(l.AccessToken)

	res := e.api.JSON("PATCH", "/v1/me", map[string]string{
		"nickname": "  Alice  ", "avatar_url": "https://example.com/a.png", "bio": "Hello",
	}, auth)
	if res.Status != http.StatusOK {
		t.Fatalf("want 200\n%s", res)
	}
	var patched user
	res.Decode(&patched)
	want := user{ID: l.User.ID, Nickname: "Alice", AvatarURL: "https://example.com/a.png", Bio: "Hello"}
	if patched.ID != want.ID || patched.Nickname != want.Nickname || patched.AvatarURL != want.AvatarURL || patched.Bio != want.Bio {
		t.Errorf("PATCH returned %+v, want %+v", patched, want)
	}

	// A merge patch: what is left out keeps its value.
	e.api.JSON("PATCH", "/v1/me", map[string]string{"bio": "Bye"}, auth)
	var got user
	res = e.api.Get("/v1/me", auth)
	res.Decode(&got)
	if got.Nickname != "Alice" || got.AvatarURL != want.AvatarURL || got.Bio != "Bye" {
		t.Errorf("GET after PATCH returned %+v", got)
	}
	if !got.CreatedAt.Equal(l.User.CreatedAt) {
		t.Errorf("created_at changed from %s to %s", l.User.CreatedAt, got.CreatedAt)
	}
}

func TestPatchMeBreakingProfileRulesListsEveryField(t *testing.T) {
	e := newEnv(t)
	auth := bearer(e.login(t, "dev-alice").AccessToken)
	res := e.api.JSON("PATCH", "/v1/me", map[string]string{"nickname": "   ", "avatar_url": "http://example.com/a.png"}, auth)
	if res.Status != http.StatusBadRequest {
		t.Fatalf("want 400\n%s", res)
	}
	p := res.Problem()
	if p.Code != string(domain.CodeInvalid) || p.Errors == nil {
		t.Fatalf("want validation_failed with field errors, got %+v", p)
	}
	got := map[string]string{}
	for _, f := range *p.Errors {
		got[f.Field] = f.Code
	}
	if got["body.nickname"] != "required" || got["body.avatar_url"] != "invalid_url" || len(got) != 2 {
		t.Errorf("field errors %v, want body.nickname required and body.avatar_url invalid_url", got)
	}
}

func TestPatchMeCannotSetIdentityRoleOrTimestamps(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	auth := bearer(l.AccessToken)

	res := e.api.JSON("PATCH", "/v1/me", map[string]any{
		"nickname":   "Mallory",
		"id":         "00000000-0000-4000-8000-000000000000",
		"role":       "admin",
		"created_at": "2000-01-01T00:00:00Z",
	}, auth)
	if res.Status != http.StatusBadRequest {
		t.Fatalf("want 400\n%s", res)
	}
	unknown := map[string]bool{}
	for _, f := range *res.Problem().Errors {
		if f.Code == "unknown_field" {
			unknown[f.Field] = true
		}
	}
	for _, f := range []string{"body.id", "body.role", "body.created_at"} {
		if !unknown[f] {
			t.Errorf("no unknown_field error for %s (got %v)", f, unknown)
		}
	}

	var got user
	e.api.Get("/v1/me", auth).Decode(&got)
	if got.ID != l.User.ID || got.Nickname != "" || !got.CreatedAt.Equal(l.User.CreatedAt) || !got.UpdatedAt.Equal(l.User.UpdatedAt) {
		t.Errorf("the refused patch changed the user: %+v, was %+v", got, l.User)
	}
}

func TestEmptyPatchIsRefused(t *testing.T) {
	e := newEnv(t)
	auth := bearer(e.login(t, "dev-alice").AccessToken)
	res := e.api.JSON("PATCH", "/v1/me", map[string]string{}, auth)
	if res.Status != http.StatusBadRequest || res.Problem().Code != string(domain.CodeInvalid) {
		t.Fatalf("want 400 validation_failed\n%s", res)
	}
}
