package ports

import (
	"context"

	"github.com/miniback/miniback/domain"
)

// ModerationStore keeps what content security flagged and the image
// checks waiting for WeChat's verdict, and finds the openid a user's
// content is checked with.
type ModerationStore interface {
	// WeChatOpenID returns the user's openid in app, or, with app "", in
	// the mini-program they last logged in with. ok is false when the user
	// has no such WeChat identity.
	WeChatOpenID(ctx context.Context, user domain.UserID, app domain.AppID) (domain.AppID, domain.OpenID, bool, error)
	// Flag records an open item. An open (or pending) item for the same
	// subject and field is updated instead, so flagging again never piles
	// up items.
	Flag(ctx context.Context, item domain.ModerationItem) error
	// AddMediaCheck records an image check: pending with its trace id, or
	// already open when it could not be submitted. An upload has at most
	// one pending or open check; a second one is not recorded.
	AddMediaCheck(ctx context.Context, item domain.ModerationItem) error
	// UpdateMediaCheck locks the image check of (app, traceID), lets fn
	// change it and saves the result, with the upload's blocked flag set
	// to the result's BlocksUpload, in one transaction. CodeNotFound when
	// there is no such check. An error from fn rolls back and is returned
	// as it is.
	UpdateMediaCheck(ctx context.Context, app domain.AppID, traceID string, fn func(domain.ModerationItem) (domain.ModerationItem, error)) (domain.ModerationItem, error)
	// UpdateModerationItem is UpdateMediaCheck for the item id, of any
	// subject (an upload's blocked flag follows the result too).
	// CodeNotFound when there is no such item.
	UpdateModerationItem(ctx context.Context, id domain.ModerationID, fn func(domain.ModerationItem) (domain.ModerationItem, error)) (domain.ModerationItem, error)
	// ListModeration returns at most max items of q.Status, newest first,
	// after q.After when set.
	ListModeration(ctx context.Context, q domain.ModerationQuery, max int) ([]domain.ModerationItem, error)
}
