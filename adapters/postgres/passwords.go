package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/miniback/miniback/adapters/postgres/internal/sqlcgen"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

var (
	_ ports.CredentialStore = (*CredentialStore)(nil)
	_ ports.AttemptThrottle = (*AttemptThrottle)(nil)
	_ ports.WeChatBinder    = (*UserStore)(nil)
)

// Constraint names the stores tell apart (migrations/00005_passwords.sql).
const (
	usernameKey      = "password_credentials_username_key"
	emailKey         = "password_credentials_email_key"
	credentialPKey   = "password_credentials_pkey"
	wechatAppUserKey = "wechat_identities_app_user_key"
)

// CredentialStore keeps password credentials in PostgreSQL.
type CredentialStore struct {
	db *DB
	q  *sqlcgen.Queries
}

// NewCredentialStore returns a CredentialStore backed by db.
func NewCredentialStore(db *DB) *CredentialStore {
	return &CredentialStore{db: db, q: db.queries()}
}

// CreatePasswordUser creates a user and its credential in one transaction;
// a taken username or email rolls both back.
func (s *CredentialStore) CreatePasswordUser(ctx context.Context, c domain.PasswordCredential) (domain.User, error) {
	var u domain.User
	err := inTx(ctx, s.db, credentialError, func(q *sqlcgen.Queries) error {
		row, err := q.CreateUser(ctx)
		if err != nil {
			return fmt.Errorf("create user: %w", err)
		}
		cred, err := q.InsertPasswordCredential(ctx, credentialParams(row.ID, c))
		if err != nil {
			return fmt.Errorf("insert password credential: %w", err)
		}
		u = toUser(sqlcgen.GetUserRow{User: row, Username: cred.Username, Email: cred.Email, HasPassword: true})
		return nil
	})
	if err != nil {
		return domain.User{}, err
	}
	return u, nil
}

// AddCredential gives an existing user a password credential.
func (s *CredentialStore) AddCredential(ctx context.Context, c domain.PasswordCredential) error {
	uid, err := parseUserID(c.UserID)
	if err != nil {
		return err
	}
	if _, err := s.q.InsertPasswordCredential(ctx, credentialParams(uid, c)); err != nil {
		return credentialError(err)
	}
	return nil
}

// FindCredential returns the credential whose username (or email, for a
// name with "@") is n, case-insensitively.
func (s *CredentialStore) FindCredential(ctx context.Context, n domain.LoginName) (domain.PasswordCredential, error) {
	var row sqlcgen.GetPasswordCredentialRow
	var err error
	if n.IsEmail {
		var r sqlcgen.FindPasswordCredentialByEmailRow
		r, err = s.q.FindPasswordCredentialByEmail(ctx, n.Value)
		row = sqlcgen.GetPasswordCredentialRow(r)
	} else {
		var r sqlcgen.FindPasswordCredentialByUsernameRow
		r, err = s.q.FindPasswordCredentialByUsername(ctx, n.Value)
		row = sqlcgen.GetPasswordCredentialRow(r)
	}
	if err != nil {
		return domain.PasswordCredential{}, notFoundAs(err, domain.ErrNoPassword)
	}
	return toCredential(row), nil
}

// GetCredential returns the user's credential, or CodeNotFound.
func (s *CredentialStore) GetCredential(ctx context.Context, id domain.UserID) (domain.PasswordCredential, error) {
	uid, err := parseUserID(id)
	if err != nil {
		return domain.PasswordCredential{}, err
	}
	row, err := s.q.GetPasswordCredential(ctx, uid)
	if err != nil {
		return domain.PasswordCredential{}, notFoundAs(err, domain.ErrNoPassword)
	}
	return toCredential(row), nil
}

// ReplaceHash swaps the user's hash from old to next, or reports
// CodeConflict when the stored hash is no longer old.
func (s *CredentialStore) ReplaceHash(ctx context.Context, id domain.UserID, old, next domain.PasswordHash) error {
	uid, err := parseUserID(id)
	if err != nil {
		return err
	}
	n, err := s.q.ReplacePasswordHash(ctx, sqlcgen.ReplacePasswordHashParams{
		NewHash: next.Reveal(), UserID: uid, OldHash: old.Reveal(),
	})
	if err != nil {
		return interpretError(err)
	}
	if n == 0 {
		return domain.ErrPasswordChanged(nil)
	}
	return nil
}

func credentialParams(uid uuid.UUID, c domain.PasswordCredential) sqlcgen.InsertPasswordCredentialParams {
	return sqlcgen.InsertPasswordCredentialParams{
		UserID: uid, Username: string(c.Username), Email: string(c.Email), Hash: c.Hash.Reveal(),
	}
}

func toCredential(row sqlcgen.GetPasswordCredentialRow) domain.PasswordCredential {
	return domain.PasswordCredential{
		UserID:   domain.UserID(row.UserID.String()),
		Username: domain.Username(row.Username),
		Email:    domain.Email(row.Email),
		Hash:     domain.PasswordHash(row.Hash),
	}
}

// credentialError names the unique key a credential write broke, and
// reports a missing user as not found.
func credentialError(err error) error {
	switch {
	case isViolation(err, pgUniqueViolation, usernameKey):
		return domain.ErrUsernameTaken(err)
	case isViolation(err, pgUniqueViolation, emailKey):
		return domain.ErrEmailTaken(err)
	case isViolation(err, pgUniqueViolation, credentialPKey):
		return domain.ErrHasPassword(err)
	case isViolation(err, pgFKViolation, ""):
		return domain.ErrUserNotFound(err)
	}
	return interpretError(err)
}

// BindWeChat makes id a login of user: a new identity is inserted, the
// user's own is refreshed (session key, union id), and another user's is
// refused.
func (s *UserStore) BindWeChat(ctx context.Context, user domain.UserID, id domain.WeChatIdentity) error {
	uid, err := parseUserID(user)
	if err != nil {
		return err
	}
	unionID := pgtype.Text{String: string(id.UnionID), Valid: id.UnionID != ""}
	return inTx(ctx, s.db, bindError, func(q *sqlcgen.Queries) error {
		_, err := q.InsertBoundWeChatIdentity(ctx, sqlcgen.InsertBoundWeChatIdentityParams{
			AppID: string(id.AppID), OpenID: string(id.OpenID), UnionID: unionID, UserID: uid,
			SessionKey: id.SessionKey.Reveal(),
		})
		if !errors.Is(err, pgx.ErrNoRows) {
			return err // nil: bound now
		}
		owner, err := q.GetWeChatIdentityOwner(ctx, sqlcgen.GetWeChatIdentityOwnerParams{AppID: string(id.AppID), OpenID: string(id.OpenID)})
		if errors.Is(err, pgx.ErrNoRows) {
			return domain.ErrWeChatIdentityChanged(err)
		}
		if err != nil {
			return fmt.Errorf("get wechat identity owner: %w", err)
		}
		if owner != uid {
			return domain.ErrWeChatAlreadyBound(nil)
		}
		_, err = q.TouchWeChatIdentity(ctx, sqlcgen.TouchWeChatIdentityParams{
			SessionKey: id.SessionKey.Reveal(), UnionID: unionID, AppID: string(id.AppID), OpenID: string(id.OpenID),
		})
		return err
	})
}

// bindError names the identity a bind broke, and reports a missing user as
// not found.
func bindError(err error) error {
	switch {
	case isViolation(err, pgUniqueViolation, wechatAppUserKey):
		return domain.ErrWeChatAppAlreadyBound(err)
	case isViolation(err, pgFKViolation, ""):
		return domain.ErrUserNotFound(err)
	}
	return interpretError(err)
}

// sweepEvery is how many counted attempts pass between two sweeps of ended
// windows, and sweepBatch how many rows one sweep deletes at most.
const (
	sweepEvery = 256
	sweepBatch = 1000
)

// AttemptThrottle keeps attempt counters in PostgreSQL, so every replica
// sees the same counts.
type AttemptThrottle struct {
	q       *sqlcgen.Queries
	counted atomic.Uint64
}

// NewAttemptThrottle returns an AttemptThrottle backed by db.
func NewAttemptThrottle(db *DB) *AttemptThrottle {
	return &AttemptThrottle{q: db.queries()}
}

// CountAttempt counts one attempt under key in one statement, so
// concurrent attempts (on any replica) are each counted. Every sweepEvery
// calls it also deletes counters of key's scope whose window ended.
func (t *AttemptThrottle) CountAttempt(ctx context.Context, key domain.ThrottleKey, now time.Time, window time.Duration) (domain.AttemptWindow, error) {
	over := now.Add(-window)
	row, err := t.q.CountLoginAttempt(ctx, sqlcgen.CountLoginAttemptParams{
		Scope: string(key.Scope), Key: key.Key, Now: now, WindowOver: over,
	})
	if err != nil {
		return domain.AttemptWindow{}, interpretError(err)
	}
	if t.counted.Add(1)%sweepEvery == 0 {
		if _, err := t.Sweep(ctx, key.Scope, over); err != nil {
			return domain.AttemptWindow{}, err
		}
	}
	return domain.AttemptWindow{Start: row.WindowStart.UTC(), Count: int(row.Attempts)}, nil
}

// Forget drops key's counter.
func (t *AttemptThrottle) Forget(ctx context.Context, key domain.ThrottleKey) error {
	err := t.q.ForgetLoginAttempts(ctx, sqlcgen.ForgetLoginAttemptsParams{Scope: string(key.Scope), Key: key.Key})
	return interpretError(err)
}

// Refund takes one attempt back from key's counter.
func (t *AttemptThrottle) Refund(ctx context.Context, key domain.ThrottleKey) error {
	err := t.q.RefundLoginAttempt(ctx, sqlcgen.RefundLoginAttemptParams{Scope: string(key.Scope), Key: key.Key})
	return interpretError(err)
}

// Sweep deletes up to sweepBatch counters of scope whose window started
// before before, and returns how many it deleted.
func (t *AttemptThrottle) Sweep(ctx context.Context, scope domain.ThrottleScope, before time.Time) (int64, error) {
	n, err := t.q.SweepLoginAttempts(ctx, sqlcgen.SweepLoginAttemptsParams{Scope: string(scope), Before: before, MaxRows: sweepBatch})
	if err != nil {
		return 0, interpretError(err)
	}
	return n, nil
}
