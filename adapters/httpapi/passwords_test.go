package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/httpapi/apitest"
	"github.com/miniback/miniback/domain"
)

// Passwords that are no English word of any message, so that the leak
// check in checkInvariants can look for them.
const (
	alicePassword = "Tq7-vorpal-sn1cker"
	bobPassword   = "Zx9-jabber-w0cky"
	newPassword   = "Mv4-tulgey-w00d"
)

// register creates a password account and returns the login response.
func (e *env) register(t *testing.T, username, email, password string) loginResponse {
	t.Helper()
	res := e.api.JSON("POST", "/v1/auth/register", map[string]string{"username": username, "email": email, "password": password})
	if res.Status != http.StatusCreated {
		t.Fatalf("register %s: want 201\n%s", username, res)
	}
	var l loginResponse
	res.Decode(&l)
	return l
}

// passwordLogin logs in from the client address ip ("" for the default).
func passwordLogin(t *testing.T, c *apitest.Client, ip, login, password string, headers ...string) *apitest.Response {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"login": login, "password": password})
	req, err := http.NewRequest("POST", "/v1/auth/login", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		req.Header.Set(name, strings.TrimSpace(value))
	}
	if ip != "" {
		req.RemoteAddr = ip + ":4711"
	}
	return c.Do(req)
}

// wantProblemFields checks res is a problem with status and code, and returns
// its field errors as field → code.
func wantProblemFields(t *testing.T, res *apitest.Response, status int, code domain.Code) map[string]string {
	t.Helper()
	if res.Status != status {
		t.Fatalf("want %d %s\n%s", status, code, res)
	}
	p := res.Problem()
	if p.Code != string(code) {
		t.Fatalf("want code %s\n%s", code, res)
	}
	fields := map[string]string{}
	if p.Errors != nil {
		for _, f := range *p.Errors {
			fields[f.Field] = f.Code
		}
	}
	return fields
}

func TestRegisterCreatesAnAccountAndLogsItIn(t *testing.T) {
	e := newEnv(t)
	l := e.register(t, " Alice ", " Alice@Example.com ", alicePassword)
	if l.AccessToken == "" || l.TokenType != "Bearer" || !l.IsNewUser || l.User.ID == "" {
		t.Fatalf("register returned %+v", l)
	}
	res := e.api.Get("/v1/me", bearer(l.AccessToken))
	var me user
	res.Decode(&me)
	if res.Status != http.StatusOK || me.ID != l.User.ID {
		t.Errorf("GET /v1/me with the new token: %s", res)
	}
}

func TestRegisterRefusalsNameTheBrokenRule(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name   string
		body   map[string]string
		fields map[string]string
	}{
		{"a common password", map[string]string{"username": "alice", "email": "a@example.com", "password": "iloveyou2"},
			map[string]string{"body.password": "too_common"}},
		{"the username as password", map[string]string{"username": "alice.smith", "email": "a@example.com", "password": "Alice.Smith"},
			map[string]string{"body.password": "same_as_username"}},
		{"the email as password", map[string]string{"username": "alice", "email": "al@example.com", "password": "AL@example.com"},
			map[string]string{"body.password": "same_as_email"}},
		{"a short password", map[string]string{"username": "alice", "email": "a@example.com", "password": "Tq7-vor"},
			map[string]string{"body.password": "too_short"}},
		{"a long password", map[string]string{"username": "alice", "email": "a@example.com", "password": strings.Repeat("密", 129)},
			map[string]string{"body.password": "too_long"}},
		{"a bad username and email at once", map[string]string{"username": "al ice", "email": "alice", "password": alicePassword},
			map[string]string{"body.username": "invalid_characters", "body.email": "invalid_email"}},
		{"missing fields", map[string]string{"username": "alice"},
			map[string]string{"body.email": "required", "body.password": "required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.apiFor(t).JSON("POST", "/v1/auth/register", tc.body)
			p := wantProblemFields(t, res, http.StatusBadRequest, domain.CodeInvalid)
			if len(p) != len(tc.fields) {
				t.Errorf("fields %v, want %v", p, tc.fields)
			}
			for f, code := range tc.fields {
				if p[f] != code {
					t.Errorf("fields %v, want %s: %s", p, f, code)
				}
			}
		})
	}
	if n := len(e.hasher.verifications()); n != 0 {
		t.Errorf("%d verifications for refused registrations", n)
	}
}

func TestRegisterAcceptsAnEightCharacterChinesePassword(t *testing.T) {
	e := newEnv(t)
	e.register(t, "xiaoming", "xm@example.cn", "我的密码真的很长")
	if res := passwordLogin(t, e.api, "", "xiaoming", "我的密码真的很长"); res.Status != http.StatusOK {
		t.Fatalf("login with the Chinese password: %s", res)
	}
}

func TestTakenUsernameOrEmailIsConflictWhateverTheCase(t *testing.T) {
	e := newEnv(t)
	e.register(t, "alice", "alice@example.com", alicePassword)
	res := e.api.JSON("POST", "/v1/auth/register", map[string]string{"username": "ALICE", "email": "other@example.com", "password": bobPassword})
	if p := wantProblemFields(t, res, http.StatusConflict, domain.CodeUsernameTaken); p["body.username"] != "taken" {
		t.Errorf("fields %v", p)
	}
	res = e.api.JSON("POST", "/v1/auth/register", map[string]string{"username": "bob", "email": " Alice@EXAMPLE.com", "password": bobPassword})
	if p := wantProblemFields(t, res, http.StatusConflict, domain.CodeEmailTaken); p["body.email"] != "taken" {
		t.Errorf("fields %v", p)
	}
	e.register(t, "bob", "bob@example.com", bobPassword) // the refusals left nothing behind
}

func TestPasswordLoginWithUsernameOrEmailInAnyCase(t *testing.T) {
	e := newEnv(t)
	alice := e.register(t, "alice", "alice@example.com", alicePassword)
	for _, name := range []string{"alice", "ALICE", " alice@example.com", "Alice@Example.COM"} {
		res := passwordLogin(t, e.api, "", name, alicePassword)
		if res.Status != http.StatusOK {
			t.Fatalf("login as %q: %s", name, res)
		}
		var l loginResponse
		res.Decode(&l)
		if l.User.ID != alice.User.ID || l.IsNewUser || l.AccessToken == "" {
			t.Errorf("login as %q: %+v", name, l)
		}
		if me := e.api.Get("/v1/me", bearer(l.AccessToken)); me.Status != http.StatusOK {
			t.Errorf("the token does not work: %s", me)
		}
	}
}

// TestUnknownUserAndWrongPasswordAnswerAlike compares everything a client
// sees but the request id: status, headers that matter and the problem.
func TestUnknownUserAndWrongPasswordAnswerAlike(t *testing.T) {
	e := newEnv(t)
	e.register(t, "alice", "alice@example.com", alicePassword)
	wrong := passwordLogin(t, e.api, "", "alice", bobPassword)
	unknownName := passwordLogin(t, e.api, "", "mallory", bobPassword)
	unknownEmail := passwordLogin(t, e.api, "", "mallory@example.com", bobPassword)
	want := wrong.Problem()
	if wrong.Status != http.StatusUnauthorized || want.Code != string(domain.CodeInvalidCredentials) {
		t.Fatalf("wrong password: want 401 invalid_credentials\n%s", wrong)
	}
	for name, res := range map[string]*apitest.Response{"unknown username": unknownName, "unknown email": unknownEmail} {
		got := res.Problem()
		if res.Status != wrong.Status || got.Code != want.Code || got.Title != want.Title || *got.Detail != *want.Detail ||
			got.Type != want.Type || got.Errors != nil ||
			res.Header.Get("WWW-Authenticate") != wrong.Header.Get("WWW-Authenticate") ||
			len(res.Body)-len(*got.RequestId) != len(wrong.Body)-len(*want.RequestId) {
			t.Errorf("%s answers differently from a wrong password:\n%s\nvs\n%s", name, res, wrong)
		}
	}
}

// TestUnknownUserLoginStillRunsAHash: the unknown-user path verifies the
// password against the dummy hash, so it costs what a wrong password does.
func TestUnknownUserLoginStillRunsAHash(t *testing.T) {
	e := newEnv(t)
	e.register(t, "alice", "alice@example.com", alicePassword)
	passwordLogin(t, e.api, "", "mallory", bobPassword)
	passwordLogin(t, e.api, "", "alice", bobPassword)
	v := e.hasher.verifications()
	if len(v) != 2 {
		t.Fatalf("%d hashes verified for two failed logins, want 2", len(v))
	}
	if v[0] != e.hasher.DummyHash() {
		t.Error("the unknown user's login did not verify against the dummy hash")
	}
	if v[1] == e.hasher.DummyHash() {
		t.Error("alice's login verified the dummy hash instead of hers")
	}
}

func TestFailedLoginsAreThrottledPerAccount(t *testing.T) {
	e := newEnv(t, withLoginLimits(3, 100))
	e.register(t, "alice", "alice@example.com", alicePassword)
	e.register(t, "bob", "bob@example.com", bobPassword)
	for range 3 {
		wantProblemFields(t, passwordLogin(t, e.api, "", "alice", bobPassword), http.StatusUnauthorized, domain.CodeInvalidCredentials)
	}
	verified := len(e.hasher.verifications())
	res := passwordLogin(t, e.api, "", "alice", alicePassword) // even the right password
	wantProblemFields(t, res, http.StatusTooManyRequests, domain.CodeTooManyAttempts)
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || s < 1 || s > 900 {
		t.Errorf("Retry-After %q, want the rest of the 15-minute window", res.Header.Get("Retry-After"))
	}
	if len(e.hasher.verifications()) != verified {
		t.Error("a throttled login ran a hash")
	}
	// Unknown names are throttled alike: the 429 tells nothing.
	for range 3 {
		passwordLogin(t, e.api, "", "mallory", bobPassword)
	}
	wantProblemFields(t, passwordLogin(t, e.api, "", "mallory", bobPassword), http.StatusTooManyRequests, domain.CodeTooManyAttempts)
	// Other accounts are not affected.
	if res := passwordLogin(t, e.api, "", "bob", bobPassword); res.Status != http.StatusOK {
		t.Errorf("bob: %s", res)
	}
}

func TestASuccessfulLoginForgetsTheAccountsFailures(t *testing.T) {
	e := newEnv(t, withLoginLimits(3, 100))
	e.register(t, "alice", "alice@example.com", alicePassword)
	for range 3 {
		for range 2 {
			passwordLogin(t, e.api, "", "alice", bobPassword)
		}
		if res := passwordLogin(t, e.api, "", "alice", alicePassword); res.Status != http.StatusOK {
			t.Fatalf("two failures then the right password: %s", res)
		}
	}
}

func TestFailedLoginsAreThrottledPerClientAddress(t *testing.T) {
	e := newEnv(t, withLoginLimits(100, 3))
	e.register(t, "alice", "alice@example.com", alicePassword)
	for _, name := range []string{"a1", "a2", "a3"} {
		wantProblemFields(t, passwordLogin(t, e.api, "198.51.100.7", name, bobPassword), http.StatusUnauthorized, domain.CodeInvalidCredentials)
	}
	wantProblemFields(t, passwordLogin(t, e.api, "198.51.100.7", "alice", alicePassword), http.StatusTooManyRequests, domain.CodeTooManyAttempts)
	if res := passwordLogin(t, e.api, "198.51.100.8", "alice", alicePassword); res.Status != http.StatusOK {
		t.Errorf("another address: %s", res)
	}
}

func TestForwardedForNamesTheClientOnlyBehindATrustedProxy(t *testing.T) {
	const proxy = "10.9.8.7"
	e := newEnv(t, withLoginLimits(100, 2), withTrustedProxies(proxy))
	e.register(t, "alice", "alice@example.com", alicePassword)
	// Behind the trusted proxy, each forwarded client has its own count.
	for _, client := range []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"} {
		for range 2 {
			passwordLogin(t, e.api, proxy, "x-"+client, bobPassword, "X-Forwarded-For: "+client)
		}
	}
	if res := passwordLogin(t, e.api, proxy, "alice", alicePassword, "X-Forwarded-For: 203.0.113.4"); res.Status != http.StatusOK {
		t.Errorf("a fresh client behind the proxy: %s", res)
	}
	// From anyone else the header is ignored: it cannot dodge the count.
	for _, forged := range []string{"203.0.113.5", "203.0.113.6"} {
		passwordLogin(t, e.api, "198.51.100.9", "y-"+forged, bobPassword, "X-Forwarded-For: "+forged)
	}
	res := passwordLogin(t, e.api, "198.51.100.9", "alice", alicePassword, "X-Forwarded-For: 203.0.113.7")
	wantProblemFields(t, res, http.StatusTooManyRequests, domain.CodeTooManyAttempts)
}

func TestThrottleIsSharedByReplicas(t *testing.T) {
	e := newEnv(t, withLoginLimits(2, 100))
	e.register(t, "alice", "alice@example.com", alicePassword)
	other := e.newInstance(t, e.keys).api
	passwordLogin(t, e.api, "", "alice", bobPassword)
	passwordLogin(t, other, "", "alice", bobPassword)
	wantProblemFields(t, passwordLogin(t, other, "", "alice", alicePassword), http.StatusTooManyRequests, domain.CodeTooManyAttempts)
	wantProblemFields(t, passwordLogin(t, e.api, "", "alice", alicePassword), http.StatusTooManyRequests, domain.CodeTooManyAttempts)
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	alice := e.register(t, "alice", "alice@example.com", alicePassword)
	auth := bearer(alice.AccessToken)

	res := e.api.JSON("PUT", "/v1/me/password", map[string]string{"new_password": newPassword}, auth)
	if p := wantProblemFields(t, res, http.StatusBadRequest, domain.CodeInvalid); p["body.current_password"] != "required" {
		t.Errorf("fields %v", p)
	}
	res = e.api.JSON("PUT", "/v1/me/password", map[string]string{"current_password": bobPassword, "new_password": newPassword}, auth)
	wantProblemFields(t, res, http.StatusForbidden, domain.CodeCurrentPasswordIncorrect)
	res = e.api.JSON("PUT", "/v1/me/password", map[string]string{"current_password": alicePassword, "new_password": "qwertyuiop"}, auth)
	if p := wantProblemFields(t, res, http.StatusBadRequest, domain.CodeInvalid); p["body.new_password"] != "too_common" {
		t.Errorf("fields %v", p)
	}
	res = e.api.JSON("PUT", "/v1/me/password", map[string]string{"current_password": alicePassword, "new_password": newPassword, "username": "alice2"}, auth)
	if p := wantProblemFields(t, res, http.StatusBadRequest, domain.CodeInvalid); p["body.username"] != "not_allowed" {
		t.Errorf("fields %v", p)
	}

	res = e.api.JSON("PUT", "/v1/me/password", map[string]string{"current_password": alicePassword, "new_password": newPassword}, auth)
	if res.Status != http.StatusNoContent || len(res.Body) != 0 {
		t.Fatalf("want 204\n%s", res)
	}
	wantProblemFields(t, passwordLogin(t, e.api, "", "alice", alicePassword), http.StatusUnauthorized, domain.CodeInvalidCredentials)
	if res := passwordLogin(t, e.api, "", "alice", newPassword); res.Status != http.StatusOK {
		t.Errorf("login with the new password: %s", res)
	}
}

func TestWrongCurrentPasswordsAreThrottled(t *testing.T) {
	e := newEnv(t, withLoginLimits(2, 100))
	auth := bearer(e.register(t, "alice", "alice@example.com", alicePassword).AccessToken)
	for range 2 {
		res := e.api.JSON("PUT", "/v1/me/password", map[string]string{"current_password": bobPassword, "new_password": newPassword}, auth)
		wantProblemFields(t, res, http.StatusForbidden, domain.CodeCurrentPasswordIncorrect)
	}
	res := e.api.JSON("PUT", "/v1/me/password", map[string]string{"current_password": alicePassword, "new_password": newPassword}, auth)
	wantProblemFields(t, res, http.StatusTooManyRequests, domain.CodeTooManyAttempts)
	if res.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}

func TestAWeChatUserSetsAPasswordAndLogsInWithIt(t *testing.T) {
	e := newEnv(t)
	carol := e.login(t, "dev-carol")
	auth := bearer(carol.AccessToken)

	res := e.api.JSON("PUT", "/v1/me/password", map[string]string{"new_password": newPassword}, auth)
	p := wantProblemFields(t, res, http.StatusBadRequest, domain.CodeInvalid)
	if p["body.username"] != "required" || p["body.email"] != "required" {
		t.Errorf("fields %v, want username and email required with the first password", p)
	}
	res = e.api.JSON("PUT", "/v1/me/password", map[string]string{"new_password": newPassword, "username": "Carol", "email": "carol@example.com"}, auth)
	if res.Status != http.StatusNoContent {
		t.Fatalf("want 204\n%s", res)
	}
	res = passwordLogin(t, e.api, "", "carol", newPassword)
	var l loginResponse
	res.Decode(&l)
	if res.Status != http.StatusOK || l.User.ID != carol.User.ID {
		t.Fatalf("password login of the WeChat user: %s", res)
	}
	// Now the account has a password: changing it takes the current one.
	res = e.api.JSON("PUT", "/v1/me/password", map[string]string{"new_password": alicePassword}, auth)
	wantProblemFields(t, res, http.StatusBadRequest, domain.CodeInvalid)
}

func TestFirstPasswordWithATakenUsernameIsConflict(t *testing.T) {
	e := newEnv(t)
	e.register(t, "alice", "alice@example.com", alicePassword)
	auth := bearer(e.login(t, "dev-carol").AccessToken)
	res := e.api.JSON("PUT", "/v1/me/password", map[string]string{"new_password": newPassword, "username": "alice", "email": "carol@example.com"}, auth)
	wantProblemFields(t, res, http.StatusConflict, domain.CodeUsernameTaken)
}

func TestAccountOperationsNeedAToken(t *testing.T) {
	e := newEnv(t)
	for path, body := range map[string]map[string]string{
		"/v1/me/password": {"new_password": newPassword},
		"/v1/me/wechat":   {"code": "dev-alice"},
	} {
		method := "PUT"
		if path == "/v1/me/wechat" {
			method = "POST"
		}
		wantProblemFields(t, e.api.JSON(method, path, body), http.StatusUnauthorized, domain.CodeTokenMissing)
	}
}

func TestBindWeChatToAPasswordAccount(t *testing.T) {
	e := newEnv(t)
	alice := e.register(t, "alice", "alice@example.com", alicePassword)
	auth := bearer(alice.AccessToken)
	for range 2 { // binding the same WeChat user again is fine
		res := e.api.JSON("POST", "/v1/me/wechat", map[string]string{"code": "dev-alicewx"}, auth)
		var u user
		res.Decode(&u)
		if res.Status != http.StatusOK || u.ID != alice.User.ID {
			t.Fatalf("bind: %s", res)
		}
	}
	l := e.login(t, "dev-alicewx")
	if l.User.ID != alice.User.ID || l.IsNewUser {
		t.Errorf("WeChat login after binding: user %s (new %t), want alice %s", l.User.ID, l.IsNewUser, alice.User.ID)
	}
}

func TestBindWeChatRefusals(t *testing.T) {
	e := newEnv(t)
	e.login(t, "dev-bob") // bob's WeChat user has its own account
	auth := bearer(e.register(t, "alice", "alice@example.com", alicePassword).AccessToken)

	wantProblemFields(t, e.api.JSON("POST", "/v1/me/wechat", map[string]string{"code": "dev-bob"}, auth), http.StatusConflict, domain.CodeWeChatAlreadyBound)
	if res := e.api.JSON("POST", "/v1/me/wechat", map[string]string{"code": "dev-alicewx"}, auth); res.Status != http.StatusOK {
		t.Fatalf("bind: %s", res)
	}
	wantProblemFields(t, e.api.JSON("POST", "/v1/me/wechat", map[string]string{"code": "dev-other"}, auth), http.StatusConflict, domain.CodeWeChatAppAlreadyBound)
	wantProblemFields(t, e.api.JSON("POST", "/v1/me/wechat", map[string]string{"code": "err-40029"}, auth), http.StatusUnauthorized, domain.CodeWeChatCodeInvalid)
	wantProblemFields(t, e.api.JSON("POST", "/v1/me/wechat", map[string]string{"code": "err-45011"}, auth), http.StatusTooManyRequests, domain.CodeWeChatRateLimited)
	wantProblemFields(t, e.api.JSON("POST", "/v1/me/wechat", map[string]string{"code": "dev-x", "appid": "wx0000000000000bad"}, auth), http.StatusBadRequest, domain.CodeUnknownApp)
}

// TestAccountBodiesRefuseFieldsTheyDoNotDeclare: mass assignment. No body
// can set an id, a role, an owner or a WeChat identity.
func TestAccountBodiesRefuseFieldsTheyDoNotDeclare(t *testing.T) {
	e := newEnv(t)
	alice := e.register(t, "alice", "alice@example.com", alicePassword)
	auth := bearer(alice.AccessToken)
	for _, tc := range []struct {
		method, path string
		body         map[string]any
		extra        []string
		headers      []string
	}{
		{"POST", "/v1/auth/register", map[string]any{"username": "eve", "email": "eve@example.com", "password": bobPassword,
			"id": alice.User.ID, "role": "admin", "user_id": alice.User.ID, "hash": "$argon2id$x"}, []string{"id", "role", "user_id", "hash"}, nil},
		{"POST", "/v1/auth/login", map[string]any{"login": "alice", "password": alicePassword, "user_id": alice.User.ID}, []string{"user_id"}, nil},
		{"PUT", "/v1/me/password", map[string]any{"current_password": alicePassword, "new_password": newPassword, "user_id": alice.User.ID, "role": "admin"},
			[]string{"user_id", "role"}, []string{auth}},
		{"POST", "/v1/me/wechat", map[string]any{"code": "dev-eve", "openid": "o-alice", "user_id": alice.User.ID}, []string{"openid", "user_id"}, []string{auth}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			res := e.apiFor(t).JSON(tc.method, tc.path, tc.body, tc.headers...)
			p := wantProblemFields(t, res, http.StatusBadRequest, domain.CodeInvalid)
			for _, f := range tc.extra {
				if p["body."+f] != "unknown_field" {
					t.Errorf("fields %v, want body.%s unknown_field", p, f)
				}
			}
		})
	}
	// Nothing happened: eve does not exist, alice's password is unchanged.
	wantProblemFields(t, passwordLogin(t, e.api, "", "eve", bobPassword), http.StatusUnauthorized, domain.CodeInvalidCredentials)
	if res := passwordLogin(t, e.api, "", "alice", alicePassword); res.Status != http.StatusOK {
		t.Errorf("alice: %s", res)
	}
}

func TestSwitchedOffPasswordAccountsAnswerNotFound(t *testing.T) {
	e := newEnv(t, withoutPasswords())
	wechatUser := e.login(t, "dev-carol") // WeChat login is unaffected
	for _, tc := range []struct {
		method, path string
		body         map[string]string
		headers      []string
	}{
		{"POST", "/v1/auth/register", map[string]string{"username": "alice", "email": "alice@example.com", "password": alicePassword}, nil},
		{"POST", "/v1/auth/login", map[string]string{"login": "alice", "password": alicePassword}, nil},
		{"PUT", "/v1/me/password", map[string]string{"new_password": newPassword, "username": "carol", "email": "c@example.com"}, []string{bearer(wechatUser.AccessToken)}},
	} {
		res := e.api.JSON(tc.method, tc.path, tc.body, tc.headers...)
		wantProblemFields(t, res, http.StatusNotFound, domain.CodePasswordAuthDisabled)
	}
	if n := len(e.hasher.verifications()); n != 0 {
		t.Errorf("%d hashes verified while switched off", n)
	}
}

// loginAs logs in with a password and returns the login response.
func loginAs(t *testing.T, c *apitest.Client, login, password string) loginResponse {
	t.Helper()
	res := passwordLogin(t, c, "", login, password)
	if res.Status != http.StatusOK {
		t.Fatalf("login as %s: want 200\n%s", login, res)
	}
	var l loginResponse
	res.Decode(&l)
	return l
}

func TestRegisterAndPasswordLoginStartSessionsThatRefresh(t *testing.T) {
	e := newEnv(t)
	reg := e.register(t, "alice", "alice@example.com", alicePassword)
	login := loginAs(t, e.api, "alice", alicePassword)
	for name, l := range map[string]loginResponse{"register": reg, "login": login} {
		if l.RefreshToken == "" || l.RefreshExpiresIn <= 0 {
			t.Errorf("%s: no refresh token in %+v", name, l)
		}
		next := refreshed(t, e.api, l.RefreshToken)
		if next.AccessToken == "" || next.RefreshToken == l.RefreshToken {
			t.Errorf("%s: refresh gave %+v", name, next)
		}
	}
	res := e.api.Get("/v1/auth/sessions", bearer(login.AccessToken))
	var list struct {
		Items []struct {
			AppID string `json:"app_id"`
		} `json:"items"`
	}
	res.Decode(&list)
	if res.Status != http.StatusOK || len(list.Items) != 2 || list.Items[0].AppID != "" || list.Items[1].AppID != "" {
		t.Errorf("alice's sessions after register and login: want two, of no mini-program\n%s", res)
	}
}

func TestChangingThePasswordEndsTheOtherSessionsOnEveryReplica(t *testing.T) {
	e := newEnv(t)
	phone := e.register(t, "alice", "alice@example.com", alicePassword)
	laptop := loginAs(t, e.api, "alice", alicePassword)
	other := e.newInstance(t, e.keys) // another replica that knows the laptop's session
	if r := other.api.Get("/v1/me", bearer(laptop.AccessToken)); r.Status != http.StatusOK {
		t.Fatalf("the other replica refuses the laptop: %s", r)
	}

	res := e.api.JSON("PUT", "/v1/me/password", map[string]string{"current_password": alicePassword, "new_password": newPassword}, bearer(phone.AccessToken))
	if res.Status != http.StatusNoContent {
		t.Fatalf("change: %s", res)
	}
	// This replica refuses the laptop at once; the other once it has read
	// the revocation feed.
	wantProblemFields(t, e.api.Get("/v1/me", bearer(laptop.AccessToken)), http.StatusUnauthorized, domain.CodeSessionRevoked)
	if err := other.revs.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantProblemFields(t, other.api.Get("/v1/me", bearer(laptop.AccessToken)), http.StatusUnauthorized, domain.CodeSessionRevoked)
	wantProblemFields(t, refresh(e.api, laptop.RefreshToken), http.StatusUnauthorized, domain.CodeSessionRevoked)
	// The phone, which changed it, goes on.
	if r := e.api.Get("/v1/me", bearer(phone.AccessToken)); r.Status != http.StatusOK {
		t.Errorf("the caller's own session ended: %s", r)
	}
	refreshed(t, e.api, phone.RefreshToken)
}

func TestAFailedPasswordChangeEndsNoSession(t *testing.T) {
	e := newEnv(t)
	phone := e.register(t, "alice", "alice@example.com", alicePassword)
	laptop := loginAs(t, e.api, "alice", alicePassword)
	res := e.api.JSON("PUT", "/v1/me/password", map[string]string{"current_password": bobPassword, "new_password": newPassword}, bearer(phone.AccessToken))
	wantProblemFields(t, res, http.StatusForbidden, domain.CodeCurrentPasswordIncorrect)
	if r := e.api.Get("/v1/me", bearer(laptop.AccessToken)); r.Status != http.StatusOK {
		t.Errorf("a refused change ended the laptop's session: %s", r)
	}
}

func TestTheThrottleLiftsWhenItsWindowEnds(t *testing.T) {
	e := newEnv(t, withLoginLimits(2, 100))
	e.register(t, "alice", "alice@example.com", alicePassword)
	for range 2 {
		passwordLogin(t, e.api, "", "alice", bobPassword)
	}
	res := passwordLogin(t, e.api, "", "alice", alicePassword)
	wantProblemFields(t, res, http.StatusTooManyRequests, domain.CodeTooManyAttempts)
	wait, _ := strconv.Atoi(res.Header.Get("Retry-After"))
	e.clock.Advance(time.Duration(wait) * time.Second)
	if res := passwordLogin(t, e.api, "", "alice", alicePassword); res.Status != http.StatusOK {
		t.Errorf("after Retry-After (%d s): %s", wait, res)
	}
}
