package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Reminders sends the task reminders the queue hands it, one job run at a
// time (the river worker in adapters/jobs calls Deliver).
//
// Exactly one send per grant, with any number of replicas and river's
// at-least-once runs: the claim (ports.ReminderStore.ClaimReminder) takes
// the grant and marks the reminder sending in one transaction that
// commits before WeChat is called, and the finish records what WeChat
// said. A run that finds the reminder still sending from an earlier
// attempt (a crash, a lost database between the send and the finish)
// cannot know whether WeChat delivered it, so it does not send again: the
// reminder fails with domain.ReasonOutcomeUnknown. A failure that proves
// WeChat did not send (busy -1, quota 45011, an open breaker:
// domain.SendNotDelivered) gives the grant back and returns the error for
// river to retry with backoff; one that may have delivered (a timeout, a
// lost connection, a 5xx) is final like WeChat's own refusals
// (domain.IsPermanentSendFailure), which the worker cancels.
type Reminders struct {
	Store     ports.ReminderStore
	Sender    ports.SubscribeSender
	Templates []domain.SubscribeTemplate
	Clock     ports.Clock
}

// Route returns the reminder route of app: its reminder template; false
// when the session has no app or the app has none.
func (uc Reminders) Route(app domain.AppID) (domain.ReminderRoute, bool) {
	if app == "" {
		return domain.ReminderRoute{}, false
	}
	for _, t := range uc.Templates {
		if t.AppID == string(app) && t.Purpose == domain.SubscribePurposeReminder {
			return domain.ReminderRoute{App: app, TemplateID: t.ID}, true
		}
	}
	return domain.ReminderRoute{}, false
}

func (uc Reminders) template(r domain.ReminderRoute) (domain.SubscribeTemplate, bool) {
	for _, t := range uc.Templates {
		if t.AppID == string(r.App) && t.ID == r.TemplateID {
			return t, true
		}
	}
	return domain.SubscribeTemplate{}, false
}

// finalf is a failure that ends the job for good
// (domain.IsFinalReminderFailure).
func finalf(format string, args ...any) error {
	return &domain.Error{Code: domain.CodeReminderFinal, Message: "The reminder ended without a send.", Err: fmt.Errorf(format, args...)}
}

// Deliver runs one attempt of a reminder's job. nil: done (sent, or
// nothing to send any more). An error for which
// domain.IsFinalReminderFailure holds: recorded as failed, never to be
// retried. Any other error: the grant was given back and the reminder is
// scheduled again; the queue retries later. last says this is the job's
// last attempt: a retryable failure then fails the reminder instead.
func (uc Reminders) Deliver(ctx context.Context, j ports.ReminderJob, last bool) error {
	if j.Now.IsZero() {
		j.Now = uc.Clock.Now()
	}
	claim, err := uc.Store.ClaimReminder(ctx, j)
	if err != nil {
		return fmt.Errorf("claim reminder: %w", err)
	}
	switch claim.Outcome {
	case ports.ClaimSend:
	case ports.ClaimUnknown:
		return finalf("reminder of task %s: an earlier attempt may have sent it", j.Todo)
	case ports.ClaimNoUser:
		return finalf("reminder of task %s: the user has no identity in the app", j.Todo)
	default: // stale, or no grant: recorded, nothing to send
		return nil
	}
	finish := func(f ports.ReminderFinish) error {
		// The finish must land even when the job's context ended.
		if err := uc.Store.FinishReminder(context.WithoutCancel(ctx), j, f); err != nil {
			return fmt.Errorf("finish reminder: %w", err)
		}
		return nil
	}
	t, ok := uc.template(claim.Route)
	var msg domain.SubscribeMessage
	if ok {
		msg, err = t.Message(string(claim.OpenID), string(claim.Todo.ID), domain.SubscribeValues(claim.Todo))
	}
	if !ok || err != nil {
		if ferr := finish(ports.ReminderFinish{State: domain.ReminderFailed, Reason: domain.ReasonTemplateGone, Grant: ports.GrantReturned}); ferr != nil {
			return ferr
		}
		return finalf("reminder of task %s: template %s of %s: configured %v: %w", j.Todo, claim.Route.TemplateID, claim.Route.App, ok, err)
	}
	msgID, err := uc.Sender.SendSubscribe(ctx, msg)
	switch {
	case err == nil:
		return finish(ports.ReminderFinish{State: domain.ReminderSent, MsgID: msgID, SentAt: uc.Clock.Now().UTC(), Grant: ports.GrantSpent})
	case domain.IsPermanentSendFailure(err):
		f := ports.ReminderFinish{State: domain.ReminderFailed, Reason: reasonOf(err), Grant: ports.GrantReturned}
		if reasonOf(err) == string(domain.CodeSubscribeRefused) {
			f.Grant = ports.GrantsCleared
		}
		if ferr := finish(f); ferr != nil {
			return ferr
		}
		return fmt.Errorf("send reminder of task %s: %w", j.Todo, err)
	case domain.SendNotDelivered(err) && !last:
		if ferr := finish(ports.ReminderFinish{State: domain.ReminderScheduled, Grant: ports.GrantReturned}); ferr != nil {
			return ferr
		}
		return fmt.Errorf("send reminder of task %s (will retry): %w", j.Todo, err)
	case domain.SendNotDelivered(err):
		if ferr := finish(ports.ReminderFinish{State: domain.ReminderFailed, Reason: domain.ReasonWeChatUnavailable, Grant: ports.GrantReturned}); ferr != nil {
			return ferr
		}
		return finalf("send reminder of task %s: last attempt: %w", j.Todo, err)
	default:
		if ferr := finish(ports.ReminderFinish{State: domain.ReminderFailed, Reason: domain.ReasonOutcomeUnknown, Grant: ports.GrantSpent}); ferr != nil {
			return ferr
		}
		return finalf("send reminder of task %s: may have reached WeChat: %w", j.Todo, err)
	}
}

// reasonOf is the stable code of a send failure.
func reasonOf(err error) string {
	var e *domain.Error
	if errors.As(err, &e) {
		return string(e.Code)
	}
	return domain.ReasonOutcomeUnknown
}
