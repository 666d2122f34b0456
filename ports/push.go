package ports

import (
	"context"
	"time"

	"github.com/miniback/miniback/domain"
)

// PushStore keeps the messages WeChat pushed, one per (app, dedup key),
// so that a message WeChat delivers again (it retries three times) is
// dispatched once.
type PushStore interface {
	// ClaimPushEvent records e, received at now, unless a message with the
	// same key is recorded for the app already, and says whether the
	// caller must dispatch it: a new message, or one whose earlier
	// delivery's dispatch failed or was abandoned (its claim is older than
	// lease). A subscription event's items are recorded with it, once.
	ClaimPushEvent(ctx context.Context, e PushEvent, now time.Time, lease time.Duration) (PushClaim, error)
	// FinishPushEvent ends a claim: dispatched marks the message done; not
	// dispatched releases it at once, for WeChat's next delivery.
	FinishPushEvent(ctx context.Context, c PushClaim, now time.Time, dispatched bool) error
	// PurgePushEvents deletes the messages first received before before,
	// returning how many.
	PurgePushEvents(ctx context.Context, before time.Time) (int64, error)
}

// PushEvent is a message to record.
type PushEvent struct {
	App     domain.AppID
	Key     string // Message.DedupKey()
	Message domain.PushMessage
}

// PushClaim is the outcome of ClaimPushEvent.
type PushClaim struct {
	// Claimed: the caller must dispatch the message, then Finish the
	// claim. When false the message is a duplicate: acknowledge it.
	Claimed bool
	// Deliveries counts the deliveries of the message, this one included.
	Deliveries int
	// ID and Token name the claim for FinishPushEvent.
	ID    int64
	Token string
}

// IdentitySessions ends sessions by WeChat identity.
type IdentitySessions interface {
	// RevokeIdentitySessions ends every active session of the user whose
	// WeChat identity is (app, openid) and records the revocations in the
	// shared feed, in one transaction. None when no user has that
	// identity.
	RevokeIdentitySessions(ctx context.Context, app domain.AppID, openid domain.OpenID, reason domain.RevokeReason, at time.Time) ([]domain.Revocation, error)
}
