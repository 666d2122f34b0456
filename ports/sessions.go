package ports

import (
	"context"
	"time"

	"github.com/miniback/miniback/domain"
)

// SessionStore keeps sessions and the hashes of their refresh tokens.
// Times come from the caller's clock.
type SessionStore interface {
	// CreateSession stores s (its ID is chosen by the store) with its
	// first refresh token and returns it.
	CreateSession(ctx context.Context, s domain.Session, token domain.RefreshTokenHash) (domain.Session, error)
	// RotateRefreshToken is one refresh, in one transaction: it marks the
	// unused token old as used at `at` (of concurrent callers with the
	// same token exactly one gets it), lets fn check and update the
	// session, and stores next as the session's new token. A token used
	// before comes back as Rotation.Reused with its session, changing
	// nothing; an unknown one is CodeRefreshTokenInvalid. An error from fn
	// rolls everything back and is returned unchanged.
	RotateRefreshToken(ctx context.Context, old, next domain.RefreshTokenHash, at time.Time,
		fn func(domain.Session) (domain.Session, error)) (Rotation, error)
	// ListActiveSessions returns the user's sessions that are neither
	// revoked nor expired at now, most recently used first, at most max.
	ListActiveSessions(ctx context.Context, user domain.UserID, now time.Time, max int) ([]domain.Session, error)
	// RevokeSession ends the user's session id at `at` and records the
	// revocation, in one transaction. CodeNotFound when the user has no
	// such session; a session already ended returns (zero, false, nil).
	RevokeSession(ctx context.Context, user domain.UserID, id domain.SessionID, reason domain.RevokeReason, at time.Time) (domain.Revocation, bool, error)
	// RevokeOtherSessions ends every active session of the user but keep.
	RevokeOtherSessions(ctx context.Context, user domain.UserID, keep domain.SessionID, reason domain.RevokeReason, at time.Time) ([]domain.Revocation, error)
}

// Rotation is the outcome of a refresh token rotation.
type Rotation struct {
	Session domain.Session // as fn left it; as stored when Reused
	User    domain.User    // the session's user, read in the same transaction
	// Reused: the token had been rotated already. Nothing changed; the
	// caller decides what reuse means.
	Reused bool
}

// RevocationCursor is a position in the revocation feed, opaque to all
// but the feed. The zero value is the beginning.
type RevocationCursor struct{ Position uint64 }

// RevocationFeed is the shared log of revocations every replica reads.
type RevocationFeed interface {
	// RevocationsSince returns the revocations at or after cursor that
	// happened after notBefore, and the cursor to read from next time.
	// The same revocation may come back more than once.
	RevocationsSince(ctx context.Context, cursor RevocationCursor, notBefore time.Time) ([]domain.Revocation, RevocationCursor, error)
}
