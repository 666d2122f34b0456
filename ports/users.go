package ports

import (
	"context"
	"time"

	"github.com/miniback/miniback/domain"
)

// UserStore keeps users and their WeChat identities.
type UserStore interface {
	// UpsertWeChatUser finds the user of (AppID, OpenID) or creates one,
	// atomically: concurrent first logins make one user. It stores the
	// session key and keeps a previously known UnionID when id has none.
	UpsertWeChatUser(ctx context.Context, id domain.WeChatIdentity) (u domain.User, created bool, err error)
	// GetUser returns CodeNotFound when there is no such user.
	GetUser(ctx context.Context, id domain.UserID) (domain.User, error)
	// UpdateUser loads the user, lets fn change it, and saves the result in
	// one transaction. fn holds the rule; the store holds the transaction.
	UpdateUser(ctx context.Context, id domain.UserID, fn func(domain.User) (domain.User, error)) (domain.User, error)
}

// UserAdmin is what the admin operations need from the user store.
type UserAdmin interface {
	// ListUsers returns at most max users matching q (already normalised),
	// newest first, after q.After when set. A cursor naming no valid
	// position is a validation error.
	ListUsers(ctx context.Context, q domain.UserQuery, max int) ([]domain.User, error)
	// SetUserRole changes the user's role; CodeNotFound when there is no
	// such user.
	SetUserRole(ctx context.Context, id domain.UserID, role domain.Role) (domain.User, error)
}

// AccountDeleter deletes accounts.
type AccountDeleter interface {
	// DeleteUser deletes the user with everything that is theirs
	// (identities, sessions) and, in the same transaction, records the
	// returned user-wide revocation at `at`. CodeNotFound when there is no
	// such user.
	DeleteUser(ctx context.Context, id domain.UserID, at time.Time) (domain.Revocation, error)
}
