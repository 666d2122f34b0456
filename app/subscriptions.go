package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// maxListedSubscriptions bounds GET /v1/me/subscriptions.
const maxListedSubscriptions = 200

// Subscriptions records what users accept of the subscribe-message
// templates (from the mini-program, and from WeChat's push) and shows
// what is left.
//
// One acceptance is often reported twice: by the mini-program (POST
// /v1/me/subscriptions, after wx.requestSubscribeMessage) and, when the
// app's message push is configured, by WeChat (subscribe_msg_popup_event).
// The rule: an accept from one source that finds an accept from the other
// for the same user and template within domain.SubscribeSameAcceptance
// is that acceptance and adds nothing; otherwise it adds one grant. With
// no push configured the client's report is the only one; with a client
// that does not post, the push's is.
type Subscriptions struct {
	Templates []domain.SubscribeTemplate
	Store     ports.SubscriptionStore
	Clock     ports.Clock
}

// template returns app's configured template id.
func (uc Subscriptions) template(app domain.AppID, id string) (domain.SubscribeTemplate, bool) {
	for _, t := range uc.Templates {
		if t.AppID == string(app) && t.ID == id {
			return t, true
		}
	}
	return domain.SubscribeTemplate{}, false
}

// Template returns app's template for purpose (e.g.
// domain.SubscribePurposeReminder), if one is configured.
func (uc Subscriptions) Template(app domain.AppID, purpose string) (domain.SubscribeTemplate, bool) {
	for _, t := range uc.Templates {
		if t.AppID == string(app) && t.Purpose == purpose {
			return t, true
		}
	}
	return domain.SubscribeTemplate{}, false
}

// Record records the user's answer in app's mini-program for one template,
// as wx.requestSubscribeMessage reported it: an accept adds a grant
// (unless the push reported the same tap), any answer sets the status.
func (uc Subscriptions) Record(ctx context.Context, user domain.UserID, app domain.AppID, templateID, result string) (domain.Subscription, error) {
	if app == "" {
		return domain.Subscription{}, domain.ErrSubscribeNeedsWeChatSession()
	}
	if !domain.ValidSubscribeResult(result) {
		return domain.Subscription{}, domain.Invalid(domain.FieldError{Field: "result", Code: "invalid",
			Message: "result must be accept, reject, ban or filter"})
	}
	t, ok := uc.template(app, templateID)
	if !ok {
		return domain.Subscription{}, domain.ErrSubscribeTemplateUnknown(templateID)
	}
	if uc.Store == nil {
		return domain.Subscription{}, errors.New("subscriptions: the store is not wired")
	}
	sub, err := uc.Store.Record(ctx, ports.SubscriptionChoice{User: user, App: app, TemplateID: templateID, Result: result,
		Source: ports.SubscriptionFromClient, At: uc.Clock.Now().UTC(), SameWithin: domain.SubscribeSameAcceptance})
	if err != nil {
		return domain.Subscription{}, fmt.Errorf("record subscription: %w", err)
	}
	sub.Purpose = t.Purpose
	return sub, nil
}

// RecordPushed applies the choices of a subscribe_msg_popup_event or
// subscribe_msg_change_event WeChat pushed for the user openid of app.
// A user unknown here, and an answer that is none of the four, are
// skipped. Only a popup's accept adds a grant; a change sets the status.
func (uc Subscriptions) RecordPushed(ctx context.Context, app domain.AppID, openid domain.OpenID, event string, items []domain.SubscriptionItem) error {
	source := ports.SubscriptionFromPopup
	if event == domain.PushEventSubscribeChange {
		source = ports.SubscriptionFromChange
	}
	if uc.Store == nil || openid == "" {
		return nil
	}
	now := uc.Clock.Now().UTC()
	for _, it := range items {
		if it.TemplateID == "" || len(it.TemplateID) > 128 || !domain.ValidSubscribeResult(it.Status) {
			continue
		}
		_, err := uc.Store.Record(ctx, ports.SubscriptionChoice{OpenID: openid, App: app, TemplateID: it.TemplateID,
			Result: it.Status, Source: source, At: now, SameWithin: domain.SubscribeSameAcceptance})
		switch {
		case domain.ErrorCode(err) == domain.CodeNotFound:
			return nil // not a user of ours: nothing to record
		case err != nil:
			return fmt.Errorf("record pushed subscription: %w", err)
		}
	}
	return nil
}

// List returns what the user has left of each template of app: every
// configured one (in the configuration's order, with its purpose), then
// any other the user answered for, by id. A session with no app has none.
func (uc Subscriptions) List(ctx context.Context, user domain.UserID, app domain.AppID) ([]domain.Subscription, error) {
	out := []domain.Subscription{}
	if app == "" {
		return out, nil
	}
	var stored []domain.Subscription
	if uc.Store != nil {
		var err error
		if stored, err = uc.Store.List(ctx, user, app); err != nil {
			return nil, fmt.Errorf("list subscriptions: %w", err)
		}
	}
	byID := make(map[string]domain.Subscription, len(stored))
	for _, s := range stored {
		byID[s.TemplateID] = s
	}
	for _, t := range uc.Templates {
		if t.AppID != string(app) {
			continue
		}
		s, ok := byID[t.ID]
		if !ok {
			s = domain.Subscription{App: app, TemplateID: t.ID}
		}
		delete(byID, t.ID)
		s.Purpose = t.Purpose
		out = append(out, s)
	}
	rest := make([]domain.Subscription, 0, len(byID))
	for _, s := range byID {
		rest = append(rest, s)
	}
	slices.SortFunc(rest, func(a, b domain.Subscription) int { return cmp.Compare(a.TemplateID, b.TemplateID) })
	out = append(out, rest...)
	if len(out) > maxListedSubscriptions {
		out = out[:maxListedSubscriptions]
	}
	return out, nil
}
