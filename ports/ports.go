// Package ports declares the small interfaces the use-cases in app/ need from
// the outside world. Adapters implement them; app/ sees nothing else.
package ports

import (
	"context"
	"io"
	"time"

	"github.com/miniback/miniback/domain"
)

// WeChatAuth exchanges a wx.login code for the user's identity
// (GET /sns/jscode2session). Failures are *domain.Error with a wechat_* code.
type WeChatAuth interface {
	Code2Session(ctx context.Context, app domain.AppID, code string) (domain.WeChatIdentity, error)
}

// UserStore keeps users and their WeChat identities.
type UserStore interface {
	// UpsertWeChatUser finds the user of (AppID, OpenID) or creates one,
	// atomically: concurrent first logins make one user. It stores the
	// session key and keeps a previously known UnionID when id has none.
	UpsertWeChatUser(ctx context.Context, id domain.WeChatIdentity) (u domain.User, created bool, err error)
	// GetUser returns CodeNotFound when there is no such user.
	GetUser(ctx context.Context, id domain.UserID) (domain.User, error)
	// UpdateUser loads the user, lets fn change it, and saves the result in
	// one transaction. fn holds the rule; the store holds the transaction.
	UpdateUser(ctx context.Context, id domain.UserID, fn func(domain.User) (domain.User, error)) (domain.User, error)
}

// PasswordHasher hashes and verifies passwords. Implementations bound how
// many hashes run at once and wait for a turn with ctx.
type PasswordHasher interface {
	// Hash returns a fresh salted hash of p in PHC string format.
	Hash(ctx context.Context, p domain.Password) (domain.PasswordHash, error)
	// Verify reports whether p matches h in constant time, and whether h
	// was made with other parameters than the current ones, so that the
	// caller can store a fresh hash.
	Verify(ctx context.Context, h domain.PasswordHash, p domain.Password) (match, rehash bool, err error)
	// DummyHash is a hash of no one's password made with the current
	// parameters. Verifying against it when there is no account costs what
	// verifying a real one does.
	DummyHash() domain.PasswordHash
}

// CredentialStore keeps password credentials. Usernames and emails are
// unique case-insensitively: a clash is CodeUsernameTaken or CodeEmailTaken.
type CredentialStore interface {
	// CreatePasswordUser creates a user with credential c (c.UserID is
	// ignored) in one transaction.
	CreatePasswordUser(ctx context.Context, c domain.PasswordCredential) (domain.User, error)
	// AddCredential gives the existing user c.UserID a password; CodeConflict
	// when the user has one already.
	AddCredential(ctx context.Context, c domain.PasswordCredential) error
	// FindCredential returns the credential answering to n, or CodeNotFound.
	FindCredential(ctx context.Context, n domain.LoginName) (domain.PasswordCredential, error)
	// GetCredential returns the user's credential, or CodeNotFound.
	GetCredential(ctx context.Context, id domain.UserID) (domain.PasswordCredential, error)
	// ReplaceHash stores next as the user's hash if it is still old;
	// CodeConflict when it changed in between.
	ReplaceHash(ctx context.Context, id domain.UserID, old, next domain.PasswordHash) error
}

// AttemptThrottle counts attempts per key in fixed windows, shared by every
// replica.
type AttemptThrottle interface {
	// CountAttempt counts one attempt under key and returns its window: a
	// window older than window is started afresh at now.
	CountAttempt(ctx context.Context, key domain.ThrottleKey, now time.Time, window time.Duration) (domain.AttemptWindow, error)
	// Forget drops key's count (a success on an account).
	Forget(ctx context.Context, key domain.ThrottleKey) error
	// Refund takes one attempt back from key's count (a success from an
	// address).
	Refund(ctx context.Context, key domain.ThrottleKey) error
}

// WeChatBinder binds WeChat identities to existing users.
type WeChatBinder interface {
	// BindWeChat makes id a login of user, storing its session key. Binding
	// an identity the user already has refreshes it. CodeWeChatAlreadyBound
	// when id belongs to another user; CodeWeChatAppAlreadyBound when user
	// has another identity in id's app.
	BindWeChat(ctx context.Context, user domain.UserID, id domain.WeChatIdentity) error
}

// UserAdmin is what the admin operations need from the user store.
type UserAdmin interface {
	// ListUsers returns at most max users matching q (already normalised),
	// newest first, after q.After when set. A cursor naming no valid
	// position is a validation error.
	ListUsers(ctx context.Context, q domain.UserQuery, max int) ([]domain.User, error)
	// SetUserRole changes the user's role; CodeNotFound when there is no
	// such user.
	SetUserRole(ctx context.Context, id domain.UserID, role domain.Role) (domain.User, error)
}

// AccountDeleter deletes accounts.
type AccountDeleter interface {
	// DeleteUser deletes the user with everything that is theirs
	// (identities, sessions) and, in the same transaction, records the
	// returned user-wide revocation at `at`. CodeNotFound when there is no
	// such user.
	DeleteUser(ctx context.Context, id domain.UserID, at time.Time) (domain.Revocation, error)
}

// SessionStore keeps sessions and the hashes of their refresh tokens.
// Times come from the caller's clock.
type SessionStore interface {
	// CreateSession stores s (its ID is chosen by the store) with its
	// first refresh token and returns it.
	CreateSession(ctx context.Context, s domain.Session, token domain.RefreshTokenHash) (domain.Session, error)
	// RotateRefreshToken is one refresh, in one transaction: it marks the
	// unused token old as used at `at` (of concurrent callers with the
	// same token exactly one gets it), lets fn check and update the
	// session, and stores next as the session's new token. A token used
	// before comes back as Rotation.Reused with its session, changing
	// nothing; an unknown one is CodeRefreshTokenInvalid. An error from fn
	// rolls everything back and is returned unchanged.
	RotateRefreshToken(ctx context.Context, old, next domain.RefreshTokenHash, at time.Time,
		fn func(domain.Session) (domain.Session, error)) (Rotation, error)
	// ListActiveSessions returns the user's sessions that are neither
	// revoked nor expired at now, most recently used first, at most max.
	ListActiveSessions(ctx context.Context, user domain.UserID, now time.Time, max int) ([]domain.Session, error)
	// RevokeSession ends the user's session id at `at` and records the
	// revocation, in one transaction. CodeNotFound when the user has no
	// such session; a session already ended returns (zero, false, nil).
	RevokeSession(ctx context.Context, user domain.UserID, id domain.SessionID, reason domain.RevokeReason, at time.Time) (domain.Revocation, bool, error)
	// RevokeOtherSessions ends every active session of the user but keep.
	RevokeOtherSessions(ctx context.Context, user domain.UserID, keep domain.SessionID, reason domain.RevokeReason, at time.Time) ([]domain.Revocation, error)
}

// Rotation is the outcome of a refresh token rotation.
type Rotation struct {
	Session domain.Session // as fn left it; as stored when Reused
	User    domain.User    // the session's user, read in the same transaction
	// Reused: the token had been rotated already. Nothing changed; the
	// caller decides what reuse means.
	Reused bool
}

// RevocationCursor is a position in the revocation feed, opaque to all
// but the feed. The zero value is the beginning.
type RevocationCursor struct{ Position uint64 }

// RevocationFeed is the shared log of revocations every replica reads.
type RevocationFeed interface {
	// RevocationsSince returns the revocations at or after cursor that
	// happened after notBefore, and the cursor to read from next time.
	// The same revocation may come back more than once.
	RevocationsSince(ctx context.Context, cursor RevocationCursor, notBefore time.Time) ([]domain.Revocation, RevocationCursor, error)
}

// AccessClaims is what a verified access token says. Identity comes only
// from here, never from a request body.
type AccessClaims struct {
	UserID    domain.UserID
	SessionID domain.SessionID // sid: the session the token belongs to
	Role      domain.Role
	AppID     domain.AppID // empty for logins not tied to a mini-program
	TokenID   string       // jti
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// TokenIssuer signs access tokens.
type TokenIssuer interface {
	IssueAccess(ctx context.Context, c AccessClaims) (token string, err error)
	AccessTTL() time.Duration
}

// TokenVerifier checks an access token and returns its claims. Failures are
// *domain.Error with a token_* code.
type TokenVerifier interface {
	VerifyAccess(ctx context.Context, token string) (AccessClaims, error)
}

// Clock tells the time; tests pin it.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

func (SystemClock) Now() time.Time { return time.Now() }

// UploadStore keeps uploads. Ownership is a rule of the use-case: the store
// finds uploads by id alone.
type UploadStore interface {
	CreateUpload(ctx context.Context, u domain.Upload) error
	// GetUpload returns CodeNotFound when there is no such upload.
	GetUpload(ctx context.Context, id domain.UploadID) (domain.Upload, error)
	// UpdateUpload locks the upload, lets fn change it and saves the
	// result, in one transaction; concurrent updates of one upload run one
	// after the other. An error from fn rolls back and is returned as it is.
	UpdateUpload(ctx context.Context, id domain.UploadID, fn func(domain.Upload) (domain.Upload, error)) (domain.Upload, error)
	// DeleteExpiredUploads claims up to limit uploads that are not ready and
	// whose deadline is before now, or whose owner's account was deleted
	// (Owner ""), calls remove for each, and deletes the rows for which
	// remove succeeded. Uploads another caller has claimed
	// are skipped, so several replicas never process one upload twice.
	DeleteExpiredUploads(ctx context.Context, now time.Time, limit int, remove func(context.Context, domain.Upload) error) (deleted int, err error)
}

// ObjectStorage is where uploaded files live: an S3-compatible bucket or
// the local disk.
type ObjectStorage interface {
	// PresignUpload returns a ticket that lets a client store exactly the
	// object spec describes (key, content type, size) until expires.
	PresignUpload(ctx context.Context, spec domain.ObjectSpec, expires time.Time) (domain.UploadTicket, error)
	// StatObject reports the stored object's real size and content type,
	// or CodeNotFound when there is none.
	StatObject(ctx context.Context, key string) (domain.ObjectInfo, error)
	// DeleteObject removes the object; a missing object is no error.
	DeleteObject(ctx context.Context, key string) error
	// DownloadURL returns a URL that serves the object until about expires.
	DownloadURL(ctx context.Context, key string, expires time.Time) (string, error)
}

// AvatarLinks builds the stable link of an avatar upload, the value
// avatar_url keeps (it redirects to a fresh download URL), and recognises
// one, so a profile patch accepts back the links the server issued.
type AvatarLinks interface {
	AvatarURL(id domain.UploadID) string
	IsAvatarURL(url string) bool
}

// SignedUpload is what a client sends back to the local-disk storage from
// its ticket: the object the ticket fixes, and the ticket's signature.
type SignedUpload struct {
	Key         string
	ContentType string
	SizeRange   string // "min-max" in bytes
	Expires     string // Unix seconds
	Signature   string
}

// SignedDownload is a local-disk download URL's query.
type SignedDownload struct {
	Key       string
	Expires   string // Unix seconds
	Signature string
}

// LocalFiles is the HTTP side of the local-disk storage: the API server
// receives the uploads the storage's tickets point at and serves its
// signed downloads, so the same client code works in development.
type LocalFiles interface {
	// Receive checks the ticket (signature, expiry) and that contentType
	// is the one it fixes, then stores body as the object, refusing (and
	// keeping nothing of) a body outside the ticket's size range. Failures
	// are *domain.Error: upload_ticket_invalid, upload_ticket_expired,
	// upload_type_mismatch, upload_size_mismatch.
	Receive(ctx context.Context, t SignedUpload, contentType string, body io.Reader) error
	// Open checks a signed download and opens the object.
	Open(ctx context.Context, d SignedDownload) (io.ReadCloser, domain.ObjectInfo, error)
}

// TodoStore keeps tasks. Every method is scoped to an owner: another
// user's task is CodeNotFound, exactly like a task that does not exist.
type TodoStore interface {
	// CreateTodo stores t (its id and timestamps are the store's) and
	// returns it as stored.
	CreateTodo(ctx context.Context, t domain.Todo) (domain.Todo, error)
	// CreateTodoOnce is CreateTodo under an idempotency key, atomically:
	// the first request with (owner, key) creates the task and remembers
	// it; a later or concurrent one with the same key gets that task back
	// (replayed true) without creating another, or
	// CodeIdempotencyKeyReused when its request hash differs. A key first
	// used more than domain.IdempotencyKeyTTL before key.Now is forgotten
	// first.
	CreateTodoOnce(ctx context.Context, t domain.Todo, key IdempotencyKey) (created domain.Todo, replayed bool, err error)
	// GetTodo returns the owner's task.
	GetTodo(ctx context.Context, owner domain.UserID, id domain.TodoID) (domain.Todo, error)
	// UpdateTodo locks the owner's task, lets fn change it and saves the
	// result, in one transaction. An error from fn rolls back and comes
	// back unchanged.
	UpdateTodo(ctx context.Context, owner domain.UserID, id domain.TodoID, fn func(domain.Todo) (domain.Todo, error)) (domain.Todo, error)
	// DeleteTodo locks the owner's task, lets check refuse, and deletes it.
	DeleteTodo(ctx context.Context, owner domain.UserID, id domain.TodoID, check func(domain.Todo) error) error
	// ListTodos returns up to q.Limit of the owner's tasks in q.Sort
	// order, matching q.Filter, after q.After.
	ListTodos(ctx context.Context, q TodoQuery) ([]domain.Todo, error)
	// ForgetIdempotencyKeys deletes every key first used before before,
	// and says how many it deleted.
	ForgetIdempotencyKeys(ctx context.Context, before time.Time) (int64, error)
}

// IdempotencyKey is a client's key for one create, with what the store
// needs to honour it.
type IdempotencyKey struct {
	Key string
	// RequestHash identifies the request's content: the same key with
	// another hash is a different request.
	RequestHash []byte
	// Now is when this use happens; keys first used before
	// Now - domain.IdempotencyKeyTTL have expired.
	Now time.Time
}

// TodoQuery is one page of a list, as the store sees it.
type TodoQuery struct {
	Owner  domain.UserID
	Filter domain.TodoFilter
	Sort   domain.TodoSort
	After  *domain.TodoPosition // nil for the first page
	Limit  int
}

// AttachmentStore keeps which uploads are attached to which tasks. Every
// method is scoped to the task's owner: another user's task is
// CodeNotFound, like a task that does not exist.
type AttachmentStore interface {
	// Attach attaches the upload to the owner's task at now, unless the
	// task already holds max attachments (CodeAttachmentLimit). Attaching
	// an attached upload again changes nothing and says created false.
	// Concurrent attaches to one task count one after the other.
	Attach(ctx context.Context, owner domain.UserID, todo domain.TodoID, upload domain.UploadID, max int, now time.Time) (a domain.Attachment, created bool, err error)
	// ListAttachments returns the task's attachments, oldest first.
	ListAttachments(ctx context.Context, owner domain.UserID, todo domain.TodoID) ([]domain.Attachment, error)
	// Detach removes the attachment, or answers CodeNotFound.
	Detach(ctx context.Context, owner domain.UserID, todo domain.TodoID, upload domain.UploadID) error
}
