package ports

import (
	"context"

	"github.com/miniback/miniback/domain"
)

// PhoneStore keeps the phone number bound to each user.
type PhoneStore interface {
	// SetUserPhone binds phone to the user, replacing any earlier number,
	// or forgets the user's number when phone is nil, and returns the
	// user. CodeNotFound when there is no such user. Numbers are not
	// unique: several users may hold the same one.
	SetUserPhone(ctx context.Context, id domain.UserID, phone *domain.UserPhone) (domain.User, error)
}
