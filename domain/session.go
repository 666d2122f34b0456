package domain

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// SessionID identifies a session: one login on one device. It is a UUID
// chosen by the store, carried in access tokens as the "sid" claim.
type SessionID string

// Session is one login: it lives until it is revoked or expires. Its
// refresh token (held only by the client; the store keeps its hash) gets
// new access tokens; each use rotates it.
type Session struct {
	ID        SessionID
	UserID    UserID
	AppID     AppID  // empty for logins not tied to a mini-program
	UserAgent string // the client's User-Agent at its last refresh, cleaned
	CreatedAt time.Time
	// LastUsedAt is the login or the latest refresh.
	LastUsedAt time.Time
	// IdleExpiresAt is when the session ends unless refreshed before:
	// LastUsedAt + the idle TTL, never after AbsoluteExpiresAt.
	IdleExpiresAt time.Time
	// AbsoluteExpiresAt is when the session ends whatever happens:
	// CreatedAt + the absolute TTL.
	AbsoluteExpiresAt time.Time
	RevokedAt         time.Time // zero while not revoked
	RevokeReason      RevokeReason
}

// Revoked reports whether the session was ended before its expiry.
func (s Session) Revoked() bool { return !s.RevokedAt.IsZero() }

// Active reports whether the session can still be refreshed at now.
func (s Session) Active(now time.Time) bool { return !s.Revoked() && now.Before(s.IdleExpiresAt) }

// RevokeReason says why a session ended early. It is stored, for audits.
type RevokeReason string

const (
	RevokeLogout        RevokeReason = "logout"               // POST /v1/auth/logout
	RevokeEndedByUser   RevokeReason = "ended_by_user"        // ended from another of the user's sessions
	RevokeRefreshReused RevokeReason = "refresh_token_reused" // a rotated refresh token came back
	// RevokeWeChatAuthorization: WeChat pushed user_authorization_revoke
	// for the session's user.
	RevokeWeChatAuthorization RevokeReason = "wechat_authorization_revoked"
)

// SessionPolicy holds the lifetimes of sessions.
type SessionPolicy struct {
	// IdleTTL: a session not refreshed for this long ends.
	IdleTTL time.Duration
	// AbsoluteTTL: a session ends this long after its login, refreshed or
	// not; the user then logs in again.
	AbsoluteTTL time.Duration
}

// Validate checks that the lifetimes make sense together.
func (p SessionPolicy) Validate() error {
	if p.IdleTTL <= 0 || p.AbsoluteTTL <= 0 {
		return fmt.Errorf("session lifetimes must be positive (idle %s, absolute %s)", p.IdleTTL, p.AbsoluteTTL)
	}
	if p.IdleTTL > p.AbsoluteTTL {
		return fmt.Errorf("the idle lifetime (%s) must not exceed the absolute lifetime (%s)", p.IdleTTL, p.AbsoluteTTL)
	}
	return nil
}

// Start returns a new session of user logged in at now. Its ID is the
// store's to choose.
func (p SessionPolicy) Start(user UserID, app AppID, userAgent string, now time.Time) Session {
	abs := now.Add(p.AbsoluteTTL)
	return Session{
		UserID:            user,
		AppID:             app,
		UserAgent:         CleanUserAgent(userAgent),
		CreatedAt:         now,
		LastUsedAt:        now,
		IdleExpiresAt:     earlier(now.Add(p.IdleTTL), abs),
		AbsoluteExpiresAt: abs,
	}
}

// Refresh checks that s may be refreshed at now and returns it used at
// now: its idle expiry moves on, never past the absolute one. A revoked
// session is session_revoked; an expired one refresh_token_expired.
func (p SessionPolicy) Refresh(s Session, userAgent string, now time.Time) (Session, error) {
	switch {
	case s.Revoked():
		return Session{}, Errorf(CodeSessionRevoked, "This session has ended; log in again.")
	case !now.Before(s.AbsoluteExpiresAt):
		return Session{}, Errorf(CodeRefreshTokenExpired, "The session reached its maximum lifetime; log in again.")
	case !now.Before(s.IdleExpiresAt):
		return Session{}, Errorf(CodeRefreshTokenExpired, "The session expired after being idle; log in again.")
	}
	s.LastUsedAt = now
	s.IdleExpiresAt = earlier(now.Add(p.IdleTTL), s.AbsoluteExpiresAt)
	if ua := CleanUserAgent(userAgent); ua != "" {
		s.UserAgent = ua
	}
	return s, nil
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// UserAgentMaxBytes bounds the User-Agent kept with a session.
const UserAgentMaxBytes = 256

// CleanUserAgent makes a client-sent User-Agent safe to store and show:
// valid UTF-8 without control characters, trimmed, at most
// UserAgentMaxBytes.
func CleanUserAgent(ua string) string {
	ua = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.ToValidUTF8(ua, ""))
	ua = strings.TrimSpace(ua)
	if len(ua) <= UserAgentMaxBytes {
		return ua
	}
	n := UserAgentMaxBytes
	for n > 0 && !utf8.RuneStart(ua[n]) {
		n--
	}
	return strings.TrimSpace(ua[:n])
}

// Revocation tells every replica to refuse access tokens: those of one
// session, or, when SessionID is empty, every token of UserID issued at
// or before RevokedAt (a deleted account).
type Revocation struct {
	SessionID SessionID
	UserID    UserID
	RevokedAt time.Time
}

// Refresh tokens are opaque: a recognisable prefix and 256 random bits,
// base64url-encoded.
const (
	RefreshTokenPrefix = "mbr_"
	refreshTokenBytes  = 32
)

var refreshTokenLen = len(RefreshTokenPrefix) + base64.RawURLEncoding.EncodedLen(refreshTokenBytes)

// RefreshToken is a session's refresh token as the client holds it. It is
// a secret: the store keeps only its Hash, and String, GoString and
// MarshalText hide it. Reveal is the one way to the raw value.
type RefreshToken string

func (RefreshToken) String() string                     { return "[redacted]" }
func (RefreshToken) GoString() string                   { return "[redacted]" }
func (RefreshToken) MarshalText() ([]byte, error)       { return []byte("[redacted]"), nil }
func (t RefreshToken) Reveal() string                   { return string(t) }
func (t RefreshToken) Hash() RefreshTokenHash           { return sha256.Sum256([]byte(t)) }
func (h RefreshTokenHash) GoString() string             { return "RefreshTokenHash(…)" }
func (h RefreshTokenHash) String() string               { return "[refresh token hash]" }
func (h RefreshTokenHash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// RefreshTokenHash is the SHA-256 of a refresh token: what the store keys
// tokens by. The token has 256 bits of entropy, so a fast hash is right:
// there is nothing to brute-force.
type RefreshTokenHash [sha256.Size]byte

// NewRefreshToken draws a fresh token from random, which must be a CSPRNG
// (crypto/rand.Reader).
func NewRefreshToken(random io.Reader) (RefreshToken, error) {
	b := make([]byte, refreshTokenBytes)
	if _, err := io.ReadFull(random, b); err != nil {
		return "", fmt.Errorf("read random refresh token: %w", err)
	}
	return RefreshToken(RefreshTokenPrefix + base64.RawURLEncoding.EncodeToString(b)), nil
}

// ParseRefreshToken checks that s has the shape of a refresh token. An
// access token, or anything else, is refresh_token_invalid, without a
// look at the store.
func ParseRefreshToken(s string) (RefreshToken, error) {
	invalid := Errorf(CodeRefreshTokenInvalid, "The refresh token is invalid; log in again.")
	if len(s) != refreshTokenLen || !strings.HasPrefix(s, RefreshTokenPrefix) {
		return "", invalid
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s[len(RefreshTokenPrefix):])
	if err != nil || len(b) != refreshTokenBytes {
		return "", invalid
	}
	return RefreshToken(s), nil
}
