package httpapi

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// The caller's own profile (GET, PATCH and DELETE /v1/me) and the stable
// avatar links a profile carries (GET /v1/avatars/{id}).

// GetMe returns the caller's profile.
func (s *Server) GetMe(ctx context.Context, _ api.GetMeRequestObject) (api.GetMeResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.getMeFailure(ctx, errNoClaims)
	}
	u, err := s.app.Profiles.Get(ctx, claims.UserID)
	if err != nil {
		return s.getMeFailure(ctx, err)
	}
	return (*userResponse)(&u), nil
}

// UpdateMe merge-patches the caller's profile. The body carries only the
// editable fields (the validator refuses any other), and the user id comes
// from the token.
func (s *Server) UpdateMe(ctx context.Context, req api.UpdateMeRequestObject) (api.UpdateMeResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.updateMeFailure(ctx, errNoClaims)
	}
	if req.Body == nil {
		return s.updateMeFailure(ctx, errNoBody)
	}
	patch := domain.ProfilePatch{Nickname: req.Body.Nickname, AvatarURL: req.Body.AvatarUrl, Bio: req.Body.Bio}
	if req.Body.AvatarUploadId != nil {
		id := domain.UploadID(req.Body.AvatarUploadId.String())
		patch.AvatarUploadID = &id
	}
	u, err := s.app.Profiles.Update(ctx, claims.UserID, claims.AppID, patch)
	if err != nil {
		return s.updateMeFailure(ctx, err)
	}
	return (*userResponse)(&u), nil
}

// DeleteMe deletes the caller's account and ends its sessions.
func (s *Server) DeleteMe(ctx context.Context, _ api.DeleteMeRequestObject) (api.DeleteMeResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.deleteMeFailure(ctx, errNoClaims)
	}
	if err := s.app.Accounts.Delete(ctx, claims.UserID); err != nil {
		return s.deleteMeFailure(ctx, err)
	}
	return api.DeleteMe204Response{}, nil
}

// GetAvatar redirects a stable avatar link to a fresh download URL.
func (s *Server) GetAvatar(ctx context.Context, req api.GetAvatarRequestObject) (api.GetAvatarResponseObject, error) {
	url, err := s.app.Uploads.AvatarDownload(ctx, domain.UploadID(req.Id.String()))
	if err != nil {
		return s.getAvatarFailure(ctx, err)
	}
	// The link is stable, its target is not: the redirect carries the
	// Cache-Control: no-store every API answer has, so clients cache the
	// picture, never the redirect.
	return api.GetAvatar302Response{Headers: api.GetAvatar302ResponseHeaders{Location: url}}, nil
}

// toAPIUser maps a domain user to the wire type. (userResponse writes a
// profile without it, to the same bytes.)
func toAPIUser(u domain.User) (api.User, error) {
	id, err := uuid.Parse(string(u.ID))
	if err != nil {
		return api.User{}, fmt.Errorf("user id %q is not a UUID: %w", u.ID, err)
	}
	out := api.User{
		Id:          id,
		Nickname:    u.Nickname,
		AvatarUrl:   u.AvatarURL,
		Bio:         u.Bio,
		Role:        api.Role(u.Role),
		CreatedAt:   u.CreatedAt,
		UpdatedAt:   u.UpdatedAt,
		HasPassword: &u.HasPassword,
		Phone:       toAPIPhone(u.Phone),
	}
	if u.HasPassword { // the login names, never the hash
		username, email := string(u.Username), string(u.Email)
		out.Username, out.Email = &username, &email
	}
	return out, nil
}

// avatarsPath is the path under which the stable avatar links are served.
const avatarsPath = "/v1/avatars/"

// Links builds the API's stable avatar links from its public URL.
type Links struct {
	PublicURL string // e.g. https://api.example.com
}

var _ ports.AvatarLinks = Links{}

// AvatarURL is the stable link of an avatar upload (GET /v1/avatars/{id}),
// which redirects to a fresh download URL.
func (l Links) AvatarURL(id domain.UploadID) string {
	return strings.TrimRight(l.PublicURL, "/") + avatarsPath + string(id)
}

// IsAvatarURL reports whether url is a stable avatar link as AvatarURL
// writes it: under this public base URL, byte for byte, whatever its
// scheme (http in development), with an upload id in canonical form. A
// profile patch accepts such a link back; whether its upload is a ready
// avatar is GET /v1/avatars/{id}'s business, as for any https URL.
func (l Links) IsAvatarURL(url string) bool {
	id, ok := strings.CutPrefix(url, strings.TrimRight(l.PublicURL, "/")+avatarsPath)
	if !ok {
		return false
	}
	u, err := uuid.Parse(id)
	return err == nil && u.String() == id
}
