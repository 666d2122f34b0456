package app

import (
	"context"
	"fmt"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// PasswordAccounts registers users with a username, an email and a
// password, logs them in, and sets or changes passwords. A deployment can
// switch it off (Enabled false): every operation then answers
// CodePasswordAuthDisabled.
type PasswordAccounts struct {
	Enabled     bool
	Credentials ports.CredentialStore
	Users       ports.UserStore
	Hasher      ports.PasswordHasher
	Throttle    ports.AttemptThrottle
	// Limits bounds failed attempts; the zero value means
	// domain.DefaultLoginLimits.
	Limits domain.LoginLimits
	// Sessions starts the session of a login, and a password change ends
	// the account's other sessions.
	Sessions Sessions
	Clock    ports.Clock
}

// Registration is what a new password account starts from.
type Registration struct {
	Username  string
	Email     string
	Password  domain.Password
	UserAgent string // the client's User-Agent, kept with the session
}

// PasswordLogin is a login attempt: a username or an email, the password,
// and the client's address (for throttling).
type PasswordLogin struct {
	Login     string
	Password  domain.Password
	ClientIP  string
	UserAgent string
}

// PasswordChange sets the caller's password. An account that has a
// password must send Current; an account that has none (a WeChat user)
// chooses its Username and Email with its first password. Session is the
// caller's own session, which a change keeps while it ends the others.
type PasswordChange struct {
	Current  *domain.Password
	New      domain.Password
	Username *string
	Email    *string
	ClientIP string
	Session  domain.SessionID
}

// errDisabled answers every operation of a deployment without password
// accounts.
var errDisabled = domain.Errorf(domain.CodePasswordAuthDisabled, "Password accounts are switched off on this server.")

// errInvalidCredentials is the one answer to an unknown login name and to a
// wrong password.
var errInvalidCredentials = domain.Errorf(domain.CodeInvalidCredentials, "The login name or the password is wrong.")

// Register creates a user with a password credential and logs it in.
// Every broken field rule is reported at once.
func (uc PasswordAccounts) Register(ctx context.Context, r Registration) (Login, error) {
	if !uc.Enabled {
		return Login{}, errDisabled
	}
	var bad []domain.FieldError
	username, fe := domain.ParseUsername("username", r.Username)
	bad = appendField(bad, fe)
	email, fe := domain.ParseEmail("email", r.Email)
	bad = appendField(bad, fe)
	bad = appendField(bad, domain.CheckNewPassword("password", r.Password, username, email))
	if len(bad) > 0 {
		return Login{}, domain.Invalid(bad...)
	}
	hash, err := uc.Hasher.Hash(ctx, r.Password)
	if err != nil {
		return Login{}, fmt.Errorf("hash password: %w", err)
	}
	user, err := uc.Credentials.CreatePasswordUser(ctx, domain.PasswordCredential{Username: username, Email: email, Hash: hash})
	if err != nil {
		return Login{}, fmt.Errorf("create password user: %w", err)
	}
	return uc.start(ctx, user, true, r.UserAgent)
}

// Login checks a username or email and password. An unknown name and a
// wrong password get the same error after the same work: the password is
// verified against the hasher's dummy hash when there is no account. Each
// attempt counts against the name and the client's address before any
// password is checked; past the limit the answer is CodeTooManyAttempts
// without a hash.
func (uc PasswordAccounts) Login(ctx context.Context, in PasswordLogin) (Login, error) {
	if !uc.Enabled {
		return Login{}, errDisabled
	}
	name := domain.ParseLoginName(in.Login)
	account, ip := domain.LoginNameThrottleKey(name), domain.IPThrottleKey(in.ClientIP)
	if err := uc.countAttempt(ctx, account, ip); err != nil {
		return Login{}, err
	}
	cred, err := uc.Credentials.FindCredential(ctx, name)
	if domain.ErrorCode(err) == domain.CodeNotFound {
		if _, _, err := uc.Hasher.Verify(ctx, uc.Hasher.DummyHash(), in.Password); err != nil {
			return Login{}, fmt.Errorf("verify dummy hash: %w", err)
		}
		return Login{}, errInvalidCredentials
	}
	if err != nil {
		return Login{}, fmt.Errorf("find credential: %w", err)
	}
	match, rehash, err := uc.Hasher.Verify(ctx, cred.Hash, in.Password)
	if err != nil {
		return Login{}, fmt.Errorf("verify password: %w", err)
	}
	if !match {
		return Login{}, errInvalidCredentials
	}
	if err := uc.succeeded(ctx, account, ip); err != nil {
		return Login{}, err
	}
	if rehash {
		if err := uc.rehash(ctx, cred, in.Password); err != nil {
			return Login{}, err
		}
	}
	user, err := uc.Users.GetUser(ctx, cred.UserID)
	if err != nil {
		return Login{}, fmt.Errorf("get user: %w", err)
	}
	return uc.start(ctx, user, false, in.UserAgent)
}

// ChangePassword sets the password of user id, who is signed in. With a
// password already, the current one must be sent and right (wrong ones are
// throttled like logins), and the change ends every other session of the
// account: whoever knew the old password is logged out. Without one, the
// username and email are chosen now.
func (uc PasswordAccounts) ChangePassword(ctx context.Context, id domain.UserID, c PasswordChange) error {
	if !uc.Enabled {
		return errDisabled
	}
	cred, err := uc.Credentials.GetCredential(ctx, id)
	switch {
	case domain.ErrorCode(err) == domain.CodeNotFound:
		return uc.firstPassword(ctx, id, c)
	case err != nil:
		return fmt.Errorf("get credential: %w", err)
	}

	var bad []domain.FieldError
	if c.Username != nil {
		bad = append(bad, domain.FieldError{Field: "username", Code: "not_allowed", Message: "username can only be chosen with the first password"})
	}
	if c.Email != nil {
		bad = append(bad, domain.FieldError{Field: "email", Code: "not_allowed", Message: "email can only be chosen with the first password"})
	}
	if c.Current == nil {
		bad = append(bad, domain.FieldError{Field: "current_password", Code: "required", Message: "current_password is required to change a password"})
	}
	bad = appendField(bad, domain.CheckNewPassword("new_password", c.New, cred.Username, cred.Email))
	if len(bad) > 0 {
		return domain.Invalid(bad...)
	}

	account, ip := domain.UserThrottleKey(id), domain.IPThrottleKey(c.ClientIP)
	if err := uc.countAttempt(ctx, account, ip); err != nil {
		return err
	}
	match, _, err := uc.Hasher.Verify(ctx, cred.Hash, *c.Current)
	if err != nil {
		return fmt.Errorf("verify current password: %w", err)
	}
	if !match {
		return domain.Errorf(domain.CodeCurrentPasswordIncorrect, "The current password is wrong.")
	}
	if err := uc.succeeded(ctx, account, ip); err != nil {
		return err
	}
	hash, err := uc.Hasher.Hash(ctx, c.New)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	if err := uc.Credentials.ReplaceHash(ctx, id, cred.Hash, hash); err != nil {
		return fmt.Errorf("replace password hash: %w", err)
	}
	if _, err := uc.Sessions.EndOthers(ctx, id, c.Session); err != nil {
		return fmt.Errorf("end other sessions: %w", err)
	}
	return nil
}

// firstPassword gives a user without a password (a WeChat user) a
// credential.
func (uc PasswordAccounts) firstPassword(ctx context.Context, id domain.UserID, c PasswordChange) error {
	var bad []domain.FieldError
	if c.Current != nil {
		bad = append(bad, domain.FieldError{Field: "current_password", Code: "not_allowed", Message: "this account has no password yet; leave current_password out"})
	}
	var username domain.Username
	var email domain.Email
	if c.Username == nil {
		bad = append(bad, domain.FieldError{Field: "username", Code: "required", Message: "username is required with the first password"})
	} else {
		var fe *domain.FieldError
		username, fe = domain.ParseUsername("username", *c.Username)
		bad = appendField(bad, fe)
	}
	if c.Email == nil {
		bad = append(bad, domain.FieldError{Field: "email", Code: "required", Message: "email is required with the first password"})
	} else {
		var fe *domain.FieldError
		email, fe = domain.ParseEmail("email", *c.Email)
		bad = appendField(bad, fe)
	}
	bad = appendField(bad, domain.CheckNewPassword("new_password", c.New, username, email))
	if len(bad) > 0 {
		return domain.Invalid(bad...)
	}
	hash, err := uc.Hasher.Hash(ctx, c.New)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	err = uc.Credentials.AddCredential(ctx, domain.PasswordCredential{UserID: id, Username: username, Email: email, Hash: hash})
	if err != nil {
		return fmt.Errorf("add credential: %w", err)
	}
	return nil
}

// countAttempt counts an attempt against both keys and refuses it, with
// the longer wait, when either is past its limit.
func (uc PasswordAccounts) countAttempt(ctx context.Context, account, ip domain.ThrottleKey) error {
	limits := uc.limits()
	now := uc.Clock.Now()
	aw, err := uc.Throttle.CountAttempt(ctx, account, now, limits.Account.Window)
	if err != nil {
		return fmt.Errorf("count attempt: %w", err)
	}
	iw, err := uc.Throttle.CountAttempt(ctx, ip, now, limits.IP.Window)
	if err != nil {
		return fmt.Errorf("count attempt: %w", err)
	}
	wait := max(limits.Account.RetryAfter(aw, now), limits.IP.RetryAfter(iw, now))
	if wait > 0 {
		return domain.TooManyAttempts(wait)
	}
	return nil
}

// succeeded forgets the account's failures and gives the address its
// attempt back.
func (uc PasswordAccounts) succeeded(ctx context.Context, account, ip domain.ThrottleKey) error {
	if err := uc.Throttle.Forget(ctx, account); err != nil {
		return fmt.Errorf("forget attempts: %w", err)
	}
	if err := uc.Throttle.Refund(ctx, ip); err != nil {
		return fmt.Errorf("refund attempt: %w", err)
	}
	return nil
}

// rehash stores a hash with the current parameters for a password that
// just matched an older hash. A concurrent change wins.
func (uc PasswordAccounts) rehash(ctx context.Context, cred domain.PasswordCredential, p domain.Password) error {
	hash, err := uc.Hasher.Hash(ctx, p)
	if err != nil {
		return fmt.Errorf("rehash password: %w", err)
	}
	err = uc.Credentials.ReplaceHash(ctx, cred.UserID, cred.Hash, hash)
	if err != nil && domain.ErrorCode(err) != domain.CodeConflict {
		return fmt.Errorf("store rehashed password: %w", err)
	}
	return nil
}

func (uc PasswordAccounts) limits() domain.LoginLimits {
	if uc.Limits == (domain.LoginLimits{}) {
		return domain.DefaultLoginLimits
	}
	return uc.Limits
}

// start opens a session for user, who has just proven who they are.
func (uc PasswordAccounts) start(ctx context.Context, user domain.User, created bool, userAgent string) (Login, error) {
	tokens, err := uc.Sessions.Start(ctx, user, "", userAgent)
	if err != nil {
		return Login{}, fmt.Errorf("start session: %w", err)
	}
	return Login{Tokens: tokens, User: user, IsNewUser: created}, nil
}

func appendField(fs []domain.FieldError, f *domain.FieldError) []domain.FieldError {
	if f == nil {
		return fs
	}
	return append(fs, *f)
}

// WeChatBinding binds a WeChat identity to the signed-in user, so that a
// password account can also log in with wx.login.
type WeChatBinding struct {
	Apps   Apps
	WeChat ports.WeChatAuth
	Binder ports.WeChatBinder
	Users  ports.UserStore
}

// Bind exchanges code for the caller's WeChat identity in appID's
// mini-program and makes it a login of user id.
func (uc WeChatBinding) Bind(ctx context.Context, id domain.UserID, appID domain.AppID, code string) (domain.User, error) {
	if code == "" {
		return domain.User{}, domain.Invalid(domain.FieldError{Field: "code", Code: "required", Message: "code is required"})
	}
	app, err := uc.Apps.Resolve(appID)
	if err != nil {
		return domain.User{}, err
	}
	wid, err := uc.WeChat.Code2Session(ctx, app, code)
	if err != nil {
		return domain.User{}, fmt.Errorf("exchange wechat code: %w", err)
	}
	if err := uc.Binder.BindWeChat(ctx, id, wid); err != nil {
		return domain.User{}, fmt.Errorf("bind wechat identity: %w", err)
	}
	u, err := uc.Users.GetUser(ctx, id)
	if err != nil {
		return domain.User{}, fmt.Errorf("get user: %w", err)
	}
	return u, nil
}
