package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

func auditEntry(actor domain.UserID, at time.Time, action domain.AuditAction, target string) domain.AuditEntry {
	return domain.NewAuditEntry(domain.Actor{User: actor, Role: domain.RoleAdmin, Address: "203.0.113.7", RequestID: "req-1"},
		at, action, domain.AuditTargetUser, target, nil)
}

func TestDisableUserEndsSessionsFeedsRevocationsAndAuditsInOneTransaction(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	users, sessions, admin := postgres.NewUserStore(db), postgres.NewSessionStore(db), postgres.NewAdminStore(db)
	root, alice := newUser(t, users, "root"), newUser(t, users, "alice")
	s1, _ := startSession(t, sessions, alice.ID)
	s2, tok2 := startSession(t, sessions, alice.ID)
	other, _ := startSession(t, sessions, root.ID)
	at := t0.Add(time.Hour)

	revs, err := admin.DisableUser(ctx, alice.ID, domain.Disablement{At: at, Reason: "spam", By: root.ID},
		auditEntry(root.ID, at, domain.AuditUserDisable, string(alice.ID)))
	if err != nil {
		t.Fatal(err)
	}
	if len(revs) != 2 || revs[0].UserID != alice.ID {
		t.Fatalf("revocations %+v: want alice's two sessions", revs)
	}
	feed, _, err := sessions.RevocationsSince(ctx, ports.RevocationCursor{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	ended := map[domain.SessionID]bool{}
	for _, r := range feed {
		ended[r.SessionID] = true
	}
	if !ended[s1.ID] || !ended[s2.ID] || ended[other.ID] {
		t.Errorf("the feed has %v: want both of alice's sessions, not root's", ended)
	}
	if disabled, err := admin.UserDisabled(ctx, alice.ID); err != nil || !disabled {
		t.Errorf("UserDisabled = %t, %v", disabled, err)
	}
	if disabled, _ := admin.UserDisabled(ctx, root.ID); disabled {
		t.Error("root is disabled too")
	}
	// The refresh token's session is revoked with the reason the refresh reports.
	_, err = sessions.RotateRefreshToken(ctx, tok2.Hash(), newToken(t).Hash(), at, func(s domain.Session) (domain.Session, error) {
		if s.RevokeReason != domain.RevokeAccountDisabled {
			t.Errorf("revoke reason %q", s.RevokeReason)
		}
		return policy.Refresh(s, "", at)
	})
	if domain.ErrorCode(err) != domain.CodeSessionRevoked {
		t.Errorf("refresh: %v", err)
	}

	v, err := admin.GetUserView(ctx, alice.ID, at)
	if err != nil {
		t.Fatal(err)
	}
	if v.Disabled == nil || v.Disabled.Reason != "spam" || v.Disabled.By != root.ID || !v.Disabled.At.Equal(at) || v.Counts.ActiveSessions != 0 {
		t.Errorf("view %+v", v)
	}
	log, err := admin.ListAudit(ctx, domain.AuditQuery{Page: domain.AdminPage{Limit: 10}}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 1 || log[0].Action != domain.AuditUserDisable || log[0].Actor != root.ID || log[0].Address != "203.0.113.7" ||
		log[0].RequestID != "req-1" || log[0].Details["sessions_ended"] != float64(2) {
		t.Errorf("audit %+v", log)
	}

	// Enabling removes it, once.
	if changed, err := admin.EnableUser(ctx, alice.ID, auditEntry(root.ID, at, domain.AuditUserEnable, string(alice.ID))); err != nil || !changed {
		t.Fatalf("EnableUser = %t, %v", changed, err)
	}
	if changed, err := admin.EnableUser(ctx, alice.ID, auditEntry(root.ID, at, domain.AuditUserEnable, string(alice.ID))); err != nil || changed {
		t.Fatalf("EnableUser again = %t, %v", changed, err)
	}
	if disabled, _ := admin.UserDisabled(ctx, alice.ID); disabled {
		t.Error("still disabled")
	}
	if log, _ := admin.ListAudit(ctx, domain.AuditQuery{}, 10); len(log) != 2 {
		t.Errorf("audit has %d entries, want disable and one enable", len(log))
	}
}

func TestAdminStoreAnswersNotFoundForUnknownUsersAndSessions(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	users, sessions, admin := postgres.NewUserStore(db), postgres.NewSessionStore(db), postgres.NewAdminStore(db)
	alice, bob := newUser(t, users, "alice"), newUser(t, users, "bob")
	bobs, _ := startSession(t, sessions, bob.ID)
	const nobody = domain.UserID("00000000-0000-4000-8000-000000000000")
	e := auditEntry("", t0, domain.AuditUserDisable, string(nobody))
	for name, err := range map[string]error{
		"view":       func() error { _, err := admin.GetUserView(ctx, nobody, t0); return err }(),
		"not a uuid": func() error { _, err := admin.GetUserView(ctx, "nope", t0); return err }(),
		"sessions": func() error {
			_, err := admin.ListUserSessions(ctx, nobody, domain.SessionQuery{State: domain.SessionsAll}, t0, 10)
			return err
		}(),
		"uploads": func() error { _, err := admin.ListUserUploads(ctx, nobody, domain.AdminPage{}, 10); return err }(),
		"disable": func() error {
			_, err := admin.DisableUser(ctx, nobody, domain.Disablement{At: t0, Reason: "x"}, e)
			return err
		}(),
		"enable":      func() error { _, err := admin.EnableUser(ctx, nobody, e); return err }(),
		"role":        func() error { _, err := admin.SetRole(ctx, nobody, domain.RoleAdmin, e); return err }(),
		"end all":     func() error { _, err := admin.EndUserSessions(ctx, nobody, domain.RevokeEndedByAdmin, e); return err }(),
		"end another": func() error { _, _, err := admin.EndUserSession(ctx, alice.ID, bobs.ID, e); return err }(),
	} {
		if domain.ErrorCode(err) != domain.CodeNotFound {
			t.Errorf("%s: %v, want not_found", name, err)
		}
	}
	if log, _ := admin.ListAudit(ctx, domain.AuditQuery{}, 10); len(log) != 0 {
		t.Errorf("failed actions were audited: %+v", log)
	}
	// An empty page of a user who exists is no error.
	if ss, err := admin.ListUserSessions(ctx, alice.ID, domain.SessionQuery{State: domain.SessionsAll}, t0, 10); err != nil || len(ss) != 0 {
		t.Errorf("alice's sessions: %v, %v", ss, err)
	}
}

func TestSetRoleAuditsOnlyAChange(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	users, admin := postgres.NewUserStore(db), postgres.NewAdminStore(db)
	alice := newUser(t, users, "alice")
	for i, want := range []bool{true, false} {
		changed, err := admin.SetRole(ctx, alice.ID, domain.RoleAdmin, auditEntry("", t0, domain.AuditUserAdminGrant, string(alice.ID)))
		if err != nil || changed != want {
			t.Fatalf("grant %d: %t, %v", i, changed, err)
		}
	}
	if u, _ := users.GetUser(ctx, alice.ID); u.Role != domain.RoleAdmin {
		t.Errorf("role %q", u.Role)
	}
	log, _ := admin.ListAudit(ctx, domain.AuditQuery{}, 10)
	if len(log) != 1 || log[0].Actor != "" || log[0].Address != "203.0.113.7" {
		t.Errorf("audit %+v", log)
	}
}

func TestAuditLogFiltersAndPagesNewestFirst(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	users, admin := postgres.NewUserStore(db), postgres.NewAdminStore(db)
	root, bob := newUser(t, users, "root"), newUser(t, users, "bob")
	for i, e := range []domain.AuditEntry{
		auditEntry(root.ID, t0, domain.AuditUserDisable, "u-1"),
		auditEntry(bob.ID, t0, domain.AuditUserDisable, "u-2"),
		auditEntry(root.ID, t0, domain.AuditUserEnable, "u-1"),
		auditEntry("", t0, domain.AuditUserAdminGrant, "u-3"),
	} {
		e.Details = map[string]any{"n": i}
		if err := admin.RecordAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	ns := func(q domain.AuditQuery) []float64 {
		t.Helper()
		log, err := admin.ListAudit(ctx, q, 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []float64
		for _, e := range log {
			out = append(out, e.Details["n"].(float64))
		}
		return out
	}
	for name, tc := range map[string]struct {
		q    domain.AuditQuery
		want []float64
	}{
		"all":              {domain.AuditQuery{}, []float64{3, 2, 1, 0}},
		"actor":            {domain.AuditQuery{Actor: root.ID}, []float64{2, 0}},
		"action":           {domain.AuditQuery{Action: domain.AuditUserDisable}, []float64{1, 0}},
		"target":           {domain.AuditQuery{TargetKind: domain.AuditTargetUser, TargetID: "u-1"}, []float64{2, 0}},
		"actor and action": {domain.AuditQuery{Actor: root.ID, Action: domain.AuditUserEnable}, []float64{2}},
		"other kind":       {domain.AuditQuery{TargetKind: domain.AuditTargetJob}, nil},
	} {
		if got := ns(tc.q); !equalFloats(got, tc.want) {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}
	first, _ := admin.ListAudit(ctx, domain.AuditQuery{}, 2)
	after := domain.AdminCursor{At: first[1].At, ID: first[1].ID}
	if got := ns(domain.AuditQuery{Page: domain.AdminPage{After: &after}}); !equalFloats(got, []float64{1, 0}) {
		t.Errorf("after the first page: %v", got)
	}
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTheLastAdminKeepsTheRole(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	users, admin := postgres.NewUserStore(db), postgres.NewAdminStore(db)
	a, b := newUser(t, users, "a"), newUser(t, users, "b")
	for _, u := range []domain.User{a, b} {
		if _, err := admin.SetRole(ctx, u.ID, domain.RoleAdmin, auditEntry("", t0, domain.AuditUserAdminGrant, string(u.ID))); err != nil {
			t.Fatal(err)
		}
	}
	// Each revokes the other, at once (a's token predates the revocation
	// of its role): one of them stays an admin.
	errs := make(chan error, 2)
	for _, pair := range [][2]domain.User{{a, b}, {b, a}} {
		go func() {
			_, err := admin.SetRole(ctx, pair[1].ID, domain.RoleUser, auditEntry(pair[0].ID, t0, domain.AuditUserAdminRevoke, string(pair[1].ID)))
			errs <- err
		}()
	}
	var refused int
	for range 2 {
		switch err := <-errs; {
		case err == nil:
		case domain.ErrorCode(err) == domain.CodeLastAdmin:
			refused++
		default:
			t.Fatal(err)
		}
	}
	if refused != 1 {
		t.Errorf("%d revocations refused, want one", refused)
	}
	var admins int
	for _, u := range []domain.User{a, b} {
		if got, _ := users.GetUser(ctx, u.ID); got.Role == domain.RoleAdmin {
			admins++
		}
	}
	if admins != 1 {
		t.Errorf("%d admins left, want one", admins)
	}
}
