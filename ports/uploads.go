package ports

import (
	"context"
	"time"

	"github.com/miniback/miniback/domain"
)

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
