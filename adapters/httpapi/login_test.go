package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/domain"
)

func TestLoginWithDevCodeReturnsTokenAndNewUser(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	if l.AccessToken == "" || l.TokenType != "Bearer" || l.ExpiresIn != int(tokenTTL.Seconds()) {
		t.Errorf("token %q, type %q, expires_in %d; want a Bearer token for %d s", l.AccessToken, l.TokenType, l.ExpiresIn, int(tokenTTL.Seconds()))
	}
	if !l.IsNewUser {
		t.Error("is_new_user is false on the first login")
	}
	if l.User.ID == "" || l.User.CreatedAt.IsZero() || time.Since(l.User.CreatedAt) > time.Minute {
		t.Errorf("user %+v: want a fresh user", l.User)
	}
}

func TestLoginAgainIsNotNewUserAndKeepsTheUser(t *testing.T) {
	e := newEnv(t)
	first := e.login(t, "dev-alice")
	second := e.login(t, "dev-alice")
	if !first.IsNewUser || second.IsNewUser {
		t.Errorf("is_new_user: %t then %t, want true then false", first.IsNewUser, second.IsNewUser)
	}
	if first.User.ID != second.User.ID {
		t.Errorf("second login gave user %s, want %s", second.User.ID, first.User.ID)
	}
	if other := e.login(t, "dev-bob"); other.User.ID == first.User.ID || !other.IsNewUser {
		t.Errorf("another WeChat user got user %s (new: %t)", other.User.ID, other.IsNewUser)
	}
}

func TestLoginNeverSendsTheSessionKey(t *testing.T) {
	e := newEnv(t)
	res := e.api.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-alice"})
	if res.Status != http.StatusOK {
		t.Fatalf("want 200\n%s", res)
	}
	if strings.Contains(string(res.Body), "session_key") {
		t.Errorf("login response names a session_key:\n%s", res.Body)
	}
	e.seen.mu.Lock()
	n := len(e.seen.sessionKeys)
	e.seen.mu.Unlock()
	if n != 1 {
		t.Fatalf("WeChat handed out %d session keys, want 1", n)
	}
	// checkInvariants then looks for the key in every body and the log.
}

func TestWeChatRefusalsAnswerTheirOwnStatusAndCode(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		code       string
		status     int
		problem    domain.Code
		retryAfter string // "" when the header must be absent
	}{
		{"err-40029", http.StatusUnauthorized, domain.CodeWeChatCodeInvalid, ""},
		{"err-40163", http.StatusUnauthorized, domain.CodeWeChatCodeUsed, ""},
		{"err-45011", http.StatusTooManyRequests, domain.CodeWeChatRateLimited, "60"},
		{"err-40226", http.StatusForbidden, domain.CodeWeChatUserBlocked, ""},
		{"err-busy", http.StatusServiceUnavailable, domain.CodeWeChatBusy, "2"},
		{"err-malformed", http.StatusBadGateway, domain.CodeWeChatBadResponse, ""},
		{"err-500", http.StatusBadGateway, domain.CodeWeChatBadResponse, ""},
	} {
		t.Run(tc.code, func(t *testing.T) {
			res := e.apiFor(t).JSON("POST", "/v1/auth/wechat", map[string]string{"code": tc.code})
			if res.Status != tc.status {
				t.Fatalf("want %d\n%s", tc.status, res)
			}
			if p := res.Problem(); p.Code != string(tc.problem) || p.Detail == nil || *p.Detail == "" {
				t.Errorf("problem code %q, detail %v; want %q with a detail", p.Code, p.Detail, tc.problem)
			}
			if got := res.Header.Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tc.retryAfter)
			}
			if tc.status == http.StatusUnauthorized && res.Header.Get("WWW-Authenticate") != `Bearer realm="miniback"` {
				t.Errorf("WWW-Authenticate %q, want a Bearer challenge", res.Header.Get("WWW-Authenticate"))
			}
		})
	}
}

func TestSlowWeChatIsGatewayTimeout(t *testing.T) {
	e := newEnv(t, withWeChatTimeout(200*time.Millisecond))
	start := time.Now()
	res := e.api.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "err-slow"})
	if res.Status != http.StatusGatewayTimeout || res.Problem().Code != string(domain.CodeWeChatTimeout) {
		t.Fatalf("want 504 wechat_timeout\n%s", res)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s; the WeChat timeout is 200ms", d)
	}
}

func TestUnreachableWeChatIsServiceUnavailable(t *testing.T) {
	e := newEnv(t)
	if err := e.sim.Close(); err != nil {
		t.Fatal(err)
	}
	res := e.api.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-alice"})
	if res.Status != http.StatusServiceUnavailable || res.Problem().Code != string(domain.CodeWeChatUnreachable) {
		t.Fatalf("want 503 wechat_unreachable\n%s", res)
	}
	if res.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After on a 503")
	}
}

func TestSeveralAppsRequireAnAppID(t *testing.T) {
	e := newEnv(t, withApps(appA, appB))
	res := e.api.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-alice"})
	if res.Status != http.StatusBadRequest {
		t.Fatalf("want 400\n%s", res)
	}
	p := res.Problem()
	if p.Code != string(domain.CodeAppIDRequired) || p.Errors == nil || (*p.Errors)[0].Field != "body.appid" {
		t.Errorf("want appid_required naming body.appid, got %+v", p)
	}
}

func TestUnknownAppIDIsRefused(t *testing.T) {
	for name, opts := range map[string][]option{
		"one app":      nil,
		"several apps": {withApps(appA, appB)},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, opts...)
			res := e.api.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-alice", "appid": "wx0000000000000bad"})
			if res.Status != http.StatusBadRequest || res.Problem().Code != string(domain.CodeUnknownApp) {
				t.Fatalf("want 400 unknown_app\n%s", res)
			}
		})
	}
}

func TestSameWeChatUserOfTwoAppsIsTwoUsers(t *testing.T) {
	e := newEnv(t, withApps(appA, appB))
	var ids []string
	for _, appID := range []string{appA, appB} {
		res := e.api.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-alice", "appid": appID})
		if res.Status != http.StatusOK {
			t.Fatalf("login to %s: want 200\n%s", appID, res)
		}
		var l loginResponse
		res.Decode(&l)
		ids = append(ids, l.User.ID)
	}
	if ids[0] == ids[1] {
		t.Errorf("both apps logged in user %s; openids are per app", ids[0])
	}
}
