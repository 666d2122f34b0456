package domain_test

import (
	"testing"
	"time"

	"github.com/miniback/miniback/domain"
)

func TestReminderTargetIsDueMinusLeadUntilTheTaskIsDue(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	due := time.Date(2026, 3, 1, 18, 0, 0, 0, time.FixedZone("", 8*3600)) // 10:00 UTC
	lead := 30
	past := now.Add(-time.Minute)
	cases := []struct {
		name   string
		t      domain.Todo
		at     time.Time
		reason string
	}{
		{"due minus lead", domain.Todo{DueAt: &due, ReminderLead: &lead}, due.Add(-30 * time.Minute).UTC(), ""},
		{"no lead", domain.Todo{DueAt: &due}, time.Time{}, domain.ReasonReminderCleared},
		{"no due time", domain.Todo{ReminderLead: &lead}, time.Time{}, domain.ReasonDueCleared},
		{"done", domain.Todo{DueAt: &due, ReminderLead: &lead, Done: true}, time.Time{}, domain.ReasonTaskDone},
		{"due passed", domain.Todo{DueAt: &past, ReminderLead: &lead}, time.Time{}, domain.ReasonDuePassed},
	}
	for _, c := range cases {
		at, reason, ok := domain.ReminderTarget(c.t, now)
		if !at.Equal(c.at) || reason != c.reason || ok != (c.reason == "") {
			t.Errorf("%s: %v %q %v", c.name, at, reason, ok)
		}
	}
}

func TestReminderLeadIsZeroToAWeekAndCanBeClearedButNotBoth(t *testing.T) {
	for _, lead := range []int{-1, domain.ReminderLeadMax + 1} {
		if _, err := (domain.TodoDraft{Title: "x", ReminderLead: &lead}).Normalize(); err == nil {
			t.Errorf("lead %d accepted", lead)
		}
	}
	lead := 0
	f, err := (domain.TodoDraft{Title: "x", ReminderLead: &lead}).Normalize()
	if err != nil || f.ReminderLead == nil || *f.ReminderLead != 0 {
		t.Fatalf("%+v %v", f, err)
	}
	if _, err := (domain.TodoPatch{ReminderLead: &lead, ClearReminderLead: true}).Normalize(); err == nil {
		t.Error("set and cleared at once accepted")
	}
	c, err := (domain.TodoPatch{ClearReminderLead: true}).Normalize()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Apply(domain.Todo{ReminderLead: &lead, Version: 1}, time.Now()); got.ReminderLead != nil {
		t.Error("clear kept the lead")
	}
}

func TestOnlyAnswersThatProveNoSendAreNotDelivered(t *testing.T) {
	for code, want := range map[domain.Code]bool{
		domain.CodeWeChatBusy: true, domain.CodeWeChatRateLimited: true, domain.CodeWeChatUnavailable: true,
		domain.CodeWeChatTimeout: false, domain.CodeWeChatUnreachable: false, domain.CodeWeChatBadResponse: false,
	} {
		if got := domain.SendNotDelivered(&domain.Error{Code: code}); got != want {
			t.Errorf("%s: %v", code, got)
		}
	}
}
