package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
)

func TestAttachChecksTheUploadBeforeTheStoreAndPassesTheLimit(t *testing.T) {
	ready := domain.NewUpload("u-1", "alice", domain.UploadRequest{Purpose: "attachment", ContentType: "text/plain", Size: 5}, tNow, time.Hour).
		Verify(domain.ObjectInfo{Size: 5, ContentType: "text/plain"}, tNow)
	pendingUpload := domain.NewUpload("u-2", "alice", domain.UploadRequest{Purpose: "attachment", ContentType: "text/plain", Size: 5}, tNow, time.Hour)
	uploads := uploadsWith(fakeUploadStore{get: func(_ context.Context, id domain.UploadID) (domain.Upload, error) {
		if id == "u-1" {
			return ready, nil
		}
		return pendingUpload, nil
	}}, fakeStorage{download: func(context.Context, string, time.Time) (string, error) { return "https://dl.example.com/u-1", nil }})
	uc := app.Attachments{Uploads: &uploads, Store: fakeAttachments{
		attach: func(_ context.Context, owner domain.UserID, todo domain.TodoID, upload domain.UploadID, max int, now time.Time) (domain.Attachment, bool, error) {
			if owner != "alice" || todo != "t-1" || upload != "u-1" || max != domain.MaxAttachmentsPerTodo || !now.Equal(tNow) {
				t.Errorf("attach(%s, %s, %s, %d, %v)", owner, todo, upload, max, now)
			}
			return domain.Attachment{Upload: ready, AttachedAt: now}, true, nil
		}}}

	v, created, err := uc.Attach(context.Background(), "alice", "t-1", "u-1")
	if err != nil || !created || v.Upload.DownloadURL != "https://dl.example.com/u-1" || !v.AttachedAt.Equal(tNow) {
		t.Fatalf("Attach = %+v, %v, %v", v, created, err)
	}
	// Neither a pending upload nor someone else's reaches the store (its
	// fake would record a wrong call).
	if _, _, err := uc.Attach(context.Background(), "alice", "t-1", "u-2"); codeOf(err) != domain.CodeUploadNotReady {
		t.Errorf("pending upload: %v", err)
	}
	if _, _, err := uc.Attach(context.Background(), "bob", "t-1", "u-1"); codeOf(err) != domain.CodeNotFound {
		t.Errorf("someone else's upload: %v", err)
	}
}
