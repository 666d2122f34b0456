package app

import (
	"context"
	"fmt"
	"time"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Attachments attaches the signed-in user's ready uploads to their tasks.
// Both the task and the upload must be the caller's: anyone else's is not
// found.
type Attachments struct {
	Store   ports.AttachmentStore
	Uploads *Uploads
}

// AttachmentView is an attachment as its owner sees it, with the upload's
// download URL.
type AttachmentView struct {
	Upload     UploadView
	AttachedAt time.Time
}

// Attach attaches a ready attachment upload of owner's to owner's task.
// Attaching it again answers the attachment with created false.
func (uc Attachments) Attach(ctx context.Context, owner domain.UserID, todo domain.TodoID, upload domain.UploadID) (AttachmentView, bool, error) {
	if _, err := uc.Uploads.Usable(ctx, owner, upload, domain.PurposeAttachment); err != nil {
		return AttachmentView{}, false, err
	}
	now := uc.Uploads.Clock.Now().Truncate(time.Microsecond)
	a, created, err := uc.Store.Attach(ctx, owner, todo, upload, domain.MaxAttachmentsPerTodo, now)
	if err != nil {
		return AttachmentView{}, false, fmt.Errorf("attach: %w", err)
	}
	v, err := uc.view(ctx, a)
	return v, created, err
}

// List returns the attachments of owner's task, oldest first.
func (uc Attachments) List(ctx context.Context, owner domain.UserID, todo domain.TodoID) ([]AttachmentView, error) {
	as, err := uc.Store.ListAttachments(ctx, owner, todo)
	if err != nil {
		return nil, fmt.Errorf("list attachments: %w", err)
	}
	out := make([]AttachmentView, len(as))
	for i, a := range as {
		if out[i], err = uc.view(ctx, a); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Detach removes an attachment of owner's task; the upload stays.
func (uc Attachments) Detach(ctx context.Context, owner domain.UserID, todo domain.TodoID, upload domain.UploadID) error {
	if err := uc.Store.Detach(ctx, owner, todo, upload); err != nil {
		return fmt.Errorf("detach: %w", err)
	}
	return nil
}

func (uc Attachments) view(ctx context.Context, a domain.Attachment) (AttachmentView, error) {
	v, err := uc.Uploads.view(ctx, a.Upload)
	if err != nil {
		return AttachmentView{}, err
	}
	return AttachmentView{Upload: v, AttachedAt: a.AttachedAt}, nil
}
