package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Profiles reads and edits the signed-in user's own profile. The user id
// always comes from the verified access token, never from the request.
type Profiles struct {
	Users ports.UserStore
	// Uploads and Links resolve avatar_upload_id; without them a patch
	// that names an avatar upload fails as internal.
	Uploads *Uploads
	Links   ports.AvatarLinks
	// Moderation checks the nickname and bio when the deployment says so;
	// nil checks nothing.
	Moderation *Moderation
}

// Get returns the user's profile.
func (uc Profiles) Get(ctx context.Context, id domain.UserID) (domain.User, error) {
	u, err := uc.Users.GetUser(ctx, id)
	if err != nil {
		return domain.User{}, fmt.Errorf("get user: %w", err)
	}
	return u, nil
}

// Update applies a merge patch after checking it against the profile rules
// and content security. app is the mini-program of the caller's session
// ("" for none): content security checks with the user's openid there.
func (uc Profiles) Update(ctx context.Context, id domain.UserID, app domain.AppID, patch domain.ProfilePatch) (domain.User, error) {
	var rules domain.AvatarURLRules
	if uc.Links != nil {
		rules.Issued = uc.Links.IsAvatarURL
	}
	if patch.AvatarURL != nil {
		// The current value is accepted back unchanged, so the rule
		// needs it. Only a patch that sets avatar_url pays for the read.
		u, err := uc.Users.GetUser(ctx, id)
		if err != nil {
			return domain.User{}, fmt.Errorf("get user: %w", err)
		}
		rules.Current = u.AvatarURL
	}
	patch, err := patch.Normalize(rules)
	if err != nil {
		return domain.User{}, err
	}
	if patch.AvatarUploadID != nil {
		if uc.Uploads == nil || uc.Links == nil {
			return domain.User{}, errors.New("profiles: avatar uploads are not wired")
		}
		// A ready upload never changes again, so checking it outside the
		// user's transaction is safe.
		up, err := uc.Uploads.Usable(ctx, id, *patch.AvatarUploadID, domain.PurposeAvatar)
		if err != nil {
			return domain.User{}, err
		}
		link := uc.Links.AvatarURL(up.ID)
		patch.AvatarURL, patch.AvatarUploadID = &link, nil
	}
	screen, err := uc.screen(ctx, id, app, patch)
	if err != nil {
		return domain.User{}, err
	}
	u, err := uc.Users.UpdateUser(ctx, id, func(u domain.User) (domain.User, error) {
		return patch.Apply(u), nil
	})
	if err != nil {
		return domain.User{}, fmt.Errorf("update user: %w", err)
	}
	if err := screen.Record(ctx, string(id)); err != nil {
		return domain.User{}, err
	}
	return u, nil
}

// screen runs content security on the patch's text, when it is on.
func (uc Profiles) screen(ctx context.Context, id domain.UserID, app domain.AppID, patch domain.ProfilePatch) (Screening, error) {
	m := uc.Moderation
	var texts []TextInput
	if patch.Nickname != nil && m.On(domain.FieldNickname) {
		texts = append(texts, TextInput{Field: domain.FieldNickname, Text: *patch.Nickname})
	}
	if patch.Bio != nil && m.On(domain.FieldBio) {
		texts = append(texts, TextInput{Field: domain.FieldBio, Text: *patch.Bio})
	}
	if len(texts) == 0 {
		return Screening{}, nil
	}
	return m.ScreenText(ctx, id, app, domain.SubjectProfile, texts...)
}
