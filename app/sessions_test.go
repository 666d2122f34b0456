package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

var policy = domain.SessionPolicy{IdleTTL: 30 * 24 * time.Hour, AbsoluteTTL: 90 * 24 * time.Hour}

// aliceSession is a live session as the store would return it.
func aliceSession() domain.Session {
	s := policy.Start("u-1", "wx1", "WeChat/8.0", now.Add(-time.Hour))
	s.ID = "s-1"
	return s
}

func sessionsUseCase(store fakeSessionStore, tokens *fakeTokens, revs *app.Revocations) app.Sessions {
	return app.Sessions{Store: store, Tokens: tokens, Clock: fixedClock{now}, Policy: policy, Revocations: revs}
}

func TestStartStoresOnlyTheHashOfTheRefreshTokenItReturns(t *testing.T) {
	var stored domain.Session
	var storedHash domain.RefreshTokenHash
	tokens := &fakeTokens{}
	uc := sessionsUseCase(fakeSessionStore{create: func(_ context.Context, s domain.Session, h domain.RefreshTokenHash) (domain.Session, error) {
		stored, storedHash = s, h
		s.ID = "s-1"
		return s, nil
	}}, tokens, nil)

	got, err := uc.Start(context.Background(), domain.User{ID: "u-1", Role: domain.RoleAdmin}, "wx1", "  WeChat/8.0\n")
	if err != nil {
		t.Fatal(err)
	}
	raw := got.RefreshToken.Reveal()
	if !strings.HasPrefix(raw, domain.RefreshTokenPrefix) || len(raw) != 47 {
		t.Errorf("refresh token %q: want mbr_ and 43 base64url characters (256 bits)", raw)
	}
	if storedHash != got.RefreshToken.Hash() {
		t.Error("the store got something other than the SHA-256 of the returned refresh token")
	}
	if stored.UserID != "u-1" || stored.AppID != "wx1" || stored.UserAgent != "WeChat/8.0" || !stored.CreatedAt.Equal(now) ||
		!stored.IdleExpiresAt.Equal(now.Add(policy.IdleTTL)) || !stored.AbsoluteExpiresAt.Equal(now.Add(policy.AbsoluteTTL)) {
		t.Errorf("stored session %+v", stored)
	}
	if got.RefreshExpiresIn != int(policy.IdleTTL.Seconds()) || got.ExpiresIn != 900 {
		t.Errorf("refresh_expires_in %d, expires_in %d", got.RefreshExpiresIn, got.ExpiresIn)
	}
	c := tokens.issued[0]
	if c.SessionID != "s-1" || c.Role != domain.RoleAdmin || c.AppID != "wx1" {
		t.Errorf("access token claims %+v: want the session id, the user's role and the app", c)
	}
}

func TestStartGivesEverySessionItsOwnRefreshToken(t *testing.T) {
	uc := sessionsUseCase(fakeSessionStore{create: func(_ context.Context, s domain.Session, _ domain.RefreshTokenHash) (domain.Session, error) {
		return s, nil
	}}, &fakeTokens{}, nil)
	seen := map[string]bool{}
	for range 100 {
		got, err := uc.Start(context.Background(), domain.User{ID: "u-1"}, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if seen[got.RefreshToken.Reveal()] {
			t.Fatal("a refresh token came out twice")
		}
		seen[got.RefreshToken.Reveal()] = true
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("entropy exhausted") }

func TestStartFailsClosedWithoutRandomness(t *testing.T) {
	uc := sessionsUseCase(fakeSessionStore{}, &fakeTokens{}, nil) // a store call would panic
	uc.Random = failingReader{}
	_, err := uc.Start(context.Background(), domain.User{ID: "u-1"}, "", "")
	if codeOf(err) != domain.CodeInternal {
		t.Fatalf("err = %v, want an internal error", err)
	}
}

func TestRefreshRotatesTheTokenAndIssuesTheCurrentRole(t *testing.T) {
	presented, err := domain.NewRefreshToken(strings.NewReader(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	var oldHash, nextHash domain.RefreshTokenHash
	var moved domain.Session
	tokens := &fakeTokens{}
	uc := sessionsUseCase(fakeSessionStore{rotate: func(_ context.Context, old, next domain.RefreshTokenHash, at time.Time, fn func(domain.Session) (domain.Session, error)) (ports.Rotation, error) {
		oldHash, nextHash = old, next
		if !at.Equal(now) {
			t.Errorf("used at %s, want the clock's now", at)
		}
		s, err := fn(aliceSession())
		moved = s
		return ports.Rotation{Session: s, User: domain.User{ID: "u-1", Role: domain.RoleAdmin}}, err
	}}, tokens, nil)

	got, err := uc.Refresh(context.Background(), presented.Reveal(), "WeChat/8.1")
	if err != nil {
		t.Fatal(err)
	}
	if oldHash != presented.Hash() || nextHash != got.RefreshToken.Hash() || got.RefreshToken == presented {
		t.Error("rotation did not swap the presented token's hash for the new token's")
	}
	if !moved.LastUsedAt.Equal(now) || !moved.IdleExpiresAt.Equal(now.Add(policy.IdleTTL)) || moved.UserAgent != "WeChat/8.1" {
		t.Errorf("session after refresh %+v: want it used now with a fresh idle expiry", moved)
	}
	if c := tokens.issued[0]; c.Role != domain.RoleAdmin || c.SessionID != "s-1" || c.UserID != "u-1" {
		t.Errorf("claims %+v: want the user's current role and the same session", c)
	}
}

func TestRefreshWithAReusedTokenEndsItsSession(t *testing.T) {
	var revoked struct {
		user   domain.UserID
		id     domain.SessionID
		reason domain.RevokeReason
	}
	revs := app.NewRevocations(nil, fixedClock{now}, time.Hour)
	uc := sessionsUseCase(fakeSessionStore{
		rotate: func(context.Context, domain.RefreshTokenHash, domain.RefreshTokenHash, time.Time, func(domain.Session) (domain.Session, error)) (ports.Rotation, error) {
			return ports.Rotation{Session: aliceSession(), Reused: true}, nil
		},
		revoke: func(_ context.Context, user domain.UserID, id domain.SessionID, reason domain.RevokeReason, at time.Time) (domain.Revocation, bool, error) {
			revoked.user, revoked.id, revoked.reason = user, id, reason
			return domain.Revocation{SessionID: id, UserID: user, RevokedAt: at}, true, nil
		},
	}, &fakeTokens{}, revs)

	tok, _ := domain.NewRefreshToken(strings.NewReader(strings.Repeat("r", 32)))
	_, err := uc.Refresh(context.Background(), tok.Reveal(), "")
	if codeOf(err) != domain.CodeRefreshTokenReused {
		t.Fatalf("err = %v, want refresh_token_reused", err)
	}
	if revoked.user != "u-1" || revoked.id != "s-1" || revoked.reason != domain.RevokeRefreshReused {
		t.Errorf("revoked %+v, want session s-1 of u-1 for reuse", revoked)
	}
	if !revs.Revoked(ports.AccessClaims{UserID: "u-1", SessionID: "s-1", IssuedAt: now}) {
		t.Error("this instance still accepts the session's access tokens")
	}
}

func TestRefreshRefusesWhatIsNoRefreshTokenWithoutAskingTheStore(t *testing.T) {
	uc := sessionsUseCase(fakeSessionStore{}, &fakeTokens{}, nil) // a store call would panic
	good, _ := domain.NewRefreshToken(strings.NewReader(strings.Repeat("g", 32)))
	for name, token := range map[string]string{
		"empty":                 "",
		"an access token (JWT)": "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1In0.c2ln",
		"no prefix":             strings.TrimPrefix(good.Reveal(), domain.RefreshTokenPrefix),
		"another prefix":        "mbx_" + strings.TrimPrefix(good.Reveal(), domain.RefreshTokenPrefix),
		"one character short":   good.Reveal()[:len(good.Reveal())-1],
		"one character long":    good.Reveal() + "A",
		"not base64url":         good.Reveal()[:20] + "+/" + good.Reveal()[22:],
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := uc.Refresh(context.Background(), token, ""); codeOf(err) != domain.CodeRefreshTokenInvalid {
				t.Fatalf("err = %v, want refresh_token_invalid", err)
			}
		})
	}
}

func TestRefreshPassesTheSessionRuleErrorsThrough(t *testing.T) {
	for name, tc := range map[string]struct {
		session func() domain.Session
		want    domain.Code
	}{
		"idle expired": {func() domain.Session {
			s := aliceSession()
			s.IdleExpiresAt = now
			return s
		}, domain.CodeRefreshTokenExpired},
		"absolute expired": {func() domain.Session {
			s := aliceSession()
			s.AbsoluteExpiresAt = now.Add(-time.Second)
			return s
		}, domain.CodeRefreshTokenExpired},
		"revoked": {func() domain.Session {
			s := aliceSession()
			s.RevokedAt, s.RevokeReason = now.Add(-time.Minute), domain.RevokeLogout
			return s
		}, domain.CodeSessionRevoked},
	} {
		t.Run(name, func(t *testing.T) {
			uc := sessionsUseCase(fakeSessionStore{rotate: func(_ context.Context, _, _ domain.RefreshTokenHash, _ time.Time, fn func(domain.Session) (domain.Session, error)) (ports.Rotation, error) {
				_, err := fn(tc.session())
				return ports.Rotation{}, err // the store returns fn's error unchanged
			}}, &fakeTokens{}, nil)
			tok, _ := domain.NewRefreshToken(strings.NewReader(strings.Repeat("e", 32)))
			if _, err := uc.Refresh(context.Background(), tok.Reveal(), ""); codeOf(err) != tc.want {
				t.Fatalf("err = %v, want %s", err, tc.want)
			}
		})
	}
}

func TestLogoutOfAnEndedOrVanishedSessionSucceeds(t *testing.T) {
	for name, result := range map[string]error{
		"already ended":      nil,
		"gone with the user": domain.Errorf(domain.CodeNotFound, "no such session"),
	} {
		t.Run(name, func(t *testing.T) {
			uc := sessionsUseCase(fakeSessionStore{revoke: func(context.Context, domain.UserID, domain.SessionID, domain.RevokeReason, time.Time) (domain.Revocation, bool, error) {
				return domain.Revocation{}, false, result
			}}, &fakeTokens{}, nil)
			if err := uc.Logout(context.Background(), "u-1", "s-1"); err != nil {
				t.Fatalf("Logout: %v", err)
			}
		})
	}
}

func TestEndingAnotherUsersSessionIsNotFound(t *testing.T) {
	uc := sessionsUseCase(fakeSessionStore{revoke: func(context.Context, domain.UserID, domain.SessionID, domain.RevokeReason, time.Time) (domain.Revocation, bool, error) {
		return domain.Revocation{}, false, domain.Errorf(domain.CodeNotFound, "You have no such session.")
	}}, &fakeTokens{}, nil)
	if err := uc.End(context.Background(), "u-1", "s-of-bob"); codeOf(err) != domain.CodeNotFound {
		t.Fatalf("err = %v, want not_found", err)
	}
}

func TestEndOthersKeepsTheCurrentSessionAndRefusesTheOthersHereAtOnce(t *testing.T) {
	revs := app.NewRevocations(nil, fixedClock{now}, time.Hour)
	uc := sessionsUseCase(fakeSessionStore{revokeRest: func(_ context.Context, user domain.UserID, keep domain.SessionID, reason domain.RevokeReason, at time.Time) ([]domain.Revocation, error) {
		if keep != "s-1" || reason != domain.RevokeEndedByUser {
			t.Errorf("keep %q reason %q", keep, reason)
		}
		return []domain.Revocation{{SessionID: "s-2", UserID: user, RevokedAt: at}, {SessionID: "s-3", UserID: user, RevokedAt: at}}, nil
	}}, &fakeTokens{}, revs)
	n, err := uc.EndOthers(context.Background(), "u-1", "s-1")
	if err != nil || n != 2 {
		t.Fatalf("EndOthers = %d, %v; want 2", n, err)
	}
	for sid, want := range map[domain.SessionID]bool{"s-1": false, "s-2": true, "s-3": true} {
		if got := revs.Revoked(ports.AccessClaims{UserID: "u-1", SessionID: sid, IssuedAt: now}); got != want {
			t.Errorf("session %s revoked = %t, want %t", sid, got, want)
		}
	}
}
