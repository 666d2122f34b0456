package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/miniback/miniback/adapters/jwx"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
)

// admin logs in with code, is granted admin as the command line does, and
// refreshes to get a token carrying the role.
func (e *env) admin(t *testing.T, code string) loginResponse {
	t.Helper()
	l := e.login(t, code)
	if _, err := e.cli().Grant(context.Background(), domain.UserID(l.User.ID)); err != nil {
		t.Fatal(err)
	}
	return refreshed(t, e.api, l.RefreshToken)
}

type userPage struct {
	Items      []user `json:"items"`
	NextCursor string `json:"next_cursor"`
}

func listUsers(t *testing.T, e *env, access string, query url.Values) userPage {
	t.Helper()
	res := e.api.Get("/v1/admin/users?"+query.Encode(), bearer(access))
	if res.Status != http.StatusOK {
		t.Fatalf("GET /v1/admin/users?%s: want 200\n%s", query.Encode(), res)
	}
	var p userPage
	res.Decode(&p)
	return p
}

func (e *env) nickname(t *testing.T, l loginResponse, name string) {
	t.Helper()
	if res := e.api.JSON("PATCH", "/v1/me", map[string]string{"nickname": name}, bearer(l.AccessToken)); res.Status != http.StatusOK {
		t.Fatal(res)
	}
}

func TestOnlyAdminsListUsers(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	wantProblem(t, e.api.Get("/v1/admin/users", bearer(l.AccessToken)), http.StatusForbidden, domain.CodeForbidden)
	wantProblem(t, e.api.Get("/v1/admin/users?cursor=garbage", bearer(l.AccessToken)), http.StatusForbidden, domain.CodeForbidden)
	wantProblem(t, e.api.Get("/v1/admin/users"), http.StatusUnauthorized, domain.CodeTokenMissing)

	// The grant reaches the user's requests with the next token.
	if _, err := (app.Admin{Users: e.users}).Grant(context.Background(), domain.UserID(l.User.ID)); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, e.api.Get("/v1/admin/users", bearer(l.AccessToken)), http.StatusForbidden, domain.CodeForbidden)
	next := refreshed(t, e.api, l.RefreshToken)
	if c := claimsOf(t, next.AccessToken); c["role"] != "admin" {
		t.Fatalf("role claim %v after the grant, want admin", c["role"])
	}
	page := listUsers(t, e, next.AccessToken, nil)
	if len(page.Items) != 1 || page.Items[0].Role != "admin" || page.NextCursor != "" {
		t.Errorf("page %+v: want alice, an admin, alone", page)
	}
}

func TestAdminSearchesUsersAndPagesWithAnOpaqueCursor(t *testing.T) {
	e := newEnv(t)
	root := e.admin(t, "dev-root")
	for _, name := range []string{"Alice", "alina", "Bob", "Malice"} {
		e.nickname(t, e.login(t, "dev-"+strings.ToLower(name)), name)
	}
	names := func(p userPage) string {
		var ns []string
		for _, u := range p.Items {
			ns = append(ns, u.Nickname)
		}
		return strings.Join(ns, ",")
	}
	if got := names(listUsers(t, e, root.AccessToken, url.Values{"q": {"ALI"}})); got != "Malice,alina,Alice" {
		t.Errorf("search ALI: %s", got)
	}
	if got := names(listUsers(t, e, root.AccessToken, url.Values{"role": {"admin"}})); got != "" {
		t.Errorf("admins: %q, want the root user (no nickname)", got)
	}

	var pages []string
	q := url.Values{"limit": {"2"}}
	for range 10 {
		p := listUsers(t, e, root.AccessToken, q)
		pages = append(pages, names(p))
		if p.NextCursor == "" {
			break
		}
		q.Set("cursor", p.NextCursor)
	}
	if got := strings.Join(pages, " | "); got != "Malice,Bob | alina,Alice | " {
		t.Errorf("pages %q", got)
	}
}

func TestAdminListRefusesBadQueries(t *testing.T) {
	e := newEnv(t)
	root := e.admin(t, "dev-root")
	for _, tc := range []struct{ query, field string }{
		{"limit=0", "query.limit"},
		{"limit=101", "query.limit"},
		{"limit=ten", "query.limit"},
		{"role=root", "query.role"},
		{"cursor=not-a-cursor", "query.cursor"},
		{"cursor=eyJ0IjoiMjAyNi0wMS0wMVQwMDowMDowMFoiLCJpIjoibm9wZSJ9", "query.cursor"}, // well-formed, no UUID
		{"q=" + strings.Repeat("a", 65), "query.q"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			res := e.apiFor(t).Get("/v1/admin/users?"+tc.query, bearer(root.AccessToken))
			wantProblem(t, res, http.StatusBadRequest, domain.CodeInvalid)
			if codes := fieldCodes(res.Problem()); codes[tc.field] == "" {
				t.Errorf("no field error for %s: %v", tc.field, codes)
			}
		})
	}
}

type jwkSet struct {
	Keys []map[string]any `json:"keys"`
}

func getJWKS(t *testing.T, i *instance) jwkSet {
	t.Helper()
	res := i.api.Get("/.well-known/jwks.json")
	if res.Status != http.StatusOK {
		t.Fatalf("want 200\n%s", res)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=300" {
		t.Errorf("Cache-Control %q", cc)
	}
	var set jwkSet
	if err := json.Unmarshal(res.Body, &set); err != nil {
		t.Fatal(err)
	}
	return set
}

func kids(set jwkSet) []string {
	var out []string
	for _, k := range set.Keys {
		out = append(out, k["kid"].(string))
	}
	return out
}

func TestJWKSPublishesOnlyThePublicKeys(t *testing.T) {
	e := newEnv(t)
	set := getJWKS(t, &instance{api: e.api})
	if len(set.Keys) != 1 {
		t.Fatalf("keys %v", set.Keys)
	}
	k := set.Keys[0]
	if k["kid"] != e.keys[0].ID() || k["alg"] != "EdDSA" || k["kty"] != "OKP" || k["use"] != "sig" || k["x"] == nil {
		t.Errorf("key %v", k)
	}
	if _, ok := k["d"]; ok {
		t.Error("the JWK Set holds a private key")
	}
	// A token's kid names a published key.
	l := e.login(t, "dev-alice")
	hdr := strings.Split(l.AccessToken, ".")[0]
	if !strings.Contains(string(decodeSegment(t, hdr)), e.keys[0].ID()) {
		t.Error("the access token's kid is not the published key's")
	}
}

// TestKeyRotationThroughTheAPI rolls a new signing key out over three
// deployments of the same database: the old key alone; the new key signing
// with the old one still verifying; the new key alone.
func TestKeyRotationThroughTheAPI(t *testing.T) {
	oldKey, newKey := generateKey(t), generateKey(t)
	e := newEnv(t, withKeys(oldKey))
	before := &instance{api: e.api}
	during := e.newInstance(t, []jwx.Key{newKey, oldKey})
	after := e.newInstance(t, []jwx.Key{newKey})

	l := e.login(t, "dev-alice") // signed with the old key
	if got := kids(getJWKS(t, during)); len(got) != 2 || got[0] != newKey.ID() || got[1] != oldKey.ID() {
		t.Errorf("JWKS during the rotation lists %v, want the new and the old key", got)
	}

	// Rotating logs nobody out: old tokens verify while the old key is kept.
	if res := during.api.Get("/v1/me", bearer(l.AccessToken)); res.Status != http.StatusOK {
		t.Fatalf("an old token is refused while the old key is kept\n%s", res)
	}
	// The new key signs, and refresh tokens (not signed) carry over.
	next := refreshed(t, during.api, l.RefreshToken)
	if hdr := decodeSegment(t, strings.Split(next.AccessToken, ".")[0]); !strings.Contains(string(hdr), newKey.ID()) {
		t.Errorf("the token issued during the rotation is not signed with the new key: %s", hdr)
	}
	if res := during.api.Get("/v1/me", bearer(next.AccessToken)); res.Status != http.StatusOK {
		t.Fatalf("a new token is refused\n%s", res)
	}
	// A deployment that does not know the new key yet refuses its tokens:
	// roll the new key out as a verifier everywhere before it signs.
	wantProblem(t, before.api.Get("/v1/me", bearer(next.AccessToken)), http.StatusUnauthorized, domain.CodeTokenInvalid)

	// Removing the old key invalidates the tokens it signed, only those.
	if got := kids(getJWKS(t, after)); len(got) != 1 || got[0] != newKey.ID() {
		t.Errorf("JWKS after the rotation lists %v", got)
	}
	other := e.login(t, "dev-bob") // signed with the old key
	wantProblem(t, after.api.Get("/v1/me", bearer(other.AccessToken)), http.StatusUnauthorized, domain.CodeTokenInvalid)
	if res := after.api.Get("/v1/me", bearer(next.AccessToken)); res.Status != http.StatusOK {
		t.Fatalf("a new-key token is refused after the old key's removal\n%s", res)
	}
	// Its owner refreshes and is back, signed with the new key.
	back := refreshed(t, after.api, other.RefreshToken)
	if res := after.api.Get("/v1/me", bearer(back.AccessToken)); res.Status != http.StatusOK {
		t.Fatalf("refreshed token refused\n%s", res)
	}
}

func generateKey(t *testing.T) jwx.Key {
	t.Helper()
	p, err := jwx.GenerateEd25519PEM()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := jwx.ParsePrivateKeysPEM(p)
	if err != nil {
		t.Fatal(err)
	}
	return keys[0]
}

func TestAdminSearchFindsPasswordAccountsByUsernameOrEmail(t *testing.T) {
	e := newEnv(t)
	root := e.admin(t, "dev-root")
	carol := e.register(t, "carol_k", "Carol@Example.com", alicePassword)
	e.register(t, "dave", "dave@example.org", bobPassword)
	ids := func(p userPage) []string {
		var out []string
		for _, u := range p.Items {
			out = append(out, u.ID)
		}
		return out
	}
	for _, q := range []string{"CAROL_", "example.com", "carol@example"} {
		got := ids(listUsers(t, e, root.AccessToken, url.Values{"q": {q}}))
		if len(got) != 1 || got[0] != carol.User.ID {
			t.Errorf("search %q found %v, want only carol (%s)", q, got, carol.User.ID)
		}
	}
	if got := ids(listUsers(t, e, root.AccessToken, url.Values{"q": {"example"}})); len(got) != 2 {
		t.Errorf("search example found %v, want carol and dave", got)
	}
}
