package ports

import (
	"context"
	"time"

	"github.com/miniback/miniback/domain"
)

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
