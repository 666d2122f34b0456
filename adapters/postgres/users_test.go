package postgres_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/domain"
)

func identity(app, open, union, key string) domain.WeChatIdentity {
	return domain.WeChatIdentity{
		AppID: domain.AppID(app), OpenID: domain.OpenID(open),
		UnionID: domain.UnionID(union), SessionKey: domain.SessionKey(key),
	}
}

func upsert(t *testing.T, s *postgres.UserStore, id domain.WeChatIdentity) (domain.User, bool) {
	t.Helper()
	u, created, err := s.UpsertWeChatUser(context.Background(), id)
	if err != nil {
		t.Fatalf("UpsertWeChatUser: %v", err)
	}
	return u, created
}

// identityRow reads what the store keeps for (app, open).
func identityRow(t *testing.T, db *postgres.DB, app, open string) (userID, sessionKey string, unionID *string) {
	t.Helper()
	err := db.Pool().QueryRow(context.Background(),
		"SELECT user_id::text, session_key, union_id FROM wechat_identities WHERE app_id = $1 AND open_id = $2",
		app, open).Scan(&userID, &sessionKey, &unionID)
	if err != nil {
		t.Fatalf("read wechat identity: %v", err)
	}
	return userID, sessionKey, unionID
}

func wantCode(t *testing.T, err error, want domain.Code) {
	t.Helper()
	if got := domain.ErrorCode(err); got != want {
		t.Fatalf("error %v has code %s, want %s", err, got, want)
	}
}

func TestUpsertWeChatUserCreatesAUserThenFindsTheSameOne(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewUserStore(db)

	first, created := upsert(t, s, identity("wxapp", "open-1", "", "key-1"))
	if !created {
		t.Fatal("first login: created = false")
	}
	if first.ID == "" || first.CreatedAt.IsZero() || first.Nickname != "" {
		t.Fatalf("first login returned %+v", first)
	}
	again, created := upsert(t, s, identity("wxapp", "open-1", "", "key-2"))
	if created {
		t.Fatal("second login: created = true")
	}
	if again.ID != first.ID {
		t.Fatalf("second login is user %s, first was %s", again.ID, first.ID)
	}
	got, err := s.GetUser(context.Background(), first.ID)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if got != first {
		t.Fatalf("GetUser = %+v, want %+v", got, first)
	}
}

func TestUpsertWeChatUserReplacesTheSessionKeyOnEachLogin(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewUserStore(db)

	upsert(t, s, identity("wxapp", "open-1", "", "old-key"))
	if _, key, _ := identityRow(t, db, "wxapp", "open-1"); key != "old-key" {
		t.Fatalf("stored session key %q, want old-key", key)
	}
	upsert(t, s, identity("wxapp", "open-1", "", "new-key"))
	if _, key, _ := identityRow(t, db, "wxapp", "open-1"); key != "new-key" {
		t.Fatalf("stored session key %q after re-login, want new-key", key)
	}
}

func TestUpsertWeChatUserKeepsTheUnionIDWhenALoginHasNoneAndTakesANewOne(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewUserStore(db)

	// One user's logins, in order.
	logins := []struct {
		name      string
		sent      string
		wantStore string // "" means NULL
	}{
		{"first login without unionid stores NULL", "", ""},
		{"a later unionid is stored", "union-1", "union-1"},
		{"a login without unionid keeps it", "", "union-1"},
		{"a new unionid replaces it", "union-2", "union-2"},
	}
	for _, l := range logins {
		upsert(t, s, identity("wxapp", "open-1", l.sent, "key"))
		_, _, stored := identityRow(t, db, "wxapp", "open-1")
		got := ""
		if stored != nil {
			got = *stored
			if got == "" {
				t.Fatalf("%s: stored an empty unionid instead of NULL", l.name)
			}
		}
		if got != l.wantStore {
			t.Fatalf("%s: stored unionid %q, want %q", l.name, got, l.wantStore)
		}
	}
}

func TestUpsertWeChatUserMakesTwoUsersForOneOpenIDUnderTwoAppIDs(t *testing.T) {
	s := postgres.NewUserStore(pgtest.NewDB(t))

	a, createdA := upsert(t, s, identity("wxapp-a", "same-open", "", "key-a"))
	b, createdB := upsert(t, s, identity("wxapp-b", "same-open", "", "key-b"))
	if !createdA || !createdB {
		t.Fatalf("created = %v, %v; want both", createdA, createdB)
	}
	if a.ID == b.ID {
		t.Fatalf("both apps got user %s", a.ID)
	}
}

func TestUpsertWeChatUserConcurrentFirstLoginsCreateExactlyOneUser(t *testing.T) {
	const logins = 20
	ctx := context.Background()
	// A pool as large as the crowd, so every login runs its transaction at
	// the same time.
	u, err := url.Parse(pgtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("pool_max_conns", "25")
	u.RawQuery = q.Encode()
	db := open(t, u.String())
	s := postgres.NewUserStore(db)

	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		ids     [logins]domain.UserID
		created [logins]bool
		errs    [logins]error
	)
	for i := range logins {
		wg.Go(func() {
			<-start
			var user domain.User
			user, created[i], errs[i] = s.UpsertWeChatUser(ctx, identity("wxapp", "open-race", "", "key"))
			ids[i] = user.ID
		})
	}
	close(start)
	wg.Wait()

	creators := 0
	for i := range logins {
		if errs[i] != nil {
			t.Fatalf("login %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("login %d got user %s, login 0 got %s", i, ids[i], ids[0])
		}
		if created[i] {
			creators++
		}
	}
	if creators != 1 {
		t.Fatalf("%d logins report created = true, want exactly 1", creators)
	}
	var users, identities int
	err = db.Pool().QueryRow(ctx, "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM wechat_identities)").Scan(&users, &identities)
	if err != nil {
		t.Fatal(err)
	}
	if users != 1 || identities != 1 {
		t.Fatalf("%d users and %d identities, want 1 and 1 (losers must roll back their user)", users, identities)
	}
}

func TestUpsertWeChatUserErrorHidesTheSessionKey(t *testing.T) {
	s := postgres.NewUserStore(pgtest.NewDB(t))
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()

	_, _, err := s.UpsertWeChatUser(ctx, identity("wxapp", "open-1", "", "secret-session-key"))
	wantCode(t, err, domain.CodeUnavailable)
	if strings.Contains(err.Error(), "secret-session-key") {
		t.Fatalf("error reveals the session key: %v", err)
	}
}

func TestGetUserReturnsNotFoundForAMissingOrMalformedID(t *testing.T) {
	s := postgres.NewUserStore(pgtest.NewDB(t))
	tests := []struct {
		name string
		id   domain.UserID
	}{
		{"no such user", "6f1c1b7e-0d2a-4a53-9d8e-2b8f1b1d9c11"},
		{"not a uuid", "not-a-uuid"},
		{"empty", ""},
		{"sql-ish garbage", "1' OR '1'='1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.GetUser(context.Background(), tt.id)
			wantCode(t, err, domain.CodeNotFound)
		})
	}
}

func TestGetUserReturnsUnavailableWhenTheDeadlinePassesFirst(t *testing.T) {
	s := postgres.NewUserStore(pgtest.NewDB(t))
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()

	_, err := s.GetUser(ctx, "6f1c1b7e-0d2a-4a53-9d8e-2b8f1b1d9c11")
	wantCode(t, err, domain.CodeUnavailable)
}

func TestUpdateUserAppliesFnToTheCurrentUserAndSavesTheResult(t *testing.T) {
	ctx := context.Background()
	s := postgres.NewUserStore(pgtest.NewDB(t))
	u, _ := upsert(t, s, identity("wxapp", "open-1", "", "key"))

	var seen domain.User
	updated, err := s.UpdateUser(ctx, u.ID, func(cur domain.User) (domain.User, error) {
		seen = cur
		cur.Nickname, cur.AvatarURL, cur.Bio = "Ada", "https://example.com/a.png", "hello"
		return cur, nil
	})
	if err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	if seen != u {
		t.Fatalf("fn saw %+v, want the stored %+v", seen, u)
	}
	if updated.ID != u.ID || updated.Nickname != "Ada" || updated.AvatarURL != "https://example.com/a.png" || updated.Bio != "hello" {
		t.Fatalf("UpdateUser returned %+v", updated)
	}
	if updated.UpdatedAt.Before(u.UpdatedAt) || !updated.CreatedAt.Equal(u.CreatedAt) {
		t.Fatalf("times: created %v -> %v, updated %v -> %v", u.CreatedAt, updated.CreatedAt, u.UpdatedAt, updated.UpdatedAt)
	}
	got, err := s.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got != updated {
		t.Fatalf("GetUser after update = %+v, want %+v", got, updated)
	}
}

func TestUpdateUserReturnsFnErrorUnchangedAndSavesNothing(t *testing.T) {
	ctx := context.Background()
	s := postgres.NewUserStore(pgtest.NewDB(t))
	u, _ := upsert(t, s, identity("wxapp", "open-1", "", "key"))

	tests := []struct {
		name  string
		fnErr error
	}{
		{"plain error", errors.New("rule broken")},
		{"domain error", domain.Invalid(domain.FieldError{Field: "nickname", Code: "too_long", Message: "too long"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.UpdateUser(ctx, u.ID, func(cur domain.User) (domain.User, error) {
				cur.Nickname = "must not be saved"
				return cur, tt.fnErr
			})
			if err != tt.fnErr {
				t.Fatalf("UpdateUser error = %v, want fn's error itself", err)
			}
			got, err := s.GetUser(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got != u {
				t.Fatalf("user changed to %+v", got)
			}
		})
	}
}

func TestUpdateUserReturnsNotFoundForAMissingOrMalformedIDWithoutCallingFn(t *testing.T) {
	s := postgres.NewUserStore(pgtest.NewDB(t))
	for _, id := range []domain.UserID{"6f1c1b7e-0d2a-4a53-9d8e-2b8f1b1d9c11", "garbage"} {
		called := false
		_, err := s.UpdateUser(context.Background(), id, func(u domain.User) (domain.User, error) {
			called = true
			return u, nil
		})
		wantCode(t, err, domain.CodeNotFound)
		if called {
			t.Fatalf("%s: fn was called", id)
		}
	}
}
