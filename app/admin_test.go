package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// fakeAdminStore records the audit entries it is given and answers from
// its function fields; a nil field panics when called.
type fakeAdminStore struct {
	entries  []domain.AuditEntry
	view     func(id domain.UserID) (domain.AdminUserView, error)
	endOne   func(id domain.UserID, sid domain.SessionID) (domain.Revocation, bool, error)
	endAll   func(id domain.UserID, reason domain.RevokeReason) ([]domain.Revocation, error)
	disable  func(id domain.UserID, d domain.Disablement) ([]domain.Revocation, error)
	enable   func(id domain.UserID) (bool, error)
	setRole  func(id domain.UserID, role domain.Role) (bool, error)
	disabled map[domain.UserID]bool
}

var _ ports.AdminStore = (*fakeAdminStore)(nil)

func (f *fakeAdminStore) GetUserView(_ context.Context, id domain.UserID, _ time.Time) (domain.AdminUserView, error) {
	if f.view == nil {
		return domain.AdminUserView{User: domain.User{ID: id}}, nil
	}
	return f.view(id)
}
func (f *fakeAdminStore) ListUserSessions(context.Context, domain.UserID, domain.SessionQuery, time.Time, int) ([]domain.Session, error) {
	panic("unexpected ListUserSessions")
}
func (f *fakeAdminStore) ListUserUploads(context.Context, domain.UserID, domain.AdminPage, int) ([]domain.Upload, error) {
	panic("unexpected ListUserUploads")
}
func (f *fakeAdminStore) EndUserSession(_ context.Context, id domain.UserID, sid domain.SessionID, e domain.AuditEntry) (domain.Revocation, bool, error) {
	rev, ended, err := f.endOne(id, sid)
	if ended && err == nil {
		f.entries = append(f.entries, e)
	}
	return rev, ended, err
}
func (f *fakeAdminStore) EndUserSessions(_ context.Context, id domain.UserID, reason domain.RevokeReason, e domain.AuditEntry) ([]domain.Revocation, error) {
	revs, err := f.endAll(id, reason)
	if err == nil {
		f.entries = append(f.entries, e)
	}
	return revs, err
}
func (f *fakeAdminStore) DisableUser(_ context.Context, id domain.UserID, d domain.Disablement, e domain.AuditEntry) ([]domain.Revocation, error) {
	revs, err := f.disable(id, d)
	if err == nil {
		f.entries = append(f.entries, e)
	}
	return revs, err
}
func (f *fakeAdminStore) EnableUser(_ context.Context, id domain.UserID, e domain.AuditEntry) (bool, error) {
	changed, err := f.enable(id)
	if changed && err == nil {
		f.entries = append(f.entries, e)
	}
	return changed, err
}
func (f *fakeAdminStore) SetRole(_ context.Context, id domain.UserID, role domain.Role, e domain.AuditEntry) (bool, error) {
	changed, err := f.setRole(id, role)
	if changed && err == nil {
		f.entries = append(f.entries, e)
	}
	return changed, err
}
func (f *fakeAdminStore) UserDisabled(_ context.Context, id domain.UserID) (bool, error) {
	return f.disabled[id], nil
}

var (
	rootActor = domain.Actor{User: "u-root", Role: domain.RoleAdmin, Address: "203.0.113.7", RequestID: "req-1"}
	userActor = domain.Actor{User: "u-alice", Role: domain.RoleUser, Address: "203.0.113.8"}
)

func TestAdminOperationsRefuseNonAdminsBeforeTouchingTheStore(t *testing.T) {
	uc := app.Admin{Store: &fakeAdminStore{}, Clock: fixedClock{now}} // any store call but a view panics
	ctx := context.Background()
	ops := map[string]func(domain.Actor) error{
		"get": func(a domain.Actor) error { _, err := uc.GetUser(ctx, a, "u-1"); return err },
		"sessions": func(a domain.Actor) error {
			_, err := uc.ListUserSessions(ctx, a, "u-1", domain.SessionQuery{})
			return err
		},
		"uploads": func(a domain.Actor) error {
			_, err := uc.ListUserUploads(ctx, a, "u-1", domain.AdminPage{})
			return err
		},
		"end one":    func(a domain.Actor) error { return uc.EndUserSession(ctx, a, "u-1", "s-1") },
		"end all":    func(a domain.Actor) error { _, err := uc.EndUserSessions(ctx, a, "u-1"); return err },
		"disable":    func(a domain.Actor) error { _, err := uc.Disable(ctx, a, "u-1", "spam"); return err },
		"enable":     func(a domain.Actor) error { _, err := uc.Enable(ctx, a, "u-1"); return err },
		"grant":      func(a domain.Actor) error { _, err := uc.GrantAdmin(ctx, a, "u-1"); return err },
		"revoke":     func(a domain.Actor) error { _, err := uc.RevokeAdmin(ctx, a, "u-1"); return err },
		"audit list": func(a domain.Actor) error { _, err := (&app.Audit{}).List(ctx, a, domain.AuditQuery{}); return err },
	}
	for name, op := range ops {
		for _, actor := range []domain.Actor{userActor, {}, {User: "u-x", Role: "root"}} {
			if err := op(actor); codeOf(err) != domain.CodeForbidden {
				t.Errorf("%s by %+v: %v, want forbidden", name, actor, err)
			}
		}
	}
}

func TestAdminCannotDisableOrRevokeThemself(t *testing.T) {
	uc := app.Admin{Store: &fakeAdminStore{}, Clock: fixedClock{now}}
	ctx := context.Background()
	if _, err := uc.Disable(ctx, rootActor, rootActor.User, "tired"); codeOf(err) != domain.CodeCannotDisableSelf {
		t.Errorf("disable self: %v", err)
	}
	if _, err := uc.RevokeAdmin(ctx, rootActor, rootActor.User); codeOf(err) != domain.CodeCannotRevokeOwnAdmin {
		t.Errorf("revoke self: %v", err)
	}
}

func TestDisableChecksTheReason(t *testing.T) {
	uc := app.Admin{Store: &fakeAdminStore{}, Clock: fixedClock{now}}
	for _, reason := range []string{"", "   ", "a\x00b", string(make([]rune, 501))} {
		if _, err := uc.Disable(context.Background(), rootActor, "u-1", reason); codeOf(err) != domain.CodeInvalid {
			t.Errorf("reason %q: %v, want validation_failed", reason, err)
		}
	}
}

func TestAdminChangesAreAuditedWithActorAddressAndRequest(t *testing.T) {
	revs := app.NewRevocations(nil, fixedClock{now}, time.Hour)
	store := &fakeAdminStore{
		endOne: func(id domain.UserID, sid domain.SessionID) (domain.Revocation, bool, error) {
			return domain.Revocation{SessionID: sid, UserID: id, RevokedAt: now}, sid == "s-live", nil
		},
		endAll: func(id domain.UserID, reason domain.RevokeReason) ([]domain.Revocation, error) {
			if reason != domain.RevokeEndedByAdmin {
				t.Errorf("end all with reason %q", reason)
			}
			return []domain.Revocation{{SessionID: "s-2", UserID: id, RevokedAt: now}}, nil
		},
		disable: func(id domain.UserID, d domain.Disablement) ([]domain.Revocation, error) {
			if d.Reason != "spam" || d.By != rootActor.User || !d.At.Equal(now) {
				t.Errorf("disablement %+v", d)
			}
			return []domain.Revocation{{SessionID: "s-3", UserID: id, RevokedAt: now}}, nil
		},
		enable:  func(domain.UserID) (bool, error) { return true, nil },
		setRole: func(domain.UserID, domain.Role) (bool, error) { return true, nil },
	}
	uc := app.Admin{Store: store, Clock: fixedClock{now}, Revocations: revs}
	ctx := context.Background()
	steps := []struct {
		name   string
		run    func() error
		action domain.AuditAction
		kind   domain.AuditTargetKind
		target string
		noted  domain.SessionID // refused here at once
	}{
		{"end a live session", func() error { return uc.EndUserSession(ctx, rootActor, "u-1", "s-live") }, domain.AuditUserSessionEnd, domain.AuditTargetSession, "s-live", "s-live"},
		{"end an ended session", func() error { return uc.EndUserSession(ctx, rootActor, "u-1", "s-gone") }, "", "", "", ""},
		{"end all", func() error { _, err := uc.EndUserSessions(ctx, rootActor, "u-1"); return err }, domain.AuditUserSessionsEnd, domain.AuditTargetUser, "u-1", "s-2"},
		{"disable", func() error { _, err := uc.Disable(ctx, rootActor, "u-1", " spam "); return err }, domain.AuditUserDisable, domain.AuditTargetUser, "u-1", "s-3"},
		{"enable", func() error { _, err := uc.Enable(ctx, rootActor, "u-1"); return err }, domain.AuditUserEnable, domain.AuditTargetUser, "u-1", ""},
		{"grant", func() error { _, err := uc.GrantAdmin(ctx, rootActor, "u-1"); return err }, domain.AuditUserAdminGrant, domain.AuditTargetUser, "u-1", ""},
		{"revoke", func() error { _, err := uc.RevokeAdmin(ctx, rootActor, "u-1"); return err }, domain.AuditUserAdminRevoke, domain.AuditTargetUser, "u-1", ""},
	}
	for _, st := range steps {
		before := len(store.entries)
		if err := st.run(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if st.action == "" {
			if len(store.entries) != before {
				t.Errorf("%s: audited %+v", st.name, store.entries[before:])
			}
			continue
		}
		if len(store.entries) != before+1 {
			t.Fatalf("%s: %d entries, want one more", st.name, len(store.entries)-before)
		}
		e := store.entries[before]
		if e.Action != st.action || e.TargetKind != st.kind || e.TargetID != st.target || e.Actor != rootActor.User ||
			e.Address != rootActor.Address || e.RequestID != rootActor.RequestID || !e.At.Equal(now) || e.Details == nil {
			t.Errorf("%s: entry %+v", st.name, e)
		}
		if st.noted != "" && !revs.Revoked(ports.AccessClaims{UserID: "u-1", SessionID: st.noted, IssuedAt: now}) {
			t.Errorf("%s: session %s still accepted here", st.name, st.noted)
		}
	}
	if r := store.entries[2].Details["reason"]; r != "spam" {
		t.Errorf("disable details %v: want the trimmed reason", store.entries[2].Details)
	}
}

func TestOperatorGrantIsAuditedWithoutActor(t *testing.T) {
	store := &fakeAdminStore{setRole: func(id domain.UserID, role domain.Role) (bool, error) {
		if id != "u-1" || role != domain.RoleAdmin {
			t.Errorf("set %s to %s", id, role)
		}
		return true, nil
	}}
	uc := app.Admin{Store: store, Audit: &app.Audit{Clock: fixedClock{now}}, Clock: fixedClock{now}}
	u, err := uc.Grant(context.Background(), "u-1")
	if err != nil || u.ID != "u-1" {
		t.Fatalf("Grant = %+v, %v", u, err)
	}
	if len(store.entries) != 1 || store.entries[0].Actor != "" || store.entries[0].Action != domain.AuditUserAdminGrant ||
		store.entries[0].Address != "" || store.entries[0].Details["via"] != "cli" {
		t.Errorf("entries %+v", store.entries)
	}
}

func TestSessionsRefuseToStartForADisabledAccount(t *testing.T) {
	status := &fakeAdminStore{disabled: map[domain.UserID]bool{"u-off": true}}
	created := 0
	uc := app.Sessions{
		Store: fakeSessionStore{create: func(_ context.Context, s domain.Session, _ domain.RefreshTokenHash) (domain.Session, error) {
			created++
			s.ID = "s-1"
			return s, nil
		}},
		Tokens: &fakeTokens{}, Clock: fixedClock{now}, Policy: policy, Status: status,
	}
	for _, tc := range []struct {
		user domain.UserID
		want domain.Code
	}{{"u-off", domain.CodeAccountDisabled}, {"u-on", ""}} {
		_, err := uc.Start(context.Background(), domain.User{ID: tc.user, Role: domain.RoleUser}, "wxapp", "")
		if codeOf(err) != tc.want {
			t.Errorf("start for %s: %v, want %q", tc.user, err, tc.want)
		}
	}
	if created != 1 {
		t.Errorf("%d sessions created, want only the enabled user's", created)
	}
}

func TestRefreshOfASessionEndedByDisablingSaysAccountDisabledWhileItIs(t *testing.T) {
	status := &fakeAdminStore{disabled: map[domain.UserID]bool{"u-1": true}}
	ended := domain.Session{ID: "s-1", UserID: "u-1", RevokedAt: now.Add(-time.Minute), RevokeReason: domain.RevokeAccountDisabled,
		IdleExpiresAt: now.Add(time.Hour), AbsoluteExpiresAt: now.Add(time.Hour)}
	uc := app.Sessions{
		Store: fakeSessionStore{rotate: func(_ context.Context, _, _ domain.RefreshTokenHash, _ time.Time, fn func(domain.Session) (domain.Session, error)) (ports.Rotation, error) {
			_, err := fn(ended)
			return ports.Rotation{}, err
		}},
		Tokens: &fakeTokens{}, Clock: fixedClock{now}, Policy: policy, Status: status,
	}
	presented, _ := domain.NewRefreshToken(strings.NewReader(strings.Repeat("d", 32)))
	tok := presented.Reveal()
	if _, err := uc.Refresh(context.Background(), tok, ""); codeOf(err) != domain.CodeAccountDisabled {
		t.Errorf("refresh while disabled: %v", err)
	}
	status.disabled["u-1"] = false
	if _, err := uc.Refresh(context.Background(), tok, ""); codeOf(err) != domain.CodeSessionRevoked {
		t.Errorf("refresh once enabled: %v, want session_revoked", err)
	}
}
