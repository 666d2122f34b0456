package app

import (
	"context"
	"fmt"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Profiles reads and edits the signed-in user's own profile. The user id
// always comes from the verified access token, never from the request.
type Profiles struct {
	Users ports.UserStore
}

// Get returns the user's profile.
func (uc Profiles) Get(ctx context.Context, id domain.UserID) (domain.User, error) {
	u, err := uc.Users.GetUser(ctx, id)
	if err != nil {
		return domain.User{}, fmt.Errorf("get user: %w", err)
	}
	return u, nil
}

// Update applies a merge patch after checking it against the profile rules.
func (uc Profiles) Update(ctx context.Context, id domain.UserID, patch domain.ProfilePatch) (domain.User, error) {
	patch, err := patch.Normalize()
	if err != nil {
		return domain.User{}, err
	}
	u, err := uc.Users.UpdateUser(ctx, id, func(u domain.User) (domain.User, error) {
		return patch.Apply(u), nil
	})
	if err != nil {
		return domain.User{}, fmt.Errorf("update user: %w", err)
	}
	return u, nil
}
