package ports

import (
	"context"
	"time"

	"github.com/miniback/miniback/domain"
)

// AccessClaims is what a verified access token says. Identity comes only
// from here, never from a request body.
type AccessClaims struct {
	UserID    domain.UserID
	SessionID domain.SessionID // sid: the session the token belongs to
	Role      domain.Role
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
