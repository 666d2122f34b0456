package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/domain"
)

// The simulator's ways to reach WeChat's documented errors without Go,
// as a developer does against the run command: err- markers in what the
// client sends (a QR code's scene, text that content security checks),
// and the simulator's own fault endpoint for the calls a client cannot
// steer (stable_token, an image check). Each goes through miniback's real
// WeChat client and router.

// simHook sends method path with body to the simulator's listener, as
// curl would, and fails the test unless it answers 200.
func (e *env) simHook(t *testing.T, method, path, body string) {
	t.Helper()
	req, err := http.NewRequest(method, e.sim.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	if b, _ := io.ReadAll(res.Body); res.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d %s", method, path, res.StatusCode, b)
	}
}

func TestWxaCode_SceneErr45009IsWeChatsQuota429WithRetryAfterAndIsNotCached(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	for i := range 2 {
		res := wxaCode(e.api, l.AccessToken, map[string]any{"scene": "err-45009"})
		wantProblem(t, res, http.StatusTooManyRequests, domain.CodeWeChatRateLimited)
		if ra := res.Header.Get("Retry-After"); ra != "60" {
			t.Fatalf("call %d: Retry-After %q, want 60", i+1, ra)
		}
	}
	if n := e.wxaCalls(); n != 2 {
		t.Fatalf("%d WeChat calls, want 2: the scene passed miniback's own rule and no failure was cached", n)
	}
}

func TestWxaCode_EachSceneMarkerAnswersItsProblem(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	for _, c := range []struct {
		scene  string
		status int
		code   domain.Code
	}{
		{"err-40169", http.StatusBadRequest, domain.CodeWxaCodeSceneInvalid},
		{"id=7&err-41030", http.StatusUnprocessableEntity, domain.CodeWxaCodePageNotFound},
		{"err-40097", http.StatusBadGateway, domain.CodeWeChatBadResponse},
		{"err-busy", http.StatusServiceUnavailable, domain.CodeWeChatBusy},
	} {
		t.Run(c.scene, func(t *testing.T) {
			wantProblem(t, wxaCode(e.api, l.AccessToken, map[string]any{"scene": c.scene}), c.status, c.code)
		})
	}
}

func TestContentCheck_TextMarkersFollowTheFailurePolicy(t *testing.T) {
	t.Run("err-busy with accept: stored and flagged unchecked", func(t *testing.T) {
		e := newEnv(t, withContentChecks(domain.ContentAccept, domain.FieldNickname))
		l := e.login(t, "dev-alice")
		if res := e.apiFor(t).JSON("PATCH", "/v1/me", map[string]string{"nickname": "Busy err-busy"}, bearer(l.AccessToken)); res.Status != http.StatusOK {
			t.Fatal(res)
		}
		if u := e.me(t, l.AccessToken); u.Nickname != "Busy err-busy" {
			t.Errorf("nickname %q, want it stored", u.Nickname)
		}
		items := e.flagged(t, e.admin(t, "dev-root"), "open")
		if len(items) != 1 || items[0].Verdict != "unchecked" || items[0].Reason != string(domain.CodeWeChatBusy) {
			t.Errorf("items %+v, want the nickname unchecked (wechat_busy)", items)
		}
		if n := e.simulator().CallsTo(wechatsim.APIMsgSecCheck); n != 1 {
			t.Errorf("msg_sec_check called %d times, want 1", n)
		}
	})
	t.Run("err-45011 with refuse: 503 and nothing stored", func(t *testing.T) {
		e := newEnv(t, withContentChecks(domain.ContentRefuse, domain.FieldBio))
		l := e.login(t, "dev-alice")
		res := e.apiFor(t).JSON("PATCH", "/v1/me", map[string]string{"bio": "err-45011"}, bearer(l.AccessToken))
		wantProblem(t, res, http.StatusServiceUnavailable, domain.CodeContentCheckUnavailable)
		if res.Header.Get("Retry-After") == "" {
			t.Errorf("no Retry-After on a 503")
		}
		if u := e.me(t, l.AccessToken); u.Bio != "" {
			t.Errorf("bio %q stored after a refusal", u.Bio)
		}
	})
	t.Run("each marker's errcode is the flag's reason", func(t *testing.T) {
		e := newEnv(t, withContentChecks(domain.ContentAccept, domain.FieldTodoTitle))
		l := e.login(t, "dev-alice")
		root := e.admin(t, "dev-root")
		want := map[int]domain.Code{
			-1: domain.CodeWeChatBusy, 45011: domain.CodeWeChatRateLimited, 48001: domain.CodeWeChatMisconfigured,
			40003: domain.CodeWeChatBadResponse, 40097: domain.CodeWeChatBadResponse, 40129: domain.CodeWeChatBadResponse,
			43104: domain.CodeWeChatBadResponse, 61010: domain.CodeWeChatBadResponse,
		}
		for _, code := range wechatsim.MarkerErrcodes(wechatsim.APIMsgSecCheck) {
			title := "plan " + wechatsim.Marker(code)
			e.createTodo(t, bearer(l.AccessToken), map[string]any{"title": title})
			found := false
			for _, it := range e.flagged(t, root, "open") {
				if it.Content == title {
					found = true
					if it.Verdict != "unchecked" || it.Reason != string(want[code]) || it.Field != "todo_title" {
						t.Errorf("%s: item %+v, want unchecked with reason %s", title, it, want[code])
					}
				}
			}
			if !found {
				t.Errorf("%s: not flagged", title)
			}
		}
	})
}

func TestContentCheck_AnImageCheckFailedFromTheFaultEndpointIsFlaggedUncheckedAndServed(t *testing.T) {
	e := newEnv(t, withContentChecks(domain.ContentAccept, domain.FieldAvatar))
	l := e.login(t, "dev-alice")
	root := e.admin(t, "dev-root")
	// miniback's image URLs carry nothing of the client's: the fault
	// endpoint is the way to make mediaCheckAsync fail.
	e.simHook(t, http.MethodPost, "/wechatsim/faults", `{"api":"media_check_async","appid":"`+appA+`","errcode":45011}`)
	id := e.readyAvatar(t, l.AccessToken)
	if n := e.simulator().CallsTo(wechatsim.APIMediaCheckAsync); n != 1 {
		t.Fatalf("media_check_async called %d times, want 1", n)
	}
	items := e.flagged(t, root, "open")
	if len(items) != 1 || items[0].SubjectID != id || items[0].Verdict != "unchecked" || items[0].Reason != string(domain.CodeWeChatRateLimited) {
		t.Fatalf("open items %+v, want the avatar unchecked (wechat_rate_limited)", items)
	}
	if got := e.simulator().Faults(); len(got) != 0 {
		t.Fatalf("faults %+v left after the call", got)
	}
	if res := e.apiFor(t).JSON("PATCH", "/v1/me", map[string]string{"avatar_upload_id": id}, bearer(l.AccessToken)); res.Status != http.StatusOK {
		t.Fatal(res)
	}
	if res := e.api.Get("/v1/avatars/" + id); res.Status != http.StatusFound {
		t.Fatalf("an unchecked avatar: %s, want it served", res)
	}
}

func TestStableToken_FaultsFromTheSimulatorsEndpointBecomeClearProblems(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	wantImage(t, wxaCode(e.api, l.AccessToken, map[string]any{"scene": "first"}), "image/jpeg", jpegMagic, "miss")
	for i, c := range []struct {
		errcode int
		status  int
		code    domain.Code
		says    string // what to fix
	}{
		{40013, http.StatusBadGateway, domain.CodeWeChatMisconfigured, "check MINIBACK_WECHAT_APPS"},
		{40125, http.StatusBadGateway, domain.CodeWeChatMisconfigured, "reset the secret in the console"},
		{40164, http.StatusBadGateway, domain.CodeWeChatMisconfigured, "IP whitelist"},
		{89503, http.StatusBadGateway, domain.CodeWeChatMisconfigured, "confirm it in the mini-program console"},
		{45009, http.StatusTooManyRequests, domain.CodeWeChatRateLimited, "daily quota"},
		{45011, http.StatusTooManyRequests, domain.CodeWeChatRateLimited, "stable_token"},
		{-1, http.StatusServiceUnavailable, domain.CodeWeChatBusy, "busy"},
	} {
		t.Run(fmt.Sprint(c.errcode), func(t *testing.T) {
			// The token goes bad (someone force-refreshed it), and the
			// stable_token call that would replace it fails.
			e.simHook(t, http.MethodPost, "/wechatsim/revoke?appid="+appA, "")
			e.simHook(t, http.MethodPost, "/wechatsim/faults", fmt.Sprintf(`{"api":"stable_token","appid":"%s","errcode":%d}`, appA, c.errcode))
			before := e.simulator().CallsTo(wechatsim.APIStableToken)
			scene := fmt.Sprint("s", i)
			res := wxaCode(e.api, l.AccessToken, map[string]any{"scene": scene})
			wantProblem(t, res, c.status, c.code)
			if d := res.Problem().Detail; d == nil || !strings.Contains(*d, c.says) {
				t.Errorf("detail %v, want stable_token's problem saying %q", deref(d), c.says)
			}
			if n := e.simulator().CallsTo(wechatsim.APIStableToken) - before; n != 1 {
				t.Fatalf("%d stable_token calls, want 1", n)
			}
			// The fault is spent: the next call renews the token.
			wantImage(t, wxaCode(e.api, l.AccessToken, map[string]any{"scene": scene}), "image/jpeg", jpegMagic, "miss")
		})
	}
}
