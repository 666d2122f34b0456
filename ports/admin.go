package ports

import (
	"context"
	"time"

	"github.com/miniback/miniback/domain"
)

// AdminStore is what the admin operations on one user need. Every method
// that changes something writes its audit entry in the same transaction
// as the change, so the log holds exactly the actions that happened.
// Every method answers domain.ErrUserNotFound when there is no such user.
type AdminStore interface {
	// GetUserView returns the user with their WeChat identities (never a
	// session_key), disablement and counts; sessions are counted as active
	// at now.
	GetUserView(ctx context.Context, id domain.UserID, now time.Time) (domain.AdminUserView, error)
	// ListUserSessions returns at most max of the user's sessions matching
	// q (normalised), newest login first, after q.Page.After when set.
	// Active means neither revoked nor expired at now.
	ListUserSessions(ctx context.Context, id domain.UserID, q domain.SessionQuery, now time.Time, max int) ([]domain.Session, error)
	// ListUserUploads returns at most max of the user's uploads, newest
	// first, after page.After when set.
	ListUserUploads(ctx context.Context, id domain.UserID, page domain.AdminPage, max int) ([]domain.Upload, error)
	// EndUserSession ends the user's session sid at audit.At with the
	// reason ended_by_admin, feeds the revocation feed and writes audit.
	// A session that is not the user's is domain.ErrSessionNotFound; one
	// already ended returns (zero, false, nil) and writes nothing.
	EndUserSession(ctx context.Context, id domain.UserID, sid domain.SessionID, audit domain.AuditEntry) (domain.Revocation, bool, error)
	// EndUserSessions ends every active session of the user at audit.At
	// with reason, feeds the revocation feed, and writes audit with
	// details["sessions_ended"] set to how many ended.
	EndUserSessions(ctx context.Context, id domain.UserID, reason domain.RevokeReason, audit domain.AuditEntry) ([]domain.Revocation, error)
	// DisableUser records d (replacing an earlier disablement), ends every
	// active session of the user with the reason account_disabled, feeds
	// the revocation feed, and writes audit with
	// details["sessions_ended"].
	DisableUser(ctx context.Context, id domain.UserID, d domain.Disablement, audit domain.AuditEntry) ([]domain.Revocation, error)
	// EnableUser removes the user's disablement and writes audit; it
	// reports false, writing nothing, when the user was not disabled.
	EnableUser(ctx context.Context, id domain.UserID, audit domain.AuditEntry) (bool, error)
	// SetRole gives the user role and writes audit; it reports false,
	// writing nothing, when the user had that role already. Taking the
	// role from the last admin is domain.CodeLastAdmin.
	SetRole(ctx context.Context, id domain.UserID, role domain.Role, audit domain.AuditEntry) (bool, error)
}

// AccountStatus tells the logins whether an account is disabled.
type AccountStatus interface {
	// UserDisabled reports whether an admin disabled the user (false for
	// an unknown user).
	UserDisabled(ctx context.Context, id domain.UserID) (bool, error)
}

// AuditLog keeps the log of admin actions.
type AuditLog interface {
	// RecordAudit appends e (its ID is the store's to choose).
	RecordAudit(ctx context.Context, e domain.AuditEntry) error
	// ListAudit returns at most max entries matching q (normalised),
	// newest first, after q.Page.After when set.
	ListAudit(ctx context.Context, q domain.AuditQuery, max int) ([]domain.AuditEntry, error)
}
