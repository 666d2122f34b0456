package domain

import (
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// UserID identifies a miniback user. It is a UUID in canonical text form,
// chosen by the store; clients never choose it.
type UserID string

// AppID is a mini-program's AppID (e.g. "wx0123456789abcdef"). Several
// mini-programs can share one deployment; their users are kept apart.
type AppID string

// OpenID is a user's id within one AppID, as WeChat reports it.
type OpenID string

// UnionID is a user's id across the AppIDs of one WeChat Open Platform
// account. WeChat only sends it when the app is bound to such an account,
// so it is often empty.
type UnionID string

// SessionKey is WeChat's per-user key for signing and encrypting user data.
// It is a secret: it is stored server-side and never sent to a client or
// written to a log. Its String, GoString and MarshalText hide it for that
// reason; Reveal is the one way to the raw value.
type SessionKey string

func (SessionKey) String() string   { return "[redacted]" }
func (SessionKey) GoString() string { return "[redacted]" }

// MarshalText keeps the key out of JSON and structured logs (slog's JSON
// handler marshals values rather than calling String).
func (SessionKey) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Reveal returns the raw key, for the few places (storage, signature checks)
// that need it.
func (k SessionKey) Reveal() string { return string(k) }

// Known reports whether there is a key. The empty key is the marker of an
// identity WeChat gave no key for: a login through Cloud Hosting's gateway
// (POST /v1/auth/cloudrun) gets none, so a first login that way stores an
// empty key, and a later one keeps the key an earlier wx.login stored.
// Nothing may sign, verify or decrypt with an unknown key: treat it as
// "log in with wx.login first".
func (k SessionKey) Known() bool { return k != "" }

// User is a miniback account as its owner sees it.
type User struct {
	ID        UserID
	Nickname  string
	AvatarURL string
	Bio       string
	Role      Role // never changed by a profile patch
	CreatedAt time.Time
	UpdatedAt time.Time

	// The account's password login, read-only here: HasPassword tells
	// whether it has one, and Username and Email are its login names
	// (empty without one). Only setting a password changes them, never a
	// profile patch; the hash is not part of a User.
	Username    Username
	Email       Email
	HasPassword bool

	// Phone is the number WeChat verified for the account (nil when none
	// is bound). Only the phone operations change it, never a profile
	// patch.
	Phone *UserPhone
}

// Role is what a user may do. Access tokens carry it, so a change reaches
// the user's requests with their next token (a refresh or a login).
type Role string

const (
	RoleUser  Role = "user"  // every account
	RoleAdmin Role = "admin" // granted from the command line
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleUser || r == RoleAdmin }

// CanAdminister reports whether r may use the admin operations.
func (r Role) CanAdminister() bool { return r == RoleAdmin }

// WeChatIdentity is what a successful code exchange tells us about a user.
type WeChatIdentity struct {
	AppID   AppID
	OpenID  OpenID
	UnionID UnionID // empty when WeChat did not send one
	// SessionKey is empty (not Known) after a Cloud Hosting login: the
	// store then keeps the key it had.
	SessionKey SessionKey
}

// Profile limits. The spec documents them; these are the truth.
const (
	NicknameMaxRunes  = 64
	BioMaxRunes       = 500
	AvatarURLMaxBytes = 1024
)

// ProfilePatch is a merge patch of the editable profile fields: a nil field
// keeps its value.
type ProfilePatch struct {
	Nickname  *string
	AvatarURL *string
	Bio       *string
	// AvatarUploadID names a ready avatar upload of the user; the use-case
	// turns it into AvatarURL. Not together with AvatarURL.
	AvatarUploadID *UploadID
}

// AvatarURLRules names the avatar_url values a patch may set although
// they are not https URLs: values the server itself handed out. A
// development server's public base URL is http, so are the avatar links it
// issues, and a client that sends back the profile it read must not be
// refused for them. Any other URL must be https (an <image> of a
// mini-program loads nothing else).
type AvatarURLRules struct {
	// Current is the user's avatar_url now: sending it back unchanged
	// is accepted whatever it holds (say, a link issued under an earlier
	// public base URL).
	Current string
	// Issued reports whether a URL is one of this server's own avatar
	// links; nil accepts none.
	Issued func(url string) bool
}

// accepts reports whether a (trimmed, non-empty) avatar_url may be set.
func (r AvatarURLRules) accepts(a string) bool {
	return isHTTPSURL(a) || a == r.Current || (r.Issued != nil && r.Issued(a))
}

// Normalize trims the patch's fields and checks them against the profile
// rules, returning every broken rule at once. avatar means which URLs
// besides https ones avatar_url may hold.
func (p ProfilePatch) Normalize(avatar AvatarURLRules) (ProfilePatch, error) {
	var out ProfilePatch
	var bad []FieldError
	if p.Nickname != nil {
		n := strings.TrimSpace(*p.Nickname)
		switch {
		case n == "":
			bad = append(bad, FieldError{"nickname", "required", "nickname must not be blank"})
		case utf8.RuneCountInString(n) > NicknameMaxRunes:
			bad = append(bad, FieldError{"nickname", "too_long", "nickname must be at most 64 characters"})
		case hasControl(n):
			bad = append(bad, FieldError{"nickname", "invalid_characters", "nickname must not contain control characters"})
		}
		out.Nickname = &n
	}
	if p.Bio != nil {
		b := strings.TrimSpace(*p.Bio)
		if utf8.RuneCountInString(b) > BioMaxRunes {
			bad = append(bad, FieldError{"bio", "too_long", "bio must be at most 500 characters"})
		}
		out.Bio = &b
	}
	if p.AvatarURL != nil {
		a := strings.TrimSpace(*p.AvatarURL)
		if a != "" && !avatar.accepts(a) {
			bad = append(bad, FieldError{"avatar_url", "invalid_url", "avatar_url must be an https URL"})
		} else if len(a) > AvatarURLMaxBytes {
			bad = append(bad, FieldError{"avatar_url", "too_long", "avatar_url must be at most 1024 bytes"})
		}
		out.AvatarURL = &a
	}
	if p.AvatarUploadID != nil {
		if p.AvatarURL != nil {
			bad = append(bad, FieldError{"avatar_upload_id", "conflicting_fields", "set avatar_url or avatar_upload_id, not both"})
		}
		id := *p.AvatarUploadID
		out.AvatarUploadID = &id
	}
	if p.Nickname == nil && p.Bio == nil && p.AvatarURL == nil && p.AvatarUploadID == nil {
		bad = append(bad, FieldError{"body", "empty_patch", "the patch must set at least one field"})
	}
	if len(bad) > 0 {
		return ProfilePatch{}, Invalid(bad...)
	}
	return out, nil
}

// Apply returns u with the patch's fields set. AvatarUploadID is not a
// field of the user: the use-case resolves it into AvatarURL first.
func (p ProfilePatch) Apply(u User) User {
	if p.Nickname != nil {
		u.Nickname = *p.Nickname
	}
	if p.AvatarURL != nil {
		u.AvatarURL = *p.AvatarURL
	}
	if p.Bio != nil {
		u.Bio = *p.Bio
	}
	return u
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

func isHTTPSURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil
}
