package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/miniback/miniback/adapters/postgres/internal/sqlcgen"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

var _ ports.AttachmentStore = (*AttachmentStore)(nil)

// AttachmentStore keeps the uploads attached to tasks in PostgreSQL.
type AttachmentStore struct {
	db *DB
	q  *sqlcgen.Queries
}

// NewAttachmentStore returns an AttachmentStore backed by db.
func NewAttachmentStore(db *DB) *AttachmentStore {
	return &AttachmentStore{db: db, q: db.queries()}
}

// Attach locks the owner's task, counts its attachments and inserts the
// new one, in one transaction, so concurrent attaches never pass max.
func (s *AttachmentStore) Attach(ctx context.Context, owner domain.UserID, todo domain.TodoID, upload domain.UploadID, max int, now time.Time) (domain.Attachment, bool, error) {
	ownerID, todoID, err := parseTodoKey(owner, todo)
	if err != nil {
		return domain.Attachment{}, false, err
	}
	uploadID, err := parseUploadID(upload)
	if err != nil {
		return domain.Attachment{}, false, err
	}
	var out domain.Attachment
	var created bool
	err = inTx(ctx, s.db, interpretTodoError, func(q *sqlcgen.Queries) error {
		if _, err := q.LockTodoForAttachments(ctx, sqlcgen.LockTodoForAttachmentsParams{TodoID: todoID, OwnerID: ownerID}); err != nil {
			return interpretTodoError(fmt.Errorf("lock task: %w", err))
		}
		at, err := q.GetAttachment(ctx, sqlcgen.GetAttachmentParams{TodoID: todoID, UploadID: uploadID})
		switch {
		case err == nil:
			out.AttachedAt = at
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("get attachment: %w", err)
		default:
			n, err := q.CountAttachments(ctx, todoID)
			if err != nil {
				return fmt.Errorf("count attachments: %w", err)
			}
			if n >= int64(max) {
				return domain.ErrAttachmentLimit()
			}
			at, err := q.InsertAttachment(ctx, sqlcgen.InsertAttachmentParams{TodoID: todoID, UploadID: uploadID, AttachedAt: now})
			if err != nil {
				return fmt.Errorf("insert attachment: %w", err)
			}
			out.AttachedAt, created = at, true
		}
		row, err := q.GetUpload(ctx, uploadID)
		if err != nil {
			return uploadError(fmt.Errorf("get upload: %w", err))
		}
		out.Upload = toUpload(row)
		return nil
	})
	if err != nil {
		return domain.Attachment{}, false, err
	}
	out.AttachedAt = out.AttachedAt.UTC()
	return out, created, nil
}

// ListAttachments returns the task's attachments, oldest first.
func (s *AttachmentStore) ListAttachments(ctx context.Context, owner domain.UserID, todo domain.TodoID) ([]domain.Attachment, error) {
	ownerID, todoID, err := parseTodoKey(owner, todo)
	if err != nil {
		return nil, err
	}
	var rows []sqlcgen.ListAttachmentsRow
	err = inTxWith(ctx, s.db, pgx.TxOptions{AccessMode: pgx.ReadOnly}, interpretTodoError, func(q *sqlcgen.Queries) error {
		owns, err := q.OwnsTodo(ctx, sqlcgen.OwnsTodoParams{TodoID: todoID, OwnerID: ownerID})
		if err != nil {
			return fmt.Errorf("find task: %w", err)
		}
		if !owns {
			return domain.ErrTodoNotFound(nil)
		}
		rows, err = q.ListAttachments(ctx, todoID)
		if err != nil {
			return fmt.Errorf("read attachments: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]domain.Attachment, len(rows))
	for i, r := range rows {
		out[i] = domain.Attachment{Upload: toUpload(r.Upload), AttachedAt: r.AttachedAt.UTC()}
	}
	return out, nil
}

// Detach removes the attachment of the owner's task.
func (s *AttachmentStore) Detach(ctx context.Context, owner domain.UserID, todo domain.TodoID, upload domain.UploadID) error {
	ownerID, todoID, err := parseTodoKey(owner, todo)
	if err != nil {
		return err
	}
	uploadID, err := parseUploadID(upload)
	if err != nil {
		return err
	}
	n, err := s.q.DeleteAttachment(ctx, sqlcgen.DeleteAttachmentParams{TodoID: todoID, UploadID: uploadID, OwnerID: ownerID})
	if err != nil {
		return interpretError(err)
	}
	if n == 0 {
		return domain.ErrAttachmentNotFound(nil)
	}
	return nil
}
