package httpapi_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/miniback/miniback/domain"
)

// wantAccount checks the account fields of u: has_password always sent,
// username and email exactly when the account has a password.
func wantAccount(t *testing.T, u user, hasPassword bool, username, email string) {
	t.Helper()
	if u.HasPassword == nil || *u.HasPassword != hasPassword {
		t.Errorf("user %s: has_password = %v, want %v", u.ID, deref(u.HasPassword), hasPassword)
	}
	if !hasPassword {
		if u.Username != nil || u.Email != nil {
			t.Errorf("user %s without a password: username %q, email %q, want both absent", u.ID, deref(u.Username), deref(u.Email))
		}
		return
	}
	if deref(u.Username) != username || deref(u.Email) != email {
		t.Errorf("user %s: username %q, email %q, want %q, %q", u.ID, deref(u.Username), deref(u.Email), username, email)
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return "<absent>"
	}
	return *p
}

func (e *env) me(t *testing.T, access string) user {
	t.Helper()
	res := e.api.Get("/v1/me", bearer(access))
	if res.Status != http.StatusOK {
		t.Fatalf("GET /v1/me: want 200\n%s", res)
	}
	var u user
	res.Decode(&u)
	return u
}

func TestAWeChatOnlyUserHasNoPasswordUsernameOrEmail(t *testing.T) {
	e := newEnv(t)
	carol := e.login(t, "dev-carol")
	wantAccount(t, carol.User, false, "", "")
	wantAccount(t, e.me(t, carol.AccessToken), false, "", "")
}

func TestMeShowsTheUsernameAndEmailChosenWithTheFirstPassword(t *testing.T) {
	e := newEnv(t)
	carol := e.login(t, "dev-carol")
	auth := bearer(carol.AccessToken)
	res := e.api.JSON("PUT", "/v1/me/password", map[string]string{"new_password": newPassword, "username": "Carol", "email": "Carol@Example.com"}, auth)
	if res.Status != http.StatusNoContent {
		t.Fatalf("set the first password: want 204\n%s", res)
	}
	wantAccount(t, e.me(t, carol.AccessToken), true, "carol", "carol@example.com")

	// A profile patch answers the same account fields, and a WeChat login of
	// the same user does too.
	res = e.api.JSON("PATCH", "/v1/me", map[string]string{"nickname": "Caz"}, auth)
	var patched user
	res.Decode(&patched)
	if res.Status != http.StatusOK {
		t.Fatalf("PATCH /v1/me: want 200\n%s", res)
	}
	wantAccount(t, patched, true, "carol", "carol@example.com")
	wantAccount(t, e.login(t, "dev-carol").User, true, "carol", "carol@example.com")
}

func TestRegisterAndPasswordLoginAnswerTheUsersUsernameAndEmail(t *testing.T) {
	e := newEnv(t)
	alice := e.register(t, " Alice ", " Alice@Example.com ", alicePassword)
	wantAccount(t, alice.User, true, "alice", "alice@example.com")
	l := loginAs(t, e.api, "ALICE@example.com", alicePassword)
	wantAccount(t, l.User, true, "alice", "alice@example.com")
}

func TestAdminListShowsEachUsersAccountFields(t *testing.T) {
	e := newEnv(t)
	root := e.admin(t, "dev-root")
	alice := e.register(t, "alice", "alice@example.com", alicePassword)
	bob := e.login(t, "dev-bob")
	seen := map[string]user{}
	for _, u := range listUsers(t, e, root.AccessToken, url.Values{}).Items {
		seen[u.ID] = u
	}
	if len(seen) != 3 {
		t.Fatalf("admin list has %d users, want 3", len(seen))
	}
	wantAccount(t, seen[alice.User.ID], true, "alice", "alice@example.com")
	wantAccount(t, seen[bob.User.ID], false, "", "")
	wantAccount(t, seen[e.me(t, root.AccessToken).ID], false, "", "")
}

func TestProfilePatchRefusesTheAccountFields(t *testing.T) {
	e := newEnv(t)
	alice := e.register(t, "alice", "alice@example.com", alicePassword)
	auth := bearer(alice.AccessToken)
	for field, body := range map[string]map[string]any{
		"username":     {"username": "x"},
		"email":        {"nickname": "Al", "email": "eve@example.com"},
		"has_password": {"nickname": "Al", "has_password": false},
	} {
		res := e.api.JSON("PATCH", "/v1/me", body, auth)
		if p := wantProblemFields(t, res, http.StatusBadRequest, domain.CodeInvalid); p["body."+field] != "unknown_field" {
			t.Errorf("PATCH with %s: fields %v, want body.%s unknown_field", field, p, field)
		}
	}
	me := e.me(t, alice.AccessToken)
	wantAccount(t, me, true, "alice", "alice@example.com")
	if me.Nickname == "Al" {
		t.Errorf("a refused patch changed the nickname")
	}
}
