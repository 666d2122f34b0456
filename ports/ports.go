// Package ports declares the small interfaces the use-cases in app/ need from
// the outside world. Adapters implement them; app/ sees nothing else.
package ports

import (
	"context"
	"time"

	"github.com/miniback/miniback/domain"
)

// WeChatAuth exchanges a wx.login code for the user's identity
// (GET /sns/jscode2session). Failures are *domain.Error with a wechat_* code.
type WeChatAuth interface {
	Code2Session(ctx context.Context, app domain.AppID, code string) (domain.WeChatIdentity, error)
}

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

// WeChatBinder binds WeChat identities to existing users.
type WeChatBinder interface {
	// BindWeChat makes id a login of user, storing its session key. Binding
	// an identity the user already has refreshes it. CodeWeChatAlreadyBound
	// when id belongs to another user; CodeWeChatAppAlreadyBound when user
	// has another identity in id's app.
	BindWeChat(ctx context.Context, user domain.UserID, id domain.WeChatIdentity) error
}

// AccessClaims is what a verified access token says. Identity comes only
// from here, never from a request body.
type AccessClaims struct {
	UserID    domain.UserID
	AppID     domain.AppID // empty for logins not tied to a mini-program
	TokenID   string       // jti
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// TokenIssuer signs access tokens.
type TokenIssuer interface {
	IssueAccess(ctx context.Context, c AccessClaims) (token string, err error)
	AccessTTL() time.Duration
}

// TokenVerifier checks an access token and returns its claims. Failures are
// *domain.Error with a token_* code.
type TokenVerifier interface {
	VerifyAccess(ctx context.Context, token string) (AccessClaims, error)
}

// Clock tells the time; tests pin it.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

func (SystemClock) Now() time.Time { return time.Now() }
