package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

type fakeReminderStore struct {
	claim    ports.ReminderClaim
	finishes []ports.ReminderFinish
}

func (f *fakeReminderStore) ClaimReminder(context.Context, ports.ReminderJob) (ports.ReminderClaim, error) {
	return f.claim, nil
}

func (f *fakeReminderStore) FinishReminder(_ context.Context, _ ports.ReminderJob, fin ports.ReminderFinish) error {
	f.finishes = append(f.finishes, fin)
	return nil
}

type fakeSender struct {
	sends int
	err   error
}

func (f *fakeSender) SendSubscribe(context.Context, domain.SubscribeMessage) (string, error) {
	f.sends++
	if f.err != nil {
		return "", f.err
	}
	return "42", nil
}

var reminderTemplate = domain.SubscribeTemplate{AppID: "wxapp", Purpose: domain.SubscribePurposeReminder, ID: "tpl", Page: "pages/task/task?id={id}",
	Fields: []domain.TemplateField{{Key: "thing1", Source: "title"}, {Key: "time2", Source: "due_at"}}}

func claimedSend() ports.ReminderClaim {
	due := time.Date(2026, 3, 1, 18, 0, 0, 0, time.FixedZone("", 8*3600))
	return ports.ReminderClaim{Outcome: ports.ClaimSend, OpenID: "o1", Route: domain.ReminderRoute{App: "wxapp", TemplateID: "tpl"},
		Todo: domain.Todo{ID: "8d0e1b9e-6a51-4f0c-9d1e-5b1c2a3d4e5f", Title: "Pay rent", DueAt: &due}}
}

func TestDeliverSendsAClaimedReminderAndRecordsItsMsgID(t *testing.T) {
	store, sender := &fakeReminderStore{claim: claimedSend()}, &fakeSender{}
	uc := app.Reminders{Store: store, Sender: sender, Templates: []domain.SubscribeTemplate{reminderTemplate}, Clock: fixedClock{time.Now()}}
	if err := uc.Deliver(context.Background(), ports.ReminderJob{Todo: "x", JobID: 1}, false); err != nil {
		t.Fatal(err)
	}
	if sender.sends != 1 || len(store.finishes) != 1 || store.finishes[0].State != domain.ReminderSent || store.finishes[0].MsgID != "42" {
		t.Fatalf("sends %d, finishes %+v", sender.sends, store.finishes)
	}
}

func TestDeliverSendsNothingForAReminderAnEarlierAttemptMayHaveSent(t *testing.T) {
	for _, outcome := range []ports.ClaimOutcome{ports.ClaimUnknown, ports.ClaimNoUser} {
		store, sender := &fakeReminderStore{claim: ports.ReminderClaim{Outcome: outcome}}, &fakeSender{}
		uc := app.Reminders{Store: store, Sender: sender, Templates: []domain.SubscribeTemplate{reminderTemplate}, Clock: fixedClock{time.Now()}}
		err := uc.Deliver(context.Background(), ports.ReminderJob{Todo: "x", JobID: 1}, false)
		if !domain.IsFinalReminderFailure(err) || sender.sends != 0 {
			t.Fatalf("outcome %d: err %v, sends %d", outcome, err, sender.sends)
		}
	}
	for _, outcome := range []ports.ClaimOutcome{ports.ClaimStale, ports.ClaimNoGrant} {
		store, sender := &fakeReminderStore{claim: ports.ReminderClaim{Outcome: outcome}}, &fakeSender{}
		uc := app.Reminders{Store: store, Sender: sender, Clock: fixedClock{time.Now()}}
		if err := uc.Deliver(context.Background(), ports.ReminderJob{Todo: "x", JobID: 1}, false); err != nil || sender.sends != 0 {
			t.Fatalf("outcome %d: err %v, sends %d", outcome, err, sender.sends)
		}
	}
}

func TestDeliverClassifiesSendFailures(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		last   bool
		final  bool
		state  domain.ReminderState
		reason string
		grant  ports.GrantFate
	}{
		{"busy is retried with the grant back", &domain.Error{Code: domain.CodeWeChatBusy}, false, false, domain.ReminderScheduled, "", ports.GrantReturned},
		{"quota is retried with the grant back", &domain.Error{Code: domain.CodeWeChatRateLimited}, false, false, domain.ReminderScheduled, "", ports.GrantReturned},
		{"busy on the last attempt fails", &domain.Error{Code: domain.CodeWeChatBusy}, true, true, domain.ReminderFailed, domain.ReasonWeChatUnavailable, ports.GrantReturned},
		{"43101 fails and clears the grants", &domain.Error{Code: domain.CodeSubscribeRefused}, false, true, domain.ReminderFailed, "subscribe_refused", ports.GrantsCleared},
		{"47003 fails and returns the grant", &domain.Error{Code: domain.CodeSubscribeDataInvalid}, false, true, domain.ReminderFailed, "subscribe_data_invalid", ports.GrantReturned},
		{"a timeout may have sent: failed, never repeated", &domain.Error{Code: domain.CodeWeChatTimeout}, false, true, domain.ReminderFailed, domain.ReasonOutcomeUnknown, ports.GrantSpent},
		{"a lost connection may have sent", errors.New("connection reset"), false, true, domain.ReminderFailed, domain.ReasonOutcomeUnknown, ports.GrantSpent},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store, sender := &fakeReminderStore{claim: claimedSend()}, &fakeSender{err: c.err}
			uc := app.Reminders{Store: store, Sender: sender, Templates: []domain.SubscribeTemplate{reminderTemplate}, Clock: fixedClock{time.Now()}}
			err := uc.Deliver(context.Background(), ports.ReminderJob{Todo: "x", JobID: 1}, c.last)
			if err == nil || domain.IsFinalReminderFailure(err) != c.final {
				t.Fatalf("err %v, final %v, want %v", err, domain.IsFinalReminderFailure(err), c.final)
			}
			if len(store.finishes) != 1 {
				t.Fatalf("finishes %+v", store.finishes)
			}
			f := store.finishes[0]
			if f.State != c.state || f.Reason != c.reason || f.Grant != c.grant {
				t.Fatalf("finish %+v, want %s %q grant %d", f, c.state, c.reason, c.grant)
			}
		})
	}
}

func TestTheReminderRouteIsTheSessionsAppAndItsReminderTemplate(t *testing.T) {
	uc := app.Reminders{Templates: []domain.SubscribeTemplate{reminderTemplate}}
	if r, ok := uc.Route("wxapp"); !ok || r.TemplateID != "tpl" {
		t.Fatalf("route %+v %v", r, ok)
	}
	if _, ok := uc.Route(""); ok {
		t.Fatal("a session without an app has a route")
	}
	if _, ok := uc.Route("other"); ok {
		t.Fatal("an app without a reminder template has a route")
	}
}
