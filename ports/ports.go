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
