package postgres_test

import (
	"context"
	"crypto/rand"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

var (
	t0     = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	policy = domain.SessionPolicy{IdleTTL: 30 * 24 * time.Hour, AbsoluteTTL: 90 * 24 * time.Hour}
)

func newToken(t testing.TB) domain.RefreshToken {
	t.Helper()
	tok, err := domain.NewRefreshToken(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// newUser creates a user through the WeChat upsert.
func newUser(t *testing.T, users *postgres.UserStore, name string) domain.User {
	t.Helper()
	u, _ := upsert(t, users, identity("wxapp", "open-"+name, "", "key"))
	return u
}

// startSession stores a session of user begun at t0 and returns it with
// its refresh token.
func startSession(t *testing.T, s *postgres.SessionStore, user domain.UserID) (domain.Session, domain.RefreshToken) {
	t.Helper()
	tok := newToken(t)
	sess, err := s.CreateSession(context.Background(), policy.Start(user, "wxapp", "WeChat/8.0", t0), tok.Hash())
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	return sess, tok
}

// refreshAt is the use-case's rotation closure at the given time.
func refreshAt(at time.Time) func(domain.Session) (domain.Session, error) {
	return func(s domain.Session) (domain.Session, error) { return policy.Refresh(s, "WeChat/8.1", at) }
}

func TestCreateSessionStoresTheSessionAndOnlyTheTokenHash(t *testing.T) {
	db := pgtest.NewDB(t)
	users, sessions := postgres.NewUserStore(db), postgres.NewSessionStore(db)
	alice := newUser(t, users, "alice")
	sess, tok := startSession(t, sessions, alice.ID)
	if sess.ID == "" || sess.UserID != alice.ID || sess.AppID != "wxapp" || sess.UserAgent != "WeChat/8.0" ||
		!sess.CreatedAt.Equal(t0) || !sess.IdleExpiresAt.Equal(t0.Add(policy.IdleTTL)) || sess.Revoked() {
		t.Fatalf("stored session %+v", sess)
	}
	var stored []byte
	if err := db.Pool().QueryRow(context.Background(), "SELECT hash FROM refresh_tokens WHERE session_id = $1", sess.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	h := tok.Hash()
	if string(stored) != string(h[:]) {
		t.Error("the stored hash is not the token's SHA-256")
	}
	var dump string
	if err := db.Pool().QueryRow(context.Background(), "SELECT string_agg(t::text, '') FROM refresh_tokens t").Scan(&dump); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(dump, tok.Reveal()[len(domain.RefreshTokenPrefix):]) {
		t.Error("the refresh token itself is in the database")
	}
}

func TestRotateRefreshTokenSwapsTheTokenAndDetectsReuse(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	users, sessions := postgres.NewUserStore(db), postgres.NewSessionStore(db)
	alice := newUser(t, users, "alice")
	sess, first := startSession(t, sessions, alice.ID)

	second := newToken(t)
	at := t0.Add(time.Hour)
	rot, err := sessions.RotateRefreshToken(ctx, first.Hash(), second.Hash(), at, refreshAt(at))
	if err != nil {
		t.Fatal(err)
	}
	if rot.Reused || rot.Session.ID != sess.ID || !rot.Session.LastUsedAt.Equal(at) || rot.Session.UserAgent != "WeChat/8.1" ||
		!rot.Session.IdleExpiresAt.Equal(at.Add(policy.IdleTTL)) || rot.User.ID != alice.ID || rot.User.Role != domain.RoleUser {
		t.Fatalf("rotation %+v", rot)
	}

	// The first token again: reuse, and nothing changes.
	rot, err = sessions.RotateRefreshToken(ctx, first.Hash(), newToken(t).Hash(), at, refreshAt(at))
	if err != nil || !rot.Reused || rot.Session.ID != sess.ID || rot.Session.UserID != alice.ID {
		t.Fatalf("reused token: rotation %+v, err %v; want Reused with its session", rot, err)
	}
	// The second token still works (the caller decides what reuse means).
	if _, err := sessions.RotateRefreshToken(ctx, second.Hash(), newToken(t).Hash(), at, refreshAt(at)); err != nil {
		t.Fatalf("the current token after a reuse report: %v", err)
	}
	// A token never issued.
	_, err = sessions.RotateRefreshToken(ctx, newToken(t).Hash(), newToken(t).Hash(), at, refreshAt(at))
	wantCode(t, err, domain.CodeRefreshTokenInvalid)

	var generations int
	if err := db.Pool().QueryRow(ctx, "SELECT max(generation) FROM refresh_tokens WHERE session_id = $1", sess.ID).Scan(&generations); err != nil {
		t.Fatal(err)
	}
	if generations != 3 {
		t.Errorf("generation %d, want 3 after two rotations", generations)
	}
}

func TestRotateRefreshTokenRollsBackWhenTheSessionRuleRefuses(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	users, sessions := postgres.NewUserStore(db), postgres.NewSessionStore(db)
	sess, tok := startSession(t, sessions, newUser(t, users, "alice").ID)

	late := t0.Add(policy.IdleTTL)
	_, err := sessions.RotateRefreshToken(ctx, tok.Hash(), newToken(t).Hash(), late, refreshAt(late))
	wantCode(t, err, domain.CodeRefreshTokenExpired)
	var unused bool
	if err := db.Pool().QueryRow(ctx, "SELECT bool_and(used_at IS NULL) FROM refresh_tokens WHERE session_id = $1", sess.ID).Scan(&unused); err != nil {
		t.Fatal(err)
	}
	var tokens int
	if err := db.Pool().QueryRow(ctx, "SELECT count(*) FROM refresh_tokens WHERE session_id = $1", sess.ID).Scan(&tokens); err != nil {
		t.Fatal(err)
	}
	if !unused || tokens != 1 {
		t.Errorf("after a refused refresh: all unused %t, %d tokens; want the one token untouched", unused, tokens)
	}
}

func TestConcurrentRotationsOfOneTokenHaveExactlyOneWinner(t *testing.T) {
	const racers = 20
	ctx := context.Background()
	u, err := url.Parse(pgtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("pool_max_conns", "25")
	u.RawQuery = q.Encode()
	db := open(t, u.String())
	users, sessions := postgres.NewUserStore(db), postgres.NewSessionStore(db)
	sess, tok := startSession(t, sessions, newUser(t, users, "alice").ID)

	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		rots  [racers]ports.Rotation
		errs  [racers]error
	)
	at := t0.Add(time.Minute)
	for i := range racers {
		wg.Go(func() {
			<-start
			rots[i], errs[i] = sessions.RotateRefreshToken(ctx, tok.Hash(), newToken(t).Hash(), at, refreshAt(at))
		})
	}
	close(start)
	wg.Wait()

	winners := 0
	for i := range racers {
		if errs[i] != nil {
			t.Fatalf("racer %d: %v", i, errs[i])
		}
		if !rots[i].Reused {
			winners++
		}
	}
	if winners != 1 {
		t.Fatalf("%d racers rotated the token, want exactly 1", winners)
	}
	var live int
	if err := db.Pool().QueryRow(ctx, "SELECT count(*) FROM refresh_tokens WHERE session_id = $1 AND used_at IS NULL", sess.ID).Scan(&live); err != nil {
		t.Fatal(err)
	}
	if live != 1 {
		t.Errorf("%d unused refresh tokens, want exactly 1", live)
	}
}

func TestRevokeSessionEndsItOnceAndOnlyForItsUser(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	users, sessions := postgres.NewUserStore(db), postgres.NewSessionStore(db)
	alice, bob := newUser(t, users, "alice"), newUser(t, users, "bob")
	sess, tok := startSession(t, sessions, alice.ID)
	at := t0.Add(time.Hour)

	_, _, err := sessions.RevokeSession(ctx, bob.ID, sess.ID, domain.RevokeEndedByUser, at)
	wantCode(t, err, domain.CodeNotFound)
	_, _, err = sessions.RevokeSession(ctx, alice.ID, "not-a-uuid", domain.RevokeEndedByUser, at)
	wantCode(t, err, domain.CodeNotFound)

	rev, revoked, err := sessions.RevokeSession(ctx, alice.ID, sess.ID, domain.RevokeLogout, at)
	if err != nil || !revoked || rev.SessionID != sess.ID || rev.UserID != alice.ID || !rev.RevokedAt.Equal(at) {
		t.Fatalf("RevokeSession = %+v, %t, %v", rev, revoked, err)
	}
	if _, revoked, err := sessions.RevokeSession(ctx, alice.ID, sess.ID, domain.RevokeLogout, at); err != nil || revoked {
		t.Fatalf("second revocation: revoked %t, err %v; want nothing to do", revoked, err)
	}
	// Its refresh token now meets a revoked session.
	_, err = sessions.RotateRefreshToken(ctx, tok.Hash(), newToken(t).Hash(), at, refreshAt(at))
	wantCode(t, err, domain.CodeSessionRevoked)
	var reason string
	if err := db.Pool().QueryRow(ctx, "SELECT revoke_reason FROM sessions WHERE id = $1", sess.ID).Scan(&reason); err != nil || reason != "logout" {
		t.Errorf("revoke reason %q (%v), want logout", reason, err)
	}
}

func TestListAndRevokeOtherSessionsSeeOnlyLiveSessions(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	users, sessions := postgres.NewUserStore(db), postgres.NewSessionStore(db)
	alice, bob := newUser(t, users, "alice"), newUser(t, users, "bob")
	current, _ := startSession(t, sessions, alice.ID)
	other, _ := startSession(t, sessions, alice.ID)
	ended, _ := startSession(t, sessions, alice.ID)
	bobs, _ := startSession(t, sessions, bob.ID)
	if _, _, err := sessions.RevokeSession(ctx, alice.ID, ended.ID, domain.RevokeLogout, t0); err != nil {
		t.Fatal(err)
	}

	list, err := sessions.ListActiveSessions(ctx, alice.ID, t0.Add(time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("listed %d sessions, want alice's 2 live ones: %+v", len(list), list)
	}
	if list, _ := sessions.ListActiveSessions(ctx, alice.ID, t0.Add(policy.IdleTTL), 100); len(list) != 0 {
		t.Errorf("listed %d sessions past their idle expiry", len(list))
	}

	revs, err := sessions.RevokeOtherSessions(ctx, alice.ID, current.ID, domain.RevokeEndedByUser, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(revs) != 1 || revs[0].SessionID != other.ID {
		t.Fatalf("revoked %+v, want only %s", revs, other.ID)
	}
	list, _ = sessions.ListActiveSessions(ctx, alice.ID, t0.Add(time.Hour), 100)
	if len(list) != 1 || list[0].ID != current.ID {
		t.Errorf("after ending the others: %+v, want only the current session", list)
	}
	if list, _ := sessions.ListActiveSessions(ctx, bob.ID, t0.Add(time.Hour), 100); len(list) != 1 || list[0].ID != bobs.ID {
		t.Errorf("bob's sessions %+v were touched", list)
	}
}

func TestRevocationFeedNeverSkipsARevocationThatCommitsLate(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	users, sessions := postgres.NewUserStore(db), postgres.NewSessionStore(db)
	alice := newUser(t, users, "alice")
	early, _ := startSession(t, sessions, alice.ID)
	late, _ := startSession(t, sessions, alice.ID)
	at := time.Now()
	notBefore := at.Add(-time.Hour)

	// A revocation whose transaction starts first but commits last.
	slow, err := db.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Rollback(ctx)
	if _, err := slow.Exec(ctx, "INSERT INTO revocations (session_id, user_id, revoked_at) VALUES ($1, $2, $3)", late.ID, alice.ID, at); err != nil {
		t.Fatal(err)
	}
	if _, _, err := sessions.RevokeSession(ctx, alice.ID, early.ID, domain.RevokeLogout, at); err != nil {
		t.Fatal(err)
	}

	got, cursor, err := sessions.RevocationsSince(ctx, ports.RevocationCursor{}, notBefore)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].SessionID != early.ID {
		t.Fatalf("first read %+v, want only the committed revocation", got)
	}
	if err := slow.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got, _, err = sessions.RevocationsSince(ctx, cursor, notBefore)
	if err != nil {
		t.Fatal(err)
	}
	var sawLate bool
	for _, r := range got {
		sawLate = sawLate || r.SessionID == late.ID
	}
	if !sawLate {
		t.Fatalf("second read %+v missed the revocation that committed late", got)
	}
	// (Rows may come back in later reads while any transaction of the
	// cluster older than them is open; the set absorbs repeats.)
}

func TestRevocationFeedLeavesOutRevocationsOlderThanAsked(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	users, sessions := postgres.NewUserStore(db), postgres.NewSessionStore(db)
	alice := newUser(t, users, "alice")
	old, _ := startSession(t, sessions, alice.ID)
	recent, _ := startSession(t, sessions, alice.ID)
	if _, _, err := sessions.RevokeSession(ctx, alice.ID, old.ID, domain.RevokeLogout, t0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := sessions.RevokeSession(ctx, alice.ID, recent.ID, domain.RevokeLogout, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, _, err := sessions.RevocationsSince(ctx, ports.RevocationCursor{}, t0.Add(time.Minute))
	if err != nil || len(got) != 1 || got[0].SessionID != recent.ID {
		t.Fatalf("read %+v, %v; want only the recent revocation", got, err)
	}
}

func TestListenRevocationsWakesOnEveryCommittedRevocation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := pgtest.NewDB(t)
	users, sessions := postgres.NewUserStore(db), postgres.NewSessionStore(db)
	alice := newUser(t, users, "alice")
	sess, _ := startSession(t, sessions, alice.ID)

	wakes := make(chan struct{}, 10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.ListenRevocations(ctx, func() { wakes <- struct{}{} }, func(err error) { t.Errorf("listener: %v", err) })
	}()
	<-wakes // the wake that follows LISTEN
	if _, _, err := sessions.RevokeSession(context.Background(), alice.ID, sess.ID, domain.RevokeLogout, t0); err != nil {
		t.Fatal(err)
	}
	<-wakes // the NOTIFY of the revocation's commit
	cancel()
	<-done
}

func TestDeleteUserTakesItsDataAndRecordsAUserWideRevocation(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	users, sessions := postgres.NewUserStore(db), postgres.NewSessionStore(db)
	alice, bob := newUser(t, users, "alice"), newUser(t, users, "bob")
	startSession(t, sessions, alice.ID)
	startSession(t, sessions, bob.ID)
	at := time.Now().UTC().Truncate(time.Microsecond)

	rev, err := users.DeleteUser(ctx, alice.ID, at)
	if err != nil {
		t.Fatal(err)
	}
	if rev.UserID != alice.ID || rev.SessionID != "" || !rev.RevokedAt.Equal(at) {
		t.Fatalf("revocation %+v", rev)
	}
	_, err = users.GetUser(ctx, alice.ID)
	wantCode(t, err, domain.CodeNotFound)
	var left int
	err = db.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM wechat_identities WHERE user_id = $1)
		+ (SELECT count(*) FROM sessions WHERE user_id = $1)
		+ (SELECT count(*) FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE s.user_id = $1)`, alice.ID).Scan(&left)
	if err != nil || left != 0 {
		t.Fatalf("%d rows of the deleted user remain (%v)", left, err)
	}
	if list, _ := sessions.ListActiveSessions(ctx, bob.ID, t0, 100); len(list) != 1 {
		t.Error("another user's session went too")
	}
	got, _, err := sessions.RevocationsSince(ctx, ports.RevocationCursor{}, at.Add(-time.Hour))
	if err != nil || len(got) != 1 || got[0].UserID != alice.ID || got[0].SessionID != "" {
		t.Fatalf("feed %+v, %v; want the user-wide revocation", got, err)
	}
	_, err = users.DeleteUser(ctx, alice.ID, at)
	wantCode(t, err, domain.CodeNotFound)
}

func TestListUsersSearchesAndPagesNewestFirst(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	users := postgres.NewUserStore(db)
	names := []string{"Alice", "alina", "Bob", "100%_real", "Malice"}
	byName := map[string]domain.User{}
	for _, n := range names {
		u := newUser(t, users, n)
		u, err := users.UpdateUser(ctx, u.ID, func(u domain.User) (domain.User, error) { u.Nickname = n; return u, nil })
		if err != nil {
			t.Fatal(err)
		}
		byName[n] = u
	}
	if _, err := users.SetUserRole(ctx, byName["Bob"].ID, domain.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	list := func(q domain.UserQuery, max int) []string {
		t.Helper()
		got, err := users.ListUsers(ctx, q, max)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, u := range got {
			out = append(out, u.Nickname)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		q    domain.UserQuery
		want string
	}{
		{"everyone, newest first", domain.UserQuery{}, "Malice,100%_real,Bob,alina,Alice"},
		{"part of a nickname, any case", domain.UserQuery{Search: "ali"}, "Malice,alina,Alice"},
		{"LIKE wildcards match themselves", domain.UserQuery{Search: "%_"}, "100%_real"},
		{"an underscore alone matches only underscores", domain.UserQuery{Search: "_"}, "100%_real"},
		{"a whole user id", domain.UserQuery{Search: string(byName["alina"].ID)}, "alina"},
		{"by role", domain.UserQuery{Role: domain.RoleAdmin}, "Bob"},
	} {
		if got := strings.Join(list(tc.q, 10), ","); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}

	// Pages of two, each after the last of the previous.
	var pages []string
	var after *domain.UserCursor
	for {
		got, err := users.ListUsers(ctx, domain.UserQuery{After: after}, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			break
		}
		var ns []string
		for _, u := range got {
			ns = append(ns, u.Nickname)
		}
		pages = append(pages, strings.Join(ns, ","))
		last := got[len(got)-1]
		after = &domain.UserCursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	if got := strings.Join(pages, " | "); got != "Malice,100%_real | Bob,alina | Alice" {
		t.Errorf("pages %s", got)
	}
	_, err := users.ListUsers(ctx, domain.UserQuery{After: &domain.UserCursor{CreatedAt: t0, ID: "nope"}}, 2)
	wantCode(t, err, domain.CodeInvalid)
}

func TestSetUserRole(t *testing.T) {
	ctx := context.Background()
	users := postgres.NewUserStore(pgtest.NewDB(t))
	alice := newUser(t, users, "alice")
	if alice.Role != domain.RoleUser {
		t.Fatalf("a new user has role %q, want user", alice.Role)
	}
	got, err := users.SetUserRole(ctx, alice.ID, domain.RoleAdmin)
	if err != nil || got.Role != domain.RoleAdmin {
		t.Fatalf("SetUserRole = %+v, %v", got, err)
	}
	if again, _ := users.GetUser(ctx, alice.ID); again.Role != domain.RoleAdmin {
		t.Errorf("stored role %q", again.Role)
	}
	_, err = users.SetUserRole(ctx, "3f8e5a1c-2b7d-4e9f-8a6b-1c2d3e4f5a6b", domain.RoleAdmin)
	wantCode(t, err, domain.CodeNotFound)
}

func TestTheDatabaseRefusesAnUnknownRole(t *testing.T) {
	db := pgtest.NewDB(t)
	alice := newUser(t, postgres.NewUserStore(db), "alice")
	_, err := db.Pool().Exec(context.Background(), "UPDATE users SET role = 'root' WHERE id = $1", alice.ID)
	if err == nil || !strings.Contains(err.Error(), "users_role_check") {
		t.Fatalf("err = %v, want the role check to refuse", err)
	}
}

func TestPurgeDeletesLongEndedSessionsAndOldRevocations(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	users, sessions := postgres.NewUserStore(db), postgres.NewSessionStore(db)
	alice := newUser(t, users, "alice")
	live, _ := startSession(t, sessions, alice.ID)
	ended, _ := startSession(t, sessions, alice.ID)
	if _, _, err := sessions.RevokeSession(ctx, alice.ID, ended.ID, domain.RevokeLogout, t0); err != nil {
		t.Fatal(err)
	}
	s, r, err := sessions.Purge(ctx, t0.Add(postgres.EndedSessionRetention+time.Hour))
	if err != nil || s != 1 || r != 1 {
		t.Fatalf("Purge = %d sessions, %d revocations, %v; want 1 and 1", s, r, err)
	}
	var id string
	if err := db.Pool().QueryRow(ctx, "SELECT id FROM sessions").Scan(&id); err != nil || id != string(live.ID) {
		t.Errorf("left session %s (%v), want the live one", id, err)
	}
	var n int
	if err := db.Pool().QueryRow(ctx, "SELECT count(*) FROM sessions").Scan(&n); err != nil || n != 1 {
		t.Errorf("%d sessions left", n)
	}
}
