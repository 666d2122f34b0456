package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/miniback/miniback/domain"
)

// The administrators' operations on one user. Each checks the actor's
// role first (forbidden otherwise); each change writes its audit entry in
// the store's transaction, and ending sessions also tells this instance's
// revocation set at once (the other instances read the shared feed).

// errNoAdminStore: the wiring gave Admin no store (a bug).
var errNoAdminStore = errors.New("admin: no store is wired")

func (uc Admin) check(actor domain.Actor, what string) error {
	if !actor.CanAdminister() {
		return domain.Errorf(domain.CodeForbidden, "Only administrators may %s.", what)
	}
	if uc.Store == nil {
		return errNoAdminStore
	}
	return nil
}

func (uc Admin) now() time.Time {
	if uc.Clock == nil {
		return time.Now().Truncate(time.Microsecond)
	}
	return uc.Clock.Now().Truncate(time.Microsecond)
}

// entry is the audit entry of action by actor on user id, now.
func (uc Admin) entry(actor domain.Actor, at time.Time, action domain.AuditAction, kind domain.AuditTargetKind, target string, details map[string]any) domain.AuditEntry {
	return domain.NewAuditEntry(actor, at, action, kind, target, details)
}

// GetUser returns the user as an admin sees them.
func (uc Admin) GetUser(ctx context.Context, actor domain.Actor, id domain.UserID) (domain.AdminUserView, error) {
	if err := uc.check(actor, "see users"); err != nil {
		return domain.AdminUserView{}, err
	}
	v, err := uc.Store.GetUserView(ctx, id, uc.now())
	if err != nil {
		return domain.AdminUserView{}, fmt.Errorf("get user view: %w", err)
	}
	return v, nil
}

// SessionPage is one page of a user's sessions.
type SessionPage struct {
	Sessions []domain.Session
	Next     *domain.AdminCursor
	// Now is when the page was read: a session is active if it is at Now.
	Now time.Time
}

// ListUserSessions returns a page of the user's sessions, newest login
// first.
func (uc Admin) ListUserSessions(ctx context.Context, actor domain.Actor, id domain.UserID, q domain.SessionQuery) (SessionPage, error) {
	if err := uc.check(actor, "see users' sessions"); err != nil {
		return SessionPage{}, err
	}
	q, err := q.Normalize()
	if err != nil {
		return SessionPage{}, err
	}
	now := uc.now()
	ss, err := uc.Store.ListUserSessions(ctx, id, q, now, q.Page.Limit+1)
	if err != nil {
		return SessionPage{}, fmt.Errorf("list user sessions: %w", err)
	}
	page := SessionPage{Sessions: ss, Now: now}
	if len(ss) > q.Page.Limit {
		page.Sessions = ss[:q.Page.Limit]
		last := page.Sessions[q.Page.Limit-1]
		page.Next = &domain.AdminCursor{At: last.CreatedAt, ID: string(last.ID)}
	}
	return page, nil
}

// UserUploadPage is one page of a user's uploads.
type UserUploadPage struct {
	Uploads []domain.Upload
	Next    *domain.AdminCursor
}

// ListUserUploads returns a page of the user's uploads, newest first.
func (uc Admin) ListUserUploads(ctx context.Context, actor domain.Actor, id domain.UserID, p domain.AdminPage) (UserUploadPage, error) {
	if err := uc.check(actor, "see users' uploads"); err != nil {
		return UserUploadPage{}, err
	}
	p, bad := p.Normalize()
	if len(bad) > 0 {
		return UserUploadPage{}, domain.Invalid(bad...)
	}
	us, err := uc.Store.ListUserUploads(ctx, id, p, p.Limit+1)
	if err != nil {
		return UserUploadPage{}, fmt.Errorf("list user uploads: %w", err)
	}
	page := UserUploadPage{Uploads: us}
	if len(us) > p.Limit {
		page.Uploads = us[:p.Limit]
		last := page.Uploads[p.Limit-1]
		page.Next = &domain.AdminCursor{At: last.CreatedAt, ID: string(last.ID)}
	}
	return page, nil
}

// EndUserSession ends one of the user's sessions; one already ended
// succeeds and records nothing.
func (uc Admin) EndUserSession(ctx context.Context, actor domain.Actor, id domain.UserID, sid domain.SessionID) error {
	if err := uc.check(actor, "end users' sessions"); err != nil {
		return err
	}
	now := uc.now()
	e := uc.entry(actor, now, domain.AuditUserSessionEnd, domain.AuditTargetSession, string(sid),
		map[string]any{"user_id": string(id)})
	rev, ended, err := uc.Store.EndUserSession(ctx, id, sid, e)
	if err != nil {
		return fmt.Errorf("end user session: %w", err)
	}
	if ended {
		uc.Revocations.Note(rev)
	}
	return nil
}

// EndUserSessions ends every active session of the user and returns how
// many it ended.
func (uc Admin) EndUserSessions(ctx context.Context, actor domain.Actor, id domain.UserID) (int, error) {
	if err := uc.check(actor, "end users' sessions"); err != nil {
		return 0, err
	}
	now := uc.now()
	e := uc.entry(actor, now, domain.AuditUserSessionsEnd, domain.AuditTargetUser, string(id), nil)
	revs, err := uc.Store.EndUserSessions(ctx, id, domain.RevokeEndedByAdmin, e)
	if err != nil {
		return 0, fmt.Errorf("end user sessions: %w", err)
	}
	uc.Revocations.Note(revs...)
	return len(revs), nil
}

// Disable disables the user's account: their sessions end and every
// login is refused with account_disabled until Enable. An admin cannot
// disable themself.
func (uc Admin) Disable(ctx context.Context, actor domain.Actor, id domain.UserID, reason string) (domain.AdminUserView, error) {
	if err := uc.check(actor, "disable users"); err != nil {
		return domain.AdminUserView{}, err
	}
	reason, err := domain.NormalizeDisableReason(reason)
	if err != nil {
		return domain.AdminUserView{}, err
	}
	if actor.User == id {
		return domain.AdminUserView{}, domain.Errorf(domain.CodeCannotDisableSelf, "You cannot disable your own account.")
	}
	now := uc.now()
	e := uc.entry(actor, now, domain.AuditUserDisable, domain.AuditTargetUser, string(id), map[string]any{"reason": reason})
	revs, err := uc.Store.DisableUser(ctx, id, domain.Disablement{At: now, Reason: reason, By: actor.User}, e)
	if err != nil {
		return domain.AdminUserView{}, fmt.Errorf("disable user: %w", err)
	}
	uc.Revocations.Note(revs...)
	return uc.view(ctx, id, now)
}

// Enable lets a disabled user log in again.
func (uc Admin) Enable(ctx context.Context, actor domain.Actor, id domain.UserID) (domain.AdminUserView, error) {
	if err := uc.check(actor, "enable users"); err != nil {
		return domain.AdminUserView{}, err
	}
	now := uc.now()
	e := uc.entry(actor, now, domain.AuditUserEnable, domain.AuditTargetUser, string(id), nil)
	if _, err := uc.Store.EnableUser(ctx, id, e); err != nil {
		return domain.AdminUserView{}, fmt.Errorf("enable user: %w", err)
	}
	return uc.view(ctx, id, now)
}

// GrantAdmin makes the user an admin, from their next token on.
func (uc Admin) GrantAdmin(ctx context.Context, actor domain.Actor, id domain.UserID) (domain.AdminUserView, error) {
	if err := uc.check(actor, "grant the admin role"); err != nil {
		return domain.AdminUserView{}, err
	}
	now := uc.now()
	e := uc.entry(actor, now, domain.AuditUserAdminGrant, domain.AuditTargetUser, string(id), nil)
	if _, err := uc.Store.SetRole(ctx, id, domain.RoleAdmin, e); err != nil {
		return domain.AdminUserView{}, fmt.Errorf("grant admin: %w", err)
	}
	return uc.view(ctx, id, now)
}

// RevokeAdmin takes the admin role from the user, from their next token
// on. An admin cannot revoke their own role.
func (uc Admin) RevokeAdmin(ctx context.Context, actor domain.Actor, id domain.UserID) (domain.AdminUserView, error) {
	if err := uc.check(actor, "revoke the admin role"); err != nil {
		return domain.AdminUserView{}, err
	}
	if actor.User == id {
		return domain.AdminUserView{}, domain.Errorf(domain.CodeCannotRevokeOwnAdmin,
			"You cannot revoke your own admin role; ask another admin.")
	}
	now := uc.now()
	e := uc.entry(actor, now, domain.AuditUserAdminRevoke, domain.AuditTargetUser, string(id), nil)
	if _, err := uc.Store.SetRole(ctx, id, domain.RoleUser, e); err != nil {
		return domain.AdminUserView{}, fmt.Errorf("revoke admin: %w", err)
	}
	return uc.view(ctx, id, now)
}

func (uc Admin) view(ctx context.Context, id domain.UserID, now time.Time) (domain.AdminUserView, error) {
	v, err := uc.Store.GetUserView(ctx, id, now)
	if err != nil {
		return domain.AdminUserView{}, fmt.Errorf("read user: %w", err)
	}
	return v, nil
}
