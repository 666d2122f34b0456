package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/domain"
)

// gateway returns the headers WeChat Cloud Hosting's gateway adds to a
// wx.cloud.callContainer call of name in app, plus extra ("Name: value";
// an empty value removes a header).
func gateway(app, name string, extra ...string) []string {
	return append([]string{
		"X-WX-SOURCE: wx_client",
		"X-WX-ENV: prod-1a2b3c",
		"X-WX-APPID: " + app,
		"X-WX-OPENID: " + wechatsim.OpenID(app, name),
	}, extra...)
}

// cloudRunLogin calls POST /v1/auth/cloudrun as callContainer does (no
// body) and returns the login, failing unless it answers 200.
func (e *env) cloudRunLogin(t *testing.T, headers ...string) loginResponse {
	t.Helper()
	res := e.api.JSON("POST", "/v1/auth/cloudrun", nil, headers...)
	if res.Status != http.StatusOK {
		t.Fatalf("cloudrun login: want 200\n%s", res)
	}
	var l loginResponse
	res.Decode(&l)
	return l
}

// storedSessionKey reads the session_key column of (app, openid).
func (e *env) storedSessionKey(t *testing.T, app, openID string) string {
	t.Helper()
	var key string
	err := e.db.Pool().QueryRow(context.Background(),
		`SELECT session_key FROM wechat_identities WHERE app_id = $1 AND open_id = $2`, app, openID).Scan(&key)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// userCount counts the users in the database.
func (e *env) userCount(t *testing.T) int {
	t.Helper()
	var n int
	if err := e.db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM users`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCloudRunLoginIsTheUserOfWeChatLoginAndKeepsItsSessionKey(t *testing.T) {
	e := newEnv(t, withCloudRun())
	wx := e.login(t, "dev-alice")
	key := e.storedSessionKey(t, appA, wechatsim.OpenID(appA, "alice"))

	cr := e.cloudRunLogin(t, gateway(appA, "alice")...)
	if cr.User.ID != wx.User.ID || cr.IsNewUser {
		t.Errorf("cloudrun login gave user %s (new: %t), want the wx.login user %s", cr.User.ID, cr.IsNewUser, wx.User.ID)
	}
	if cr.AccessToken == "" || cr.TokenType != "Bearer" || cr.RefreshToken == "" || cr.ExpiresIn != int(tokenTTL.Seconds()) {
		t.Errorf("tokens %+v: want an access and a refresh token like wx.login's", cr)
	}
	if got := e.storedSessionKey(t, appA, wechatsim.OpenID(appA, "alice")); got != key || got == "" {
		t.Error("the cloudrun login replaced the session_key wx.login stored")
	}
	res := e.api.Get("/v1/me", bearer(cr.AccessToken))
	var me user
	res.Decode(&me)
	if res.Status != http.StatusOK || me.ID != wx.User.ID {
		t.Errorf("GET /v1/me with the cloudrun token: want 200 and the user\n%s", res)
	}
	// The refresh token is a session's like any other.
	if res := e.api.JSON("POST", "/v1/auth/refresh", map[string]string{"refresh_token": cr.RefreshToken}); res.Status != http.StatusOK {
		t.Errorf("refreshing the cloudrun session: want 200\n%s", res)
	}
}

func TestCloudRunFirstLoginCreatesTheUserWeChatLoginFindsWithNoSessionKey(t *testing.T) {
	e := newEnv(t, withCloudRun())
	openID := wechatsim.OpenID(appA, "bob")
	cr := e.cloudRunLogin(t, gateway(appA, "bob", "X-WX-UNIONID: "+wechatsim.UnionID("bob"))...)
	if !cr.IsNewUser {
		t.Error("is_new_user is false on the first login")
	}
	if again := e.cloudRunLogin(t, gateway(appA, "bob")...); again.User.ID != cr.User.ID || again.IsNewUser {
		t.Errorf("a second cloudrun login gave user %s (new: %t), want %s", again.User.ID, again.IsNewUser, cr.User.ID)
	}
	if key := e.storedSessionKey(t, appA, openID); domain.SessionKey(key).Known() {
		t.Error("a Cloud Hosting identity was stored with a session_key")
	}
	var union string
	if err := e.db.Pool().QueryRow(context.Background(),
		`SELECT union_id FROM wechat_identities WHERE app_id = $1 AND open_id = $2`, appA, openID).Scan(&union); err != nil {
		t.Fatal(err)
	}
	if union != wechatsim.UnionID("bob") {
		t.Errorf("union_id %q, want the one the gateway sent (kept by the login without one)", union)
	}

	// solo-bob is wx.login's same openid without a unionid.
	wx := e.login(t, "solo-bob")
	if wx.User.ID != cr.User.ID || wx.IsNewUser {
		t.Errorf("wx.login gave user %s (new: %t), want the cloudrun user %s", wx.User.ID, wx.IsNewUser, cr.User.ID)
	}
	if key := e.storedSessionKey(t, appA, openID); !domain.SessionKey(key).Known() {
		t.Error("wx.login stored no session_key over the empty marker")
	}
}

func TestCloudRunResourceSharingLogsInTheCallingMiniProgramsUser(t *testing.T) {
	e := newEnv(t, withCloudRun(), withApps(appA, appB))
	// appB's mini-program calls appA's environment: the user is appB's.
	cr := e.cloudRunLogin(t, gateway(appA, "carol",
		"X-WX-FROM-APPID: "+appB, "X-WX-FROM-OPENID: "+wechatsim.OpenID(appB, "carol"))...)
	res := e.api.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-carol", "appid": appB})
	var wx loginResponse
	res.Decode(&wx)
	if res.Status != http.StatusOK || wx.User.ID != cr.User.ID {
		t.Errorf("wx.login in %s: want the shared-resource user %s\n%s", appB, cr.User.ID, res)
	}
	// The environment's own user is someone else.
	if own := e.cloudRunLogin(t, gateway(appA, "carol")...); own.User.ID == cr.User.ID {
		t.Errorf("%s's user and %s's user are one account", appA, appB)
	}
}

func TestCloudRunRefusesAppIDsNotServedHere(t *testing.T) {
	e := newEnv(t, withCloudRun()) // serves appA only
	for name, headers := range map[string][]string{
		"X-WX-APPID":      gateway(appB, "dave"),
		"X-WX-FROM-APPID": gateway(appA, "dave", "X-WX-FROM-APPID: "+appB, "X-WX-FROM-OPENID: "+wechatsim.OpenID(appB, "dave")),
	} {
		t.Run(name, func(t *testing.T) {
			res := e.apiFor(t).JSON("POST", "/v1/auth/cloudrun", nil, headers...)
			wantProblemFields(t, res, http.StatusBadRequest, domain.CodeUnknownApp)
		})
	}
	if n := e.userCount(t); n != 0 {
		t.Errorf("refused logins made %d users", n)
	}
}

func TestCloudRunRefusesACallWithoutTheGatewaysIdentity(t *testing.T) {
	e := newEnv(t, withCloudRun())
	for _, tc := range []struct {
		name    string
		headers []string
		field   string
	}{
		{"no X-WX-SOURCE", gateway(appA, "erin", "X-WX-SOURCE:"), "header.X-WX-SOURCE"},
		{"no X-WX-OPENID", gateway(appA, "erin", "X-WX-OPENID:"), "header.X-WX-OPENID"},
		{"no X-WX-APPID", gateway(appA, "erin", "X-WX-APPID:"), "header.X-WX-APPID"},
		{"a FROM appid without its openid", gateway(appA, "erin", "X-WX-FROM-APPID: "+appA), "header.X-WX-FROM-OPENID"},
		{"no header at all", nil, "header.X-WX-SOURCE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.apiFor(t).JSON("POST", "/v1/auth/cloudrun", nil, tc.headers...)
			fields := wantProblemFields(t, res, http.StatusUnauthorized, domain.CodeCloudRunIdentityMissing)
			if fields[tc.field] != "required" {
				t.Errorf("fields %v, want %s required", fields, tc.field)
			}
		})
	}
	res := e.api.JSON("POST", "/v1/auth/cloudrun", nil, gateway(appA, "erin", "X-WX-OPENID: o../../etc")...)
	if fields := wantProblemFields(t, res, http.StatusBadRequest, domain.CodeInvalid); fields["header.X-WX-OPENID"] != "invalid_format" {
		t.Errorf("fields %v, want header.X-WX-OPENID invalid_format", fields)
	}
	if n := e.userCount(t); n != 0 {
		t.Errorf("refused logins made %d users", n)
	}
}

func TestCloudRunLoginAcceptsTheJSONBodyCallContainerMaySend(t *testing.T) {
	e := newEnv(t, withCloudRun())
	// callContainer sends Content-Type application/json by default, with
	// whatever data the page passed.
	for _, body := range []any{"", map[string]any{}} {
		res := e.api.JSON("POST", "/v1/auth/cloudrun", body, gateway(appA, "frank")...)
		if res.Status != http.StatusOK {
			t.Errorf("body %#v: want 200\n%s", body, res)
		}
	}
}

func TestCloudRunRouteAnswers404WhenTheModeIsOff(t *testing.T) {
	e := newEnv(t) // the default: Cloud Hosting mode off
	for _, headers := range [][]string{gateway(appA, "alice"), nil} {
		res := e.api.JSON("POST", "/v1/auth/cloudrun", nil, headers...)
		wantProblemFields(t, res, http.StatusNotFound, domain.CodeCloudRunDisabled)
		if p := res.Problem(); p.Detail == nil || *p.Detail == "" {
			t.Errorf("the problem says nothing\n%s", res)
		}
	}
	if n := e.userCount(t); n != 0 {
		t.Errorf("the headers made %d users with the mode off", n)
	}
}

// The identity headers reach no other route, in either mode: without a
// token every secured route still answers 401, and a wx.login is the code's
// user whatever the headers say.
func TestCloudRunHeadersAreIgnoredOnEveryOtherRoute(t *testing.T) {
	for name, opts := range map[string][]option{"mode on": {withCloudRun()}, "mode off": nil} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, opts...)
			api := e.apiFor(t)
			victim := e.login(t, "dev-victim")
			spoof := gateway(appA, "victim", "X-WX-UNIONID: "+wechatsim.UnionID("victim"))
			for _, r := range []struct {
				method, path string
				body         any
			}{
				{"GET", "/v1/me", nil},
				{"GET", "/v1/todos", nil},
				{"POST", "/v1/todos", map[string]string{"title": "spoofed"}},
				{"GET", "/v1/auth/sessions", nil},
				{"POST", "/v1/auth/logout", nil},
			} {
				res := api.JSON(r.method, r.path, r.body, spoof...)
				if res.Status != http.StatusUnauthorized || res.Problem().Code != string(domain.CodeTokenMissing) {
					t.Errorf("%s %s with the gateway's headers and no token: want 401 token_missing\n%s", r.method, r.path, res)
				}
			}
			// A wx.login with another user's headers is the code's user.
			res := api.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-mallory"}, spoof...)
			var l loginResponse
			res.Decode(&l)
			if res.Status != http.StatusOK || l.User.ID == victim.User.ID {
				t.Errorf("wx.login with the victim's headers: want 200 and mallory's own user\n%s", res)
			}
			// With a token, the token's user is the caller, not the headers'.
			res = api.Get("/v1/me", append(spoof, bearer(l.AccessToken))...)
			var me user
			res.Decode(&me)
			if me.ID != l.User.ID {
				t.Errorf("GET /v1/me with mallory's token and the victim's headers answered user %s, want %s", me.ID, l.User.ID)
			}
		})
	}
}
