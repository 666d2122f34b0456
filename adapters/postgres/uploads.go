package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/miniback/miniback/adapters/postgres/internal/sqlcgen"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

var _ ports.UploadStore = (*UploadStore)(nil)

// UploadStore keeps uploads in PostgreSQL.
type UploadStore struct {
	db *DB
	q  *sqlcgen.Queries
}

// NewUploadStore returns an UploadStore backed by db.
func NewUploadStore(db *DB) *UploadStore {
	return &UploadStore{db: db, q: db.queries()}
}

// CreateUpload records a new upload.
func (s *UploadStore) CreateUpload(ctx context.Context, u domain.Upload) error {
	id, err := parseUploadID(u.ID)
	if err != nil {
		return err
	}
	owner, err := parseUserID(u.Owner)
	if err != nil {
		return err
	}
	err = s.q.CreateUpload(ctx, sqlcgen.CreateUploadParams{
		ID:          id,
		OwnerID:     uuid.NullUUID{UUID: owner, Valid: true},
		Purpose:     string(u.Purpose),
		Status:      string(u.Status),
		ObjectKey:   u.Key,
		ContentType: u.ContentType,
		SizeBytes:   u.Size,
		FileName:    u.FileName,
		CreatedAt:   u.CreatedAt,
		ExpiresAt:   u.ExpiresAt,
	})
	return interpretError(err)
}

// GetUpload returns the upload with the given id, or CodeNotFound.
func (s *UploadStore) GetUpload(ctx context.Context, id domain.UploadID) (domain.Upload, error) {
	uid, err := parseUploadID(id)
	if err != nil {
		return domain.Upload{}, err
	}
	row, err := s.q.GetUpload(ctx, uid)
	if err != nil {
		return domain.Upload{}, uploadError(err)
	}
	return toUpload(row), nil
}

// UpdateUpload locks the upload's row, lets fn change it and saves its
// status, in one transaction. An error from fn rolls back and is returned
// unchanged.
func (s *UploadStore) UpdateUpload(ctx context.Context, id domain.UploadID, fn func(domain.Upload) (domain.Upload, error)) (domain.Upload, error) {
	uid, err := parseUploadID(id)
	if err != nil {
		return domain.Upload{}, err
	}
	return update(ctx, s.db, uploadError,
		func(q *sqlcgen.Queries) (domain.Upload, error) {
			row, err := q.GetUploadForUpdate(ctx, uid)
			return toUpload(row), err
		},
		fn,
		func(q *sqlcgen.Queries, current, next domain.Upload) (domain.Upload, error) {
			if next.Status == current.Status && next.RejectReason == current.RejectReason && next.CompletedAt.Equal(current.CompletedAt) {
				return next, nil // only the status columns are stored
			}
			return next, q.UpdateUploadStatus(ctx, sqlcgen.UpdateUploadStatusParams{
				ID: uid, Status: string(next.Status), RejectReason: string(next.RejectReason), CompletedAt: timestamptz(next.CompletedAt),
			})
		})
}

// DeleteExpiredUploads claims expired uploads that are not ready, and the
// uploads of deleted accounts, with
// SELECT ... FOR UPDATE SKIP LOCKED, so concurrent cleaners (one per
// replica) each get different rows, and a completion in progress keeps its
// row. For each it calls remove (delete the object) and then deletes the
// row; a row whose remove failed stays for the next pass. Everything
// commits at the end, so a crash in between leaves the rows to be claimed
// again (deleting an object twice is harmless).
func (s *UploadStore) DeleteExpiredUploads(ctx context.Context, now time.Time, limit int, remove func(context.Context, domain.Upload) error) (int, error) {
	deleted := 0
	var removeErrs []error
	err := inTx(ctx, s.db, interpretError, func(q *sqlcgen.Queries) error {
		rows, err := q.ClaimExpiredUploads(ctx, sqlcgen.ClaimExpiredUploadsParams{Now: now, MaxRows: int32(limit)})
		if err != nil {
			return fmt.Errorf("claim expired uploads: %w", err)
		}
		for _, row := range rows {
			u := toUpload(row)
			if err := remove(ctx, u); err != nil {
				removeErrs = append(removeErrs, fmt.Errorf("remove object of upload %s: %w", u.ID, err))
				continue
			}
			if err := q.DeleteUpload(ctx, row.ID); err != nil {
				return fmt.Errorf("delete upload: %w", err)
			}
			deleted++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return deleted, errors.Join(removeErrs...)
}

// parseUploadID turns a domain.UploadID into a UUID; an id that is not a
// UUID names no upload.
func parseUploadID(id domain.UploadID) (uuid.UUID, error) {
	uid, err := uuid.Parse(string(id))
	if err != nil {
		return uuid.UUID{}, uploadNotFound(fmt.Errorf("parse upload id: %w", err))
	}
	return uid, nil
}

// uploadError is interpretError for uploads: no row is an upload that is
// not found.
func uploadError(err error) error { return notFoundAs(err, uploadNotFound) }

func uploadNotFound(cause error) *domain.Error {
	e := domain.ErrUploadNotFound()
	e.Err = cause
	return e
}

func toUpload(row sqlcgen.Upload) domain.Upload {
	u := domain.Upload{
		ID: domain.UploadID(row.ID.String()),
		// An upload of a deleted account has no owner: it is nobody's and
		// waits for the cleaner.
		Purpose:      domain.UploadPurpose(row.Purpose),
		Status:       domain.UploadStatus(row.Status),
		Key:          row.ObjectKey,
		ContentType:  row.ContentType,
		Size:         row.SizeBytes,
		FileName:     row.FileName,
		RejectReason: domain.Code(row.RejectReason),
		CreatedAt:    row.CreatedAt.UTC(),
		ExpiresAt:    row.ExpiresAt.UTC(),
		Blocked:      row.Blocked,
	}
	if row.OwnerID.Valid {
		u.Owner = domain.UserID(row.OwnerID.UUID.String())
	}
	if row.CompletedAt.Valid {
		u.CompletedAt = row.CompletedAt.Time.UTC()
	}
	return u
}

func timestamptz(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}
