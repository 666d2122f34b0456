package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/miniback/miniback/adapters/postgres/internal/sqlcgen"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

var (
	_ ports.SessionStore   = (*SessionStore)(nil)
	_ ports.RevocationFeed = (*SessionStore)(nil)
)

// SessionStore keeps sessions, the hashes of their refresh tokens, and the
// revocation feed, in PostgreSQL.
type SessionStore struct {
	db *DB
	q  *sqlcgen.Queries
}

// NewSessionStore returns a SessionStore backed by db.
func NewSessionStore(db *DB) *SessionStore {
	return &SessionStore{db: db, q: db.queries()}
}

// CreateSession stores s with its first refresh token, in one transaction.
func (s *SessionStore) CreateSession(ctx context.Context, sess domain.Session, token domain.RefreshTokenHash) (domain.Session, error) {
	uid, err := parseUserID(sess.UserID)
	if err != nil {
		return domain.Session{}, err
	}
	var created domain.Session
	err = inTx(ctx, s.db, interpretUserError, func(q *sqlcgen.Queries) error {
		row, err := q.CreateSession(ctx, sqlcgen.CreateSessionParams{
			UserID:            uid,
			AppID:             string(sess.AppID),
			UserAgent:         sess.UserAgent,
			CreatedAt:         sess.CreatedAt,
			IdleExpiresAt:     sess.IdleExpiresAt,
			AbsoluteExpiresAt: sess.AbsoluteExpiresAt,
		})
		if err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		if err := q.InsertRefreshToken(ctx, sqlcgen.InsertRefreshTokenParams{
			Hash: token[:], SessionID: row.ID, Generation: 1, CreatedAt: sess.CreatedAt,
		}); err != nil {
			return fmt.Errorf("insert refresh token: %w", err)
		}
		created = toSession(row)
		return nil
	})
	if err != nil {
		return domain.Session{}, err
	}
	return created, nil
}

// RotateRefreshToken marks old used with one conditional UPDATE (the row
// lock makes concurrent callers with the same token wait, and all but the
// first then find it used), lets fn check and move the session on, and
// stores next as the session's new token, all in one transaction.
func (s *SessionStore) RotateRefreshToken(ctx context.Context, old, next domain.RefreshTokenHash, at time.Time,
	fn func(domain.Session) (domain.Session, error)) (ports.Rotation, error) {
	var rot ports.Rotation
	err := inTx(ctx, s.db, interpretUserError, func(q *sqlcgen.Queries) error {
		used, err := q.UseRefreshToken(ctx, sqlcgen.UseRefreshTokenParams{UsedAt: at, Hash: old[:]})
		if errors.Is(err, pgx.ErrNoRows) {
			return s.findUsed(ctx, q, old, &rot)
		}
		if err != nil {
			return fmt.Errorf("use refresh token: %w", err)
		}
		row, err := q.GetSessionAndUserForUpdate(ctx, used.SessionID)
		if err != nil {
			return fmt.Errorf("lock session: %w", err)
		}
		moved, err := fn(toSession(row.Session))
		if err != nil {
			return callerError{err}
		}
		touched, err := q.TouchSession(ctx, sqlcgen.TouchSessionParams{
			LastUsedAt: moved.LastUsedAt, IdleExpiresAt: moved.IdleExpiresAt, UserAgent: moved.UserAgent, ID: used.SessionID,
		})
		if err != nil {
			return fmt.Errorf("touch session: %w", err)
		}
		if err := q.InsertRefreshToken(ctx, sqlcgen.InsertRefreshTokenParams{
			Hash: next[:], SessionID: used.SessionID, Generation: used.Generation + 1, CreatedAt: at,
		}); err != nil {
			return fmt.Errorf("insert refresh token: %w", err)
		}
		rot = ports.Rotation{Session: toSession(touched), User: toUser(sqlcgen.GetUserRow{
			User: row.User, Username: row.Username, Email: row.Email, HasPassword: row.HasPassword})}
		return nil
	})
	if err != nil {
		return ports.Rotation{}, err
	}
	return rot, nil
}

// findUsed tells a reused token (known, already used) from an unknown one.
func (s *SessionStore) findUsed(ctx context.Context, q *sqlcgen.Queries, hash domain.RefreshTokenHash, rot *ports.Rotation) error {
	tok, err := q.FindRefreshToken(ctx, hash[:])
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.ErrRefreshTokenInvalid(err)
	}
	if err != nil {
		return fmt.Errorf("find refresh token: %w", err)
	}
	sess, err := q.GetSession(ctx, tok.SessionID)
	if err != nil {
		return fmt.Errorf("get session of a used refresh token: %w", err)
	}
	*rot = ports.Rotation{Session: toSession(sess), Reused: true}
	return nil
}

// ListActiveSessions returns the user's live sessions, most recently used
// first.
func (s *SessionStore) ListActiveSessions(ctx context.Context, user domain.UserID, now time.Time, max int) ([]domain.Session, error) {
	uid, err := parseUserID(user)
	if err != nil {
		return nil, err
	}
	rows, err := s.q.ListActiveSessions(ctx, sqlcgen.ListActiveSessionsParams{UserID: uid, Now: now, MaxRows: int32(max)})
	if err != nil {
		return nil, interpretError(err)
	}
	out := make([]domain.Session, len(rows))
	for i, r := range rows {
		out[i] = toSession(r)
	}
	return out, nil
}

// RevokeSession ends the user's session id and feeds the revocation, in
// one statement. A session of another user is not found.
func (s *SessionStore) RevokeSession(ctx context.Context, user domain.UserID, id domain.SessionID, reason domain.RevokeReason, at time.Time) (domain.Revocation, bool, error) {
	uid, err := parseUserID(user)
	if err != nil {
		return domain.Revocation{}, false, err
	}
	sid, err := uuid.Parse(string(id))
	if err != nil {
		return domain.Revocation{}, false, domain.ErrSessionNotFound(err)
	}
	row, err := s.q.RevokeSession(ctx, sqlcgen.RevokeSessionParams{RevokedAt: at, Reason: string(reason), ID: sid, UserID: uid})
	if err == nil {
		return toRevocation(row.SessionID, row.UserID, row.RevokedAt), true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return domain.Revocation{}, false, interpretError(err)
	}
	// Nothing revoked: already ended, or not the user's.
	mine, err := s.q.SessionBelongsTo(ctx, sqlcgen.SessionBelongsToParams{ID: sid, UserID: uid})
	if err != nil {
		return domain.Revocation{}, false, interpretError(fmt.Errorf("find session: %w", err))
	}
	if !mine {
		return domain.Revocation{}, false, domain.ErrSessionNotFound(nil)
	}
	return domain.Revocation{}, false, nil
}

// RevokeOtherSessions ends every live session of the user but keep.
func (s *SessionStore) RevokeOtherSessions(ctx context.Context, user domain.UserID, keep domain.SessionID, reason domain.RevokeReason, at time.Time) ([]domain.Revocation, error) {
	uid, err := parseUserID(user)
	if err != nil {
		return nil, err
	}
	// A keep that is no UUID keeps nothing: uuid.Nil names no session.
	kid, _ := uuid.Parse(string(keep))
	rows, err := s.q.RevokeOtherSessions(ctx, sqlcgen.RevokeOtherSessionsParams{RevokedAt: at, Reason: string(reason), UserID: uid, Keep: kid})
	if err != nil {
		return nil, interpretError(err)
	}
	out := make([]domain.Revocation, len(rows))
	for i, r := range rows {
		out[i] = toRevocation(r.SessionID, r.UserID, r.RevokedAt)
	}
	return out, nil
}

// RevocationsSince reads the revocation feed. The cursor is a transaction
// id: the oldest transaction still running when the previous read took its
// snapshot. Every transaction before it had ended, so the previous read saw
// its rows; reading from it on can only repeat rows, never skip one that
// committed late (as an id or time cursor could).
func (s *SessionStore) RevocationsSince(ctx context.Context, cursor ports.RevocationCursor, notBefore time.Time) ([]domain.Revocation, ports.RevocationCursor, error) {
	rows, err := s.q.RevocationsSince(ctx, sqlcgen.RevocationsSinceParams{
		AfterXid: pgtype.Uint64{Uint64: cursor.Position, Valid: true}, NotBefore: notBefore,
	})
	if err != nil {
		return nil, cursor, interpretError(err)
	}
	if len(rows) == 0 || !rows[0].NextXid.Valid {
		return nil, cursor, errors.New("postgres: revocation feed returned no snapshot position")
	}
	next := ports.RevocationCursor{Position: rows[0].NextXid.Uint64}
	var out []domain.Revocation
	for _, r := range rows {
		if !r.UserID.Valid { // the LEFT JOIN's row when nothing is new
			continue
		}
		out = append(out, toRevocation(r.SessionID, r.UserID.UUID, r.RevokedAt.Time))
	}
	return out, next, nil
}

// Retention of ended sessions and of revocations in the database.
const (
	// EndedSessionRetention keeps ended sessions (and their refresh token
	// hashes) this long, for audits and for reuse detection after expiry.
	EndedSessionRetention = 7 * 24 * time.Hour
	// RevocationRetention outlives the longest access token TTL the
	// configuration allows (24h) plus clock skew.
	RevocationRetention = 25 * time.Hour
)

// Purge deletes sessions that ended more than EndedSessionRetention before
// now, and revocations older than RevocationRetention. It returns how many
// rows of each it deleted.
func (s *SessionStore) Purge(ctx context.Context, now time.Time) (sessions, revocations int64, err error) {
	sessions, err = s.q.PurgeEndedSessions(ctx, now.Add(-EndedSessionRetention))
	if err != nil {
		return 0, 0, interpretError(fmt.Errorf("purge ended sessions: %w", err))
	}
	revocations, err = s.q.PurgeRevocations(ctx, now.Add(-RevocationRetention))
	if err != nil {
		return sessions, 0, interpretError(fmt.Errorf("purge revocations: %w", err))
	}
	return sessions, revocations, nil
}

func toSession(r sqlcgen.Session) domain.Session {
	s := domain.Session{
		ID:                domain.SessionID(r.ID.String()),
		UserID:            domain.UserID(r.UserID.String()),
		AppID:             domain.AppID(r.AppID),
		UserAgent:         r.UserAgent,
		CreatedAt:         r.CreatedAt.UTC(),
		LastUsedAt:        r.LastUsedAt.UTC(),
		IdleExpiresAt:     r.IdleExpiresAt.UTC(),
		AbsoluteExpiresAt: r.AbsoluteExpiresAt.UTC(),
	}
	if r.RevokedAt.Valid {
		s.RevokedAt = r.RevokedAt.Time.UTC()
		s.RevokeReason = domain.RevokeReason(r.RevokeReason.String)
	}
	return s
}

func toRevocation(session uuid.NullUUID, user uuid.UUID, at time.Time) domain.Revocation {
	r := domain.Revocation{UserID: domain.UserID(user.String()), RevokedAt: at.UTC()}
	if session.Valid {
		r.SessionID = domain.SessionID(session.UUID.String())
	}
	return r
}
