package app

import (
	"context"
	"fmt"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Accounts deletes accounts.
type Accounts struct {
	Users ports.AccountDeleter
	Clock ports.Clock
	// Revocations, when set, refuses the account's tokens on this instance
	// at once; the others read the revocation from the shared feed.
	Revocations *Revocations
}

// Delete deletes the user's account with everything that is theirs and
// ends all of its sessions: every access token issued to it so far is
// refused from now on.
func (uc Accounts) Delete(ctx context.Context, id domain.UserID) error {
	rev, err := uc.Users.DeleteUser(ctx, id, uc.Clock.Now())
	if err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	uc.Revocations.Note(rev)
	return nil
}

// Admin holds what administrators (and operators) may do to users.
type Admin struct {
	Users ports.UserAdmin
	// Store serves the operations on one user (app/admin.go); each of
	// its changes writes its audit entry in its own transaction.
	Store ports.AdminStore
	// Audit records what Store does not: the operator's Grant without a
	// Store.
	Audit *Audit
	Clock ports.Clock
	// Revocations, when set, refuses the tokens of the sessions an admin
	// ends on this instance at once; the others read the feed.
	Revocations *Revocations
}

// ListUsers returns a page of the users matching q, newest first, for an
// actor with the given role: only admins may list users.
func (uc Admin) ListUsers(ctx context.Context, actor domain.Role, q domain.UserQuery) (domain.UserPage, error) {
	if !actor.CanAdminister() {
		return domain.UserPage{}, domain.Errorf(domain.CodeForbidden, "Only administrators may list users.")
	}
	q, err := q.Normalize()
	if err != nil {
		return domain.UserPage{}, err
	}
	// One more than a page tells whether another page follows.
	users, err := uc.Users.ListUsers(ctx, q, q.Limit+1)
	if err != nil {
		return domain.UserPage{}, fmt.Errorf("list users: %w", err)
	}
	page := domain.UserPage{Users: users}
	if len(users) > q.Limit {
		page.Users = users[:q.Limit]
		last := page.Users[q.Limit-1]
		page.Next = &domain.UserCursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	return page, nil
}

// Grant makes the user an administrator. It is an operator's command (no
// actor): the user's next token (a refresh or a login) carries the role.
// It is audited (user.admin.grant, with no actor) when it changes the
// role: in the same transaction with a Store, else right after through
// Audit (when set).
func (uc Admin) Grant(ctx context.Context, id domain.UserID) (domain.User, error) {
	entry := uc.Audit.Entry(domain.Actor{}, domain.AuditUserAdminGrant, domain.AuditTargetUser, string(id),
		map[string]any{"via": "cli"})
	if uc.Store != nil {
		if _, err := uc.Store.SetRole(ctx, id, domain.RoleAdmin, entry); err != nil {
			return domain.User{}, fmt.Errorf("grant admin: %w", err)
		}
		v, err := uc.Store.GetUserView(ctx, id, uc.now())
		if err != nil {
			return domain.User{}, fmt.Errorf("read user: %w", err)
		}
		return v.User, nil
	}
	before, err := uc.Users.SetUserRole(ctx, id, domain.RoleAdmin)
	if err != nil {
		return domain.User{}, fmt.Errorf("grant admin: %w", err)
	}
	if uc.Audit != nil {
		if err := uc.Audit.Record(ctx, entry); err != nil {
			return domain.User{}, err
		}
	}
	return before, nil
}
