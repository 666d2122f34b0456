package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Tokens is what a login or a refresh hands the client: a short-lived
// access token and the session's refresh token.
type Tokens struct {
	AccessToken string
	ExpiresIn   int // seconds until the access token expires
	// RefreshToken is the session's new refresh token; the previous one,
	// if any, no longer works.
	RefreshToken domain.RefreshToken
	// RefreshExpiresIn is the seconds until the refresh token expires
	// unless used: the session's idle expiry.
	RefreshExpiresIn int
	Session          domain.Session
}

// Sessions starts, refreshes, lists and ends sessions. Every login method
// (WeChat now, passwords later) ends with Start.
type Sessions struct {
	Store  ports.SessionStore
	Tokens ports.TokenIssuer
	Clock  ports.Clock
	Policy domain.SessionPolicy
	// Revocations, when set, hears of this instance's own revocations at
	// once; other instances read them from the shared feed.
	Revocations *Revocations
	// Random is the CSPRNG refresh tokens are drawn from; nil means
	// crypto/rand.
	Random io.Reader
	// Status, when set, refuses to start a session of an account an
	// admin disabled (account_disabled): every login ends with Start.
	Status ports.AccountStatus
}

// MaxListedSessions bounds the sessions List returns.
const MaxListedSessions = 100

// Start opens a session for user, who has just proven who they are, and
// issues its first access and refresh tokens. appID is the mini-program
// logged in to ("" for none); userAgent is the client's User-Agent header.
func (uc Sessions) Start(ctx context.Context, user domain.User, appID domain.AppID, userAgent string) (Tokens, error) {
	if err := uc.refuseDisabled(ctx, user.ID); err != nil {
		return Tokens{}, err
	}
	now := uc.Clock.Now()
	refresh, err := domain.NewRefreshToken(uc.random())
	if err != nil {
		return Tokens{}, err
	}
	s, err := uc.Store.CreateSession(ctx, uc.Policy.Start(user.ID, appID, userAgent, now), refresh.Hash())
	if err != nil {
		return Tokens{}, fmt.Errorf("create session: %w", err)
	}
	return uc.issue(ctx, s, user, refresh, now)
}

// Refresh rotates a refresh token: the presented one stops working, and a
// new access token and refresh token are returned. The new access token
// carries the user's current role. A token that was already rotated ends
// its whole session (RFC 9700 4.14.2: either the client or a thief holds
// a copy, and we cannot tell which) and is refresh_token_reused.
func (uc Sessions) Refresh(ctx context.Context, token, userAgent string) (Tokens, error) {
	old, err := domain.ParseRefreshToken(token)
	if err != nil {
		return Tokens{}, err
	}
	next, err := domain.NewRefreshToken(uc.random())
	if err != nil {
		return Tokens{}, err
	}
	now := uc.Clock.Now()
	var disabledSession domain.UserID // set when the session ended with its account's disabling
	rot, err := uc.Store.RotateRefreshToken(ctx, old.Hash(), next.Hash(), now, func(s domain.Session) (domain.Session, error) {
		if s.Revoked() && s.RevokeReason == domain.RevokeAccountDisabled {
			disabledSession = s.UserID
		}
		return uc.Policy.Refresh(s, userAgent, now)
	})
	if err != nil {
		if disabledSession != "" {
			// Still disabled: say so; enabled again since: the session
			// stays ended, like any other.
			if derr := uc.refuseDisabled(ctx, disabledSession); derr != nil {
				return Tokens{}, derr
			}
		}
		return Tokens{}, fmt.Errorf("rotate refresh token: %w", err)
	}
	if rot.Reused {
		if _, err := uc.end(ctx, rot.Session.UserID, rot.Session.ID, domain.RevokeRefreshReused, now); err != nil {
			return Tokens{}, fmt.Errorf("revoke session of a reused refresh token: %w", err)
		}
		return Tokens{}, domain.Errorf(domain.CodeRefreshTokenReused,
			"This refresh token was already used, so its session has been ended; log in again.")
	}
	return uc.issue(ctx, rot.Session, rot.User, next, now)
}

// Logout ends the session the caller's access token belongs to. Ending a
// session that has already ended (or is gone with its account) succeeds.
func (uc Sessions) Logout(ctx context.Context, user domain.UserID, id domain.SessionID) error {
	_, err := uc.end(ctx, user, id, domain.RevokeLogout, uc.Clock.Now())
	if err != nil && domain.ErrorCode(err) != domain.CodeNotFound {
		return err
	}
	return nil
}

// End ends one of the user's sessions. A session that is not the user's
// is not_found; one already ended succeeds.
func (uc Sessions) End(ctx context.Context, user domain.UserID, id domain.SessionID) error {
	_, err := uc.end(ctx, user, id, domain.RevokeEndedByUser, uc.Clock.Now())
	return err
}

// EndOthers ends every active session of the user except keep (the
// caller's own) and returns how many it ended.
func (uc Sessions) EndOthers(ctx context.Context, user domain.UserID, keep domain.SessionID) (int, error) {
	revs, err := uc.Store.RevokeOtherSessions(ctx, user, keep, domain.RevokeEndedByUser, uc.Clock.Now())
	if err != nil {
		return 0, fmt.Errorf("revoke other sessions: %w", err)
	}
	uc.Revocations.Note(revs...)
	return len(revs), nil
}

// List returns the user's active sessions, most recently used first.
func (uc Sessions) List(ctx context.Context, user domain.UserID) ([]domain.Session, error) {
	ss, err := uc.Store.ListActiveSessions(ctx, user, uc.Clock.Now(), MaxListedSessions)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return ss, nil
}

// refuseDisabled answers account_disabled when an admin disabled the
// user, nil otherwise (or without a Status).
func (uc Sessions) refuseDisabled(ctx context.Context, user domain.UserID) error {
	if uc.Status == nil {
		return nil
	}
	disabled, err := uc.Status.UserDisabled(ctx, user)
	if err != nil {
		return fmt.Errorf("check account status: %w", err)
	}
	if disabled {
		return domain.ErrAccountDisabled()
	}
	return nil
}

// end revokes one session and tells this instance's revocation set.
func (uc Sessions) end(ctx context.Context, user domain.UserID, id domain.SessionID, reason domain.RevokeReason, now time.Time) (bool, error) {
	rev, revoked, err := uc.Store.RevokeSession(ctx, user, id, reason, now)
	if err != nil {
		return false, fmt.Errorf("revoke session: %w", err)
	}
	if revoked {
		uc.Revocations.Note(rev)
	}
	return revoked, nil
}

// issue signs an access token for s and packs it with refresh.
func (uc Sessions) issue(ctx context.Context, s domain.Session, user domain.User, refresh domain.RefreshToken, now time.Time) (Tokens, error) {
	role := user.Role
	if role == "" {
		role = domain.RoleUser
	}
	if !role.Valid() {
		return Tokens{}, fmt.Errorf("user %s has unknown role %q", user.ID, role)
	}
	jti, err := newTokenID()
	if err != nil {
		return Tokens{}, err
	}
	ttl := uc.Tokens.AccessTTL()
	access, err := uc.Tokens.IssueAccess(ctx, ports.AccessClaims{
		UserID: user.ID, SessionID: s.ID, Role: role, AppID: s.AppID,
		TokenID: jti, IssuedAt: now, ExpiresAt: now.Add(ttl),
	})
	if err != nil {
		return Tokens{}, fmt.Errorf("issue access token: %w", err)
	}
	return Tokens{
		AccessToken:      access,
		ExpiresIn:        int(ttl.Seconds()),
		RefreshToken:     refresh,
		RefreshExpiresIn: max(1, int((s.IdleExpiresAt.Sub(now)+time.Second-1)/time.Second)), // rounded up
		Session:          s,
	}, nil
}

func (uc Sessions) random() io.Reader {
	if uc.Random != nil {
		return uc.Random
	}
	return rand.Reader
}
