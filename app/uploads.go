package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Uploads lets users send files straight to object storage: a ticket the
// storage honours, then a completion that checks what really arrived. The
// file's bytes never pass through here.
type Uploads struct {
	Store   ports.UploadStore
	Storage ports.ObjectStorage
	Clock   ports.Clock
	Rules   domain.UploadRules
	// TicketTTL is how long a ticket lets the client upload.
	TicketTTL time.Duration
	// PendingTTL is how long an upload may stay uncompleted before the
	// cleaner deletes it with its object; at least TicketTTL.
	PendingTTL time.Duration
	// DownloadTTL is how long a download URL works.
	DownloadTTL time.Duration
	// NewID makes upload ids; nil makes random UUIDs.
	NewID func() domain.UploadID
	// Moderation checks newly ready images when the deployment says so;
	// nil checks nothing.
	Moderation *Moderation
}

// Ticket is a new pending upload and how to send its file.
type Ticket struct {
	Upload domain.Upload
	Ticket domain.UploadTicket
}

// UploadView is an upload as its owner sees it: a ready upload comes with
// a download URL.
type UploadView struct {
	domain.Upload
	DownloadURL       string
	DownloadExpiresAt time.Time
	// BecameReady: this call completed the upload (Complete), rather
	// than finding it ready already.
	BecameReady bool
}

// Create checks the request against the purpose's rules, picks the key,
// records the pending upload and returns its ticket.
func (uc Uploads) Create(ctx context.Context, owner domain.UserID, req domain.UploadRequest) (Ticket, error) {
	req, err := uc.Rules.Check(req)
	if err != nil {
		return Ticket{}, err
	}
	// The database keeps microseconds; so does the upload from the start.
	now := uc.Clock.Now().Truncate(time.Microsecond)
	u := domain.NewUpload(uc.newID(), owner, req, now, uc.PendingTTL)
	// Signing has no side effect, so it comes first: a failure leaves
	// nothing behind.
	t, err := uc.Storage.PresignUpload(ctx, u.Spec(), now.Add(uc.TicketTTL))
	if err != nil {
		return Ticket{}, fmt.Errorf("presign upload: %w", err)
	}
	if err := uc.Store.CreateUpload(ctx, u); err != nil {
		return Ticket{}, fmt.Errorf("create upload: %w", err)
	}
	return Ticket{Upload: u, Ticket: t}, nil
}

// Get returns one of owner's uploads; someone else's is not found.
func (uc Uploads) Get(ctx context.Context, owner domain.UserID, id domain.UploadID) (UploadView, error) {
	u, err := uc.owned(ctx, owner, id)
	if err != nil {
		return UploadView{}, err
	}
	return uc.view(ctx, u)
}

// Complete asks the storage what arrived for a pending upload. The promised
// size and type make it ready; anything else rejects it for good and
// deletes the object. Completing a ready upload again answers it as it is,
// and a rejected one its rejection, so retries and concurrent calls agree.
// An image that becomes ready goes to content security's asynchronous
// check when its purpose is checked; app is the mini-program of the
// caller's session ("" for none).
func (uc Uploads) Complete(ctx context.Context, owner domain.UserID, app domain.AppID, id domain.UploadID) (UploadView, error) {
	now := uc.Clock.Now().Truncate(time.Microsecond)
	becameReady := false
	u, err := uc.Store.UpdateUpload(ctx, id, func(u domain.Upload) (domain.Upload, error) {
		becameReady = false
		if u.Owner != owner {
			return u, domain.ErrUploadNotFound()
		}
		if u.Status != domain.UploadPending {
			return u, nil
		}
		if !now.Before(u.ExpiresAt) {
			return u, domain.Errorf(domain.CodeUploadExpired, "The upload was not completed in time; ask for a new ticket.")
		}
		info, err := uc.Storage.StatObject(ctx, u.Key)
		if domain.ErrorCode(err) == domain.CodeNotFound {
			return u, &domain.Error{Code: domain.CodeUploadNotReceived,
				Message: "The storage has no file for this upload yet; send it with the ticket, then complete.", Err: err}
		}
		if err != nil {
			return u, fmt.Errorf("stat object: %w", err)
		}
		u = u.Verify(info, now)
		becameReady = u.Status == domain.UploadReady
		return u, nil
	})
	if err != nil {
		return UploadView{}, notFoundAsUpload(err)
	}
	if u.Status == domain.UploadRejected {
		// A failed delete is retried by the cleaner, which removes the
		// object again with the row.
		rejection := u.Rejection()
		if err := uc.Storage.DeleteObject(ctx, u.Key); err != nil {
			rejection.Err = fmt.Errorf("delete rejected object: %w", err)
		}
		return UploadView{}, rejection
	}
	if becameReady {
		uc.Moderation.CheckUpload(ctx, app, u)
	}
	v, err := uc.view(ctx, u)
	v.BecameReady = becameReady && err == nil
	return v, err
}

// Usable returns owner's upload id when it is ready and for purpose.
func (uc Uploads) Usable(ctx context.Context, owner domain.UserID, id domain.UploadID, purpose domain.UploadPurpose) (domain.Upload, error) {
	u, err := uc.owned(ctx, owner, id)
	if err != nil {
		return domain.Upload{}, err
	}
	if err := u.Usable(purpose); err != nil {
		return domain.Upload{}, err
	}
	return u, nil
}

// AvatarDownload returns a fresh download URL of a ready avatar upload, for
// the stable avatar link anyone may follow (the id is unguessable). Any
// other upload is not found.
func (uc Uploads) AvatarDownload(ctx context.Context, id domain.UploadID) (string, error) {
	u, err := uc.Store.GetUpload(ctx, id)
	if err != nil {
		return "", notFoundAsUpload(err)
	}
	if u.Owner == "" || u.Usable(domain.PurposeAvatar) != nil {
		// Not an avatar, its account was deleted, or content security
		// blocked it.
		return "", domain.ErrUploadNotFound()
	}
	return uc.Storage.DownloadURL(ctx, u.Key, uc.Clock.Now().Add(uc.DownloadTTL))
}

func (uc Uploads) owned(ctx context.Context, owner domain.UserID, id domain.UploadID) (domain.Upload, error) {
	u, err := uc.Store.GetUpload(ctx, id)
	if err != nil {
		return domain.Upload{}, notFoundAsUpload(err)
	}
	if u.Owner != owner {
		return domain.Upload{}, domain.ErrUploadNotFound()
	}
	return u, nil
}

func (uc Uploads) view(ctx context.Context, u domain.Upload) (UploadView, error) {
	v := UploadView{Upload: u}
	if u.Status != domain.UploadReady || u.Blocked {
		return v, nil // a blocked image is not served
	}
	v.DownloadExpiresAt = uc.Clock.Now().Add(uc.DownloadTTL)
	url, err := uc.Storage.DownloadURL(ctx, u.Key, v.DownloadExpiresAt)
	if err != nil {
		return UploadView{}, fmt.Errorf("download url: %w", err)
	}
	v.DownloadURL = url
	return v, nil
}

func (uc Uploads) newID() domain.UploadID {
	if uc.NewID != nil {
		return uc.NewID()
	}
	return randomUUID()
}

// randomUUID is a version 4 UUID from crypto/rand (google/uuid would pull
// database/sql into app/).
func randomUUID() domain.UploadID {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return domain.UploadID(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
}

// notFoundAsUpload gives a store's not-found the upload's message.
func notFoundAsUpload(err error) error {
	var e *domain.Error
	if errors.As(err, &e) && e.Code == domain.CodeNotFound {
		return &domain.Error{Code: domain.CodeNotFound, Message: "The upload does not exist.", Err: err}
	}
	return err
}

// UploadCleaner deletes uploads that were never completed (and rejected
// ones) once their deadline has passed, and every upload of a deleted
// account: first the object, then the row.
// Several replicas may run it at once: the store hands each expired upload
// to one of them.
type UploadCleaner struct {
	Store   ports.UploadStore
	Storage ports.ObjectStorage
	Clock   ports.Clock
	// Batch is how many uploads one transaction claims; zero means 100.
	Batch int
}

// CleanOnce deletes every expired upload, batch by batch, and returns how
// many it deleted. An object the storage fails to delete keeps its row for
// the next pass.
func (c UploadCleaner) CleanOnce(ctx context.Context) (int, error) {
	batch := c.Batch
	if batch <= 0 {
		batch = 100
	}
	total := 0
	for {
		n, err := c.Store.DeleteExpiredUploads(ctx, c.Clock.Now(), batch, func(ctx context.Context, u domain.Upload) error {
			return c.Storage.DeleteObject(ctx, u.Key)
		})
		total += n
		if err != nil || n < batch {
			return total, err
		}
	}
}
