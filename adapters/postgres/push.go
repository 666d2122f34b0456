package postgres

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/miniback/miniback/adapters/postgres/internal/sqlcgen"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

var (
	_ ports.PushStore        = (*PushStore)(nil)
	_ ports.IdentitySessions = (*SessionStore)(nil)
)

// PushStore keeps the messages WeChat pushed, in PostgreSQL.
type PushStore struct {
	db *DB
	q  *sqlcgen.Queries
}

// NewPushStore returns a PushStore backed by db.
func NewPushStore(db *DB) *PushStore {
	return &PushStore{db: db, q: db.queries()}
}

// ClaimPushEvent records the message, or counts another delivery of it,
// and claims it when it must be dispatched; a subscription event's items
// are recorded with its first delivery, in the same transaction.
func (s *PushStore) ClaimPushEvent(ctx context.Context, e ports.PushEvent, now time.Time, lease time.Duration) (ports.PushClaim, error) {
	m := e.Message
	claim := uuid.New()
	var out ports.PushClaim
	err := inTx(ctx, s.db, interpretError, func(q *sqlcgen.Queries) error {
		row, err := q.ClaimPushEvent(ctx, sqlcgen.ClaimPushEventParams{
			AppID: string(e.App), DedupKey: e.Key, MsgType: m.MsgType, Event: m.Event, OpenID: string(m.User()),
			MsgID: m.MsgID, CreateTime: m.CreatedAt(), Format: string(m.Format), Encrypted: m.Encrypted, Message: m.Text,
			Now: now, Claim: uuid.NullUUID{UUID: claim, Valid: true},
			ClaimedUntil: pgtype.Timestamptz{Time: now.Add(lease), Valid: true},
		})
		if err != nil {
			return err
		}
		out = ports.PushClaim{Claimed: row.Claimed, Deliveries: int(row.Deliveries), ID: row.ID}
		if row.Claimed {
			out.Token = claim.String()
		}
		if row.Deliveries != 1 || len(m.Subscriptions) == 0 {
			return nil
		}
		p := sqlcgen.InsertSubscriptionEventsParams{
			PushEventID: row.ID, AppID: string(e.App), OpenID: string(m.User()), Event: m.Event, CreateTime: m.CreatedAt(),
		}
		for i, it := range m.Subscriptions {
			p.Positions = append(p.Positions, int32(i))
			p.TemplateIds = append(p.TemplateIds, it.TemplateID)
			p.Statuses = append(p.Statuses, it.Status)
			p.PopupScenes = append(p.PopupScenes, it.PopupScene)
			p.MsgIds = append(p.MsgIds, it.MsgID)
			p.ErrorCodes = append(p.ErrorCodes, it.ErrorCode)
		}
		return q.InsertSubscriptionEvents(ctx, p)
	})
	if err != nil {
		return ports.PushClaim{}, err
	}
	return out, nil
}

// FinishPushEvent ends the claim c: done when dispatched, released when
// not. A claim that lapsed and was taken by another delivery changes
// nothing.
func (s *PushStore) FinishPushEvent(ctx context.Context, c ports.PushClaim, now time.Time, dispatched bool) error {
	token, err := uuid.Parse(c.Token)
	if err != nil {
		return nil // no claim to end
	}
	err = s.q.FinishPushEvent(ctx, sqlcgen.FinishPushEventParams{
		Dispatched: dispatched, Now: now, ID: c.ID, Claim: uuid.NullUUID{UUID: token, Valid: true},
	})
	return interpretError(err)
}

// PurgePushEvents deletes the messages first received before before, with
// their subscription items.
func (s *PushStore) PurgePushEvents(ctx context.Context, before time.Time) (int64, error) {
	n, err := s.q.PurgePushEvents(ctx, before)
	if err != nil {
		return 0, interpretError(err)
	}
	return n, nil
}

// RevokeIdentitySessions ends every live session of the user whose WeChat
// identity is (app, openid), recording each in the revocation feed, in one
// statement.
func (s *SessionStore) RevokeIdentitySessions(ctx context.Context, app domain.AppID, openid domain.OpenID, reason domain.RevokeReason, at time.Time) ([]domain.Revocation, error) {
	rows, err := s.q.RevokeIdentitySessions(ctx, sqlcgen.RevokeIdentitySessionsParams{
		AppID: string(app), OpenID: string(openid), RevokedAt: at, Reason: string(reason),
	})
	if err != nil {
		return nil, interpretError(err)
	}
	out := make([]domain.Revocation, len(rows))
	for i, r := range rows {
		out[i] = toRevocation(r.SessionID, r.UserID, r.RevokedAt)
	}
	return out, nil
}
