package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/httpapi/apitest"
	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/domain"
)

// The reminder template of each test app.
const reminderTemplate = wechatsim.DefaultReminderTemplateID

var testSubscribeTemplates = []domain.SubscribeTemplate{
	{AppID: appA, Purpose: domain.SubscribePurposeReminder, ID: reminderTemplate, Page: "pages/task/task?id={id}",
		Fields: []domain.TemplateField{{Key: "thing1", Source: "title"}, {Key: "time2", Source: "due_at"}}},
	{AppID: appB, Purpose: domain.SubscribePurposeReminder, ID: "TB-reminder",
		Fields: []domain.TemplateField{{Key: "thing1", Source: "title"}}},
}

// subscription is api.Subscription as a test reads it.
type subscription struct {
	TemplateID string     `json:"template_id"`
	Purpose    *string    `json:"purpose"`
	Remaining  int        `json:"remaining"`
	Status     *string    `json:"status"`
	UpdatedAt  *time.Time `json:"updated_at"`
}

func (e *env) subscribe(access, templateID, result string) *apitest.Response {
	return e.api.JSON("POST", "/v1/me/subscriptions", map[string]string{"template_id": templateID, "result": result}, bearer(access))
}

func (e *env) subscriptions(t *testing.T, access string) []subscription {
	t.Helper()
	res := e.api.Get("/v1/me/subscriptions", bearer(access))
	if res.Status != http.StatusOK {
		t.Fatalf("want 200\n%s", res)
	}
	var out struct {
		Items []subscription `json:"items"`
	}
	res.Decode(&out)
	return out.Items
}

func decodeSubscription(t *testing.T, res *apitest.Response) subscription {
	t.Helper()
	if res.Status != http.StatusOK {
		t.Fatalf("want 200\n%s", res)
	}
	var s subscription
	res.Decode(&s)
	return s
}

func TestSubscriptionsListTheAppsTemplatesAndCountAcceptances(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.login(t, "dev-alice"), e.login(t, "dev-bob")

	subs := e.subscriptions(t, alice.AccessToken)
	if len(subs) != 1 || subs[0].TemplateID != reminderTemplate || subs[0].Purpose == nil || *subs[0].Purpose != "reminder" ||
		subs[0].Remaining != 0 || subs[0].Status != nil || subs[0].UpdatedAt != nil {
		t.Fatalf("before any answer: %+v, want the reminder template with nothing left", subs)
	}
	for want := 1; want <= 2; want++ {
		s := decodeSubscription(t, e.subscribe(alice.AccessToken, reminderTemplate, "accept"))
		if s.Remaining != want || s.Status == nil || *s.Status != "accept" || s.UpdatedAt == nil {
			t.Fatalf("accept %d: %+v", want, s)
		}
		e.clock.Advance(3 * time.Minute) // separate taps, far apart
	}
	if s := decodeSubscription(t, e.subscribe(alice.AccessToken, reminderTemplate, "reject")); s.Remaining != 2 || *s.Status != "reject" {
		t.Fatalf("reject: %+v, want the grants kept and the status reject", s)
	}
	if subs := e.subscriptions(t, alice.AccessToken); len(subs) != 1 || subs[0].Remaining != 2 || *subs[0].Status != "reject" {
		t.Fatalf("after: %+v", subs)
	}
	// Another user sees none of it.
	if subs := e.subscriptions(t, bob.AccessToken); len(subs) != 1 || subs[0].Remaining != 0 || subs[0].Status != nil {
		t.Fatalf("bob: %+v", subs)
	}
}

func TestSubscriptionsRefuseUnknownTemplatesAndBadAnswers(t *testing.T) {
	e := newEnv(t)
	alice := e.login(t, "dev-alice")
	wantProblem(t, e.subscribe(alice.AccessToken, "nope", "accept"), http.StatusUnprocessableEntity, domain.CodeSubscribeTemplateUnknown)
	// appB's template is not appA's.
	wantProblem(t, e.subscribe(alice.AccessToken, "TB-reminder", "accept"), http.StatusUnprocessableEntity, domain.CodeSubscribeTemplateUnknown)
	wantProblem(t, e.subscribe(alice.AccessToken, reminderTemplate, "maybe"), http.StatusBadRequest, domain.CodeInvalid)
	wantProblem(t, e.subscribe(alice.AccessToken, "", "accept"), http.StatusBadRequest, domain.CodeInvalid)
	wantProblem(t, e.api.JSON("POST", "/v1/me/subscriptions", map[string]string{"template_id": reminderTemplate, "result": "accept"}),
		http.StatusUnauthorized, domain.CodeTokenMissing)
}

func TestSubscriptionsNeedAWeChatSession(t *testing.T) {
	e := newEnv(t)
	l := e.register(t, "alice", "alice@example.com", alicePassword)
	wantProblem(t, e.subscribe(l.AccessToken, reminderTemplate, "accept"), http.StatusForbidden, domain.CodeWeChatLoginRequired)
	if subs := e.subscriptions(t, l.AccessToken); len(subs) != 0 {
		t.Errorf("a password session's list: %+v, want none", subs)
	}
}

// The mini-program and WeChat's push both report one tap: it counts once.
// A tap reported only by the push counts too; a change event sets the
// status and adds nothing.
func TestAnAcceptanceReportedByTheClientAndThePushCountsOnce(t *testing.T) {
	e := newEnv(t, withPush(map[domain.AppID]domain.PushEndpoint{appA: pushEndpoint(t, pushTokenA, pushKeyA, domain.PushSafe)}, nil))
	alice := e.login(t, "dev-alice")
	openid := wechatsim.OpenID(appA, "alice")
	push := func(event, status string) {
		t.Helper()
		code, body := e.sender(t)(e.pusherA(wechatsim.PushJSON).Request(context.Background(),
			wechatsim.SubscribeEvent(event, openid, wechatsim.SubscriptionItem{TemplateID: reminderTemplate, Status: status, PopupScene: "0"})))
		if code != http.StatusOK || body != "success" {
			t.Fatalf("push %s: %d %q", event, code, body)
		}
	}
	e.subscribe(alice.AccessToken, reminderTemplate, "accept")
	e.clock.Advance(2 * time.Second)
	push("subscribe_msg_popup_event", "accept")
	if subs := e.subscriptions(t, alice.AccessToken); subs[0].Remaining != 1 {
		t.Fatalf("one tap reported twice: %d grants, want 1", subs[0].Remaining)
	}
	e.clock.Advance(time.Hour)
	push("subscribe_msg_popup_event", "accept") // the client did not post this one
	if subs := e.subscriptions(t, alice.AccessToken); subs[0].Remaining != 2 {
		t.Fatalf("a tap the push alone reported: %d grants, want 2", subs[0].Remaining)
	}
	e.clock.Advance(time.Hour)
	push("subscribe_msg_change_event", "reject")
	if subs := e.subscriptions(t, alice.AccessToken); subs[0].Remaining != 2 || *subs[0].Status != "reject" {
		t.Fatalf("after a change to reject: %+v", subs[0])
	}
}
