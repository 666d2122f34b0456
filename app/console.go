package app

import (
	"context"
	"fmt"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Console signs administrators in to the browser console. It is the
// password login and the session rotation every client has, with one
// more rule: only an account with the admin role holds a console session.
// The transport keeps the refresh token in a cookie page script cannot
// read; the use-case does not care where it is kept.
type Console struct {
	Passwords PasswordAccounts
	Sessions  Sessions
	Users     ports.UserStore
}

// ConsoleTokens is a console refresh's outcome: the new tokens and the
// account they belong to.
type ConsoleTokens struct {
	Tokens
	User domain.User
}

// SignIn is a password login (throttled as every login) that succeeds
// only for an administrator. Another account's right password ends the
// session the login had opened at once and is
// CodeConsoleAdminRequired: no session is left behind.
func (uc Console) SignIn(ctx context.Context, in PasswordLogin) (Login, error) {
	l, err := uc.Passwords.Login(ctx, in)
	if err != nil {
		return Login{}, err
	}
	if !l.User.Role.CanAdminister() {
		if err := uc.Sessions.Logout(ctx, l.User.ID, l.Session.ID); err != nil {
			return Login{}, fmt.Errorf("end the console session of a non-administrator: %w", err)
		}
		return Login{}, domain.ErrConsoleAdminRequired
	}
	return l, nil
}

// Refresh rotates the console session's refresh token (reuse ends the
// session, as for every refresh). An account that lost the admin role
// since signing in has its session ended and gets
// CodeConsoleAdminRequired. An empty token is no session at all.
func (uc Console) Refresh(ctx context.Context, token, userAgent string) (ConsoleTokens, error) {
	if token == "" {
		return ConsoleTokens{}, domain.ErrConsoleSignedOut
	}
	t, err := uc.Sessions.Refresh(ctx, token, userAgent)
	if err != nil {
		return ConsoleTokens{}, err
	}
	user, err := uc.Users.GetUser(ctx, t.Session.UserID)
	if err != nil {
		return ConsoleTokens{}, fmt.Errorf("get console user: %w", err)
	}
	if !user.Role.CanAdminister() {
		if err := uc.Sessions.Logout(ctx, user.ID, t.Session.ID); err != nil {
			return ConsoleTokens{}, fmt.Errorf("end the console session of a former administrator: %w", err)
		}
		return ConsoleTokens{}, domain.ErrConsoleAdminRequired
	}
	return ConsoleTokens{Tokens: t, User: user}, nil
}

// SignOut ends the session of a console refresh token. The token is the
// only proof of which session that is, so it is rotated first (which
// finds the session and checks the token as a refresh does) and the
// session then ended. A token that no longer works (unknown, expired,
// reused: reuse has just ended its session) means there is nothing left
// to end, and succeeds, as does an empty one.
func (uc Console) SignOut(ctx context.Context, token, userAgent string) error {
	if token == "" {
		return nil
	}
	t, err := uc.Sessions.Refresh(ctx, token, userAgent)
	if err != nil {
		switch domain.ErrorCode(err) {
		case domain.CodeRefreshTokenInvalid, domain.CodeRefreshTokenReused, domain.CodeRefreshTokenExpired,
			domain.CodeSessionRevoked, domain.CodeNotFound:
			return nil
		}
		return err
	}
	if err := uc.Sessions.Logout(ctx, t.Session.UserID, t.Session.ID); err != nil {
		return fmt.Errorf("end console session: %w", err)
	}
	return nil
}
