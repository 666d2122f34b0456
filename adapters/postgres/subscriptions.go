package postgres

import (
	"context"

	"github.com/google/uuid"

	"github.com/miniback/miniback/adapters/postgres/internal/sqlcgen"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

var _ ports.SubscriptionStore = (*SubscriptionStore)(nil)

// SubscriptionStore keeps the users' subscriptions to subscribe-message
// templates (the subscriptions table) and the acceptances waiting for
// their twin from the other source (subscription_acceptances).
type SubscriptionStore struct {
	db *DB
	q  *sqlcgen.Queries
}

// NewSubscriptionStore returns a SubscriptionStore backed by db.
func NewSubscriptionStore(db *DB) *SubscriptionStore {
	return &SubscriptionStore{db: db, q: db.queries()}
}

// Record applies c in one transaction: the subscription row is created
// if new and locked (so the reports for one user and template apply one
// at a time); an accept from the client or the popup push first looks for
// the same acceptance reported by the other source within c.SameWithin
// and, finding it, consumes it and adds nothing; otherwise it adds one
// grant (at most domain.MaxSubscribeGrants) and waits for its twin. The
// status becomes c.Result unless a later choice is recorded.
func (s *SubscriptionStore) Record(ctx context.Context, c ports.SubscriptionChoice) (domain.Subscription, error) {
	var out domain.Subscription
	err := inTx(ctx, s.db, interpretError, func(q *sqlcgen.Queries) error {
		uid, err := s.user(ctx, q, c)
		if err != nil {
			return err
		}
		key := sqlcgen.LockSubscriptionParams{UserID: uid, AppID: string(c.App), TemplateID: c.TemplateID, Status: c.Result, UpdatedAt: c.At}
		if _, err := q.LockSubscription(ctx, key); err != nil {
			return err
		}
		add := int32(0)
		if c.Result == domain.SubscribeAccept && (c.Source == ports.SubscriptionFromClient || c.Source == ports.SubscriptionFromPopup) {
			add = 1
			if c.SameWithin > 0 {
				if err := q.PurgeAcceptances(ctx, c.At.Add(-2*c.SameWithin)); err != nil {
					return err
				}
				_, err := q.PairAcceptance(ctx, sqlcgen.PairAcceptanceParams{UserID: uid, AppID: string(c.App), TemplateID: c.TemplateID,
					Source: string(c.Source), FromAt: c.At.Add(-c.SameWithin), ToAt: c.At.Add(c.SameWithin)})
				switch {
				case err == nil:
					add = 0 // the twin of an acceptance already counted
				case domain.ErrorCode(interpretError(err)) == domain.CodeNotFound:
					err = q.InsertAcceptance(ctx, sqlcgen.InsertAcceptanceParams{UserID: uid, AppID: string(c.App),
						TemplateID: c.TemplateID, Source: string(c.Source), At: c.At})
					if err != nil {
						return err
					}
				default:
					return err
				}
			}
		}
		row, err := q.ApplySubscriptionChoice(ctx, sqlcgen.ApplySubscriptionChoiceParams{
			Add: add, Max: domain.MaxSubscribeGrants, At: c.At, Status: c.Result,
			UserID: uid, AppID: string(c.App), TemplateID: c.TemplateID,
		})
		if err != nil {
			return err
		}
		out = domain.Subscription{App: c.App, TemplateID: c.TemplateID, Remaining: int(row.Remaining), Status: row.Status,
			UpdatedAt: row.UpdatedAt}
		return nil
	})
	if err != nil {
		return domain.Subscription{}, err
	}
	return out, nil
}

// user is the user c names: by id, or by the openid a push carries.
func (s *SubscriptionStore) user(ctx context.Context, q *sqlcgen.Queries, c ports.SubscriptionChoice) (uuid.UUID, error) {
	if c.User != "" {
		uid, err := uuid.Parse(string(c.User))
		if err != nil {
			return uuid.UUID{}, domain.ErrUserNotFound(err)
		}
		return uid, nil
	}
	uid, err := q.UserByOpenID(ctx, sqlcgen.UserByOpenIDParams{AppID: string(c.App), OpenID: string(c.OpenID)})
	if err != nil {
		return uuid.UUID{}, notFoundAs(err, domain.ErrUserNotFound)
	}
	return uid, nil
}

// List returns the user's subscriptions in app, by template id.
func (s *SubscriptionStore) List(ctx context.Context, user domain.UserID, app domain.AppID) ([]domain.Subscription, error) {
	uid, err := uuid.Parse(string(user))
	if err != nil {
		return []domain.Subscription{}, nil // no such user has none
	}
	rows, err := s.q.ListSubscriptions(ctx, sqlcgen.ListSubscriptionsParams{UserID: uid, AppID: string(app)})
	if err != nil {
		return nil, interpretError(err)
	}
	out := make([]domain.Subscription, len(rows))
	for i, r := range rows {
		out[i] = domain.Subscription{App: app, TemplateID: r.TemplateID, Remaining: int(r.Remaining), Status: r.Status, UpdatedAt: r.UpdatedAt}
	}
	return out, nil
}
