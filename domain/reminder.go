package domain

import (
	"errors"
	"time"
)

// Task reminders: one WeChat subscribe message sent ReminderLead minutes
// before a task is due, through the mini-program the lead was set from,
// spending one of the user's one-time grants of that app's reminder
// template (SubscribePurposeReminder).

// ReminderState is where a task's reminder stands.
type ReminderState string

const (
	ReminderScheduled      ReminderState = "scheduled"       // a job waits for At
	ReminderNoSubscription ReminderState = "no_subscription" // no grant was left
	ReminderSending        ReminderState = "sending"         // a grant is taken, WeChat is being called
	ReminderSent           ReminderState = "sent"            // WeChat accepted it: MsgID
	ReminderFailed         ReminderState = "failed"          // Reason: WeChat's final refusal, or ReasonOutcomeUnknown
	ReminderCancelled      ReminderState = "cancelled"       // Reason: why
)

// Why a reminder failed or was cancelled (besides the codes of WeChat's
// final refusals: CodeSubscribeRefused…).
const (
	ReasonTaskDone        = "task_done"
	ReasonReminderCleared = "reminder_cleared"
	ReasonDueCleared      = "due_cleared"
	ReasonDuePassed       = "due_passed"
	// ReasonOutcomeUnknown: a send may have reached WeChat and no answer
	// said whether it went. It is not repeated: a repeat could deliver the
	// message twice and spend a second grant.
	ReasonOutcomeUnknown = "outcome_unknown"
	// ReasonNoWeChatUser: the user has no identity in the reminder's
	// mini-program any more.
	ReasonNoWeChatUser = "no_wechat_user"
	// ReasonTemplateGone: the app's reminder template is no longer
	// configured, or cannot render the task.
	ReasonTemplateGone = "template_unavailable"
	// ReasonWeChatUnavailable: every retry failed.
	ReasonWeChatUnavailable = "wechat_unavailable"
)

// ReminderLeadMax bounds the lead: a week.
const ReminderLeadMax = 7 * 24 * 60

// Reminder is a task's reminder as its owner sees it (read-only).
type Reminder struct {
	State  ReminderState
	At     time.Time // remind time: due − lead
	MsgID  string
	Reason string
	SentAt *time.Time
}

// ReminderRoute is where a task's reminder goes: the mini-program of the
// session that set it and that app's reminder template. The use-case sets
// it on a task it writes (Todo.RemindVia); nil keeps the route the task
// had, or none (the reminder then says no_subscription).
type ReminderRoute struct {
	App        AppID
	TemplateID string
}

// ReminderTarget says when t's reminder is due as of now: at, with ok, or
// the reason there is none (empty when the task simply has no lead).
// A reminder whose time has passed while the task is not yet due is sent
// at once; once the task is due, none is.
func ReminderTarget(t Todo, now time.Time) (at time.Time, reason string, ok bool) {
	switch {
	case t.ReminderLead == nil:
		return time.Time{}, ReasonReminderCleared, false
	case t.DueAt == nil:
		return time.Time{}, ReasonDueCleared, false
	case t.Done:
		return time.Time{}, ReasonTaskDone, false
	case !t.DueAt.After(now):
		return time.Time{}, ReasonDuePassed, false
	}
	return t.DueAt.Add(-time.Duration(*t.ReminderLead) * time.Minute).UTC(), "", true
}

// CheckReminderLead checks a lead in minutes.
func CheckReminderLead(minutes int) *FieldError {
	if minutes < 0 || minutes > ReminderLeadMax {
		return &FieldError{"reminder_lead_minutes", "out_of_range", "reminder_lead_minutes must be from 0 to 10080 (a week)"}
	}
	return nil
}

// CodeReminderFinal marks a reminder send that ended for good without
// WeChat refusing it (the outcome is unknown, the task or the template
// is gone): its job must not run again.
const CodeReminderFinal Code = "reminder_final"

// IsFinalReminderFailure reports whether a reminder send's failure ends
// its job for good: WeChat's final refusals (IsPermanentSendFailure) and
// CodeReminderFinal.
func IsFinalReminderFailure(err error) bool {
	var e *Error
	if errors.As(err, &e) && e.Code == CodeReminderFinal {
		return true
	}
	return IsPermanentSendFailure(err)
}

// SendNotDelivered reports whether a failed send certainly did not
// deliver the message: WeChat answered busy (-1) or over quota (45011),
// the breaker was open, or WeChat refused the app's credentials. Such a
// send gives its grant back and is tried again later. A timeout, a lost
// connection, a 5xx or an unreadable reply may come after WeChat sent it.
func SendNotDelivered(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case CodeWeChatBusy, CodeWeChatRateLimited, CodeWeChatUnavailable, CodeWeChatMisconfigured:
		return true
	}
	return false
}
