package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/miniback/miniback/adapters/postgres/internal/sqlcgen"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

var (
	_ ports.AdminStore    = (*AdminStore)(nil)
	_ ports.AccountStatus = (*AdminStore)(nil)
	_ ports.AuditLog      = (*AdminStore)(nil)
)

// AdminStore serves the admin operations on users, the disabled-account
// check of the logins, and the audit log. Every change writes its audit
// entry in the change's transaction.
type AdminStore struct {
	db *DB
	q  *sqlcgen.Queries
}

// NewAdminStore returns an AdminStore backed by db.
func NewAdminStore(db *DB) *AdminStore {
	return &AdminStore{db: db, q: db.queries()}
}

// GetUserView reads the user, their WeChat identities, disablement and
// counts in one read-only snapshot.
func (s *AdminStore) GetUserView(ctx context.Context, id domain.UserID, now time.Time) (domain.AdminUserView, error) {
	uid, err := parseUserID(id)
	if err != nil {
		return domain.AdminUserView{}, err
	}
	var v domain.AdminUserView
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	err = inTxWith(ctx, s.db, opts, interpretUserError, func(q *sqlcgen.Queries) error {
		row, err := q.GetUser(ctx, uid)
		if err != nil {
			return fmt.Errorf("get user: %w", err)
		}
		v.User = toUser(row)
		logins, err := q.ListWeChatLogins(ctx, uid)
		if err != nil {
			return fmt.Errorf("list wechat logins: %w", err)
		}
		v.WeChat = make([]domain.WeChatLogin, len(logins))
		for i, l := range logins {
			v.WeChat[i] = domain.WeChatLogin{
				App: domain.AppID(l.AppID), OpenID: domain.OpenID(l.OpenID), UnionID: domain.UnionID(l.UnionID),
				CreatedAt: l.CreatedAt.UTC(), LastLoginAt: l.UpdatedAt.UTC(),
			}
		}
		d, err := q.GetUserDisablement(ctx, uid)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return fmt.Errorf("get disablement: %w", err)
		default:
			v.Disabled = &domain.Disablement{At: d.DisabledAt.UTC(), Reason: d.Reason}
			if d.DisabledBy.Valid {
				v.Disabled.By = domain.UserID(d.DisabledBy.UUID.String())
			}
		}
		c, err := q.CountUserThings(ctx, sqlcgen.CountUserThingsParams{UserID: uid, Now: now})
		if err != nil {
			return fmt.Errorf("count: %w", err)
		}
		v.Counts = domain.UserCounts{Tasks: c.Tasks, Uploads: c.Uploads, ActiveSessions: c.ActiveSessions}
		return nil
	})
	if err != nil {
		return domain.AdminUserView{}, err
	}
	return v, nil
}

// ListUserSessions lists one user's sessions, newest login first.
func (s *AdminStore) ListUserSessions(ctx context.Context, id domain.UserID, q domain.SessionQuery, now time.Time, max int) ([]domain.Session, error) {
	uid, err := parseUserID(id)
	if err != nil {
		return nil, err
	}
	p := sqlcgen.ListUserSessionsParams{UserID: uid, State: string(q.State), Now: now, MaxRows: int32(max)}
	if a := q.Page.After; a != nil {
		aid, err := uuid.Parse(a.ID)
		if err != nil {
			return nil, badCursor()
		}
		p.HasAfter, p.AfterCreatedAt, p.AfterID = true, a.At, aid
	}
	// Planned for its values: the generic plan of its optional state
	// filter reads all of the user's sessions and sorts them.
	rows, err := sqlcgen.New(perExecution{s.db.q()}).ListUserSessions(ctx, p)
	if err != nil {
		return nil, interpretError(err)
	}
	if len(rows) == 0 {
		// Nothing listed: no sessions, or no such user.
		if err := userMustExist(ctx, s.q, uid); err != nil {
			return nil, interpretUserError(err)
		}
	}
	out := make([]domain.Session, len(rows))
	for i, r := range rows {
		out[i] = toSession(r)
	}
	return out, nil
}

// ListUserUploads lists one user's uploads, newest first.
func (s *AdminStore) ListUserUploads(ctx context.Context, id domain.UserID, page domain.AdminPage, max int) ([]domain.Upload, error) {
	uid, err := parseUserID(id)
	if err != nil {
		return nil, err
	}
	p := sqlcgen.ListUserUploadsParams{OwnerID: uuid.NullUUID{UUID: uid, Valid: true}, MaxRows: int32(max)}
	if a := page.After; a != nil {
		aid, err := uuid.Parse(a.ID)
		if err != nil {
			return nil, badCursor()
		}
		p.HasAfter, p.AfterCreatedAt, p.AfterID = true, a.At, aid
	}
	var out []domain.Upload
	err = inTxWith(ctx, s.db, pgx.TxOptions{AccessMode: pgx.ReadOnly}, interpretUserError, func(q *sqlcgen.Queries) error {
		rows, err := q.ListUserUploads(ctx, p)
		if err != nil {
			return fmt.Errorf("list user uploads: %w", err)
		}
		if len(rows) == 0 {
			if err := userMustExist(ctx, q, uid); err != nil {
				return err
			}
		}
		out = make([]domain.Upload, len(rows))
		for i, r := range rows {
			out[i] = toUpload(r)
		}
		return nil
	})
	return out, err
}

// EndUserSession ends one live session of the user and audits it.
func (s *AdminStore) EndUserSession(ctx context.Context, id domain.UserID, sid domain.SessionID, audit domain.AuditEntry) (domain.Revocation, bool, error) {
	uid, err := parseUserID(id)
	if err != nil {
		return domain.Revocation{}, false, err
	}
	sessID, err := uuid.Parse(string(sid))
	if err != nil {
		return domain.Revocation{}, false, domain.ErrSessionNotFound(fmt.Errorf("parse session id: %w", err))
	}
	var rev domain.Revocation
	var ended bool
	err = inTx(ctx, s.db, interpretUserError, func(q *sqlcgen.Queries) error {
		if _, err := q.LockUserRole(ctx, uid); err != nil {
			return fmt.Errorf("lock user: %w", err)
		}
		r, err := q.RevokeSession(ctx, sqlcgen.RevokeSessionParams{
			RevokedAt: audit.At, Reason: string(domain.RevokeEndedByAdmin), ID: sessID, UserID: uid,
		})
		if errors.Is(err, pgx.ErrNoRows) {
			mine, err := q.SessionBelongsTo(ctx, sqlcgen.SessionBelongsToParams{ID: sessID, UserID: uid})
			if err != nil {
				return fmt.Errorf("find session: %w", err)
			}
			if !mine {
				return domain.ErrSessionNotFound(nil)
			}
			return nil // ended already: nothing to record
		}
		if err != nil {
			return fmt.Errorf("revoke session: %w", err)
		}
		rev, ended = toRevocation(r.SessionID, r.UserID, r.RevokedAt), true
		return insertAudit(ctx, q, audit)
	})
	if err != nil {
		return domain.Revocation{}, false, err
	}
	return rev, ended, nil
}

// EndUserSessions ends every active session of the user and audits it.
func (s *AdminStore) EndUserSessions(ctx context.Context, id domain.UserID, reason domain.RevokeReason, audit domain.AuditEntry) ([]domain.Revocation, error) {
	uid, err := parseUserID(id)
	if err != nil {
		return nil, err
	}
	var revs []domain.Revocation
	err = inTx(ctx, s.db, interpretUserError, func(q *sqlcgen.Queries) error {
		if _, err := q.LockUserRole(ctx, uid); err != nil {
			return fmt.Errorf("lock user: %w", err)
		}
		var err error
		if revs, err = revokeAll(ctx, q, uid, reason, audit.At); err != nil {
			return err
		}
		audit.Details = withDetail(audit.Details, "sessions_ended", len(revs))
		return insertAudit(ctx, q, audit)
	})
	if err != nil {
		return nil, err
	}
	return revs, nil
}

// DisableUser records the disablement, ends the user's sessions and
// audits it, in one transaction.
func (s *AdminStore) DisableUser(ctx context.Context, id domain.UserID, d domain.Disablement, audit domain.AuditEntry) ([]domain.Revocation, error) {
	uid, err := parseUserID(id)
	if err != nil {
		return nil, err
	}
	by, err := nullUserID(d.By)
	if err != nil {
		return nil, err
	}
	var revs []domain.Revocation
	err = inTx(ctx, s.db, interpretUserError, func(q *sqlcgen.Queries) error {
		if _, err := q.LockUserRole(ctx, uid); err != nil {
			return fmt.Errorf("lock user: %w", err)
		}
		err := q.UpsertUserDisablement(ctx, sqlcgen.UpsertUserDisablementParams{
			UserID: uid, DisabledAt: d.At, Reason: d.Reason, DisabledBy: by,
		})
		if err != nil {
			return fmt.Errorf("record disablement: %w", err)
		}
		if revs, err = revokeAll(ctx, q, uid, domain.RevokeAccountDisabled, d.At); err != nil {
			return err
		}
		audit.Details = withDetail(audit.Details, "sessions_ended", len(revs))
		return insertAudit(ctx, q, audit)
	})
	if err != nil {
		return nil, err
	}
	return revs, nil
}

// EnableUser removes the user's disablement and audits it, when there was
// one.
func (s *AdminStore) EnableUser(ctx context.Context, id domain.UserID, audit domain.AuditEntry) (bool, error) {
	uid, err := parseUserID(id)
	if err != nil {
		return false, err
	}
	var changed bool
	err = inTx(ctx, s.db, interpretUserError, func(q *sqlcgen.Queries) error {
		if _, err := q.LockUserRole(ctx, uid); err != nil {
			return fmt.Errorf("lock user: %w", err)
		}
		n, err := q.DeleteUserDisablement(ctx, uid)
		if err != nil {
			return fmt.Errorf("delete disablement: %w", err)
		}
		if changed = n > 0; !changed {
			return nil
		}
		return insertAudit(ctx, q, audit)
	})
	return changed, err
}

// SetRole gives the user role and audits it, when it changes.
func (s *AdminStore) SetRole(ctx context.Context, id domain.UserID, role domain.Role, audit domain.AuditEntry) (bool, error) {
	uid, err := parseUserID(id)
	if err != nil {
		return false, err
	}
	var changed bool
	err = inTx(ctx, s.db, interpretUserError, func(q *sqlcgen.Queries) error {
		if role != domain.RoleAdmin {
			// Lock the admins first (in one order), then check that one
			// stays: concurrent revocations cannot leave none.
			admins, err := q.LockAdmins(ctx)
			if err != nil {
				return fmt.Errorf("lock admins: %w", err)
			}
			if len(admins) == 1 && admins[0] == uid {
				return domain.Errorf(domain.CodeLastAdmin, "This is the last admin; grant the role to another user first.")
			}
		}
		current, err := q.LockUserRole(ctx, uid)
		if err != nil {
			return fmt.Errorf("lock user: %w", err)
		}
		if changed = current != string(role); !changed {
			return nil
		}
		at := audit.At
		if at.IsZero() {
			at = time.Now()
		}
		if err := q.AdminSetUserRole(ctx, sqlcgen.AdminSetUserRoleParams{ID: uid, Role: string(role), UpdatedAt: at}); err != nil {
			return fmt.Errorf("set role: %w", err)
		}
		return insertAudit(ctx, q, audit)
	})
	return changed, err
}

// UserDisabled reports whether an admin disabled the user.
func (s *AdminStore) UserDisabled(ctx context.Context, id domain.UserID) (bool, error) {
	uid, err := uuid.Parse(string(id))
	if err != nil {
		return false, nil // names no user
	}
	disabled, err := s.q.UserDisabled(ctx, uid)
	if err != nil {
		return false, interpretError(err)
	}
	return disabled, nil
}

// RecordAudit appends e to the audit log in a transaction of its own.
func (s *AdminStore) RecordAudit(ctx context.Context, e domain.AuditEntry) error {
	return interpretError(insertAudit(ctx, s.q, e))
}

// ListAudit reads the audit log, newest first.
func (s *AdminStore) ListAudit(ctx context.Context, q domain.AuditQuery, max int) ([]domain.AuditEntry, error) {
	p := sqlcgen.ListAdminAuditParams{
		TargetKind: string(q.TargetKind), TargetID: q.TargetID, Action: string(q.Action), MaxRows: int32(max),
	}
	if q.Actor != "" {
		a, err := uuid.Parse(string(q.Actor))
		if err != nil {
			return []domain.AuditEntry{}, nil // names no one
		}
		p.ActorID = uuid.NullUUID{UUID: a, Valid: true}
	}
	if a := q.Page.After; a != nil {
		id, err := strconv.ParseInt(a.ID, 10, 64)
		if err != nil {
			return nil, badCursor()
		}
		p.HasAfter, p.AfterID = true, id
	}
	// Planned for its values each time: a generic plan of its optional
	// filters would read the whole log and sort it.
	rows, err := sqlcgen.New(perExecution{s.db.q()}).ListAdminAudit(ctx, p)
	if err != nil {
		return nil, interpretError(err)
	}
	out := make([]domain.AuditEntry, len(rows))
	for i, r := range rows {
		e := domain.AuditEntry{
			ID: strconv.FormatInt(r.ID, 10), At: r.At.UTC(), Action: domain.AuditAction(r.Action),
			TargetKind: domain.AuditTargetKind(r.TargetKind), TargetID: r.TargetID,
			Address: r.ClientAddress, RequestID: r.RequestID, Details: map[string]any{},
		}
		if r.ActorID.Valid {
			e.Actor = domain.UserID(r.ActorID.UUID.String())
		}
		if err := json.Unmarshal(r.Details, &e.Details); err != nil {
			return nil, fmt.Errorf("audit entry %d: details: %w", r.ID, err)
		}
		out[i] = e
	}
	return out, nil
}

// revokeAll ends every live session of the user, feeding each to the
// revocation feed.
func revokeAll(ctx context.Context, q *sqlcgen.Queries, uid uuid.UUID, reason domain.RevokeReason, at time.Time) ([]domain.Revocation, error) {
	rows, err := q.RevokeOtherSessions(ctx, sqlcgen.RevokeOtherSessionsParams{
		RevokedAt: at, Reason: string(reason), UserID: uid, Keep: uuid.Nil,
	})
	if err != nil {
		return nil, fmt.Errorf("revoke sessions: %w", err)
	}
	revs := make([]domain.Revocation, len(rows))
	for i, r := range rows {
		revs[i] = toRevocation(r.SessionID, r.UserID, r.RevokedAt)
	}
	return revs, nil
}

func insertAudit(ctx context.Context, q *sqlcgen.Queries, e domain.AuditEntry) error {
	details := e.Details
	if details == nil {
		details = map[string]any{}
	}
	b, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("audit details: %w", err)
	}
	actor, err := nullUserID(e.Actor)
	if err != nil {
		return err
	}
	at := e.At
	if at.IsZero() {
		at = time.Now()
	}
	err = q.InsertAdminAudit(ctx, sqlcgen.InsertAdminAuditParams{
		At: at, ActorID: actor, Action: string(e.Action), TargetKind: string(e.TargetKind), TargetID: e.TargetID,
		Details: b, ClientAddress: e.Address, RequestID: e.RequestID,
	})
	if err != nil {
		return fmt.Errorf("insert audit: %w", err)
	}
	return nil
}

func userMustExist(ctx context.Context, q *sqlcgen.Queries, uid uuid.UUID) error {
	ok, err := q.UserExists(ctx, uid)
	if err != nil {
		return fmt.Errorf("find user: %w", err)
	}
	if !ok {
		return domain.ErrUserNotFound(nil)
	}
	return nil
}

func nullUserID(id domain.UserID) (uuid.NullUUID, error) {
	if id == "" {
		return uuid.NullUUID{}, nil
	}
	u, err := uuid.Parse(string(id))
	if err != nil {
		return uuid.NullUUID{}, fmt.Errorf("user id %q is not a UUID: %w", id, err)
	}
	return uuid.NullUUID{UUID: u, Valid: true}, nil
}

// withDetail returns details (copied) with key set to v.
func withDetail(details map[string]any, key string, v any) map[string]any {
	out := make(map[string]any, len(details)+1)
	for k, x := range details {
		out[k] = x
	}
	out[key] = v
	return out
}

func badCursor() error {
	return domain.Invalid(domain.FieldError{Field: "query.cursor", Code: "invalid", Message: "cursor is not one this server returned"})
}

// perExecution runs sqlc's statements with a plan made for their
// arguments each time (pgx's describe-only cache), rather than the
// generic plan PostgreSQL keeps for a prepared statement: for statements
// whose optional filters (`@x = ” OR col = @x`) only a custom plan turns
// into an index walk.
type perExecution struct{ sqlcgen.DBTX }

func (p perExecution) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return p.DBTX.Query(ctx, sql, append([]any{pgx.QueryExecModeCacheDescribe}, args...)...)
}

func (p perExecution) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return p.DBTX.QueryRow(ctx, sql, append([]any{pgx.QueryExecModeCacheDescribe}, args...)...)
}
