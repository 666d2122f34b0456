package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

func TestDeleteAccountRefusesItsTokensHereAtOnce(t *testing.T) {
	revs := app.NewRevocations(nil, fixedClock{now}, time.Hour)
	uc := app.Accounts{Clock: fixedClock{now}, Revocations: revs, Users: fakeDeleter{delete: func(_ context.Context, id domain.UserID, at time.Time) (domain.Revocation, error) {
		if id != "u-1" || !at.Equal(now) {
			t.Errorf("deleted %q at %s", id, at)
		}
		return domain.Revocation{UserID: id, RevokedAt: at}, nil
	}}}
	if err := uc.Delete(context.Background(), "u-1"); err != nil {
		t.Fatal(err)
	}
	if !revs.Revoked(ports.AccessClaims{UserID: "u-1", SessionID: "any", IssuedAt: now.Add(-time.Minute)}) {
		t.Error("a token of the deleted account is still accepted here")
	}
}

func TestOnlyAdminsListUsers(t *testing.T) {
	uc := app.Admin{Users: fakeUserAdmin{}} // a store call would panic
	for _, role := range []domain.Role{domain.RoleUser, "", "root"} {
		if _, err := uc.ListUsers(context.Background(), role, domain.UserQuery{}); codeOf(err) != domain.CodeForbidden {
			t.Errorf("role %q: err = %v, want forbidden", role, err)
		}
	}
}

func users(n int) []domain.User {
	out := make([]domain.User, n)
	for i := range out {
		out[i] = domain.User{ID: domain.UserID(fmt.Sprint("u-", i)), CreatedAt: now.Add(-time.Duration(i) * time.Minute)}
	}
	return out
}

func TestListUsersPagesWithACursorAfterTheLastUser(t *testing.T) {
	var asked int
	var gotQuery domain.UserQuery
	uc := app.Admin{Users: fakeUserAdmin{list: func(_ context.Context, q domain.UserQuery, max int) ([]domain.User, error) {
		asked, gotQuery = max, q
		return users(max), nil // there are more
	}}}
	page, err := uc.ListUsers(context.Background(), domain.RoleAdmin, domain.UserQuery{Search: "  ali ", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if asked != 3 || gotQuery.Search != "ali" {
		t.Errorf("asked the store for %d users matching %q; want one more than the page, trimmed search", asked, gotQuery.Search)
	}
	if len(page.Users) != 2 || page.Next == nil || page.Next.ID != "u-1" || !page.Next.CreatedAt.Equal(page.Users[1].CreatedAt) {
		t.Fatalf("page %+v: want 2 users and a cursor after the second", page)
	}

	// The encoded cursor brings the listing back to the same place.
	uc.Users = fakeUserAdmin{list: func(_ context.Context, q domain.UserQuery, max int) ([]domain.User, error) {
		gotQuery = q
		return users(1), nil // the last page
	}}
	page, err = uc.ListUsers(context.Background(), domain.RoleAdmin, domain.UserQuery{Cursor: page.Next.Encode()})
	if err != nil {
		t.Fatal(err)
	}
	if gotQuery.After == nil || gotQuery.After.ID != "u-1" || gotQuery.Limit != domain.UserPageDefault {
		t.Errorf("second query %+v: want after u-1 with the default page size", gotQuery)
	}
	if page.Next != nil {
		t.Error("the last page has a next cursor")
	}
}

func TestListUsersRefusesABadQueryBeforeTheStore(t *testing.T) {
	uc := app.Admin{Users: fakeUserAdmin{}}
	_, err := uc.ListUsers(context.Background(), domain.RoleAdmin, domain.UserQuery{Cursor: "not-a-cursor"})
	if codeOf(err) != domain.CodeInvalid {
		t.Fatalf("err = %v, want validation_failed", err)
	}
}

func TestGrantMakesTheUserAnAdmin(t *testing.T) {
	uc := app.Admin{Users: fakeUserAdmin{setRole: func(_ context.Context, id domain.UserID, role domain.Role) (domain.User, error) {
		return domain.User{ID: id, Role: role}, nil
	}}}
	u, err := uc.Grant(context.Background(), "u-1")
	if err != nil || u.Role != domain.RoleAdmin {
		t.Fatalf("Grant = %+v, %v", u, err)
	}
}
