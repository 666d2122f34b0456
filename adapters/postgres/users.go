package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/miniback/miniback/adapters/postgres/internal/sqlcgen"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

var (
	_ ports.UserStore      = (*UserStore)(nil)
	_ ports.UserAdmin      = (*UserStore)(nil)
	_ ports.AccountDeleter = (*UserStore)(nil)
)

// UserStore keeps users and their WeChat identities in PostgreSQL.
type UserStore struct {
	db *DB
	q  *sqlcgen.Queries
}

// NewUserStore returns a UserStore backed by db.
func NewUserStore(db *DB) *UserStore {
	return &UserStore{db: db, q: db.queries()}
}

// errLostFirstLogin means a concurrent first login of the same identity
// committed its wechat_identities row before ours.
var errLostFirstLogin = errors.New("a concurrent first login created the wechat identity")

// UpsertWeChatUser finds the user of (AppID, OpenID) or creates one. A
// returning user gets the fresh session key, and a new UnionID if WeChat sent
// one. Concurrent first logins of one identity make exactly one user: the
// losers roll back their user and retry, and the retry finds the winner's.
func (s *UserStore) UpsertWeChatUser(ctx context.Context, id domain.WeChatIdentity) (domain.User, bool, error) {
	u, created, err := s.upsertOnce(ctx, id)
	if errors.Is(err, errLostFirstLogin) {
		u, created, err = s.upsertOnce(ctx, id)
	}
	if errors.Is(err, errLostFirstLogin) {
		// Lost twice: the winner's identity vanished in between.
		return domain.User{}, false, domain.ErrConcurrentLogin(err)
	}
	if err != nil {
		return domain.User{}, false, err
	}
	return u, created, nil
}

// upsertOnce is one transaction of UpsertWeChatUser: touch the identity of a
// returning user, or create the user and its identity.
func (s *UserStore) upsertOnce(ctx context.Context, id domain.WeChatIdentity) (u domain.User, created bool, err error) {
	unionID := pgtype.Text{String: string(id.UnionID), Valid: id.UnionID != ""} // "" is NULL: keep the known one
	err = inTx(ctx, s.db, interpretUserError, func(q *sqlcgen.Queries) error {
		userID, err := q.TouchWeChatIdentity(ctx, sqlcgen.TouchWeChatIdentityParams{
			SessionKey: id.SessionKey.Reveal(),
			UnionID:    unionID,
			AppID:      string(id.AppID),
			OpenID:     string(id.OpenID),
		})
		if err == nil {
			row, err := q.GetUser(ctx, userID)
			if err != nil {
				return fmt.Errorf("get user: %w", err)
			}
			u = toUser(row)
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("touch wechat identity: %w", err)
		}

		row, err := q.CreateUser(ctx)
		if err != nil {
			return fmt.Errorf("create user: %w", err)
		}
		// Blocks while a concurrent first login holds the same key, then
		// returns no row if that login committed.
		_, err = q.InsertWeChatIdentity(ctx, sqlcgen.InsertWeChatIdentityParams{
			AppID:      string(id.AppID),
			OpenID:     string(id.OpenID),
			UnionID:    unionID,
			UserID:     row.ID,
			SessionKey: id.SessionKey.Reveal(),
		})
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return errLostFirstLogin // rolls back the user we created
		case err != nil:
			return fmt.Errorf("insert wechat identity: %w", err)
		}
		u, created = toUser(sqlcgen.GetUserRow{User: row}), true // new: no password, no phone yet
		return nil
	})
	return u, created, err
}

// GetUser returns the user with the given id, or CodeNotFound.
func (s *UserStore) GetUser(ctx context.Context, id domain.UserID) (domain.User, error) {
	uid, err := parseUserID(id)
	if err != nil {
		return domain.User{}, err
	}
	row, err := s.q.GetUser(ctx, uid)
	if err != nil {
		return domain.User{}, interpretUserError(err)
	}
	return toUser(row), nil
}

// UpdateUser locks the user's row, lets fn change the user and saves the
// profile fields of the result, in one transaction. An error from fn rolls
// back and is returned unchanged.
func (s *UserStore) UpdateUser(ctx context.Context, id domain.UserID, fn func(domain.User) (domain.User, error)) (domain.User, error) {
	uid, err := parseUserID(id)
	if err != nil {
		return domain.User{}, err
	}
	return update(ctx, s.db, interpretUserError,
		func(q *sqlcgen.Queries) (domain.User, error) {
			row, err := q.GetUserForUpdate(ctx, uid)
			return toUser(sqlcgen.GetUserRow(row)), err
		},
		fn,
		func(q *sqlcgen.Queries, _, next domain.User) (domain.User, error) {
			row, err := q.UpdateUserProfile(ctx, sqlcgen.UpdateUserProfileParams{
				ID: uid, Nickname: next.Nickname, AvatarUrl: next.AvatarURL, Bio: next.Bio,
			})
			return toUser(sqlcgen.GetUserRow(row)), err
		})
}

// SetUserRole changes the user's role.
func (s *UserStore) SetUserRole(ctx context.Context, id domain.UserID, role domain.Role) (domain.User, error) {
	uid, err := parseUserID(id)
	if err != nil {
		return domain.User{}, err
	}
	if !role.Valid() {
		return domain.User{}, fmt.Errorf("postgres: unknown role %q", role)
	}
	row, err := s.q.SetUserRole(ctx, sqlcgen.SetUserRoleParams{Role: string(role), ID: uid})
	if err != nil {
		return domain.User{}, interpretUserError(err)
	}
	return toUser(sqlcgen.GetUserRow(row)), nil
}

// DeleteUser deletes the user (identities and sessions follow by ON DELETE
// CASCADE) and records a user-wide revocation at `at`, in one statement.
func (s *UserStore) DeleteUser(ctx context.Context, id domain.UserID, at time.Time) (domain.Revocation, error) {
	uid, err := parseUserID(id)
	if err != nil {
		return domain.Revocation{}, err
	}
	row, err := s.q.DeleteUser(ctx, sqlcgen.DeleteUserParams{RevokedAt: at, ID: uid})
	if err != nil {
		return domain.Revocation{}, interpretUserError(err)
	}
	return domain.Revocation{UserID: domain.UserID(row.UserID.String()), RevokedAt: row.RevokedAt.UTC()}, nil
}

// ListUsers runs an admin's search: at most max users matching q, newest
// first, after q.After. The search matches part of the nickname, username
// or email, a whole user id, or a whole phone number with or without its
// country code; see the ListUsers query to search more columns.
func (s *UserStore) ListUsers(ctx context.Context, q domain.UserQuery, max int) ([]domain.User, error) {
	p := sqlcgen.ListUsersParams{Role: string(q.Role), AppID: string(q.App), MaxRows: int32(max)}
	if q.Search != "" {
		p.Pattern = "%" + escapeLike(q.Search) + "%"
		p.Exact = strings.ToLower(q.Search)
		p.Phone = domain.PhoneSearchDigits(q.Search)
	}
	if q.After != nil {
		id, err := uuid.Parse(string(q.After.ID))
		if err != nil {
			return nil, domain.Invalid(domain.FieldError{Field: "query.cursor", Code: "invalid", Message: "cursor is not one this server returned"})
		}
		p.HasAfter, p.AfterCreatedAt, p.AfterID = true, q.After.CreatedAt, id
	}
	rows, err := s.q.ListUsers(ctx, p)
	if err != nil {
		return nil, interpretError(err)
	}
	out := make([]domain.User, len(rows))
	for i, r := range rows {
		out[i] = toUser(sqlcgen.GetUserRow(r))
	}
	return out, nil
}

// interpretUserError is interpretError for users: no row is a user that
// does not exist.
func interpretUserError(err error) error { return notFoundAs(err, domain.ErrUserNotFound) }

// escapeLike makes s match itself in a LIKE pattern (backslash is
// PostgreSQL's default LIKE escape).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s)
}

// parseUserID turns a domain.UserID into a UUID. An id that is not a UUID
// names no user, so it is CodeNotFound rather than a bad request.
func parseUserID(id domain.UserID) (uuid.UUID, error) {
	uid, err := uuid.Parse(string(id))
	if err != nil {
		return uuid.UUID{}, domain.ErrUserNotFound(fmt.Errorf("parse user id: %w", err))
	}
	return uid, nil
}

// toUser maps a users row with its account columns (see the GetUser
// query; every query answering a user has the same row shape, so its row
// converts to a GetUserRow) to a domain.User, with times in UTC.
func toUser(row sqlcgen.GetUserRow) domain.User {
	return domain.User{
		ID:          domain.UserID(row.User.ID.String()),
		Nickname:    row.User.Nickname,
		AvatarURL:   row.User.AvatarUrl,
		Bio:         row.User.Bio,
		Role:        domain.Role(row.User.Role),
		CreatedAt:   row.User.CreatedAt.UTC(),
		UpdatedAt:   row.User.UpdatedAt.UTC(),
		Username:    domain.Username(row.Username),
		Email:       domain.Email(row.Email),
		HasPassword: row.HasPassword,
		Phone:       toUserPhone(row.User),
	}
}
