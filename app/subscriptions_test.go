package app_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// fakeSubscriptions records the choices it is handed and answers a list.
type fakeSubscriptions struct {
	mu      sync.Mutex
	choices []ports.SubscriptionChoice
	list    []domain.Subscription
	err     error
}

var _ ports.SubscriptionStore = (*fakeSubscriptions)(nil)

func (f *fakeSubscriptions) Record(_ context.Context, c ports.SubscriptionChoice) (domain.Subscription, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return domain.Subscription{}, f.err
	}
	f.choices = append(f.choices, c)
	return domain.Subscription{App: c.App, TemplateID: c.TemplateID, Remaining: 1, Status: c.Result, UpdatedAt: c.At}, nil
}

func (f *fakeSubscriptions) List(_ context.Context, _ domain.UserID, _ domain.AppID) ([]domain.Subscription, error) {
	return f.list, f.err
}

var subTemplates = []domain.SubscribeTemplate{
	{AppID: string(pushApp), Purpose: domain.SubscribePurposeReminder, ID: "T-remind", Fields: []domain.TemplateField{{Key: "thing1", Source: "title"}}},
	{AppID: "wx-other", Purpose: domain.SubscribePurposeReminder, ID: "T-other", Fields: []domain.TemplateField{{Key: "thing1", Source: "title"}}},
}

func TestSubscriptionsRecordChecksTheSessionTheTemplateAndTheAnswer(t *testing.T) {
	store := &fakeSubscriptions{}
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	uc := app.Subscriptions{Templates: subTemplates, Store: store, Clock: fixedClock{now}}
	ctx := context.Background()
	for _, tc := range []struct {
		name          string
		app           domain.AppID
		template, res string
		code          domain.Code
	}{
		{"a password session", "", "T-remind", "accept", domain.CodeWeChatLoginRequired},
		{"an unknown template", pushApp, "nope", "accept", domain.CodeSubscribeTemplateUnknown},
		{"another app's template", pushApp, "T-other", "accept", domain.CodeSubscribeTemplateUnknown},
		{"an unknown answer", pushApp, "T-remind", "maybe", domain.CodeInvalid},
	} {
		if _, err := uc.Record(ctx, "u1", tc.app, tc.template, tc.res); domain.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	if len(store.choices) != 0 {
		t.Fatalf("refused answers reached the store: %+v", store.choices)
	}
	sub, err := uc.Record(ctx, "u1", pushApp, "T-remind", "accept")
	if err != nil {
		t.Fatal(err)
	}
	want := ports.SubscriptionChoice{User: "u1", App: pushApp, TemplateID: "T-remind", Result: "accept",
		Source: ports.SubscriptionFromClient, At: now, SameWithin: domain.SubscribeSameAcceptance}
	if len(store.choices) != 1 || store.choices[0] != want || sub.Purpose != "reminder" {
		t.Errorf("recorded %+v (answer %+v), want %+v", store.choices, sub, want)
	}
}

func TestSubscriptionsListShowsEveryConfiguredTemplateFirst(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	store := &fakeSubscriptions{list: []domain.Subscription{
		{App: pushApp, TemplateID: "T-old", Remaining: 2, Status: "accept", UpdatedAt: at},
		{App: pushApp, TemplateID: "T-remind", Remaining: 1, Status: "accept", UpdatedAt: at},
	}}
	uc := app.Subscriptions{Templates: subTemplates, Store: store, Clock: fixedClock{at}}
	got, err := uc.List(context.Background(), "u1", pushApp)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].TemplateID != "T-remind" || got[0].Purpose != "reminder" || got[0].Remaining != 1 ||
		got[1].TemplateID != "T-old" || got[1].Purpose != "" {
		t.Errorf("List = %+v", got)
	}
	if got, _ := uc.List(context.Background(), "u1", ""); len(got) != 0 {
		t.Errorf("a password session's list = %+v", got)
	}
	store.list = nil
	if got, _ := uc.List(context.Background(), "u1", pushApp); len(got) != 1 || got[0].Remaining != 0 || got[0].Status != "" {
		t.Errorf("before any answer = %+v, want the configured template with nothing left", got)
	}
}

func subscribeBody(event, status string) string {
	return `{"ToUserName":"gh_1","FromUserName":"o-alice","CreateTime":1740830400,"MsgType":"event","Event":"` + event + `",` +
		`"List":[{"TemplateId":"T-remind","SubscribeStatusString":"` + status + `","PopupScene":"0"},` +
		`{"TemplateId":"T-2","SubscribeStatusString":"weird"}]}`
}

func TestPushedSubscriptionChoicesReachTheGrantsOncePerMessage(t *testing.T) {
	f := newPushFixture(t)
	store := &fakeSubscriptions{}
	f.uc.Subscriptions = app.Subscriptions{Templates: subTemplates, Store: store, Clock: fixedClock{f.now}}
	for range 3 { // a delivery and WeChat's retries
		if _, err := f.uc.Receive(context.Background(), pushApp, f.signed(), []byte(subscribeBody("subscribe_msg_popup_event", "accept"))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.uc.Receive(context.Background(), pushApp, f.signed(), []byte(subscribeBody("subscribe_msg_change_event", "reject"))); err != nil {
		t.Fatal(err)
	}
	want := []ports.SubscriptionChoice{
		{OpenID: "o-alice", App: pushApp, TemplateID: "T-remind", Result: "accept", Source: ports.SubscriptionFromPopup, At: f.now, SameWithin: domain.SubscribeSameAcceptance},
		{OpenID: "o-alice", App: pushApp, TemplateID: "T-remind", Result: "reject", Source: ports.SubscriptionFromChange, At: f.now, SameWithin: domain.SubscribeSameAcceptance},
	}
	if len(store.choices) != len(want) || store.choices[0] != want[0] || store.choices[1] != want[1] {
		t.Errorf("recorded %+v, want %+v (an unknown answer skipped, a retry not dispatched)", store.choices, want)
	}
}

func TestPushedChoiceOfAUserUnknownHereIsAcknowledged(t *testing.T) {
	f := newPushFixture(t)
	f.uc.Subscriptions = app.Subscriptions{Store: &fakeSubscriptions{err: domain.ErrUserNotFound(nil)}, Clock: fixedClock{f.now}}
	if _, err := f.uc.Receive(context.Background(), pushApp, f.signed(), []byte(subscribeBody("subscribe_msg_popup_event", "accept"))); err != nil {
		t.Errorf("err = %v, want the push acknowledged", err)
	}
	f.uc.Subscriptions.Store = &fakeSubscriptions{err: domain.Errorf(domain.CodeUnavailable, "")}
	body := []byte(subscribeBody("subscribe_msg_change_event", "reject"))
	if _, err := f.uc.Receive(context.Background(), pushApp, f.signed(), body); domain.ErrorCode(err) != domain.CodeUnavailable {
		t.Errorf("err = %v, want the failure, so that WeChat delivers again", err)
	}
}
