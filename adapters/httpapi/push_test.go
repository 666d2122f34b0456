package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/domain"
)

// The message push settings of the tests' apps.
const (
	pushTokenA = "pushTokenOfAppA"
	pushKeyA   = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

// WeChat's published examples: Token "AAAAA", EncodingAESKey 43 × "A".
const (
	exampleApp    = "wxba5fad812f8e6fb9"
	exampleToken  = "AAAAA"
	exampleAESKey = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
)

func pushEndpoint(t *testing.T, token, key string, mode domain.PushMode) domain.PushEndpoint {
	t.Helper()
	e, err := domain.NewPushEndpoint(token, key, mode)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// countingMedia counts the verdicts it is handed.
type countingMedia struct {
	mu    sync.Mutex
	calls []string
}

func (m *countingMedia) ApplyMediaVerdict(_ context.Context, app domain.AppID, traceID, suggest string, label int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, string(app)+"/"+traceID+"/"+suggest+"/"+strconv.Itoa(label))
	return nil
}

func (m *countingMedia) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.calls)
}

// newPushEnv serves appA's push in safe mode and the published example's
// app in compat mode.
func newPushEnv(t *testing.T) (*env, *countingMedia) {
	t.Helper()
	media := &countingMedia{}
	e := newEnv(t, withPush(map[domain.AppID]domain.PushEndpoint{
		appA:       pushEndpoint(t, pushTokenA, pushKeyA, domain.PushSafe),
		exampleApp: pushEndpoint(t, exampleToken, exampleAESKey, domain.PushCompat),
	}, media))
	return e, media
}

// pusherA delivers to appA's push URL as WeChat does, in safe mode.
func (e *env) pusherA(format wechatsim.PushFormat) *wechatsim.Pusher {
	return &wechatsim.Pusher{URL: "/v1/wechat/push/" + appA, AppID: appA, Token: pushTokenA, EncodingAESKey: pushKeyA,
		Encrypted: true, Format: format, Now: e.clock.Now}
}

// sender returns a function that sends a request the Pusher built
// through the router (spec-checked), for push(p.Request(…)).
func (e *env) sender(t *testing.T) func(*http.Request, error) (int, string) {
	return func(req *http.Request, err error) (int, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		res := e.apiFor(t).Do(req)
		return res.Status, string(res.Body)
	}
}

func (e *env) pushRows(t *testing.T) int {
	t.Helper()
	var n int
	if err := e.db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM wechat_push_events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// at moves the env's clock to the Unix time ts.
func (e *env) at(ts int64) { e.clock.Advance(time.Unix(ts, 0).Sub(e.clock.Now())) }

func TestPushURLCheckAnswersWeChatsPublishedExample(t *testing.T) {
	e, _ := newPushEnv(t)
	e.at(1714036504)
	res := e.api.Get("/v1/wechat/push/" + exampleApp +
		"?signature=f464b24fc39322e44b38aa78f5edd27bd1441696&echostr=4375120948345356249&timestamp=1714036504&nonce=1514711492")
	if res.Status != http.StatusOK || string(res.Body) != "4375120948345356249" || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("want the echostr as text\n%s", res)
	}
	// The signature is the Token's: one digit off is refused.
	res = e.api.Get("/v1/wechat/push/" + exampleApp +
		"?signature=f464b24fc39322e44b38aa78f5edd27bd1441697&echostr=4375120948345356249&timestamp=1714036504&nonce=1514711492")
	if res.Status != http.StatusUnauthorized || res.Problem().Code != "push_signature_invalid" {
		t.Fatalf("want 401 push_signature_invalid\n%s", res)
	}
}

func TestPushURLCheckWithThePusher(t *testing.T) {
	e, _ := newPushEnv(t)
	push := e.sender(t)
	p := e.pusherA(wechatsim.PushJSON)
	status, body := push(p.VerifyRequest(context.Background(), "echo-123"))
	if status != http.StatusOK || body != "echo-123" {
		t.Fatalf("%d %q", status, body)
	}
	p.Now = func() time.Time { return e.clock.Now().Add(-6 * time.Minute) }
	req, err := p.VerifyRequest(context.Background(), "echo-123")
	if err != nil {
		t.Fatal(err)
	}
	if res := e.api.Do(req); res.Status != http.StatusUnauthorized || res.Problem().Code != "push_timestamp_stale" {
		t.Fatalf("a stale check: want 401 push_timestamp_stale\n%s", res)
	}
}

func TestPushReceivesWeChatsPublishedSafeModeExample(t *testing.T) {
	e, _ := newPushEnv(t)
	e.at(1714112445)
	body := `{"ToUserName":"gh_97417a04a28d","Encrypt":"+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04="}`
	req := httptest.NewRequest(http.MethodPost, "/v1/wechat/push/"+exampleApp+
		"?signature=6c5c811b55cc85e0e1b54100749188c20beb3f5d&timestamp=1714112445&nonce=415670741&openid=o9AgO5Kd5ggOC-bXrbNODIiE3bGY"+
		"&encrypt_type=aes&msg_signature=046e02f8204d34f8ba5fa3b1db94908f3df2e9b3", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	res := e.api.Do(req)
	if res.Status != http.StatusOK || string(res.Body) != "success" {
		t.Fatalf("want 200 success\n%s", res)
	}
	var message string
	var encrypted bool
	if err := e.db.Pool().QueryRow(context.Background(), `SELECT message, encrypted FROM wechat_push_events WHERE event = 'debug_demo'`).
		Scan(&message, &encrypted); err != nil {
		t.Fatal(err)
	}
	if !encrypted || message != `{"ToUserName":"gh_97417a04a28d","FromUserName":"o9AgO5Kd5ggOC-bXrbNODIiE3bGY","CreateTime":1714112445,"MsgType":"event","Event":"debug_demo","debug_str":"hello world"}` {
		t.Errorf("stored %q (encrypted %v), want the decrypted example", message, encrypted)
	}
}

func TestPushRevocationEndsTheUsersSessionsOnEveryReplica(t *testing.T) {
	e, _ := newPushEnv(t)
	push := e.sender(t)
	replica := e.newInstance(t, e.keys)
	alice, bob := e.login(t, "dev-alice"), e.login(t, "dev-bob")
	for _, l := range []loginResponse{alice, bob} {
		if res := e.api.Get("/v1/me", bearer(l.AccessToken)); res.Status != http.StatusOK {
			t.Fatalf("before: %s", res)
		}
	}

	for _, format := range []wechatsim.PushFormat{wechatsim.PushXML, wechatsim.PushJSON} { // the second is a duplicate
		status, body := push(e.pusherA(format).Request(context.Background(),
			wechatsim.RevokeEvent(appA, wechatsim.OpenID(appA, "alice"), "1")))
		if status != http.StatusOK || body != "success" {
			t.Fatalf("%s delivery: %d %q", format, status, body)
		}
	}

	if res := e.api.Get("/v1/me", bearer(alice.AccessToken)); res.Status != http.StatusUnauthorized || res.Problem().Code != "session_revoked" {
		t.Fatalf("alice's access token after the revocation: want 401 session_revoked\n%s", res)
	}
	if res := e.api.JSON("POST", "/v1/auth/refresh", map[string]string{"refresh_token": alice.RefreshToken}); res.Status != http.StatusUnauthorized {
		t.Fatalf("alice's refresh token after the revocation: want 401\n%s", res)
	}
	// Another replica refuses it once it has read the feed.
	if err := replica.revs.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res := replica.api.Get("/v1/me", bearer(alice.AccessToken)); res.Status != http.StatusUnauthorized {
		t.Fatalf("the other replica: want 401\n%s", res)
	}
	if res := e.api.Get("/v1/me", bearer(bob.AccessToken)); res.Status != http.StatusOK {
		t.Fatalf("bob keeps his session\n%s", res)
	}
	// Logging in again starts a new session.
	if again := e.login(t, "dev-alice"); e.api.Get("/v1/me", bearer(again.AccessToken)).Status != http.StatusOK {
		t.Fatal("a new login after the revocation must work")
	}
	if n := e.pushRows(t); n != 1 {
		t.Errorf("%d rows, want the revocation once", n)
	}
}

func TestPushDuplicateDeliveriesAreDispatchedOnce(t *testing.T) {
	e, media := newPushEnv(t)
	push := e.sender(t)
	p := e.pusherA(wechatsim.PushJSON)
	verdict := wechatsim.MediaCheckEvent(appA, wechatsim.OpenID(appA, "alice"), "trace-1", "risky", 20002)
	first, err := p.Request(context.Background(), verdict)
	if err != nil {
		t.Fatal(err)
	}
	body := p.Marshal(verdict) // CreateTime fixed: the same message every time
	for i := range 4 {         // WeChat's delivery and three retries, each signed and encrypted anew
		req := first
		if i > 0 {
			if req, err = p.RequestBody(context.Background(), body); err != nil {
				t.Fatal(err)
			}
		}
		if status, reply := push(req, nil); status != http.StatusOK || reply != "success" {
			t.Fatalf("delivery %d: %d %q", i, status, reply)
		}
	}
	if media.count() != 1 || media.calls[0] != appA+"/trace-1/risky/20002" {
		t.Errorf("verdicts applied: %v, want one", media.calls)
	}
	// Another check ending in the same second is no duplicate.
	other := wechatsim.MediaCheckEvent(appA, wechatsim.OpenID(appA, "alice"), "trace-2", "pass", 100)
	if status, _ := push(p.Request(context.Background(), other)); status != http.StatusOK || media.count() != 2 {
		t.Errorf("the second check: %d, %d verdicts", status, media.count())
	}
}

func TestPushSubscriptionChoicesAreRecordedPerTemplate(t *testing.T) {
	e, _ := newPushEnv(t)
	push := e.sender(t)
	alice := wechatsim.OpenID(appA, "alice")
	for _, format := range []wechatsim.PushFormat{wechatsim.PushXML, wechatsim.PushJSON} {
		p := e.pusherA(format)
		p.Now = func() time.Time { return e.clock.Now().Add(time.Duration(len(format)) * time.Second) } // two messages
		status, _ := push(p.Request(context.Background(), wechatsim.SubscribeEvent("subscribe_msg_popup_event", alice,
			wechatsim.SubscriptionItem{TemplateID: "T-" + string(format), Status: "accept", PopupScene: "0"},
			wechatsim.SubscriptionItem{TemplateID: "T-other", Status: "reject", PopupScene: "0"})))
		if status != http.StatusOK {
			t.Fatalf("%s: %d", format, status)
		}
	}
	var got string
	if err := e.db.Pool().QueryRow(context.Background(),
		`SELECT string_agg(template_id || '=' || status, ',' ORDER BY template_id, create_time) FROM wechat_subscription_events WHERE app_id = $1 AND open_id = $2`,
		appA, alice).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "T-json=accept,T-other=reject,T-other=reject,T-xml=accept" {
		t.Errorf("recorded %q", got)
	}
}

func TestPushRefusalsAreUnauthorizedAndNeverProcessed(t *testing.T) {
	e, media := newPushEnv(t)
	ctx := context.Background()
	verdict := wechatsim.MediaCheckEvent(appA, "o1", "trace-1", "pass", 100)
	tamper := func(req *http.Request, err error) (*http.Request, error) {
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(req.Body)
		b := bytes.Replace(buf.Bytes(), []byte(`"Encrypt":"`), []byte(`"Encrypt":"A`), 1)
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		return req, nil
	}
	other := e.pusherA(wechatsim.PushJSON)
	other.AppID = appB // encrypted for another app, with appA's token and key
	stale := e.pusherA(wechatsim.PushJSON)
	stale.Now = func() time.Time { return e.clock.Now().Add(-10 * time.Minute) }
	plain := e.pusherA(wechatsim.PushJSON)
	plain.Encrypted = false // appA is in safe mode
	wrongToken := e.pusherA(wechatsim.PushJSON)
	wrongToken.Token = "anotherToken"
	unknown := e.pusherA(wechatsim.PushJSON)
	unknown.URL = "/v1/wechat/push/wx_not_configured"

	for _, tc := range []struct {
		name   string
		req    func() (*http.Request, error)
		status int
		code   string
	}{
		{"Encrypt tampered with", func() (*http.Request, error) { return tamper(e.pusherA(wechatsim.PushJSON).Request(ctx, verdict)) }, 401, "push_signature_invalid"},
		{"another AppID in the plaintext", func() (*http.Request, error) { return other.Request(ctx, verdict) }, 401, "push_signature_invalid"},
		{"stale timestamp", func() (*http.Request, error) { return stale.Request(ctx, verdict) }, 401, "push_timestamp_stale"},
		{"plaintext to a safe-mode app", func() (*http.Request, error) { return plain.Request(ctx, verdict) }, 401, "push_signature_invalid"},
		{"another token", func() (*http.Request, error) { return wrongToken.Request(ctx, verdict) }, 401, "push_signature_invalid"},
		{"no signature at all", func() (*http.Request, error) {
			return httptest.NewRequest(http.MethodPost, "/v1/wechat/push/"+appA, strings.NewReader(`{"Event":"x"}`)), nil
		}, 401, "push_signature_invalid"},
		{"unknown appid", func() (*http.Request, error) { return unknown.Request(ctx, verdict) }, 404, "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := tc.req()
			if err != nil {
				t.Fatal(err)
			}
			res := e.apiFor(t).Do(req)
			if res.Status != tc.status || res.Problem().Code != tc.code {
				t.Fatalf("want %d %s\n%s", tc.status, tc.code, res)
			}
		})
	}
	if n := e.pushRows(t); n != 0 || media.count() != 0 {
		t.Errorf("%d rows recorded, %d verdicts applied: want none", n, media.count())
	}
	if logs := e.logs.String(); strings.Contains(logs, pushTokenA) || strings.Contains(logs, pushKeyA) {
		t.Error("the push token or key appeared in the log")
	}
}

func TestPushHostileBodiesAreRefusedFast(t *testing.T) {
	e, _ := newPushEnv(t)
	const limit = 1 << 20 // the default body limit
	// appB is not configured; the compat example app takes signed
	// plaintext, so its body is parsed.
	signed := func(body []byte) *http.Request {
		ts := strconv.FormatInt(e.clock.Now().Unix(), 10)
		req := httptest.NewRequest(http.MethodPost, "/v1/wechat/push/"+exampleApp+"?timestamp="+ts+"&nonce=1&signature="+
			wechatsim.Signature(exampleToken, ts, "1"), bytes.NewReader(body))
		req.Header.Set("Content-Type", "text/xml")
		return req
	}
	for _, tc := range []struct {
		name   string
		body   []byte
		status int
	}{
		{"1 MiB of nesting", []byte(strings.Repeat("<a>", (limit-8)/3)), 400},
		{"1 MiB of elements", []byte("<xml>" + strings.Repeat("<a/>", (limit-16)/4) + "</xml>"), 400},
		{"1 MiB of attributes", []byte("<xml" + strings.Repeat(` a="1"`, (limit-8)/6) + "/>"), 400},
		{"billion laughs", []byte(`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">` +
			strings.Repeat(`<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">`, (limit-200)/80) + `]><lolz>&lol1;</lolz>`), 400},
		{"external entity", []byte(`<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><Event>&x;</Event></xml>`), 400},
		{"1 MiB of JSON items", []byte(`{"List":[` + strings.Repeat(`{},`, (limit-16)/3) + `{}]}`), 400},
		{"past the limit", bytes.Repeat([]byte("x"), limit+1), 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			res := e.apiFor(t).Do(signed(tc.body))
			took := time.Since(start)
			if res.Status != tc.status {
				t.Fatalf("want %d\n%s", tc.status, res)
			}
			// A shared CI machine is slow; measured at a few ms.
			if took > time.Second {
				t.Errorf("took %s", took)
			}
			t.Logf("%s: %d in %s", tc.name, res.Status, took)
		})
	}
	// Unsigned, the same bodies are refused before they are read.
	req := signed([]byte(strings.Repeat("<a>", (limit-8)/3)))
	req.URL.RawQuery = "timestamp=1&nonce=1&signature=0"
	if res := e.api.Do(req); res.Status != http.StatusUnauthorized {
		t.Fatalf("unsigned: want 401\n%s", res)
	}
	if n := e.pushRows(t); n != 0 {
		t.Errorf("%d rows recorded", n)
	}
}
