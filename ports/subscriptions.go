package ports

import (
	"context"
	"time"

	"github.com/miniback/miniback/domain"
)

// SubscribeSender sends subscribe messages (subscribeMessage.send). A
// failure is a *domain.Error whose code domain.IsPermanentSendFailure
// classifies; msgID is WeChat's msgid of a sent message.
type SubscribeSender interface {
	SendSubscribe(ctx context.Context, m domain.SubscribeMessage) (msgID string, err error)
}

// SubscriptionStore keeps what each user accepted of each template: the
// one-time grants left and the last choice.
type SubscriptionStore interface {
	// Record applies a user's choice and returns the subscription after
	// it. Any choice sets the status; an accept adds one grant (at most
	// domain.MaxSubscribeGrants) unless it is the same acceptance the
	// other source already reported (SubscriptionChoice.Source). Record
	// with a choice that names a user by OpenID (a push) and no such user
	// of the app records nothing and returns a not-found error.
	Record(ctx context.Context, c SubscriptionChoice) (domain.Subscription, error)
	// List returns the user's subscriptions in app, by template id.
	List(ctx context.Context, user domain.UserID, app domain.AppID) ([]domain.Subscription, error)
}

// SubscriptionSource says who reported a choice.
type SubscriptionSource string

const (
	// SubscriptionFromClient: the mini-program posted the result of
	// wx.requestSubscribeMessage.
	SubscriptionFromClient SubscriptionSource = "client"
	// SubscriptionFromPopup: WeChat pushed subscribe_msg_popup_event.
	SubscriptionFromPopup SubscriptionSource = "popup"
	// SubscriptionFromChange: WeChat pushed subscribe_msg_change_event
	// (the user changed the setting later). It never adds a grant.
	SubscriptionFromChange SubscriptionSource = "change"
)

// SubscriptionChoice is one report of a user's choice for a template.
type SubscriptionChoice struct {
	// User names the user; a push names them by OpenID instead (in App).
	User       domain.UserID
	OpenID     domain.OpenID
	App        domain.AppID
	TemplateID string
	Result     string // domain.SubscribeAccept, …
	Source     SubscriptionSource
	At         time.Time
	// SameWithin: an accept from the client and one from the popup push
	// for the same user and template within this much time of each other
	// are one acceptance, counted once (domain.SubscribeSameAcceptance).
	SameWithin time.Duration
}
