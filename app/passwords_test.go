package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
)

var aliceCred = domain.PasswordCredential{UserID: "u-alice", Username: "alice", Email: "alice@example.com", Hash: "hash:alice-secret-1"}

// sessionLog records what the fake session store was asked to do.
type sessionLog struct {
	started     []domain.Session
	endedAllBut []domain.SessionID // the keep argument of each EndOthers
}

// passwords returns the use-case over creds, switched on, with a fake
// hasher, an in-memory throttle, and sessions over a fake store.
func passwords(creds fakeCredentials) (app.PasswordAccounts, *fakeHasher, *fakeThrottle, *fakeTokens) {
	uc, h, th, tok, _ := passwordsWithSessions(creds)
	return uc, h, th, tok
}

func passwordsWithSessions(creds fakeCredentials) (app.PasswordAccounts, *fakeHasher, *fakeThrottle, *fakeTokens, *sessionLog) {
	h, th, tok, log := &fakeHasher{}, newFakeThrottle(), &fakeTokens{}, &sessionLog{}
	store := fakeSessionStore{
		create: func(_ context.Context, s domain.Session, _ domain.RefreshTokenHash) (domain.Session, error) {
			s.ID = "s-" + domain.SessionID(s.UserID)
			log.started = append(log.started, s)
			return s, nil
		},
		revokeRest: func(_ context.Context, _ domain.UserID, keep domain.SessionID, _ domain.RevokeReason, _ time.Time) ([]domain.Revocation, error) {
			log.endedAllBut = append(log.endedAllBut, keep)
			return nil, nil
		},
	}
	uc := app.PasswordAccounts{
		Enabled: true, Credentials: creds, Hasher: h, Throttle: th, Clock: fixedClock{now},
		Sessions: app.Sessions{Store: store, Tokens: tok, Clock: fixedClock{now}, Policy: policy},
		Users: fakeUsers{get: func(_ context.Context, id domain.UserID) (domain.User, error) {
			return domain.User{ID: id}, nil
		}},
	}
	return uc, h, th, tok, log
}

// knowsAlice finds alice by username or email.
func knowsAlice() fakeCredentials {
	return fakeCredentials{find: func(_ context.Context, n domain.LoginName) (domain.PasswordCredential, error) {
		if (!n.IsEmail && n.Value == string(aliceCred.Username)) || (n.IsEmail && n.Value == string(aliceCred.Email)) {
			return aliceCred, nil
		}
		return domain.PasswordCredential{}, domain.Errorf(domain.CodeNotFound, "no such credential")
	}}
}

func fieldCodes(err error) string {
	var de *domain.Error
	if !errors.As(err, &de) {
		return ""
	}
	var out []string
	for _, f := range de.Fields {
		out = append(out, f.Field+":"+f.Code)
	}
	return strings.Join(out, ",")
}

func TestRegisterStoresTheNormalisedNamesAndTheHashAndStartsASession(t *testing.T) {
	var stored domain.PasswordCredential
	uc, _, _, tokens, sessions := passwordsWithSessions(fakeCredentials{create: func(_ context.Context, c domain.PasswordCredential) (domain.User, error) {
		stored = c
		return domain.User{ID: "u-new"}, nil
	}})
	got, err := uc.Register(context.Background(), app.Registration{Username: " Alice ", Email: " Alice@Example.COM ", Password: "alice-secret-1", UserAgent: "WeChat/8.0"})
	if err != nil {
		t.Fatal(err)
	}
	want := domain.PasswordCredential{Username: "alice", Email: "alice@example.com", Hash: "hash:alice-secret-1"}
	if stored != want {
		t.Errorf("stored %+v, want %+v", stored, want)
	}
	if got.AccessToken != "token-for-u-new" || !got.IsNewUser || got.User.ID != "u-new" || got.ExpiresIn != 900 ||
		got.RefreshToken == "" || got.Session.ID != "s-u-new" {
		t.Errorf("login %+v", got)
	}
	if c := tokens.issued[0]; c.UserID != "u-new" || c.AppID != "" || c.SessionID != "s-u-new" || len(c.TokenID) < 20 {
		t.Errorf("claims %+v", c)
	}
	if len(sessions.started) != 1 || sessions.started[0].UserAgent != "WeChat/8.0" || sessions.started[0].AppID != "" {
		t.Errorf("sessions started: %+v", sessions.started)
	}
}

func TestRegisterReportsEveryBrokenRuleWithoutHashing(t *testing.T) {
	uc, h, _, _ := passwords(fakeCredentials{}) // a store call would panic
	for _, tc := range []struct {
		name string
		reg  app.Registration
		want string
	}{
		{"all three fields", app.Registration{Username: "a!", Email: "not-an-email", Password: "short"},
			"username:too_short,email:invalid_email,password:too_short"},
		{"a common password", app.Registration{Username: "alice", Email: "a@example.com", Password: "Password1"}, "password:too_common"},
		{"the username as password", app.Registration{Username: "alice2024", Email: "a@example.com", Password: "ALICE2024"}, "password:same_as_username"},
		{"the email as password", app.Registration{Username: "alice", Email: "alice@example.com", Password: "Alice@Example.com"}, "password:same_as_email"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := uc.Register(context.Background(), tc.reg)
			if codeOf(err) != domain.CodeInvalid || fieldCodes(err) != tc.want {
				t.Errorf("err %v with fields %q, want validation_failed with %q", err, fieldCodes(err), tc.want)
			}
		})
	}
	if h.hashed != 0 {
		t.Errorf("%d passwords hashed for refused registrations", h.hashed)
	}
}

func TestRegisterPassesTheStoresConflictThrough(t *testing.T) {
	uc, _, _, _ := passwords(fakeCredentials{create: func(context.Context, domain.PasswordCredential) (domain.User, error) {
		return domain.User{}, domain.Errorf(domain.CodeEmailTaken, "taken")
	}})
	_, err := uc.Register(context.Background(), app.Registration{Username: "alice", Email: "a@example.com", Password: "alice-secret-1"})
	if codeOf(err) != domain.CodeEmailTaken {
		t.Fatalf("err = %v, want email_taken", err)
	}
}

func TestSwitchedOffPasswordAccountsAnswerDisabledAndTouchNothing(t *testing.T) {
	uc, h, th, _ := passwords(fakeCredentials{})
	uc.Enabled = false
	ctx := context.Background()
	_, errRegister := uc.Register(ctx, app.Registration{Username: "alice", Email: "a@example.com", Password: "alice-secret-1"})
	_, errLogin := uc.Login(ctx, app.PasswordLogin{Login: "alice", Password: "alice-secret-1"})
	errChange := uc.ChangePassword(ctx, "u-alice", app.PasswordChange{New: "alice-secret-2"})
	for name, err := range map[string]error{"register": errRegister, "login": errLogin, "change": errChange} {
		if codeOf(err) != domain.CodePasswordAuthDisabled {
			t.Errorf("%s: err = %v, want password_auth_disabled", name, err)
		}
	}
	if h.hashed != 0 || len(h.verified) != 0 || len(th.counts) != 0 {
		t.Error("a switched-off deployment hashed or counted")
	}
}

func TestLoginWithUsernameOrEmailInAnyCase(t *testing.T) {
	for _, login := range []string{"alice", " ALICE ", "alice@example.com", "Alice@Example.com"} {
		t.Run(login, func(t *testing.T) {
			uc, _, th, _ := passwords(knowsAlice())
			got, err := uc.Login(context.Background(), app.PasswordLogin{Login: login, Password: "alice-secret-1", ClientIP: "192.0.2.1"})
			if err != nil {
				t.Fatal(err)
			}
			if got.User.ID != "u-alice" || got.IsNewUser || got.AccessToken != "token-for-u-alice" {
				t.Errorf("login %+v", got)
			}
			name := domain.LoginNameThrottleKey(domain.ParseLoginName(login))
			if len(th.forgot) != 1 || th.forgot[0] != name || len(th.refunded) != 1 || th.refunded[0] != domain.IPThrottleKey("192.0.2.1") {
				t.Errorf("after success forgot %v and refunded %v; want the name's count forgotten and the address's attempt refunded", th.forgot, th.refunded)
			}
		})
	}
}

// TestUnknownUserAndWrongPasswordLookTheSame: the same error, and the
// same work: an unknown name is verified against the dummy hash.
func TestUnknownUserAndWrongPasswordLookTheSame(t *testing.T) {
	uc, h, _, _ := passwords(knowsAlice())
	_, errWrong := uc.Login(context.Background(), app.PasswordLogin{Login: "alice", Password: "wrong-password"})
	_, errUnknown := uc.Login(context.Background(), app.PasswordLogin{Login: "mallory", Password: "wrong-password"})
	if codeOf(errWrong) != domain.CodeInvalidCredentials || errWrong.Error() != errUnknown.Error() {
		t.Errorf("wrong password: %v; unknown user: %v; want the same invalid_credentials", errWrong, errUnknown)
	}
	if len(h.verified) != 2 || h.verified[0] != aliceCred.Hash || h.verified[1] != dummyHash {
		t.Errorf("verified %v; want alice's hash, then the dummy hash for the unknown user", h.verified)
	}
}

func TestLoginIsThrottledPerNameBeforeAnyHash(t *testing.T) {
	uc, h, _, _ := passwords(knowsAlice())
	uc.Limits = domain.LoginLimits{
		Account: domain.ThrottleRule{Limit: 2, Window: time.Minute},
		IP:      domain.ThrottleRule{Limit: 100, Window: time.Minute},
	}
	ctx := context.Background()
	for range 2 {
		if _, err := uc.Login(ctx, app.PasswordLogin{Login: "alice", Password: "guess"}); codeOf(err) != domain.CodeInvalidCredentials {
			t.Fatalf("err = %v, want invalid_credentials", err)
		}
	}
	// Past the limit even the right password is refused, unhashed.
	_, err := uc.Login(ctx, app.PasswordLogin{Login: "alice", Password: "alice-secret-1"})
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.CodeTooManyAttempts || de.RetryAfter != time.Minute {
		t.Fatalf("err = %v, want too_many_attempts with the window's rest as Retry-After", err)
	}
	if len(h.verified) != 2 {
		t.Errorf("%d hashes verified, want 2: a throttled attempt must not cost a hash", len(h.verified))
	}
	// An unknown name is throttled alike, so the throttle tells nothing.
	for range 2 {
		_, _ = uc.Login(ctx, app.PasswordLogin{Login: "mallory", Password: "guess"})
	}
	if _, err := uc.Login(ctx, app.PasswordLogin{Login: "mallory", Password: "guess"}); codeOf(err) != domain.CodeTooManyAttempts {
		t.Errorf("unknown name: err = %v, want too_many_attempts", err)
	}
	// Another name is not affected.
	if _, err := uc.Login(ctx, app.PasswordLogin{Login: "alice@example.com", Password: "alice-secret-1"}); err != nil {
		t.Errorf("the email of the same account: %v", err)
	}
}

func TestLoginIsThrottledPerClientAddress(t *testing.T) {
	uc, _, _, _ := passwords(knowsAlice())
	uc.Limits = domain.LoginLimits{
		Account: domain.ThrottleRule{Limit: 100, Window: time.Minute},
		IP:      domain.ThrottleRule{Limit: 3, Window: time.Minute},
	}
	ctx := context.Background()
	for _, name := range []string{"a1", "a2", "a3"} {
		_, _ = uc.Login(ctx, app.PasswordLogin{Login: name, Password: "guess", ClientIP: "2001:db8::1"})
	}
	// The same /64 is the same client.
	_, err := uc.Login(ctx, app.PasswordLogin{Login: "alice", Password: "alice-secret-1", ClientIP: "2001:db8::2"})
	if codeOf(err) != domain.CodeTooManyAttempts {
		t.Fatalf("err = %v, want too_many_attempts", err)
	}
	if _, err := uc.Login(ctx, app.PasswordLogin{Login: "alice", Password: "alice-secret-1", ClientIP: "2001:db8:0:1::1"}); err != nil {
		t.Errorf("another /64: %v", err)
	}
}

func TestLoginStoresAFreshHashWhenTheParametersChanged(t *testing.T) {
	creds := knowsAlice()
	var replaced [2]domain.PasswordHash
	creds.replace = func(_ context.Context, id domain.UserID, old, next domain.PasswordHash) error {
		replaced = [2]domain.PasswordHash{old, next}
		return nil
	}
	uc, h, _, _ := passwords(creds)
	h.rehash = true
	if _, err := uc.Login(context.Background(), app.PasswordLogin{Login: "alice", Password: "alice-secret-1"}); err != nil {
		t.Fatal(err)
	}
	if replaced[0] != aliceCred.Hash || h.hashed != 1 {
		t.Errorf("replaced %v after %d hashes; want alice's old hash replaced by a fresh one", replaced, h.hashed)
	}
}

func TestLoginStoreFailureIsNotInvalidCredentials(t *testing.T) {
	uc, _, _, _ := passwords(fakeCredentials{find: func(context.Context, domain.LoginName) (domain.PasswordCredential, error) {
		return domain.PasswordCredential{}, domain.Errorf(domain.CodeUnavailable, "db down")
	}})
	_, err := uc.Login(context.Background(), app.PasswordLogin{Login: "alice", Password: "alice-secret-1"})
	if codeOf(err) != domain.CodeUnavailable {
		t.Fatalf("err = %v, want unavailable", err)
	}
}

func withAlicesCredential(replace func(context.Context, domain.UserID, domain.PasswordHash, domain.PasswordHash) error) fakeCredentials {
	return fakeCredentials{
		get: func(_ context.Context, id domain.UserID) (domain.PasswordCredential, error) {
			if id == aliceCred.UserID {
				return aliceCred, nil
			}
			return domain.PasswordCredential{}, domain.Errorf(domain.CodeNotFound, "none")
		},
		replace: replace,
	}
}

func pw(s string) *domain.Password { p := domain.Password(s); return &p }

func TestChangePasswordChecksTheCurrentOneReplacesTheHashAndEndsTheOtherSessions(t *testing.T) {
	var replaced [2]domain.PasswordHash
	uc, _, th, _, sessions := passwordsWithSessions(withAlicesCredential(func(_ context.Context, _ domain.UserID, old, next domain.PasswordHash) error {
		replaced = [2]domain.PasswordHash{old, next}
		return nil
	}))
	err := uc.ChangePassword(context.Background(), "u-alice", app.PasswordChange{Current: pw("alice-secret-1"), New: "alice-secret-2", Session: "s-mine"})
	if err != nil {
		t.Fatal(err)
	}
	if replaced != [2]domain.PasswordHash{aliceCred.Hash, "hash:alice-secret-2"} {
		t.Errorf("replaced %v", replaced)
	}
	if len(th.forgot) != 1 || th.forgot[0] != domain.UserThrottleKey("u-alice") {
		t.Errorf("forgot %v, want the user's count", th.forgot)
	}
	if len(sessions.endedAllBut) != 1 || sessions.endedAllBut[0] != "s-mine" {
		t.Errorf("ended the sessions but %v; want all but the caller's s-mine", sessions.endedAllBut)
	}
}

func TestChangePasswordRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change app.PasswordChange
		code   domain.Code
		fields string
	}{
		{"the current password is required", app.PasswordChange{New: "alice-secret-2"}, domain.CodeInvalid, "current_password:required"},
		{"a wrong current password", app.PasswordChange{Current: pw("guess"), New: "alice-secret-2"}, domain.CodeCurrentPasswordIncorrect, ""},
		{"the username cannot change here", app.PasswordChange{Current: pw("alice-secret-1"), New: "alice-secret-2", Username: strp("bob")}, domain.CodeInvalid, "username:not_allowed"},
		{"the email cannot change here", app.PasswordChange{Current: pw("alice-secret-1"), New: "alice-secret-2", Email: strp("b@example.com")}, domain.CodeInvalid, "email:not_allowed"},
		{"the new password follows the rules", app.PasswordChange{Current: pw("alice-secret-1"), New: "Alice"}, domain.CodeInvalid, "new_password:too_short"},
		{"the new password is not the email", app.PasswordChange{Current: pw("alice-secret-1"), New: "ALICE@example.com"}, domain.CodeInvalid, "new_password:same_as_email"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uc, _, _, _ := passwords(withAlicesCredential(nil)) // a replace would panic
			err := uc.ChangePassword(context.Background(), "u-alice", tc.change)
			if codeOf(err) != tc.code || fieldCodes(err) != tc.fields {
				t.Errorf("err %v with fields %q, want %s with %q", err, fieldCodes(err), tc.code, tc.fields)
			}
		})
	}
}

func TestWrongCurrentPasswordsAreThrottled(t *testing.T) {
	uc, h, _, _ := passwords(withAlicesCredential(nil))
	uc.Limits = domain.LoginLimits{
		Account: domain.ThrottleRule{Limit: 2, Window: time.Minute},
		IP:      domain.ThrottleRule{Limit: 100, Window: time.Minute},
	}
	for range 2 {
		_ = uc.ChangePassword(context.Background(), "u-alice", app.PasswordChange{Current: pw("guess"), New: "alice-secret-2"})
	}
	err := uc.ChangePassword(context.Background(), "u-alice", app.PasswordChange{Current: pw("alice-secret-1"), New: "alice-secret-2"})
	if codeOf(err) != domain.CodeTooManyAttempts || len(h.verified) != 2 {
		t.Errorf("err = %v after %d verifications, want too_many_attempts after 2", err, len(h.verified))
	}
}

func TestAWeChatUserChoosesUsernameAndEmailWithTheFirstPassword(t *testing.T) {
	var added domain.PasswordCredential
	creds := fakeCredentials{
		get: func(context.Context, domain.UserID) (domain.PasswordCredential, error) {
			return domain.PasswordCredential{}, domain.Errorf(domain.CodeNotFound, "none")
		},
		add: func(_ context.Context, c domain.PasswordCredential) error { added = c; return nil },
	}
	uc, _, _, _, sessions := passwordsWithSessions(creds)
	err := uc.ChangePassword(context.Background(), "u-wx", app.PasswordChange{New: "wx-secret-123", Username: strp(" WxUser "), Email: strp("WX@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if len(sessions.endedAllBut) != 0 {
		t.Error("a first password ended sessions; only a change of password does")
	}
	want := domain.PasswordCredential{UserID: "u-wx", Username: "wxuser", Email: "wx@example.com", Hash: "hash:wx-secret-123"}
	if added != want {
		t.Errorf("added %+v, want %+v", added, want)
	}

	for _, tc := range []struct {
		name   string
		change app.PasswordChange
		fields string
	}{
		{"username and email are required", app.PasswordChange{New: "wx-secret-123"}, "username:required,email:required"},
		{"there is no current password", app.PasswordChange{Current: pw("x"), New: "wx-secret-123", Username: strp("wxuser"), Email: strp("wx@example.com")}, "current_password:not_allowed"},
		{"the rules hold", app.PasswordChange{New: "wxuser", Username: strp("wxuser"), Email: strp("wx")}, "email:invalid_email,new_password:too_short"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := uc.ChangePassword(context.Background(), "u-wx", tc.change)
			if codeOf(err) != domain.CodeInvalid || fieldCodes(err) != tc.fields {
				t.Errorf("err %v with fields %q, want validation_failed with %q", err, fieldCodes(err), tc.fields)
			}
		})
	}
}

func TestBindWeChatBindsTheExchangedIdentityToTheCaller(t *testing.T) {
	var boundTo domain.UserID
	var bound domain.WeChatIdentity
	uc := app.WeChatBinding{
		Apps: app.NewApps("wx1"),
		WeChat: fakeWeChat{func(_ context.Context, app domain.AppID, code string) (domain.WeChatIdentity, error) {
			return domain.WeChatIdentity{AppID: app, OpenID: domain.OpenID("o-" + code), SessionKey: "sk"}, nil
		}},
		Binder: fakeBinder{func(_ context.Context, user domain.UserID, id domain.WeChatIdentity) error {
			boundTo, bound = user, id
			return nil
		}},
		Users: fakeUsers{get: func(_ context.Context, id domain.UserID) (domain.User, error) { return domain.User{ID: id}, nil }},
	}
	u, err := uc.Bind(context.Background(), "u-alice", "", "abc")
	if err != nil {
		t.Fatal(err)
	}
	if boundTo != "u-alice" || bound.AppID != "wx1" || bound.OpenID != "o-abc" || u.ID != "u-alice" {
		t.Errorf("bound %+v to %s, returned %+v", bound, boundTo, u)
	}

	uc.Binder = fakeBinder{func(context.Context, domain.UserID, domain.WeChatIdentity) error {
		return domain.Errorf(domain.CodeWeChatAlreadyBound, "taken")
	}}
	if _, err := uc.Bind(context.Background(), "u-alice", "", "abc"); codeOf(err) != domain.CodeWeChatAlreadyBound {
		t.Errorf("err = %v, want wechat_already_bound", err)
	}
	if _, err := uc.Bind(context.Background(), "u-alice", "", ""); codeOf(err) != domain.CodeInvalid {
		t.Errorf("empty code: err = %v, want validation_failed", err)
	}
	if _, err := uc.Bind(context.Background(), "u-alice", "wx9", "abc"); codeOf(err) != domain.CodeUnknownApp {
		t.Errorf("unknown app: err = %v, want unknown_app", err)
	}
}
