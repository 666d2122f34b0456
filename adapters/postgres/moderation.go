package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/miniback/miniback/adapters/postgres/internal/sqlcgen"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

var _ ports.ModerationStore = (*ModerationStore)(nil)

// ModerationStore keeps content security's moderation items in
// PostgreSQL, and the blocked flag of the uploads they are about.
type ModerationStore struct {
	db *DB
	q  *sqlcgen.Queries
}

// NewModerationStore returns a ModerationStore backed by db.
func NewModerationStore(db *DB) *ModerationStore {
	return &ModerationStore{db: db, q: db.queries()}
}

// WeChatOpenID returns the user's openid in app, or with app "" in the
// mini-program they last logged in with.
func (s *ModerationStore) WeChatOpenID(ctx context.Context, user domain.UserID, app domain.AppID) (domain.AppID, domain.OpenID, bool, error) {
	uid, err := uuid.Parse(string(user))
	if err != nil {
		return "", "", false, nil // no such user has no identity
	}
	var appID, openID string
	if app != "" {
		row, err := s.q.WeChatOpenIDInApp(ctx, sqlcgen.WeChatOpenIDInAppParams{UserID: uid, AppID: string(app)})
		appID, openID = row.AppID, row.OpenID
		if err != nil {
			return noIdentity(err)
		}
	} else {
		row, err := s.q.AnyWeChatOpenID(ctx, uid)
		appID, openID = row.AppID, row.OpenID
		if err != nil {
			return noIdentity(err)
		}
	}
	return domain.AppID(appID), domain.OpenID(openID), true, nil
}

// noIdentity turns "no row" into "no identity" and classifies the rest.
func noIdentity(err error) (domain.AppID, domain.OpenID, bool, error) {
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", false, nil
	}
	return "", "", false, interpretError(err)
}

// Flag records an open item, or refreshes the open one of the same
// subject and field.
func (s *ModerationStore) Flag(ctx context.Context, it domain.ModerationItem) error {
	uid, sid, err := itemIDs(it)
	if err != nil {
		return err
	}
	return interpretError(s.q.FlagContent(ctx, sqlcgen.FlagContentParams{
		UserID: uid, AppID: string(it.App), Subject: string(it.Subject), SubjectID: sid, Field: string(it.Field),
		Content: it.Content, Verdict: it.Verdict, Label: int32(it.Label), TraceID: it.TraceID, Reason: it.Reason,
		Now: it.UpdatedAt,
	}))
}

// AddMediaCheck records an image check.
func (s *ModerationStore) AddMediaCheck(ctx context.Context, it domain.ModerationItem) error {
	uid, sid, err := itemIDs(it)
	if err != nil {
		return err
	}
	return interpretError(s.q.InsertMediaCheck(ctx, sqlcgen.InsertMediaCheckParams{
		UserID: uid, AppID: string(it.App), SubjectID: sid, Field: string(it.Field),
		Verdict: it.Verdict, TraceID: it.TraceID, Reason: it.Reason, Status: string(it.Status), Now: it.CreatedAt,
	}))
}

// itemIDs parses the author's and the subject's ids.
func itemIDs(it domain.ModerationItem) (user, subject uuid.UUID, err error) {
	if user, err = parseUserID(it.User); err != nil {
		return user, subject, err
	}
	if subject, err = uuid.Parse(it.SubjectID); err != nil {
		return user, subject, fmt.Errorf("moderation subject id %q is not a UUID: %w", it.SubjectID, err)
	}
	return user, subject, nil
}

// UpdateMediaCheck locks the check of (app, traceID), lets fn change it,
// and saves it with its upload's blocked flag, in one transaction.
func (s *ModerationStore) UpdateMediaCheck(ctx context.Context, app domain.AppID, traceID string, fn func(domain.ModerationItem) (domain.ModerationItem, error)) (domain.ModerationItem, error) {
	return s.update(ctx, func(q *sqlcgen.Queries) (sqlcgen.ModerationItem, error) {
		return q.GetMediaCheckForUpdate(ctx, sqlcgen.GetMediaCheckForUpdateParams{AppID: string(app), TraceID: traceID})
	}, fn)
}

// UpdateModerationItem is UpdateMediaCheck for the item id.
func (s *ModerationStore) UpdateModerationItem(ctx context.Context, id domain.ModerationID, fn func(domain.ModerationItem) (domain.ModerationItem, error)) (domain.ModerationItem, error) {
	mid, err := uuid.Parse(string(id))
	if err != nil {
		return domain.ModerationItem{}, domain.ErrModerationItemNotFound(err)
	}
	return s.update(ctx, func(q *sqlcgen.Queries) (sqlcgen.ModerationItem, error) {
		return q.GetModerationItemForUpdate(ctx, mid)
	}, fn)
}

func (s *ModerationStore) update(ctx context.Context, lock func(*sqlcgen.Queries) (sqlcgen.ModerationItem, error), fn func(domain.ModerationItem) (domain.ModerationItem, error)) (domain.ModerationItem, error) {
	return update(ctx, s.db, moderationError,
		func(q *sqlcgen.Queries) (domain.ModerationItem, error) {
			row, err := lock(q)
			return toModerationItem(row), err
		},
		fn,
		func(q *sqlcgen.Queries, current, next domain.ModerationItem) (domain.ModerationItem, error) {
			if next == current {
				return next, nil
			}
			id, err := uuid.Parse(string(next.ID))
			if err != nil {
				return next, fmt.Errorf("moderation item id: %w", err)
			}
			if err := q.UpdateModerationItem(ctx, sqlcgen.UpdateModerationItemParams{
				ID: id, Verdict: next.Verdict, Label: int32(next.Label), Reason: next.Reason,
				Status: string(next.Status), UpdatedAt: next.UpdatedAt,
			}); err != nil {
				return next, fmt.Errorf("update moderation item: %w", err)
			}
			if next.Subject == domain.SubjectUpload && next.BlocksUpload() != current.BlocksUpload() {
				upload, err := uuid.Parse(next.SubjectID)
				if err != nil {
					return next, fmt.Errorf("moderation upload id: %w", err)
				}
				// An upload deleted meanwhile updates nothing: fine.
				if err := q.SetUploadBlocked(ctx, sqlcgen.SetUploadBlockedParams{ID: upload, Blocked: next.BlocksUpload()}); err != nil {
					return next, fmt.Errorf("set upload blocked: %w", err)
				}
			}
			return next, nil
		})
}

// ListModeration returns a page of items of q.Status, newest first.
func (s *ModerationStore) ListModeration(ctx context.Context, q domain.ModerationQuery, max int) ([]domain.ModerationItem, error) {
	p := sqlcgen.ListModerationItemsParams{Status: string(q.Status), MaxRows: int32(max)}
	if q.After != nil {
		id, err := uuid.Parse(string(q.After.ID))
		if err != nil {
			return nil, domain.Invalid(domain.FieldError{Field: "query.cursor", Code: "invalid", Message: "cursor is not one this server returned"})
		}
		p.HasAfter, p.AfterCreatedAt, p.AfterID = true, q.After.CreatedAt, id
	}
	rows, err := s.q.ListModerationItems(ctx, p)
	if err != nil {
		return nil, interpretError(err)
	}
	out := make([]domain.ModerationItem, len(rows))
	for i, r := range rows {
		out[i] = toModerationItem(r)
	}
	return out, nil
}

// moderationError is interpretError for moderation items.
func moderationError(err error) error { return notFoundAs(err, domain.ErrModerationItemNotFound) }

func toModerationItem(r sqlcgen.ModerationItem) domain.ModerationItem {
	return domain.ModerationItem{
		ID:        domain.ModerationID(r.ID.String()),
		User:      domain.UserID(r.UserID.String()),
		App:       domain.AppID(r.AppID),
		Subject:   domain.ModerationSubject(r.Subject),
		SubjectID: r.SubjectID.String(),
		Field:     domain.ContentField(r.Field),
		Content:   r.Content,
		Verdict:   r.Verdict,
		Label:     int(r.Label),
		TraceID:   r.TraceID,
		Reason:    r.Reason,
		Status:    domain.ModerationStatus(r.Status),
		CreatedAt: r.CreatedAt.UTC(),
		UpdatedAt: r.UpdatedAt.UTC(),
	}
}
