package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/domain"
)

// A hash shaped like the hasher's; the store does not check it beyond the
// $argon2id$ prefix.
const (
	hashA = domain.PasswordHash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaC1h")
	hashB = domain.PasswordHash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaC1i")
)

func credential(username, email string, h domain.PasswordHash) domain.PasswordCredential {
	return domain.PasswordCredential{Username: domain.Username(username), Email: domain.Email(email), Hash: h}
}

func createPasswordUser(t *testing.T, s *postgres.CredentialStore, c domain.PasswordCredential) domain.User {
	t.Helper()
	u, err := s.CreatePasswordUser(context.Background(), c)
	if err != nil {
		t.Fatalf("CreatePasswordUser: %v", err)
	}
	return u
}

func TestCreatePasswordUserIsFoundByUsernameAndByEmail(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewCredentialStore(db)
	ctx := context.Background()
	u := createPasswordUser(t, s, credential("alice", "alice@example.com", hashA))
	if u.ID == "" || u.CreatedAt.IsZero() {
		t.Fatalf("created user %+v", u)
	}
	want := domain.PasswordCredential{UserID: u.ID, Username: "alice", Email: "alice@example.com", Hash: hashA}
	for _, n := range []domain.LoginName{{Value: "alice"}, {Value: "alice@example.com", IsEmail: true}} {
		got, err := s.FindCredential(ctx, n)
		if err != nil || got != want {
			t.Errorf("FindCredential(%+v) = %+v, %v; want %+v", n, got, err, want)
		}
	}
	if got, err := s.GetCredential(ctx, u.ID); err != nil || got != want {
		t.Errorf("GetCredential = %+v, %v", got, err)
	}
	if _, err := postgres.NewUserStore(db).GetUser(ctx, u.ID); err != nil {
		t.Errorf("the credential's user does not exist: %v", err)
	}
}

func TestFindCredentialOfAnUnknownNameIsNotFound(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewCredentialStore(db)
	createPasswordUser(t, s, credential("alice", "alice@example.com", hashA))
	for _, n := range []domain.LoginName{{Value: "bob"}, {Value: "bob@example.com", IsEmail: true}, {Value: "alice@example.com"}} {
		_, err := s.FindCredential(context.Background(), n)
		wantCode(t, err, domain.CodeNotFound)
	}
}

func TestUsernamesAndEmailsAreUniqueCaseInsensitively(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewCredentialStore(db)
	createPasswordUser(t, s, credential("alice", "alice@example.com", hashA))

	_, err := s.CreatePasswordUser(context.Background(), credential("alice", "other@example.com", hashB))
	wantCode(t, err, domain.CodeUsernameTaken)
	_, err = s.CreatePasswordUser(context.Background(), credential("bob", "alice@example.com", hashB))
	wantCode(t, err, domain.CodeEmailTaken)

	// A writer that forgot to normalise still cannot make a twin: the
	// columns must be lower case, and the unique indexes are on lower().
	_, err = db.Pool().Exec(context.Background(),
		`INSERT INTO users (id) VALUES ('00000000-0000-0000-0000-000000000001');
		 INSERT INTO password_credentials (user_id, username, email, hash)
		 VALUES ('00000000-0000-0000-0000-000000000001', 'ALICE', 'x@example.com', '$argon2id$x')`)
	if err == nil {
		t.Fatal("an upper-case twin of a username was stored")
	}

	var users int
	if err := db.Pool().QueryRow(context.Background(), "SELECT count(*) FROM users").Scan(&users); err != nil {
		t.Fatal(err)
	}
	if users != 1 {
		t.Errorf("%d users exist; a refused registration must leave no user behind", users)
	}
}

func TestConcurrentRegistrationsOfOneUsernameMakeOneAccount(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewCredentialStore(db)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.CreatePasswordUser(context.Background(),
				credential("alice", "alice"+string(rune('a'+i))+"@example.com", hashA))
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case domain.ErrorCode(err) != domain.CodeUsernameTaken:
			t.Errorf("unexpected error %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d registrations succeeded, want 1", ok)
	}
}

func TestAddCredentialGivesAWeChatUserAPasswordOnce(t *testing.T) {
	db := pgtest.NewDB(t)
	users := postgres.NewUserStore(db)
	s := postgres.NewCredentialStore(db)
	ctx := context.Background()
	u, _ := upsert(t, users, identity("wxapp", "open-1", "", "key"))

	_, err := s.GetCredential(ctx, u.ID)
	wantCode(t, err, domain.CodeNotFound)

	c := credential("wxuser", "wx@example.com", hashA)
	c.UserID = u.ID
	if err := s.AddCredential(ctx, c); err != nil {
		t.Fatalf("AddCredential: %v", err)
	}
	if got, err := s.FindCredential(ctx, domain.LoginName{Value: "wxuser"}); err != nil || got.UserID != u.ID {
		t.Errorf("FindCredential = %+v, %v", got, err)
	}
	c.Username, c.Email = "another", "another@example.com"
	wantCode(t, s.AddCredential(ctx, c), domain.CodeConflict)
}

func TestAddCredentialForAMissingUserIsNotFound(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewCredentialStore(db)
	c := credential("ghost", "ghost@example.com", hashA)
	c.UserID = "6a1f1c5e-0000-4000-8000-000000000000"
	wantCode(t, s.AddCredential(context.Background(), c), domain.CodeNotFound)
}

func TestReplaceHashIsACompareAndSet(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewCredentialStore(db)
	ctx := context.Background()
	u := createPasswordUser(t, s, credential("alice", "alice@example.com", hashA))

	if err := s.ReplaceHash(ctx, u.ID, hashA, hashB); err != nil {
		t.Fatalf("ReplaceHash: %v", err)
	}
	// A second writer that read hashA too has lost.
	wantCode(t, s.ReplaceHash(ctx, u.ID, hashA, hashA), domain.CodeConflict)
	if got, _ := s.GetCredential(ctx, u.ID); got.Hash != hashB {
		t.Errorf("hash is not the first writer's")
	}
}

func TestDeletingAUserDeletesItsCredential(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewCredentialStore(db)
	ctx := context.Background()
	u := createPasswordUser(t, s, credential("alice", "alice@example.com", hashA))
	if _, err := db.Pool().Exec(ctx, "DELETE FROM users WHERE id = $1", string(u.ID)); err != nil {
		t.Fatal(err)
	}
	_, err := s.FindCredential(ctx, domain.LoginName{Value: "alice"})
	wantCode(t, err, domain.CodeNotFound)
}

func TestBindWeChat(t *testing.T) {
	db := pgtest.NewDB(t)
	users := postgres.NewUserStore(db)
	creds := postgres.NewCredentialStore(db)
	ctx := context.Background()
	alice := createPasswordUser(t, creds, credential("alice", "alice@example.com", hashA))
	bob := createPasswordUser(t, creds, credential("bob", "bob@example.com", hashA))

	t.Run("a new identity becomes a login of the user", func(t *testing.T) {
		if err := users.BindWeChat(ctx, alice.ID, identity("wxapp", "open-a", "union-a", "key-1")); err != nil {
			t.Fatalf("BindWeChat: %v", err)
		}
		got, created := upsert(t, users, identity("wxapp", "open-a", "", "key-2"))
		if created || got.ID != alice.ID {
			t.Errorf("WeChat login after binding: user %s (created %t), want alice %s", got.ID, created, alice.ID)
		}
	})
	t.Run("binding it again refreshes the session key", func(t *testing.T) {
		if err := users.BindWeChat(ctx, alice.ID, identity("wxapp", "open-a", "", "key-3")); err != nil {
			t.Fatalf("BindWeChat: %v", err)
		}
		owner, key, union := identityRow(t, db, "wxapp", "open-a")
		if owner != string(alice.ID) || key != "key-3" || union == nil || *union != "union-a" {
			t.Errorf("row: owner %s, key %s, union %v", owner, key, union)
		}
	})
	t.Run("another user's identity is refused", func(t *testing.T) {
		wantCode(t, users.BindWeChat(ctx, bob.ID, identity("wxapp", "open-a", "", "key-4")), domain.CodeWeChatAlreadyBound)
		if owner, key, _ := identityRow(t, db, "wxapp", "open-a"); owner != string(alice.ID) || key != "key-3" {
			t.Errorf("the refused bind changed the row: owner %s, key %s", owner, key)
		}
	})
	t.Run("a second identity in the same app is refused", func(t *testing.T) {
		wantCode(t, users.BindWeChat(ctx, alice.ID, identity("wxapp", "open-b", "", "key")), domain.CodeWeChatAppAlreadyBound)
	})
	t.Run("an identity in another app is fine", func(t *testing.T) {
		if err := users.BindWeChat(ctx, alice.ID, identity("wxother", "open-a", "", "key")); err != nil {
			t.Fatalf("BindWeChat: %v", err)
		}
	})
	t.Run("a missing user is not found", func(t *testing.T) {
		wantCode(t, users.BindWeChat(ctx, "6a1f1c5e-0000-4000-8000-000000000000", identity("wxapp", "open-z", "", "key")), domain.CodeNotFound)
	})
}

func TestAttemptThrottleCountsPerKeyInFixedWindows(t *testing.T) {
	db := pgtest.NewDB(t)
	th := postgres.NewAttemptThrottle(db)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	alice := domain.ThrottleKey{Scope: domain.ThrottleAccount, Key: "name:alice"}
	aliceIP := domain.ThrottleKey{Scope: domain.ThrottleIP, Key: "name:alice"} // same key, other scope
	count := func(k domain.ThrottleKey, at time.Time) domain.AttemptWindow {
		t.Helper()
		w, err := th.CountAttempt(ctx, k, at, time.Minute)
		if err != nil {
			t.Fatalf("CountAttempt: %v", err)
		}
		return w
	}

	for i := 1; i <= 3; i++ {
		if w := count(alice, t0.Add(time.Duration(i)*time.Second)); w.Count != i || !w.Start.Equal(t0.Add(time.Second)) {
			t.Fatalf("attempt %d: %+v", i, w)
		}
	}
	if w := count(aliceIP, t0); w.Count != 1 {
		t.Errorf("another scope shares the count: %+v", w)
	}
	if err := th.Refund(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if w := count(alice, t0.Add(10*time.Second)); w.Count != 3 {
		t.Errorf("after a refund: %+v, want 3 attempts", w)
	}
	// The window started at t0+1s; at t0+61s it has ended.
	if w := count(alice, t0.Add(61*time.Second)); w.Count != 1 || !w.Start.Equal(t0.Add(61*time.Second)) {
		t.Errorf("after the window: %+v, want a fresh window", w)
	}
	if err := th.Forget(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if w := count(alice, t0.Add(62*time.Second)); w.Count != 1 {
		t.Errorf("after forgetting: %+v", w)
	}
}

func TestAttemptThrottleCountsEveryConcurrentAttempt(t *testing.T) {
	db := pgtest.NewDB(t)
	th := postgres.NewAttemptThrottle(db)
	key := domain.ThrottleKey{Scope: domain.ThrottleIP, Key: "192.0.2.7"}
	now := time.Now()
	const n = 20
	var wg sync.WaitGroup
	seen := make([]int, n)
	for i := range n {
		wg.Go(func() {
			w, err := th.CountAttempt(context.Background(), key, now, time.Hour)
			if err != nil {
				t.Error(err)
			}
			seen[i] = w.Count
		})
	}
	wg.Wait()
	counts := map[int]bool{}
	for _, c := range seen {
		counts[c] = true
	}
	if len(counts) != n || !counts[1] || !counts[n] {
		t.Errorf("concurrent attempts saw counts %v; want each of 1..%d once", seen, n)
	}
}

func TestAttemptThrottleSweepDeletesOnlyEndedWindowsOfItsScope(t *testing.T) {
	db := pgtest.NewDB(t)
	th := postgres.NewAttemptThrottle(db)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	old := domain.ThrottleKey{Scope: domain.ThrottleAccount, Key: "old"}
	fresh := domain.ThrottleKey{Scope: domain.ThrottleAccount, Key: "fresh"}
	oldIP := domain.ThrottleKey{Scope: domain.ThrottleIP, Key: "old"}
	for _, c := range []struct {
		k  domain.ThrottleKey
		at time.Time
	}{{old, t0}, {oldIP, t0}, {fresh, t0.Add(time.Hour)}} {
		if _, err := th.CountAttempt(ctx, c.k, c.at, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	n, err := th.Sweep(ctx, domain.ThrottleAccount, t0.Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("Sweep deleted %d rows (%v), want 1", n, err)
	}
	var left []string
	rows, err := db.Pool().Query(ctx, "SELECT scope || ':' || key FROM login_attempts ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		left = append(left, s)
	}
	if len(left) != 2 || left[0] != "account:fresh" || left[1] != "ip:old" {
		t.Errorf("left %v, want account:fresh and ip:old", left)
	}
}
