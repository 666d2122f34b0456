package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/miniback/miniback/adapters/storagetest"
	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/domain"
)

// Content security through the real router: WeChat's msgSecCheck and
// mediaCheckAsync are the simulator's ("sim-risky" and "sim-review" in a
// text or an image URL pick the verdict).

type moderationItem struct {
	ID        string `json:"id"`
	UserID    string `json:"user_id"`
	AppID     string `json:"app_id"`
	Subject   string `json:"subject"`
	SubjectID string `json:"subject_id"`
	Field     string `json:"field"`
	Content   string `json:"content"`
	Verdict   string `json:"verdict"`
	Label     int    `json:"label"`
	TraceID   string `json:"trace_id"`
	Reason    string `json:"reason"`
	Status    string `json:"status"`
}

type moderationPage struct {
	Items      []moderationItem `json:"items"`
	NextCursor string           `json:"next_cursor"`
}

// moderation lists the items of status ("" for the default) as admin.
func (e *env) flagged(t *testing.T, admin loginResponse, status string) []moderationItem {
	t.Helper()
	q := url.Values{"limit": {"100"}}
	if status != "" {
		q.Set("status", status)
	}
	res := e.apiFor(t).Get("/v1/admin/moderation?"+q.Encode(), bearer(admin.AccessToken))
	if res.Status != http.StatusOK {
		t.Fatalf("list moderation: %s", res)
	}
	var p moderationPage
	res.Decode(&p)
	return p.Items
}

func (e *env) simulator() *wechatsim.Simulator { return e.sim.Simulator() }

func TestRiskyNicknameIsRefusedNamingTheFieldAndNothingIsStored(t *testing.T) {
	e := newEnv(t, withContentChecks(domain.ContentAccept, domain.FieldNickname, domain.FieldBio))
	l := e.login(t, "dev-alice")
	auth := bearer(l.AccessToken)
	if res := e.api.JSON("PATCH", "/v1/me", map[string]string{"nickname": "Alice", "bio": "hello"}, auth); res.Status != http.StatusOK {
		t.Fatal(res)
	}
	calls := e.simulator().CallsTo(wechatsim.APIMsgSecCheck)
	if calls != 2 {
		t.Fatalf("msg_sec_check called %d times for a nickname and a bio, want 2", calls)
	}

	res := e.api.JSON("PATCH", "/v1/me", map[string]string{"nickname": "I am sim-risky", "bio": "still fine"}, auth)
	wantProblem(t, res, http.StatusUnprocessableEntity, domain.CodeContentRisky)
	if codes := fieldCodes(res.Problem()); codes["body.nickname"] != "content_risky" || len(codes) != 1 {
		t.Errorf("field errors %v, want body.nickname content_risky alone", codes)
	}
	if u := e.me(t, l.AccessToken); u.Nickname != "Alice" || u.Bio != "hello" {
		t.Errorf("profile %q / %q after a refused patch, want it unchanged", u.Nickname, u.Bio)
	}

	// Both risky: both named.
	res = e.api.JSON("PATCH", "/v1/me", map[string]string{"nickname": "sim-risky", "bio": "sim-risky too"}, auth)
	wantProblem(t, res, http.StatusUnprocessableEntity, domain.CodeContentRisky)
	if codes := fieldCodes(res.Problem()); codes["body.nickname"] != "content_risky" || codes["body.bio"] != "content_risky" {
		t.Errorf("field errors %v, want both fields", codes)
	}
	// Risky text is refused, not flagged: nothing for an admin.
	if items := e.flagged(t, e.admin(t, "dev-root"), "open"); len(items) != 0 {
		t.Errorf("open items %+v after refusals, want none", items)
	}
	// The access token never reaches a log line.
	if tok, _ := e.simulator().CurrentToken(appA); tok == "" || strings.Contains(e.logs.String(), tok) {
		t.Errorf("the access token is empty or in the log")
	}
}

func TestReviewBioIsStoredAndFlaggedOnceForTheAdmin(t *testing.T) {
	e := newEnv(t, withContentChecks(domain.ContentAccept, domain.FieldNickname, domain.FieldBio))
	l := e.login(t, "dev-alice")
	auth := bearer(l.AccessToken)
	res := e.api.JSON("PATCH", "/v1/me", map[string]string{"nickname": "Alice", "bio": "buy now sim-review"}, auth)
	if res.Status != http.StatusOK {
		t.Fatal(res)
	}
	if u := e.me(t, l.AccessToken); u.Bio != "buy now sim-review" {
		t.Fatalf("bio %q, want the reviewed text stored", u.Bio)
	}
	// The client sends its profile back: the open item is refreshed, not
	// duplicated.
	if _, status, _ := sendBack(t, e, auth); status != http.StatusOK {
		t.Fatalf("send back: %d", status)
	}
	root := e.admin(t, "dev-root")
	items := e.flagged(t, root, "")
	if len(items) != 1 {
		t.Fatalf("open items %+v, want the bio once", items)
	}
	it := items[0]
	if it.Subject != "profile" || it.SubjectID != l.User.ID || it.UserID != l.User.ID || it.Field != "bio" ||
		it.Verdict != "review" || it.Label != wechatsim.LabelAds || it.TraceID == "" || it.AppID != appA ||
		it.Content != "buy now sim-review" || it.Status != "open" {
		t.Errorf("item %+v", it)
	}
}

func TestWeChatFailureFollowsThePolicy(t *testing.T) {
	t.Run("accept stores the text and flags it unchecked", func(t *testing.T) {
		e := newEnv(t, withContentChecks(domain.ContentAccept, domain.FieldNickname))
		l := e.login(t, "dev-alice")
		e.simulator().InjectError(wechatsim.APIMsgSecCheck, appA, -1, 1)
		if res := e.apiFor(t).JSON("PATCH", "/v1/me", map[string]string{"nickname": "Busy day"}, bearer(l.AccessToken)); res.Status != http.StatusOK {
			t.Fatal(res)
		}
		if u := e.me(t, l.AccessToken); u.Nickname != "Busy day" {
			t.Errorf("nickname %q, want it stored", u.Nickname)
		}
		items := e.flagged(t, e.admin(t, "dev-root"), "open")
		if len(items) != 1 || items[0].Verdict != "unchecked" || items[0].Reason != string(domain.CodeWeChatBusy) || items[0].Field != "nickname" {
			t.Errorf("items %+v, want the nickname unchecked (wechat_busy)", items)
		}
	})
	t.Run("refuse answers 503 and stores nothing", func(t *testing.T) {
		e := newEnv(t, withContentChecks(domain.ContentRefuse, domain.FieldNickname))
		l := e.login(t, "dev-alice")
		e.simulator().InjectError(wechatsim.APIMsgSecCheck, appA, 45011, 1)
		res := e.apiFor(t).JSON("PATCH", "/v1/me", map[string]string{"nickname": "Busy day"}, bearer(l.AccessToken))
		wantProblem(t, res, http.StatusServiceUnavailable, domain.CodeContentCheckUnavailable)
		if res.Header.Get("Retry-After") == "" {
			t.Errorf("no Retry-After on a 503")
		}
		if u := e.me(t, l.AccessToken); u.Nickname != "" {
			t.Errorf("nickname %q stored after a refusal", u.Nickname)
		}
		// Once WeChat answers again, the same request goes through.
		if res := e.apiFor(t).JSON("PATCH", "/v1/me", map[string]string{"nickname": "Busy day"}, bearer(l.AccessToken)); res.Status != http.StatusOK {
			t.Fatal(res)
		}
	})
	t.Run("WeChat unreachable, accept", func(t *testing.T) {
		e := newEnv(t, withContentChecks(domain.ContentAccept, domain.FieldNickname))
		l := e.login(t, "dev-alice")
		root := e.admin(t, "dev-root")
		_ = e.sim.Close()
		if res := e.apiFor(t).JSON("PATCH", "/v1/me", map[string]string{"nickname": "Offline"}, bearer(l.AccessToken)); res.Status != http.StatusOK {
			t.Fatal(res)
		}
		items := e.flagged(t, root, "open")
		if len(items) != 1 || items[0].Verdict != "unchecked" || items[0].Reason != string(domain.CodeWeChatUnreachable) {
			t.Errorf("items %+v, want the nickname unchecked (wechat_unreachable)", items)
		}
	})
	t.Run("WeChat unreachable, refuse", func(t *testing.T) {
		e := newEnv(t, withContentChecks(domain.ContentRefuse, domain.FieldNickname))
		l := e.login(t, "dev-alice")
		_ = e.sim.Close()
		res := e.apiFor(t).JSON("PATCH", "/v1/me", map[string]string{"nickname": "Offline"}, bearer(l.AccessToken))
		wantProblem(t, res, http.StatusServiceUnavailable, domain.CodeContentCheckUnavailable)
	})
}

func TestCheckingOffMakesNoWeChatCall(t *testing.T) {
	t.Run("no field checked", func(t *testing.T) {
		e := newEnv(t)
		auth := e.signIn(t, "alice")
		if res := e.api.JSON("PATCH", "/v1/me", map[string]string{"nickname": "sim-risky", "bio": "sim-review"}, auth); res.Status != http.StatusOK {
			t.Fatal(res)
		}
		e.createTodo(t, auth, map[string]any{"title": "sim-risky", "notes": "sim-risky"})
		if n := e.simulator().CallsTo(wechatsim.APIMsgSecCheck); n != 0 {
			t.Errorf("msg_sec_check called %d times with checking off", n)
		}
	})
	t.Run("only the fields switched on", func(t *testing.T) {
		e := newEnv(t, withContentChecks(domain.ContentAccept, domain.FieldNickname))
		auth := e.signIn(t, "alice")
		if res := e.api.JSON("PATCH", "/v1/me", map[string]string{"bio": "sim-risky"}, auth); res.Status != http.StatusOK {
			t.Fatal(res)
		}
		e.createTodo(t, auth, map[string]any{"title": "sim-risky"})
		if n := e.simulator().CallsTo(wechatsim.APIMsgSecCheck); n != 0 {
			t.Errorf("msg_sec_check called %d times for unchecked fields", n)
		}
	})
}

func TestAPasswordOnlyAccountIsAcceptedAndFlaggedUnchecked(t *testing.T) {
	e := newEnv(t, withContentChecks(domain.ContentRefuse, domain.FieldNickname))
	l := e.register(t, "carol", "carol@example.com", "a long enough passphrase 42")
	if res := e.api.JSON("PATCH", "/v1/me", map[string]string{"nickname": "Carol"}, bearer(l.AccessToken)); res.Status != http.StatusOK {
		t.Fatal(res)
	}
	if n := e.simulator().CallsTo(wechatsim.APIMsgSecCheck); n != 0 {
		t.Errorf("msg_sec_check called %d times for a user WeChat does not know", n)
	}
	items := e.flagged(t, e.admin(t, "dev-root"), "open")
	if len(items) != 1 || items[0].Reason != domain.ReasonNoWeChatIdentity || items[0].Verdict != "unchecked" || items[0].AppID != "" {
		t.Errorf("items %+v, want the nickname flagged no_wechat_identity", items)
	}
}

func TestTaskTextIsCheckedInEveryPiece(t *testing.T) {
	e := newEnv(t, withContentChecks(domain.ContentAccept, domain.FieldTodoTitle, domain.FieldTodoNotes))
	auth := e.signIn(t, "alice")

	res := e.api.JSON("POST", "/v1/todos", map[string]any{"title": "sim-risky plan"}, auth)
	wantProblem(t, res, http.StatusUnprocessableEntity, domain.CodeContentRisky)
	if codes := fieldCodes(res.Problem()); codes["body.title"] != "content_risky" {
		t.Errorf("field errors %v, want body.title", codes)
	}
	// Notes longer than one check takes: the marker is in the last piece.
	long := strings.Repeat("a", 2*domain.ContentMaxRunes) + " sim-risky"
	res = e.api.JSON("POST", "/v1/todos", map[string]any{"title": "fine", "notes": long}, auth)
	wantProblem(t, res, http.StatusUnprocessableEntity, domain.CodeContentRisky)
	if codes := fieldCodes(res.Problem()); codes["body.notes"] != "content_risky" {
		t.Errorf("field errors %v, want body.notes", codes)
	}
	if res := e.api.Get("/v1/todos", auth); !strings.Contains(string(res.Body), `"items":[]`) {
		t.Errorf("tasks after refusals: %s", res.Body)
	}

	td := e.createTodo(t, auth, map[string]any{"title": "Groceries", "notes": "ask about sim-review"}, "Idempotency-Key: k-1")
	e.createTodo(t, auth, map[string]any{"title": "Groceries", "notes": "ask about sim-review"}, "Idempotency-Key: k-1") // a replay
	res = e.api.JSON("PATCH", "/v1/todos/"+td.ID, map[string]any{"title": "sim-risky"}, auth)
	wantProblem(t, res, http.StatusUnprocessableEntity, domain.CodeContentRisky)
	if got := e.getTodo(t, auth, td.ID); got.Title != "Groceries" {
		t.Errorf("title %q after a refused patch", got.Title)
	}
	// A patch that leaves the text alone makes no call.
	before := e.simulator().CallsTo(wechatsim.APIMsgSecCheck)
	if res := e.api.JSON("PATCH", "/v1/todos/"+td.ID, map[string]any{"done": true}, auth); res.Status != http.StatusOK {
		t.Fatal(res)
	}
	if n := e.simulator().CallsTo(wechatsim.APIMsgSecCheck); n != before {
		t.Errorf("a patch of done made %d content checks", n-before)
	}
	items := e.flagged(t, e.admin(t, "dev-root"), "open")
	if len(items) != 1 || items[0].Subject != "todo" || items[0].SubjectID != td.ID || items[0].Field != "todo_notes" || items[0].Verdict != "review" {
		t.Errorf("items %+v, want the notes once", items)
	}
}

// avatarCheck uploads and completes an avatar, sets it, and returns the
// upload id and the trace id of its image check.
func (e *env) avatarCheck(t *testing.T, l loginResponse) (string, string) {
	t.Helper()
	before := len(e.simulator().MediaChecks())
	id := e.readyAvatar(t, l.AccessToken)
	if res := e.apiFor(t).JSON("PATCH", "/v1/me", map[string]string{"avatar_upload_id": id}, bearer(l.AccessToken)); res.Status != http.StatusOK {
		t.Fatal(res)
	}
	var trace string
	checks := e.simulator().MediaChecks()
	for _, c := range checks {
		if strings.Contains(c.MediaURL, id) {
			trace = c.TraceID
			if c.AppID != appA || c.OpenID != wechatsim.OpenID(appA, "alice") {
				t.Errorf("image check %+v: want alice's openid in app A", c)
			}
		}
	}
	if len(checks) != before+1 || trace == "" {
		t.Fatalf("image checks %+v, want one more for upload %s", checks, id)
	}
	return id, trace
}

// deliver applies the verdict the simulator would push for trace, as the
// message-push receiver does.
func (e *env) deliver(t *testing.T, trace string) {
	t.Helper()
	ev, ok := e.simulator().MediaVerdict(trace)
	if !ok {
		t.Fatalf("no verdict for %s", trace)
	}
	result := ev["result"].(map[string]any)
	if err := e.moderation.ApplyMediaVerdict(context.Background(), domain.AppID(ev["appid"].(string)), ev["trace_id"].(string),
		result["suggest"].(string), result["label"].(int)); err != nil {
		t.Fatal(err)
	}
}

type blockedUpload struct {
	Status      string `json:"status"`
	Blocked     bool   `json:"blocked"`
	DownloadURL string `json:"download_url"`
}

func TestRiskyAvatarStopsBeingServedAndIsFlagged(t *testing.T) {
	e := newEnv(t, withContentChecks(domain.ContentAccept, domain.FieldAvatar))
	l := e.login(t, "dev-alice")
	root := e.admin(t, "dev-root")
	id, trace := e.avatarCheck(t, l)
	if n := e.simulator().CallsTo(wechatsim.APIMediaCheckAsync); n != 1 {
		t.Fatalf("media_check_async called %d times, want 1", n)
	}
	// Completing again makes no second check.
	if status, _, _ := e.complete(t, l.AccessToken, id); status != http.StatusOK || e.simulator().CallsTo(wechatsim.APIMediaCheckAsync) != 1 {
		t.Fatalf("complete again: %d, %d checks", status, e.simulator().CallsTo(wechatsim.APIMediaCheckAsync))
	}
	if items := e.flagged(t, root, "pending"); len(items) != 1 || items[0].SubjectID != id || items[0].TraceID != trace || items[0].Field != "avatar" {
		t.Fatalf("pending items %+v", items)
	}
	link := "/v1/avatars/" + id
	if res := e.api.Get(link); res.Status != http.StatusFound {
		t.Fatalf("avatar before the verdict: %s", res)
	}

	e.simulator().SetMediaVerdict(id, "risky")
	e.deliver(t, trace)
	wantProblem(t, e.api.Get(link), http.StatusNotFound, domain.CodeNotFound)
	var u blockedUpload
	res := e.api.Get("/v1/uploads/"+id, bearer(l.AccessToken))
	res.Decode(&u)
	if res.Status != http.StatusOK || u.Status != "ready" || !u.Blocked || u.DownloadURL != "" {
		t.Errorf("blocked upload: %s", res)
	}
	// It cannot be set again.
	res = e.api.JSON("PATCH", "/v1/me", map[string]string{"avatar_upload_id": id}, bearer(l.AccessToken))
	wantProblem(t, res, http.StatusUnprocessableEntity, domain.CodeContentRisky)
	items := e.flagged(t, root, "open")
	if len(items) != 1 || items[0].Verdict != "risky" || items[0].Label != wechatsim.LabelPolitics || items[0].SubjectID != id {
		t.Fatalf("open items %+v", items)
	}

	// WeChat pushes again: nothing changes. An unknown trace is ignored.
	e.simulator().SetMediaVerdict(id, "pass")
	e.deliver(t, trace)
	wantProblem(t, e.api.Get(link), http.StatusNotFound, domain.CodeNotFound)
	if err := e.moderation.ApplyMediaVerdict(context.Background(), appA, "no-such-trace", "risky", 20001); err != nil {
		t.Errorf("unknown trace_id: %v", err)
	}
	if !strings.Contains(e.logs.String(), "unknown trace_id") {
		t.Errorf("an unknown trace_id was not logged")
	}

	// An admin approves it: served again; removes it: gone again.
	resolve := func(action string) moderationItem {
		res := e.api.JSON("POST", "/v1/admin/moderation/"+items[0].ID+"/resolve", map[string]string{"action": action}, bearer(root.AccessToken))
		if res.Status != http.StatusOK {
			t.Fatal(res)
		}
		var it moderationItem
		res.Decode(&it)
		return it
	}
	if it := resolve("approve"); it.Status != "approved" {
		t.Errorf("approved item %+v", it)
	}
	if res := e.api.Get(link); res.Status != http.StatusFound {
		t.Errorf("approved avatar: %s", res)
	}
	if it := resolve("remove"); it.Status != "removed" {
		t.Errorf("removed item %+v", it)
	}
	wantProblem(t, e.api.Get(link), http.StatusNotFound, domain.CodeNotFound)

	// Both decisions are in the audit log, with the admin who made them.
	var decisions []string
	for _, it := range audit(t, e, root.AccessToken, url.Values{"action": {"moderation.resolve"}}).Items {
		if it.TargetKind != "moderation_item" || it.TargetID != items[0].ID || it.ActorID != idOf(t, root) || it.ClientAddress == "" {
			t.Errorf("audit entry %+v", it)
		}
		decisions = append(decisions, it.Details["action"].(string))
	}
	if strings.Join(decisions, ",") != "remove,approve" {
		t.Errorf("audited decisions %v", decisions)
	}
}

func TestReviewedAvatarIsFlaggedAndStillServed(t *testing.T) {
	e := newEnv(t, withContentChecks(domain.ContentAccept, domain.FieldAvatar))
	l := e.login(t, "dev-alice")
	id, trace := e.avatarCheck(t, l)
	e.simulator().SetMediaVerdict(id, "review")
	e.deliver(t, trace)
	if res := e.api.Get("/v1/avatars/" + id); res.Status != http.StatusFound {
		t.Errorf("reviewed avatar: %s", res)
	}
	root := e.admin(t, "dev-root")
	if items := e.flagged(t, root, "open"); len(items) != 1 || items[0].Verdict != "review" {
		t.Errorf("open items %+v", items)
	}

	// A passed image is cleared, not flagged.
	id2, trace2 := e.avatarCheck(t, l)
	e.deliver(t, trace2)
	if res := e.api.Get("/v1/avatars/" + id2); res.Status != http.StatusFound {
		t.Errorf("passed avatar: %s", res)
	}
	if items := e.flagged(t, root, "cleared"); len(items) != 1 || items[0].SubjectID != id2 {
		t.Errorf("cleared items %+v", items)
	}
}

func TestRiskyAttachmentIsNotServed(t *testing.T) {
	e := newEnv(t, withContentChecks(domain.ContentAccept, domain.FieldAttachment))
	l := e.login(t, "dev-alice")
	task := e.newTask(t, l.AccessToken, "trip")
	up := e.readyUpload(t, l.AccessToken, "attachment", "image/png", storagetest.Bytes(256))
	pdf := e.readyUpload(t, l.AccessToken, "attachment", "application/pdf", storagetest.Bytes(256))
	if n := e.simulator().CallsTo(wechatsim.APIMediaCheckAsync); n != 1 {
		t.Fatalf("media_check_async called %d times for an image and a PDF, want 1 (images only)", n)
	}
	if status, _, code := e.attach(t, l.AccessToken, task, up); status != http.StatusCreated {
		t.Fatalf("attach: %d %s", status, code)
	}
	e.simulator().SetMediaVerdict(up, "risky")
	e.deliver(t, e.simulator().MediaChecks()[0].TraceID)
	res := e.api.Get("/v1/todos/"+task+"/attachments", bearer(l.AccessToken))
	if res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"blocked":true`) || strings.Contains(string(res.Body), "download_url") {
		t.Errorf("attachments of a blocked image: %s", res)
	}
	other := e.newTask(t, l.AccessToken, "other")
	if status, _, code := e.attach(t, l.AccessToken, other, up); status != http.StatusUnprocessableEntity || code != string(domain.CodeContentRisky) {
		t.Errorf("attach a blocked image: %d %s", status, code)
	}
	if status, _, _ := e.attach(t, l.AccessToken, other, pdf); status != http.StatusCreated {
		t.Errorf("attach the PDF: %d", status)
	}
}

func TestOnlyAdminsSeeModerationAndPagesAreOpaque(t *testing.T) {
	e := newEnv(t, withContentChecks(domain.ContentAccept, domain.FieldTodoTitle))
	l := e.login(t, "dev-alice")
	wantProblem(t, e.api.Get("/v1/admin/moderation", bearer(l.AccessToken)), http.StatusForbidden, domain.CodeForbidden)
	wantProblem(t, e.api.JSON("POST", "/v1/admin/moderation/0d2c6a4e-3a4b-4c5d-8e9f-0a1b2c3d4e5f/resolve",
		map[string]string{"action": "approve"}, bearer(l.AccessToken)), http.StatusForbidden, domain.CodeForbidden)
	for i := range 3 {
		e.createTodo(t, bearer(l.AccessToken), map[string]any{"title": "sim-review " + strings.Repeat("x", i)})
	}
	root := e.admin(t, "dev-root")
	var seen []string
	cursor := ""
	for range 5 {
		q := url.Values{"limit": {"2"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		res := e.api.Get("/v1/admin/moderation?"+q.Encode(), bearer(root.AccessToken))
		if res.Status != http.StatusOK {
			t.Fatal(res)
		}
		var p moderationPage
		res.Decode(&p)
		for _, it := range p.Items {
			seen = append(seen, it.Content)
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if len(seen) != 3 || seen[0] != "sim-review xx" || seen[2] != "sim-review" {
		t.Errorf("walked %q, want the three titles newest first", seen)
	}
	wantProblem(t, e.api.Get("/v1/admin/moderation?cursor=garbage", bearer(root.AccessToken)), http.StatusBadRequest, domain.CodeInvalid)
	wantProblem(t, e.api.Get("/v1/admin/moderation?status=nope", bearer(root.AccessToken)), http.StatusBadRequest, domain.CodeInvalid)
	wantProblem(t, e.api.JSON("POST", "/v1/admin/moderation/0d2c6a4e-3a4b-4c5d-8e9f-0a1b2c3d4e5f/resolve",
		map[string]string{"action": "approve"}, bearer(root.AccessToken)), http.StatusNotFound, domain.CodeNotFound)
}
