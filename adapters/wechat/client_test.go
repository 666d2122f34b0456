package wechat_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/wechat"
	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/domain"
)

// Two apps, with secrets that are easy to spot in an error text and that
// need query escaping.
const (
	appA    = domain.AppID("wxaaaaaaaaaaaaaaaa")
	appB    = domain.AppID("wxbbbbbbbbbbbbbbbb")
	secretA = "s3cr3t+A/SECRET-aaaa"
	secretB = "s3cr3t+B/SECRET-bbbb"
)

// startSim serves a simulator that knows appA and appB on a loopback
// listener.
func startSim(t *testing.T, slow time.Duration) (*wechatsim.Simulator, string) {
	t.Helper()
	sim := wechatsim.New(wechatsim.Config{
		Apps:      map[string]string{string(appA): secretA, string(appB): secretB},
		SlowDelay: slow,
	})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv.URL
}

// newClient returns a client for appA and appB against baseURL.
func newClient(t *testing.T, baseURL string, timeout time.Duration) *wechat.Client {
	t.Helper()
	c, err := wechat.NewClient(wechat.Config{
		BaseURL: baseURL,
		Apps:    map[domain.AppID]string{appA: secretA, appB: secretB},
		Timeout: timeout,
	})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// login runs one exchange with a background context.
func login(t *testing.T, c *wechat.Client, app domain.AppID, code string) (domain.WeChatIdentity, error) {
	t.Helper()
	return c.Code2Session(context.Background(), app, code)
}

// domainError asserts err is a *domain.Error and returns it.
func domainError(t *testing.T, err error) *domain.Error {
	t.Helper()
	var e *domain.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want a *domain.Error", err, err)
	}
	return e
}

func TestCode2Session_DevCodeReturnsIdentityWithUnionID(t *testing.T) {
	_, base := startSim(t, 0)
	c := newClient(t, base, 0)

	id, err := login(t, c, appA, "dev-alice")
	if err != nil {
		t.Fatalf("Code2Session: %v", err)
	}
	if id.AppID != appA {
		t.Errorf("AppID = %q, want %q", id.AppID, appA)
	}
	if want := wechatsim.OpenID(string(appA), "alice"); string(id.OpenID) != want {
		t.Errorf("OpenID = %q, want %q", id.OpenID, want)
	}
	if want := wechatsim.UnionID("alice"); string(id.UnionID) != want {
		t.Errorf("UnionID = %q, want %q", id.UnionID, want)
	}
	if len(id.SessionKey.Reveal()) != 24 {
		t.Errorf("SessionKey has %d characters, want 24 (16 bytes in base64)", len(id.SessionKey.Reveal()))
	}
}

func TestCode2Session_SoloCodeReturnsNoUnionID(t *testing.T) {
	_, base := startSim(t, 0)
	c := newClient(t, base, 0)

	solo, err := login(t, c, appA, "solo-alice")
	if err != nil {
		t.Fatalf("Code2Session(solo-alice): %v", err)
	}
	if solo.UnionID != "" {
		t.Errorf("UnionID = %q, want none", solo.UnionID)
	}
	dev, err := login(t, c, appA, "dev-alice")
	if err != nil {
		t.Fatalf("Code2Session(dev-alice): %v", err)
	}
	if solo.OpenID != dev.OpenID {
		t.Errorf("solo-alice OpenID %q differs from dev-alice %q", solo.OpenID, dev.OpenID)
	}
}

func TestCode2Session_DevCodeIsReusableWithStableOpenID(t *testing.T) {
	_, base := startSim(t, 0)
	c := newClient(t, base, 0)

	first, err := login(t, c, appA, "dev-bob")
	if err != nil {
		t.Fatalf("first login: %v", err)
	}
	for i := range 3 {
		again, err := login(t, c, appA, "dev-bob")
		if err != nil {
			t.Fatalf("login %d: %v", i+2, err)
		}
		if again.OpenID != first.OpenID || again.UnionID != first.UnionID {
			t.Errorf("login %d: identity (%q, %q), want (%q, %q)", i+2, again.OpenID, again.UnionID, first.OpenID, first.UnionID)
		}
	}
}

func TestCode2Session_OpenIDDiffersPerAppUnionIDDoesNot(t *testing.T) {
	_, base := startSim(t, 0)
	c := newClient(t, base, 0)

	a, err := login(t, c, appA, "dev-carol")
	if err != nil {
		t.Fatalf("login to %s: %v", appA, err)
	}
	b, err := login(t, c, appB, "dev-carol")
	if err != nil {
		t.Fatalf("login to %s: %v", appB, err)
	}
	if a.OpenID == b.OpenID {
		t.Errorf("both apps gave OpenID %q, want one per app", a.OpenID)
	}
	if a.UnionID != b.UnionID {
		t.Errorf("UnionIDs %q and %q differ, want one across apps", a.UnionID, b.UnionID)
	}
	other, err := login(t, c, appA, "dev-dave")
	if err != nil {
		t.Fatalf("login dev-dave: %v", err)
	}
	if other.OpenID == a.OpenID {
		t.Errorf("dev-dave and dev-carol share OpenID %q", a.OpenID)
	}
}

func TestCode2Session_SessionKeyChangesEachLogin(t *testing.T) {
	_, base := startSim(t, 0)
	c := newClient(t, base, 0)

	seen := map[string]bool{}
	for range 5 {
		id, err := login(t, c, appA, "dev-erin")
		if err != nil {
			t.Fatalf("Code2Session: %v", err)
		}
		k := id.SessionKey.Reveal()
		if seen[k] {
			t.Fatalf("session key repeated after %d logins", len(seen))
		}
		seen[k] = true
	}
}

func TestCode2Session_MapsSimulatedFailuresToDomainCodes(t *testing.T) {
	tests := []struct {
		name  string
		app   domain.AppID
		code  string
		want  domain.Code
		retry time.Duration
	}{
		{"invalid code 40029", appA, "err-40029", domain.CodeWeChatCodeInvalid, 0},
		{"used code 40163", appA, "err-40163", domain.CodeWeChatCodeUsed, 0},
		{"rate limit 45011 retries after a minute", appA, "err-45011", domain.CodeWeChatRateLimited, 60 * time.Second},
		{"high-risk user 40226", appA, "err-40226", domain.CodeWeChatUserBlocked, 0},
		{"busy -1 retries after 2s", appA, "err-busy", domain.CodeWeChatBusy, 2 * time.Second},
		{"unrecognised code is invalid", appA, "nonsense", domain.CodeWeChatCodeInvalid, 0},
		{"empty code is invalid (41008)", appA, "", domain.CodeWeChatCodeInvalid, 0},
		{"truncated JSON is a bad response", appA, "err-malformed", domain.CodeWeChatBadResponse, 0},
		{"HTTP 500 is a bad response", appA, "err-500", domain.CodeWeChatBadResponse, 0},
		{"unknown app is refused locally", "wxcccccccccccccccc", "dev-alice", domain.CodeUnknownApp, 0},
	}
	_, base := startSim(t, 0)
	c := newClient(t, base, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := login(t, c, tt.app, tt.code)
			if err == nil {
				t.Fatalf("Code2Session succeeded with %+v, want %s", id, tt.want)
			}
			e := domainError(t, err)
			if e.Code != tt.want {
				t.Errorf("Code = %s, want %s (err: %v)", e.Code, tt.want, err)
			}
			if e.RetryAfter != tt.retry {
				t.Errorf("RetryAfter = %s, want %s", e.RetryAfter, tt.retry)
			}
			if e.Message == "" {
				t.Error("Message is empty, want a client-safe message")
			}
		})
	}
}

func TestCode2Session_OnceCodeFailsWithCodeUsedOnReuse(t *testing.T) {
	_, base := startSim(t, 0)
	c := newClient(t, base, 0)

	first, err := login(t, c, appA, "once-frank")
	if err != nil {
		t.Fatalf("first use: %v", err)
	}
	if want := wechatsim.OpenID(string(appA), "frank"); string(first.OpenID) != want {
		t.Errorf("OpenID = %q, want %q", first.OpenID, want)
	}
	_, err = login(t, c, appA, "once-frank")
	if got := domain.ErrorCode(err); got != domain.CodeWeChatCodeUsed {
		t.Errorf("reuse: code %s, want %s (err: %v)", got, domain.CodeWeChatCodeUsed, err)
	}
}

func TestCode2Session_WrongSecretIsMisconfigured(t *testing.T) {
	_, base := startSim(t, 0)
	c, err := wechat.NewClient(wechat.Config{BaseURL: base, Apps: map[domain.AppID]string{appA: "not-the-secret"}})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	_, err = c.Code2Session(context.Background(), appA, "dev-alice")
	e := domainError(t, err)
	if e.Code != domain.CodeWeChatMisconfigured {
		t.Errorf("Code = %s, want %s (err: %v)", e.Code, domain.CodeWeChatMisconfigured, err)
	}
	if !strings.Contains(e.Message, "40125") {
		t.Errorf("Message %q does not name errcode 40125", e.Message)
	}
}

func TestCode2Session_UnknownAppNeverCallsWeChat(t *testing.T) {
	sim, base := startSim(t, 0)
	c := newClient(t, base, 0)

	_, err := login(t, c, "wxcccccccccccccccc", "dev-alice")
	if got := domain.ErrorCode(err); got != domain.CodeUnknownApp {
		t.Errorf("code %s, want %s", got, domain.CodeUnknownApp)
	}
	if n := sim.Calls(); n != 0 {
		t.Errorf("simulator got %d calls, want 0", n)
	}
}

func TestCode2Session_SlowWeChatTimesOut(t *testing.T) {
	_, base := startSim(t, 10*time.Second)
	c := newClient(t, base, 200*time.Millisecond)

	start := time.Now()
	_, err := login(t, c, appA, "err-slow")
	elapsed := time.Since(start)

	e := domainError(t, err)
	if e.Code != domain.CodeWeChatTimeout {
		t.Errorf("Code = %s, want %s (err: %v)", e.Code, domain.CodeWeChatTimeout, err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v does not wrap context.DeadlineExceeded", err)
	}
	if elapsed > 2*time.Second {
		t.Errorf("took %s, want about 200ms", elapsed)
	}
}

func TestCode2Session_SlowWeChatWithinTimeoutSucceeds(t *testing.T) {
	_, base := startSim(t, 50*time.Millisecond)
	c := newClient(t, base, 2*time.Second)

	id, err := login(t, c, appA, "err-slow")
	if err != nil {
		t.Fatalf("Code2Session: %v", err)
	}
	if want := wechatsim.OpenID(string(appA), "slow"); string(id.OpenID) != want {
		t.Errorf("OpenID = %q, want %q", id.OpenID, want)
	}
}

func TestCode2Session_CallerCancellationReturnsContextError(t *testing.T) {
	_, base := startSim(t, 10*time.Second)
	c := newClient(t, base, 5*time.Second)

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := c.Code2Session(ctx, appA, "err-slow")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want one wrapping context.Canceled", err)
	}
	var e *domain.Error
	if errors.As(err, &e) {
		t.Errorf("err is a *domain.Error with code %s; a caller's cancellation should not blame WeChat", e.Code)
	}
}

func TestCode2Session_CallerDeadlineIsATimeout(t *testing.T) {
	_, base := startSim(t, 10*time.Second)
	c := newClient(t, base, 5*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Code2Session(ctx, appA, "err-slow")
	if got := domain.ErrorCode(err); got != domain.CodeWeChatTimeout {
		t.Errorf("code %s, want %s (err: %v)", got, domain.CodeWeChatTimeout, err)
	}
}

func TestCode2Session_ClosedServerIsUnreachable(t *testing.T) {
	srv, err := wechatsim.Start("127.0.0.1:0", wechatsim.Config{Apps: map[string]string{string(appA): secretA}})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	base := srv.URL()
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	c := newClient(t, base, time.Second)

	_, err = login(t, c, appA, "dev-alice")
	e := domainError(t, err)
	if e.Code != domain.CodeWeChatUnreachable {
		t.Errorf("Code = %s, want %s (err: %v)", e.Code, domain.CodeWeChatUnreachable, err)
	}
	if e.RetryAfter != 5*time.Second {
		t.Errorf("RetryAfter = %s, want 5s", e.RetryAfter)
	}
}

// replyWith serves body with status for every request.
func replyWith(t *testing.T, status int, contentType, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestCode2Session_MapsRepliesTheSimulatorNeverSends(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   domain.Code // "" means success
	}{
		{"errcode 0 with an identity succeeds", 200, `{"errcode":0,"errmsg":"ok","openid":"oX","session_key":"k"}`, ""},
		{"invalid appid 40013 is misconfigured", 200, `{"errcode":40013,"errmsg":"invalid appid"}`, domain.CodeWeChatMisconfigured},
		{"missing appid 41002 is misconfigured", 200, `{"errcode":41002,"errmsg":"appid missing"}`, domain.CodeWeChatMisconfigured},
		{"missing secret 41004 is misconfigured", 200, `{"errcode":41004,"errmsg":"appsecret missing"}`, domain.CodeWeChatMisconfigured},
		{"unknown errcode is a bad response", 200, `{"errcode":99999,"errmsg":"who knows"}`, domain.CodeWeChatBadResponse},
		{"missing openid is a bad response", 200, `{"session_key":"k"}`, domain.CodeWeChatBadResponse},
		{"missing session_key is a bad response", 200, `{"openid":"oX"}`, domain.CodeWeChatBadResponse},
		{"empty body is a bad response", 200, ``, domain.CodeWeChatBadResponse},
		{"JSON array is a bad response", 200, `[1,2]`, domain.CodeWeChatBadResponse},
		{"oversized body is a bad response", 200, `{"openid":"oX","session_key":"k","pad":"` + strings.Repeat("x", 70<<10) + `"}`, domain.CodeWeChatBadResponse},
		{"HTTP 502 is a bad response", 502, `{"openid":"oX","session_key":"k"}`, domain.CodeWeChatBadResponse},
		{"redirect is not followed", 302, ``, domain.CodeWeChatBadResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, replyWith(t, tt.status, "text/plain", tt.body), 0)
			id, err := login(t, c, appA, "any")
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Code2Session: %v", err)
				}
				if id.OpenID != "oX" || id.SessionKey.Reveal() != "k" || id.UnionID != "" {
					t.Errorf("identity = (%q, %q, %q), want (oX, k, none)", id.OpenID, id.SessionKey.Reveal(), id.UnionID)
				}
				return
			}
			if got := domain.ErrorCode(err); got != tt.want {
				t.Errorf("code %s, want %s (err: %v)", got, tt.want, err)
			}
		})
	}
}

func TestCode2Session_SendsWeChatQueryUnderBasePath(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		_, _ = w.Write([]byte(`{"openid":"oX","session_key":"k"}`))
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL+"/proxy/", 0)

	if _, err := login(t, c, appA, "a code&with=odd chars"); err != nil {
		t.Fatalf("Code2Session: %v", err)
	}
	if got.Method != http.MethodGet || got.URL.Path != "/proxy/sns/jscode2session" {
		t.Errorf("request %s %s, want GET /proxy/sns/jscode2session", got.Method, got.URL.Path)
	}
	want := url.Values{
		"appid": {string(appA)}, "secret": {secretA},
		"js_code": {"a code&with=odd chars"}, "grant_type": {"authorization_code"},
	}
	if q := got.URL.Query(); q.Encode() != want.Encode() {
		t.Errorf("query = %v, want %v", q, want)
	}
}

func TestCode2Session_ErrorsNeverRevealSecretOrSessionKey(t *testing.T) {
	const sessionKey = "SESSIONKEY-0123456789=="
	_, simURL := startSim(t, 10*time.Second)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	tests := []struct {
		name    string
		baseURL string
		code    string
		timeout time.Duration
	}{
		{"WeChat errcode", simURL, "err-40029", 0},
		{"malformed reply", simURL, "err-malformed", 0},
		{"HTTP 500", simURL, "err-500", 0},
		{"timeout", simURL, "err-slow", 100 * time.Millisecond},
		{"connection refused", closed.URL, "dev-alice", time.Second},
		{"reply with a session_key but no openid", replyWith(t, 200, "text/plain", `{"session_key":"`+sessionKey+`"}`), "x", 0},
		{"truncated reply with a session_key", replyWith(t, 200, "text/plain", `{"openid":"oX","session_key":"`+sessionKey), "x", 0},
		{"unknown errcode with a session_key", replyWith(t, 200, "text/plain", `{"errcode":99999,"errmsg":"oops","session_key":"`+sessionKey+`"}`), "x", 0},
		{"HTTP 500 echoing the session_key", replyWith(t, 500, "text/plain", sessionKey), "x", 0},
		{"errmsg echoing the secret", replyWith(t, 200, "text/plain", `{"errcode":40125,"errmsg":"bad secret `+secretA+`"}`), "x", 0},
	}
	secrets := []string{secretA, url.QueryEscape(secretA), sessionKey}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, tt.baseURL, tt.timeout)
			_, err := login(t, c, appA, tt.code)
			if err == nil {
				t.Fatal("Code2Session succeeded, want an error")
			}
			for _, text := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), domainError(t, err).Message} {
				for _, s := range secrets {
					if strings.Contains(text, s) {
						t.Errorf("error text %q reveals %q", text, s)
					}
				}
			}
			var ue *url.Error
			if errors.As(err, &ue) && strings.Contains(ue.URL, "secret") {
				t.Errorf("wrapped *url.Error keeps the query: %q", ue.URL)
			}
		})
	}
}

func TestNewClient_ValidatesConfig(t *testing.T) {
	apps := map[domain.AppID]string{appA: secretA}
	tests := []struct {
		name    string
		cfg     wechat.Config
		wantErr bool
	}{
		{"defaults are valid", wechat.Config{Apps: apps}, false},
		{"http base URL with a path is valid", wechat.Config{BaseURL: "http://127.0.0.1:9/wx", Apps: apps}, false},
		{"non-http scheme is refused", wechat.Config{BaseURL: "ftp://api.weixin.qq.com", Apps: apps}, true},
		{"base URL without host is refused", wechat.Config{BaseURL: "https://", Apps: apps}, true},
		{"relative base URL is refused", wechat.Config{BaseURL: "api.weixin.qq.com", Apps: apps}, true},
		{"unparseable base URL is refused", wechat.Config{BaseURL: "https://a b\x7f", Apps: apps}, true},
		{"base URL with a query is refused", wechat.Config{BaseURL: "https://api.weixin.qq.com?x=1", Apps: apps}, true},
		{"base URL with credentials is refused", wechat.Config{BaseURL: "https://u:p@api.weixin.qq.com", Apps: apps}, true},
		{"no apps is refused", wechat.Config{}, true},
		{"empty secret is refused", wechat.Config{Apps: map[domain.AppID]string{appA: ""}}, true},
		{"empty appid is refused", wechat.Config{Apps: map[domain.AppID]string{"": secretA}}, true},
		{"negative timeout is refused", wechat.Config{Apps: apps, Timeout: -time.Second}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wechat.NewClient(tt.cfg)
			if (err != nil) != tt.wantErr {
				t.Errorf("NewClient err = %v, want error: %t", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), secretA) {
				t.Errorf("NewClient error %q reveals the secret", err)
			}
		})
	}
}

func TestNewClient_DoesNotChangeCallersHTTPClient(t *testing.T) {
	hc := &http.Client{}
	if _, err := wechat.NewClient(wechat.Config{Apps: map[domain.AppID]string{appA: secretA}, HTTPClient: hc}); err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	if hc.CheckRedirect != nil {
		t.Error("NewClient set CheckRedirect on the caller's http.Client")
	}
}
