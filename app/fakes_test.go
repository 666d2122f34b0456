package app_test

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Tiny function-field fakes: each test sets only what it exercises, and a
// call nobody expected panics loudly.

type fakeWeChat struct {
	code2Session func(ctx context.Context, app domain.AppID, code string) (domain.WeChatIdentity, error)
}

func (f fakeWeChat) Code2Session(ctx context.Context, app domain.AppID, code string) (domain.WeChatIdentity, error) {
	return f.code2Session(ctx, app, code)
}

type fakeUsers struct {
	upsert func(ctx context.Context, id domain.WeChatIdentity) (domain.User, bool, error)
	get    func(ctx context.Context, id domain.UserID) (domain.User, error)
	update func(ctx context.Context, id domain.UserID, fn func(domain.User) (domain.User, error)) (domain.User, error)
}

func (f fakeUsers) UpsertWeChatUser(ctx context.Context, id domain.WeChatIdentity) (domain.User, bool, error) {
	return f.upsert(ctx, id)
}
func (f fakeUsers) GetUser(ctx context.Context, id domain.UserID) (domain.User, error) {
	return f.get(ctx, id)
}
func (f fakeUsers) UpdateUser(ctx context.Context, id domain.UserID, fn func(domain.User) (domain.User, error)) (domain.User, error) {
	return f.update(ctx, id, fn)
}

type fakeTokens struct {
	issued []ports.AccessClaims
	err    error
}

func (f *fakeTokens) IssueAccess(_ context.Context, c ports.AccessClaims) (string, error) {
	if f.err != nil {
		return "", f.err
	}
	f.issued = append(f.issued, c)
	return "token-for-" + string(c.UserID), nil
}
func (f *fakeTokens) AccessTTL() time.Duration { return 15 * time.Minute }

type fakeTodos struct {
	create     func(ctx context.Context, t domain.Todo) (domain.Todo, error)
	createOnce func(ctx context.Context, t domain.Todo, key ports.IdempotencyKey) (domain.Todo, bool, error)
	get        func(ctx context.Context, owner domain.UserID, id domain.TodoID) (domain.Todo, error)
	update     func(ctx context.Context, owner domain.UserID, id domain.TodoID, fn func(domain.Todo) (domain.Todo, error)) (domain.Todo, error)
	delete     func(ctx context.Context, owner domain.UserID, id domain.TodoID, check func(domain.Todo) error) error
	list       func(ctx context.Context, q ports.TodoQuery) ([]domain.Todo, error)
	forget     func(ctx context.Context, before time.Time) (int64, error)
}

func (f fakeTodos) CreateTodo(ctx context.Context, t domain.Todo) (domain.Todo, error) {
	return f.create(ctx, t)
}
func (f fakeTodos) CreateTodoOnce(ctx context.Context, t domain.Todo, key ports.IdempotencyKey) (domain.Todo, bool, error) {
	return f.createOnce(ctx, t, key)
}
func (f fakeTodos) GetTodo(ctx context.Context, owner domain.UserID, id domain.TodoID) (domain.Todo, error) {
	return f.get(ctx, owner, id)
}
func (f fakeTodos) UpdateTodo(ctx context.Context, owner domain.UserID, id domain.TodoID, fn func(domain.Todo) (domain.Todo, error)) (domain.Todo, error) {
	return f.update(ctx, owner, id, fn)
}
func (f fakeTodos) DeleteTodo(ctx context.Context, owner domain.UserID, id domain.TodoID, check func(domain.Todo) error) error {
	return f.delete(ctx, owner, id, check)
}
func (f fakeTodos) ListTodos(ctx context.Context, q ports.TodoQuery) ([]domain.Todo, error) {
	return f.list(ctx, q)
}
func (f fakeTodos) ForgetIdempotencyKeys(ctx context.Context, before time.Time) (int64, error) {
	return f.forget(ctx, before)
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// movingClock is a clock a test can move.
type movingClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *movingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *movingClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fakeSessionStore struct {
	create     func(ctx context.Context, s domain.Session, token domain.RefreshTokenHash) (domain.Session, error)
	rotate     func(ctx context.Context, old, next domain.RefreshTokenHash, at time.Time, fn func(domain.Session) (domain.Session, error)) (ports.Rotation, error)
	list       func(ctx context.Context, user domain.UserID, now time.Time, max int) ([]domain.Session, error)
	revoke     func(ctx context.Context, user domain.UserID, id domain.SessionID, reason domain.RevokeReason, at time.Time) (domain.Revocation, bool, error)
	revokeRest func(ctx context.Context, user domain.UserID, keep domain.SessionID, reason domain.RevokeReason, at time.Time) ([]domain.Revocation, error)
}

func (f fakeSessionStore) CreateSession(ctx context.Context, s domain.Session, token domain.RefreshTokenHash) (domain.Session, error) {
	return f.create(ctx, s, token)
}
func (f fakeSessionStore) RotateRefreshToken(ctx context.Context, old, next domain.RefreshTokenHash, at time.Time, fn func(domain.Session) (domain.Session, error)) (ports.Rotation, error) {
	return f.rotate(ctx, old, next, at, fn)
}
func (f fakeSessionStore) ListActiveSessions(ctx context.Context, user domain.UserID, now time.Time, max int) ([]domain.Session, error) {
	return f.list(ctx, user, now, max)
}
func (f fakeSessionStore) RevokeSession(ctx context.Context, user domain.UserID, id domain.SessionID, reason domain.RevokeReason, at time.Time) (domain.Revocation, bool, error) {
	return f.revoke(ctx, user, id, reason, at)
}
func (f fakeSessionStore) RevokeOtherSessions(ctx context.Context, user domain.UserID, keep domain.SessionID, reason domain.RevokeReason, at time.Time) ([]domain.Revocation, error) {
	return f.revokeRest(ctx, user, keep, reason, at)
}

type fakeFeed struct {
	since func(ctx context.Context, cursor ports.RevocationCursor, notBefore time.Time) ([]domain.Revocation, ports.RevocationCursor, error)
}

func (f fakeFeed) RevocationsSince(ctx context.Context, cursor ports.RevocationCursor, notBefore time.Time) ([]domain.Revocation, ports.RevocationCursor, error) {
	return f.since(ctx, cursor, notBefore)
}

type fakeUserAdmin struct {
	list    func(ctx context.Context, q domain.UserQuery, max int) ([]domain.User, error)
	setRole func(ctx context.Context, id domain.UserID, role domain.Role) (domain.User, error)
}

func (f fakeUserAdmin) ListUsers(ctx context.Context, q domain.UserQuery, max int) ([]domain.User, error) {
	return f.list(ctx, q, max)
}
func (f fakeUserAdmin) SetUserRole(ctx context.Context, id domain.UserID, role domain.Role) (domain.User, error) {
	return f.setRole(ctx, id, role)
}

type fakeDeleter struct {
	delete func(ctx context.Context, id domain.UserID, at time.Time) (domain.Revocation, error)
}

func (f fakeDeleter) DeleteUser(ctx context.Context, id domain.UserID, at time.Time) (domain.Revocation, error) {
	return f.delete(ctx, id, at)
}

var (
	_ ports.WeChatAuth     = fakeWeChat{}
	_ ports.UserStore      = fakeUsers{}
	_ ports.TokenIssuer    = (*fakeTokens)(nil)
	_ ports.Clock          = fixedClock{}
	_ ports.Clock          = (*movingClock)(nil)
	_ ports.SessionStore   = fakeSessionStore{}
	_ ports.RevocationFeed = fakeFeed{}
	_ ports.UserAdmin      = fakeUserAdmin{}
	_ ports.AccountDeleter = fakeDeleter{}
	_ ports.TodoStore      = fakeTodos{}
)

type fakeUploadStore struct {
	create        func(ctx context.Context, u domain.Upload) error
	get           func(ctx context.Context, id domain.UploadID) (domain.Upload, error)
	update        func(ctx context.Context, id domain.UploadID, fn func(domain.Upload) (domain.Upload, error)) (domain.Upload, error)
	deleteExpired func(ctx context.Context, now time.Time, limit int, remove func(context.Context, domain.Upload) error) (int, error)
}

func (f fakeUploadStore) CreateUpload(ctx context.Context, u domain.Upload) error {
	return f.create(ctx, u)
}
func (f fakeUploadStore) GetUpload(ctx context.Context, id domain.UploadID) (domain.Upload, error) {
	return f.get(ctx, id)
}
func (f fakeUploadStore) UpdateUpload(ctx context.Context, id domain.UploadID, fn func(domain.Upload) (domain.Upload, error)) (domain.Upload, error) {
	return f.update(ctx, id, fn)
}
func (f fakeUploadStore) DeleteExpiredUploads(ctx context.Context, now time.Time, limit int, remove func(context.Context, domain.Upload) error) (int, error) {
	return f.deleteExpired(ctx, now, limit, remove)
}

type fakeStorage struct {
	presign  func(ctx context.Context, spec domain.ObjectSpec, expires time.Time) (domain.UploadTicket, error)
	stat     func(ctx context.Context, key string) (domain.ObjectInfo, error)
	del      func(ctx context.Context, key string) error
	download func(ctx context.Context, key string, expires time.Time) (string, error)
}

func (f fakeStorage) PresignUpload(ctx context.Context, spec domain.ObjectSpec, expires time.Time) (domain.UploadTicket, error) {
	return f.presign(ctx, spec, expires)
}
func (f fakeStorage) StatObject(ctx context.Context, key string) (domain.ObjectInfo, error) {
	return f.stat(ctx, key)
}
func (f fakeStorage) DeleteObject(ctx context.Context, key string) error { return f.del(ctx, key) }
func (f fakeStorage) DownloadURL(ctx context.Context, key string, expires time.Time) (string, error) {
	return f.download(ctx, key, expires)
}

type fakeLinks struct{}

func (fakeLinks) AvatarURL(id domain.UploadID) string {
	return "https://api.example.com/v1/avatars/" + string(id)
}

func (fakeLinks) IsAvatarURL(url string) bool {
	return strings.HasPrefix(url, "https://api.example.com/v1/avatars/")
}

var (
	_ ports.UploadStore   = fakeUploadStore{}
	_ ports.ObjectStorage = fakeStorage{}
	_ ports.AvatarLinks   = fakeLinks{}
)

type fakeAttachments struct {
	attach func(ctx context.Context, owner domain.UserID, todo domain.TodoID, upload domain.UploadID, max int, now time.Time) (domain.Attachment, bool, error)
	list   func(ctx context.Context, owner domain.UserID, todo domain.TodoID) ([]domain.Attachment, error)
	detach func(ctx context.Context, owner domain.UserID, todo domain.TodoID, upload domain.UploadID) error
}

func (f fakeAttachments) Attach(ctx context.Context, owner domain.UserID, todo domain.TodoID, upload domain.UploadID, max int, now time.Time) (domain.Attachment, bool, error) {
	return f.attach(ctx, owner, todo, upload, max, now)
}
func (f fakeAttachments) ListAttachments(ctx context.Context, owner domain.UserID, todo domain.TodoID) ([]domain.Attachment, error) {
	return f.list(ctx, owner, todo)
}
func (f fakeAttachments) Detach(ctx context.Context, owner domain.UserID, todo domain.TodoID, upload domain.UploadID) error {
	return f.detach(ctx, owner, todo, upload)
}

var _ ports.AttachmentStore = fakeAttachments{}

type fakeCredentials struct {
	create  func(ctx context.Context, c domain.PasswordCredential) (domain.User, error)
	add     func(ctx context.Context, c domain.PasswordCredential) error
	find    func(ctx context.Context, n domain.LoginName) (domain.PasswordCredential, error)
	get     func(ctx context.Context, id domain.UserID) (domain.PasswordCredential, error)
	replace func(ctx context.Context, id domain.UserID, old, next domain.PasswordHash) error
}

func (f fakeCredentials) CreatePasswordUser(ctx context.Context, c domain.PasswordCredential) (domain.User, error) {
	return f.create(ctx, c)
}
func (f fakeCredentials) AddCredential(ctx context.Context, c domain.PasswordCredential) error {
	return f.add(ctx, c)
}
func (f fakeCredentials) FindCredential(ctx context.Context, n domain.LoginName) (domain.PasswordCredential, error) {
	return f.find(ctx, n)
}
func (f fakeCredentials) GetCredential(ctx context.Context, id domain.UserID) (domain.PasswordCredential, error) {
	return f.get(ctx, id)
}
func (f fakeCredentials) ReplaceHash(ctx context.Context, id domain.UserID, old, next domain.PasswordHash) error {
	return f.replace(ctx, id, old, next)
}

// fakeHasher "hashes" p as "hash:"+p and records every verification.
type fakeHasher struct {
	verified []domain.PasswordHash // the hashes Verify checked, in order
	hashed   int
	rehash   bool // what Verify reports
}

const dummyHash = domain.PasswordHash("hash:dummy-nobody-knows")

func (f *fakeHasher) Hash(_ context.Context, p domain.Password) (domain.PasswordHash, error) {
	f.hashed++
	return domain.PasswordHash("hash:" + p.Reveal()), nil
}
func (f *fakeHasher) Verify(_ context.Context, h domain.PasswordHash, p domain.Password) (bool, bool, error) {
	f.verified = append(f.verified, h)
	return h.Reveal() == "hash:"+p.Reveal(), f.rehash, nil
}
func (f *fakeHasher) DummyHash() domain.PasswordHash { return dummyHash }

// fakeThrottle counts in memory, with one window that never ends.
type fakeThrottle struct {
	counts   map[domain.ThrottleKey]int
	forgot   []domain.ThrottleKey
	refunded []domain.ThrottleKey
}

func newFakeThrottle() *fakeThrottle { return &fakeThrottle{counts: map[domain.ThrottleKey]int{}} }

func (f *fakeThrottle) CountAttempt(_ context.Context, k domain.ThrottleKey, now time.Time, _ time.Duration) (domain.AttemptWindow, error) {
	f.counts[k]++
	return domain.AttemptWindow{Start: now, Count: f.counts[k]}, nil
}
func (f *fakeThrottle) Forget(_ context.Context, k domain.ThrottleKey) error {
	f.forgot = append(f.forgot, k)
	delete(f.counts, k)
	return nil
}
func (f *fakeThrottle) Refund(_ context.Context, k domain.ThrottleKey) error {
	f.refunded = append(f.refunded, k)
	f.counts[k]--
	return nil
}

type fakeBinder struct {
	bind func(ctx context.Context, user domain.UserID, id domain.WeChatIdentity) error
}

func (f fakeBinder) BindWeChat(ctx context.Context, user domain.UserID, id domain.WeChatIdentity) error {
	return f.bind(ctx, user, id)
}

var (
	_ ports.CredentialStore = fakeCredentials{}
	_ ports.PasswordHasher  = (*fakeHasher)(nil)
	_ ports.AttemptThrottle = (*fakeThrottle)(nil)
	_ ports.WeChatBinder    = fakeBinder{}
)
