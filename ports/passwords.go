package ports

import (
	"context"
	"time"

	"github.com/miniback/miniback/domain"
)

// PasswordHasher hashes and verifies passwords. Implementations bound how
// many hashes run at once and wait for a turn with ctx.
type PasswordHasher interface {
	// Hash returns a fresh salted hash of p in PHC string format.
	Hash(ctx context.Context, p domain.Password) (domain.PasswordHash, error)
	// Verify reports whether p matches h in constant time, and whether h
	// was made with other parameters than the current ones, so that the
	// caller can store a fresh hash.
	Verify(ctx context.Context, h domain.PasswordHash, p domain.Password) (match, rehash bool, err error)
	// DummyHash is a hash of no one's password made with the current
	// parameters. Verifying against it when there is no account costs what
	// verifying a real one does.
	DummyHash() domain.PasswordHash
}

// CredentialStore keeps password credentials. Usernames and emails are
// unique case-insensitively: a clash is CodeUsernameTaken or CodeEmailTaken.
type CredentialStore interface {
	// CreatePasswordUser creates a user with credential c (c.UserID is
	// ignored) in one transaction.
	CreatePasswordUser(ctx context.Context, c domain.PasswordCredential) (domain.User, error)
	// AddCredential gives the existing user c.UserID a password; CodeConflict
	// when the user has one already.
	AddCredential(ctx context.Context, c domain.PasswordCredential) error
	// FindCredential returns the credential answering to n, or CodeNotFound.
	FindCredential(ctx context.Context, n domain.LoginName) (domain.PasswordCredential, error)
	// GetCredential returns the user's credential, or CodeNotFound.
	GetCredential(ctx context.Context, id domain.UserID) (domain.PasswordCredential, error)
	// ReplaceHash stores next as the user's hash if it is still old;
	// CodeConflict when it changed in between.
	ReplaceHash(ctx context.Context, id domain.UserID, old, next domain.PasswordHash) error
}

// AttemptThrottle counts attempts per key in fixed windows, shared by every
// replica.
type AttemptThrottle interface {
	// CountAttempt counts one attempt under key and returns its window: a
	// window older than window is started afresh at now.
	CountAttempt(ctx context.Context, key domain.ThrottleKey, now time.Time, window time.Duration) (domain.AttemptWindow, error)
	// Forget drops key's count (a success on an account).
	Forget(ctx context.Context, key domain.ThrottleKey) error
	// Refund takes one attempt back from key's count (a success from an
	// address).
	Refund(ctx context.Context, key domain.ThrottleKey) error
}
