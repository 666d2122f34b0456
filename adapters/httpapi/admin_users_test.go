package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
)

// cli is the use-case `miniback admin grant` runs, on the test database.
func (e *env) cli() app.Admin {
	audit := &app.Audit{Log: e.adminStore, Clock: e.clock}
	return app.Admin{Users: e.users, Store: e.adminStore, Audit: audit, Clock: e.clock}
}

// idOf is the user id of a login (a refresh's answer carries no user).
func idOf(t *testing.T, l loginResponse) string {
	t.Helper()
	if l.User.ID != "" {
		return l.User.ID
	}
	return claimsOf(t, l.AccessToken)["sub"].(string)
}

type adminUserBody struct {
	User   user `json:"user"`
	Wechat []struct {
		AppID       string    `json:"app_id"`
		OpenID      string    `json:"openid"`
		CreatedAt   time.Time `json:"created_at"`
		LastLoginAt time.Time `json:"last_login_at"`
	} `json:"wechat"`
	Disabled       bool   `json:"disabled"`
	DisabledReason string `json:"disabled_reason"`
	DisabledBy     string `json:"disabled_by"`
	Counts         struct {
		Tasks          int `json:"tasks"`
		Uploads        int `json:"uploads"`
		ActiveSessions int `json:"active_sessions"`
	} `json:"counts"`
}

type adminSessionBody struct {
	ID        string `json:"id"`
	AppID     string `json:"app_id"`
	UserAgent string `json:"user_agent"`
	Active    bool   `json:"active"`
	EndReason string `json:"end_reason"`
}

type adminSessionPage struct {
	Items      []adminSessionBody `json:"items"`
	NextCursor string             `json:"next_cursor"`
}

type auditBody struct {
	ID            string         `json:"id"`
	ActorID       string         `json:"actor_id"`
	Action        string         `json:"action"`
	TargetKind    string         `json:"target_kind"`
	TargetID      string         `json:"target_id"`
	Details       map[string]any `json:"details"`
	ClientAddress string         `json:"client_address"`
	RequestID     string         `json:"request_id"`
}

type auditPage struct {
	Items      []auditBody `json:"items"`
	NextCursor string      `json:"next_cursor"`
}

// adminGet GETs path with the admin's token, wanting 200, into out.
func adminGet(t *testing.T, e *env, access, path string, out any) {
	t.Helper()
	res := e.api.Get(path, bearer(access))
	if res.Status != http.StatusOK {
		t.Fatalf("GET %s: want 200\n%s", path, res)
	}
	res.Decode(out)
}

// adminDo sends method path (JSON body when not nil) with the admin's
// token and request id, wanting status, and decodes a body into out.
func adminDo(t *testing.T, e *env, access, method, path string, body any, status int, out any) {
	t.Helper()
	res := e.api.JSON(method, path, body, bearer(access), "X-Request-Id: req-"+strings.ReplaceAll(strings.Trim(path, "/"), "/", "-"))
	if res.Status != status {
		t.Fatalf("%s %s: want %d\n%s", method, path, status, res)
	}
	if out != nil {
		res.Decode(out)
	}
}

func audit(t *testing.T, e *env, access string, q url.Values) auditPage {
	t.Helper()
	var p auditPage
	adminGet(t, e, access, "/v1/admin/audit?"+q.Encode(), &p)
	return p
}

func TestAdminSearchFindsTheUserByEachFieldAndMiniProgram(t *testing.T) {
	e := newEnv(t, withApps(appA, appB))
	loginIn := func(code string, app domain.AppID) loginResponse {
		res := e.api.JSON("POST", "/v1/auth/wechat", map[string]string{"code": code, "appid": string(app)})
		if res.Status != http.StatusOK {
			t.Fatalf("login %s in %s\n%s", code, app, res)
		}
		var l loginResponse
		res.Decode(&l)
		return l
	}
	root := loginIn("dev-root", appA)
	if _, err := e.cli().Grant(context.Background(), domain.UserID(idOf(t, root))); err != nil {
		t.Fatal(err)
	}
	root = refreshed(t, e.api, root.RefreshToken)
	alice := loginIn("dev-alice", appA)
	e.nickname(t, alice, "Alice Liddell")
	decodePhoneUser(t, e.bindPhone(alice.AccessToken, "phone-13800138000"))
	bob := loginIn("dev-bob", appB)
	carol := e.register(t, "carol_k", "carol@example.com", alicePassword)

	ids := func(q url.Values) string {
		var out []string
		for _, u := range listUsers(t, e, root.AccessToken, q).Items {
			out = append(out, u.ID)
		}
		return strings.Join(out, ",")
	}
	for _, tt := range []struct {
		name string
		q    url.Values
		want string
	}{
		{"nickname", url.Values{"q": {"liddell"}}, alice.User.ID},
		{"username", url.Values{"q": {"CAROL_K"}}, carol.User.ID},
		{"email", url.Values{"q": {"carol@example.com"}}, carol.User.ID},
		{"phone", url.Values{"q": {"+86 138-0013-8000"}}, alice.User.ID},
		{"id", url.Values{"q": {strings.ToUpper(idOf(t, bob))}}, idOf(t, bob)},
		{"mini-program", url.Values{"app_id": {string(appB)}}, idOf(t, bob)},
		{"mini-program and text", url.Values{"app_id": {string(appA)}, "q": {"alice"}}, alice.User.ID},
		{"mini-program and role", url.Values{"app_id": {string(appA)}, "role": {"admin"}}, idOf(t, root)},
		{"another mini-program's user", url.Values{"app_id": {string(appB)}, "q": {"alice"}}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := ids(tt.q); got != tt.want {
				t.Errorf("found %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAdminSeesAUsersLoginMethodsCountsAndNoSecret(t *testing.T) {
	e := newEnv(t)
	root := e.admin(t, "dev-root")
	alice := e.login(t, "dev-alice")
	e.login(t, "dev-alice") // a second session
	e.newTask(t, alice.AccessToken, "one")
	e.newTask(t, alice.AccessToken, "two")
	e.readyUpload(t, alice.AccessToken, "attachment", "application/pdf", []byte("%PDF-1.4 a report"))
	if res := e.api.JSON("PUT", "/v1/me/password", map[string]string{"username": "alice_l", "email": "alice@example.com", "new_password": alicePassword}, bearer(alice.AccessToken)); res.Status != http.StatusNoContent {
		t.Fatalf("set password\n%s", res)
	}

	res := e.api.Get("/v1/admin/users/"+alice.User.ID, bearer(root.AccessToken))
	if res.Status != http.StatusOK {
		t.Fatalf("want 200\n%s", res)
	}
	key := e.storedSessionKey(t, string(appA), wechatsim.OpenID(appA, "alice"))
	if key == "" || strings.Contains(string(res.Body), key) || strings.Contains(string(res.Body), "session_key") {
		t.Fatalf("the admin's view shows the session_key\n%s", res)
	}
	var v adminUserBody
	res.Decode(&v)
	if v.User.ID != alice.User.ID || v.Disabled {
		t.Errorf("user %+v", v)
	}
	if len(v.Wechat) != 1 || v.Wechat[0].AppID != string(appA) || v.Wechat[0].OpenID != wechatsim.OpenID(appA, "alice") {
		t.Errorf("wechat logins %+v", v.Wechat)
	}
	var raw struct {
		User struct {
			Username    string `json:"username"`
			Email       string `json:"email"`
			HasPassword bool   `json:"has_password"`
		} `json:"user"`
	}
	res.Decode(&raw)
	if raw.User.Username != "alice_l" || raw.User.Email != "alice@example.com" || !raw.User.HasPassword {
		t.Errorf("password login %+v", raw.User)
	}
	if v.Counts.Tasks != 2 || v.Counts.Uploads != 1 || v.Counts.ActiveSessions != 2 {
		t.Errorf("counts %+v, want 2 tasks, 1 upload, 2 sessions", v.Counts)
	}

	var ups struct {
		Items []map[string]any `json:"items"`
	}
	adminGet(t, e, root.AccessToken, "/v1/admin/users/"+alice.User.ID+"/uploads", &ups)
	if len(ups.Items) != 1 || ups.Items[0]["status"] != "ready" || ups.Items[0]["download_url"] != nil {
		t.Errorf("uploads %v: want the ready one, without a download URL", ups.Items)
	}

	wantProblem(t, e.api.Get("/v1/admin/users/"+alice.User.ID, bearer(alice.AccessToken)), http.StatusForbidden, domain.CodeForbidden)
	wantProblem(t, e.api.Get("/v1/admin/users/00000000-0000-4000-8000-000000000000", bearer(root.AccessToken)), http.StatusNotFound, domain.CodeNotFound)
	wantProblem(t, e.api.Get("/v1/admin/users/00000000-0000-4000-8000-000000000000/sessions", bearer(root.AccessToken)), http.StatusNotFound, domain.CodeNotFound)
	wantProblem(t, e.api.Get("/v1/admin/users/00000000-0000-4000-8000-000000000000/uploads", bearer(root.AccessToken)), http.StatusNotFound, domain.CodeNotFound)
}

func TestAdminEndingASessionRefusesItsTokensOnEveryReplica(t *testing.T) {
	e := newEnv(t)
	other := e.newInstance(t, e.keys)
	root := e.admin(t, "dev-root")
	first := e.login(t, "dev-alice")
	second := e.login(t, "dev-alice")
	base := "/v1/admin/users/" + first.User.ID + "/sessions"

	var page adminSessionPage
	adminGet(t, e, root.AccessToken, base, &page)
	if len(page.Items) != 2 || !page.Items[0].Active || !page.Items[1].Active {
		t.Fatalf("sessions %+v: want two active", page.Items)
	}
	firstID := claimsOf(t, first.AccessToken)["sid"]
	adminDo(t, e, root.AccessToken, "DELETE", base+"/"+firstID.(string), nil, http.StatusNoContent, nil)

	wantProblem(t, e.api.Get("/v1/me", bearer(first.AccessToken)), http.StatusUnauthorized, domain.CodeSessionRevoked)
	if err := other.revs.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, other.api.Get("/v1/me", bearer(first.AccessToken)), http.StatusUnauthorized, domain.CodeSessionRevoked)
	wantProblem(t, refresh(e.api, first.RefreshToken), http.StatusUnauthorized, domain.CodeSessionRevoked)
	if res := other.api.Get("/v1/me", bearer(second.AccessToken)); res.Status != http.StatusOK {
		t.Fatalf("the other session was ended too\n%s", res)
	}
	// Again: nothing to end, still 204. Another user's session: 404.
	adminDo(t, e, root.AccessToken, "DELETE", base+"/"+firstID.(string), nil, http.StatusNoContent, nil)
	wantProblem(t, e.api.JSON("DELETE", "/v1/admin/users/"+idOf(t, root)+"/sessions/"+firstID.(string), nil, bearer(root.AccessToken)),
		http.StatusNotFound, domain.CodeNotFound)

	var ended struct{ Ended int }
	adminDo(t, e, root.AccessToken, "DELETE", base, nil, http.StatusOK, &ended)
	if ended.Ended != 1 {
		t.Errorf("ended %d, want 1", ended.Ended)
	}
	if err := other.revs.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, other.api.Get("/v1/me", bearer(second.AccessToken)), http.StatusUnauthorized, domain.CodeSessionRevoked)
	wantProblem(t, refresh(other.api, second.RefreshToken), http.StatusUnauthorized, domain.CodeSessionRevoked)

	page = adminSessionPage{}
	adminGet(t, e, root.AccessToken, base+"?state=ended&limit=1", &page)
	if len(page.Items) != 1 || page.Items[0].Active || page.Items[0].EndReason != "ended_by_admin" || page.NextCursor == "" {
		t.Fatalf("ended sessions page %+v", page)
	}
	cursor := page.NextCursor
	page = adminSessionPage{}
	adminGet(t, e, root.AccessToken, base+"?state=ended&limit=1&cursor="+cursor, &page)
	if len(page.Items) != 1 || page.Items[0].EndReason != "ended_by_admin" || page.NextCursor != "" {
		t.Fatalf("second page %+v", page)
	}
	page = adminSessionPage{}
	adminGet(t, e, root.AccessToken, base+"?state=active", &page)
	if len(page.Items) != 0 {
		t.Errorf("active sessions left: %+v", page.Items)
	}
	// Alice logs in again: the account is not disabled.
	e.login(t, "dev-alice")
}

func TestDisabledUserIsRefusedEveryLoginUntilEnabled(t *testing.T) {
	e := newEnv(t, withCloudRun())
	other := e.newInstance(t, e.keys)
	root := e.admin(t, "dev-root")
	alice := e.login(t, "dev-alice")
	carol := e.register(t, "carol_k", "carol@example.com", alicePassword)

	var v adminUserBody
	adminDo(t, e, root.AccessToken, "POST", "/v1/admin/users/"+alice.User.ID+"/disable", map[string]string{"reason": "  spam  "}, http.StatusOK, &v)
	if !v.Disabled || v.DisabledReason != "spam" || v.DisabledBy != idOf(t, root) || v.Counts.ActiveSessions != 0 {
		t.Errorf("disabled user %+v", v)
	}
	adminDo(t, e, root.AccessToken, "POST", "/v1/admin/users/"+carol.User.ID+"/disable", map[string]string{"reason": "spam"}, http.StatusOK, nil)

	// Existing tokens are refused on every replica; refreshes say why.
	wantProblem(t, e.api.Get("/v1/me", bearer(alice.AccessToken)), http.StatusUnauthorized, domain.CodeSessionRevoked)
	if err := other.revs.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, other.api.Get("/v1/me", bearer(alice.AccessToken)), http.StatusUnauthorized, domain.CodeSessionRevoked)
	wantProblem(t, other.api.Get("/v1/me", bearer(carol.AccessToken)), http.StatusUnauthorized, domain.CodeSessionRevoked)
	wantProblem(t, refresh(e.api, alice.RefreshToken), http.StatusForbidden, domain.CodeAccountDisabled)

	// Every kind of login is refused.
	wantProblem(t, e.api.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-alice"}), http.StatusForbidden, domain.CodeAccountDisabled)
	wantProblem(t, e.api.JSON("POST", "/v1/auth/cloudrun", nil, gateway(string(appA), "alice")...), http.StatusForbidden, domain.CodeAccountDisabled)
	wantProblem(t, passwordLogin(t, e.api, "", "carol_k", alicePassword), http.StatusForbidden, domain.CodeAccountDisabled)
	// A wrong password is still only a wrong password.
	wantProblem(t, passwordLogin(t, e.api, "", "carol_k", bobPassword), http.StatusUnauthorized, domain.CodeInvalidCredentials)

	v = adminUserBody{}
	adminDo(t, e, root.AccessToken, "POST", "/v1/admin/users/"+alice.User.ID+"/enable", nil, http.StatusOK, &v)
	if v.Disabled || v.DisabledReason != "" {
		t.Errorf("enabled user %+v", v)
	}
	back := e.login(t, "dev-alice")
	if res := other.api.Get("/v1/me", bearer(back.AccessToken)); res.Status != http.StatusOK {
		t.Fatalf("the enabled user's new token is refused\n%s", res)
	}
	e.cloudRunLogin(t, gateway(string(appA), "alice")...)
	// The sessions the disabling ended stay ended, like any other.
	wantProblem(t, refresh(e.api, alice.RefreshToken), http.StatusUnauthorized, domain.CodeSessionRevoked)
	// Carol is still disabled.
	wantProblem(t, passwordLogin(t, e.api, "", "carol@example.com", alicePassword), http.StatusForbidden, domain.CodeAccountDisabled)
}

func TestAdminCannotDisableOrDemoteThemself(t *testing.T) {
	e := newEnv(t)
	root := e.admin(t, "dev-root")
	alice := e.login(t, "dev-alice")
	wantProblem(t, e.api.JSON("POST", "/v1/admin/users/"+idOf(t, root)+"/disable", map[string]string{"reason": "oops"}, bearer(root.AccessToken)),
		http.StatusConflict, domain.CodeCannotDisableSelf)
	wantProblem(t, e.api.JSON("DELETE", "/v1/admin/users/"+idOf(t, root)+"/roles/admin", nil, bearer(root.AccessToken)),
		http.StatusConflict, domain.CodeCannotRevokeOwnAdmin)
	wantProblem(t, e.api.JSON("POST", "/v1/admin/users/"+alice.User.ID+"/disable", map[string]string{"reason": " "}, bearer(root.AccessToken)),
		http.StatusBadRequest, domain.CodeInvalid)
	for _, op := range []struct{ method, path string }{
		{"POST", "/disable"}, {"POST", "/enable"}, {"PUT", "/roles/admin"}, {"DELETE", "/roles/admin"},
		{"DELETE", "/sessions"}, {"GET", "/sessions"}, {"GET", "/uploads"}, {"GET", ""},
	} {
		res := e.api.JSON(op.method, "/v1/admin/users/"+idOf(t, root)+op.path, map[string]string{"reason": "x"}, bearer(alice.AccessToken))
		if op.method == "GET" {
			res = e.api.Get("/v1/admin/users/"+idOf(t, root)+op.path, bearer(alice.AccessToken))
		}
		wantProblem(t, res, http.StatusForbidden, domain.CodeForbidden)
	}
	wantProblem(t, e.api.Get("/v1/admin/audit", bearer(alice.AccessToken)), http.StatusForbidden, domain.CodeForbidden)
	// Nothing of that is in the log, only the operator's grant.
	if p := audit(t, e, root.AccessToken, nil); len(p.Items) != 1 || p.Items[0].Action != "user.admin.grant" {
		t.Errorf("audit %+v", p.Items)
	}
}

func TestGrantAndRevokeAdminTakeEffectOnTheNextTokenAndAreAudited(t *testing.T) {
	e := newEnv(t)
	root := e.admin(t, "dev-root")
	bob := e.login(t, "dev-bob")

	var v adminUserBody
	adminDo(t, e, root.AccessToken, "PUT", "/v1/admin/users/"+idOf(t, bob)+"/roles/admin", nil, http.StatusOK, &v)
	if v.User.Role != "admin" {
		t.Errorf("role %q after the grant", v.User.Role)
	}
	adminDo(t, e, root.AccessToken, "PUT", "/v1/admin/users/"+idOf(t, bob)+"/roles/admin", nil, http.StatusOK, nil) // no change, no entry
	wantProblem(t, e.api.Get("/v1/admin/users", bearer(bob.AccessToken)), http.StatusForbidden, domain.CodeForbidden)
	bob = refreshed(t, e.api, bob.RefreshToken)
	listUsers(t, e, bob.AccessToken, nil)

	// Bob, now an admin, takes it from root; root's next token is a user's.
	adminDo(t, e, bob.AccessToken, "DELETE", "/v1/admin/users/"+idOf(t, root)+"/roles/admin", nil, http.StatusOK, &v)
	if v.User.Role != "user" {
		t.Errorf("role %q after the revocation", v.User.Role)
	}
	root = refreshed(t, e.api, root.RefreshToken)
	wantProblem(t, e.api.Get("/v1/admin/users", bearer(root.AccessToken)), http.StatusForbidden, domain.CodeForbidden)

	p := audit(t, e, bob.AccessToken, url.Values{"target_kind": {"user"}})
	var got []string
	for _, it := range p.Items {
		got = append(got, it.Action+" "+it.TargetID)
	}
	want := []string{"user.admin.revoke " + idOf(t, root), "user.admin.grant " + idOf(t, bob), "user.admin.grant " + idOf(t, root)}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("audit %v, want %v", got, want)
	}
	if it := p.Items[0]; it.ActorID != idOf(t, bob) || it.ClientAddress == "" || it.RequestID == "" {
		t.Errorf("revocation entry %+v: want bob, an address and the request id", it)
	}
	if it := p.Items[2]; it.ActorID != "" || it.ClientAddress != "" || it.Details["via"] != "cli" {
		t.Errorf("the operator's grant %+v: want no actor, no address", it)
	}
}

func TestAuditLogListsEachActionWithActorAndAddress(t *testing.T) {
	e := newEnv(t)
	root := e.admin(t, "dev-root")
	alice := e.login(t, "dev-alice")
	sid := claimsOf(t, alice.AccessToken)["sid"].(string)
	e.login(t, "dev-alice")
	u := "/v1/admin/users/" + alice.User.ID
	adminDo(t, e, root.AccessToken, "DELETE", u+"/sessions/"+sid, nil, http.StatusNoContent, nil)
	adminDo(t, e, root.AccessToken, "DELETE", u+"/sessions", nil, http.StatusOK, nil)
	adminDo(t, e, root.AccessToken, "POST", u+"/disable", map[string]string{"reason": "abuse"}, http.StatusOK, nil)
	adminDo(t, e, root.AccessToken, "POST", u+"/enable", nil, http.StatusOK, nil)
	adminDo(t, e, root.AccessToken, "POST", u+"/enable", nil, http.StatusOK, nil) // not disabled: no entry
	adminDo(t, e, root.AccessToken, "PUT", u+"/roles/admin", nil, http.StatusOK, nil)
	adminDo(t, e, root.AccessToken, "DELETE", u+"/roles/admin", nil, http.StatusOK, nil)

	p := audit(t, e, root.AccessToken, url.Values{"actor": {idOf(t, root)}})
	var got []string
	for _, it := range p.Items {
		got = append(got, it.Action)
		if it.ActorID != idOf(t, root) || it.ClientAddress == "" || !strings.HasPrefix(it.RequestID, "req-v1-admin-users-") {
			t.Errorf("entry %+v: want root, an address and the request id", it)
		}
	}
	want := "user.admin.revoke,user.admin.grant,user.enable,user.disable,user.sessions.end,user.session.end"
	if strings.Join(got, ",") != want {
		t.Fatalf("actions %v, want %s", got, want)
	}
	byAction := func(a string) auditBody {
		p := audit(t, e, root.AccessToken, url.Values{"action": {a}})
		if len(p.Items) != 1 {
			t.Fatalf("%s: %d entries", a, len(p.Items))
		}
		return p.Items[0]
	}
	if it := byAction("user.disable"); it.Details["reason"] != "abuse" || it.Details["sessions_ended"] != float64(0) || it.TargetID != alice.User.ID {
		t.Errorf("disable entry %+v", it)
	}
	if it := byAction("user.sessions.end"); it.Details["sessions_ended"] != float64(1) {
		t.Errorf("sessions entry %+v", it)
	}
	if it := byAction("user.session.end"); it.TargetKind != "session" || it.TargetID != sid || it.Details["user_id"] != alice.User.ID {
		t.Errorf("session entry %+v", it)
	}
	if p := audit(t, e, root.AccessToken, url.Values{"target_id": {sid}}); len(p.Items) != 1 {
		t.Errorf("by target: %+v", p.Items)
	}

	// Pages of two, newest first, to the operator's grant at the end.
	var all []string
	q := url.Values{"limit": {"2"}}
	for range 10 {
		p := audit(t, e, root.AccessToken, q)
		for _, it := range p.Items {
			all = append(all, it.Action)
		}
		if p.NextCursor == "" {
			break
		}
		q.Set("cursor", p.NextCursor)
	}
	if strings.Join(all, ",") != want+",user.admin.grant" {
		t.Errorf("paged: %v", all)
	}
	wantProblem(t, e.api.Get("/v1/admin/audit?cursor=nope", bearer(root.AccessToken)), http.StatusBadRequest, domain.CodeInvalid)
	wantProblem(t, e.api.Get("/v1/admin/audit?target_kind=planet", bearer(root.AccessToken)), http.StatusBadRequest, domain.CodeInvalid)

	// No secret in the log: its details are what the actions said.
	b, _ := json.Marshal(all)
	if strings.Contains(string(b), "session_key") {
		t.Error("a session_key in the log")
	}
}
