package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/miniback/miniback/adapters/postgres/internal/sqlcgen"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

var _ ports.WeChatTokenStore = (*WeChatTokenStore)(nil)

// WeChatTokenStore keeps each app's WeChat access token, its refresh lease
// and its forced-refresh budget in PostgreSQL (table wechat_tokens), one
// row per app, shared by every replica. Each method is a single statement
// on a pooled connection that goes back to the pool at once.
type WeChatTokenStore struct {
	q *sqlcgen.Queries
}

// NewWeChatTokenStore returns a WeChatTokenStore backed by db.
func NewWeChatTokenStore(db *DB) *WeChatTokenStore {
	return &WeChatTokenStore{q: db.queries()}
}

// WeChatToken returns app's state, or a state with no token when the app
// has no row yet.
func (s *WeChatTokenStore) WeChatToken(ctx context.Context, app domain.AppID) (domain.WeChatTokenState, error) {
	row, err := s.q.GetWeChatToken(ctx, string(app))
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.WeChatTokenState{App: app}, nil
	}
	if err != nil {
		return domain.WeChatTokenState{}, interpretError(fmt.Errorf("get wechat token: %w", err))
	}
	return toWeChatTokenState(row), nil
}

// AcquireWeChatTokenLease takes app's lease for holder until until unless
// another holder's runs past now.
func (s *WeChatTokenStore) AcquireWeChatTokenLease(ctx context.Context, app domain.AppID, holder string, now, until time.Time) (domain.WeChatTokenState, bool, error) {
	row, err := s.q.AcquireWeChatTokenLease(ctx, sqlcgen.AcquireWeChatTokenLeaseParams{
		AppID: string(app), Holder: holder, LeaseUntil: until, Now: now,
	})
	return s.orCurrent(ctx, app, "acquire wechat token lease", row, err)
}

// StoreWeChatToken saves tok and ends holder's lease.
func (s *WeChatTokenStore) StoreWeChatToken(ctx context.Context, app domain.AppID, holder string, tok domain.WeChatAccessToken, expiresAt, fetchedAt time.Time) (domain.WeChatTokenState, bool, error) {
	row, err := s.q.StoreWeChatToken(ctx, sqlcgen.StoreWeChatTokenParams{
		AppID: string(app), Holder: holder, AccessToken: tok.Reveal(), ExpiresAt: expiresAt, FetchedAt: fetchedAt,
	})
	return s.orCurrent(ctx, app, "store wechat token", row, err)
}

// ReleaseWeChatTokenLease ends holder's lease, if it holds it.
func (s *WeChatTokenStore) ReleaseWeChatTokenLease(ctx context.Context, app domain.AppID, holder string) error {
	if err := s.q.ReleaseWeChatTokenLease(ctx, sqlcgen.ReleaseWeChatTokenLeaseParams{AppID: string(app), Holder: holder}); err != nil {
		return interpretError(fmt.Errorf("release wechat token lease: %w", err))
	}
	return nil
}

// SpendForcedRefresh counts one forced refresh at now if holder holds the
// lease and b allows it; the budget's rule is checked by the statement
// itself, so two replicas can never both spend the last one.
func (s *WeChatTokenStore) SpendForcedRefresh(ctx context.Context, app domain.AppID, holder string, now time.Time, b domain.ForceRefreshBudget) (domain.WeChatTokenState, bool, error) {
	day, err := time.Parse(time.DateOnly, domain.BeijingDay(now))
	if err != nil {
		return domain.WeChatTokenState{}, false, fmt.Errorf("beijing day: %w", err)
	}
	row, err := s.q.SpendForcedRefresh(ctx, sqlcgen.SpendForcedRefreshParams{
		AppID: string(app), Holder: holder, Day: pgtype.Date{Time: day, Valid: true}, Now: now,
		PerDay: int32(b.PerDay), NotBefore: now.Add(-b.Gap),
	})
	return s.orCurrent(ctx, app, "spend forced refresh", row, err)
}

// StopStableToken records that no replica calls stable_token for app
// before notBefore; a later stop already stored stays.
func (s *WeChatTokenStore) StopStableToken(ctx context.Context, app domain.AppID, notBefore time.Time) error {
	if err := s.q.StopStableToken(ctx, sqlcgen.StopStableTokenParams{AppID: string(app), NotBefore: notBefore}); err != nil {
		return interpretError(fmt.Errorf("stop stable_token: %w", err))
	}
	return nil
}

// orCurrent turns the result of a conditional statement into (state, ok):
// no row means the condition failed, and the app's current state is read
// so that the caller can tell why.
func (s *WeChatTokenStore) orCurrent(ctx context.Context, app domain.AppID, what string, row sqlcgen.WechatToken, err error) (domain.WeChatTokenState, bool, error) {
	if errors.Is(err, pgx.ErrNoRows) {
		cur, err := s.WeChatToken(ctx, app)
		return cur, false, err
	}
	if err != nil {
		return domain.WeChatTokenState{}, false, interpretError(fmt.Errorf("%s: %w", what, err))
	}
	return toWeChatTokenState(row), true, nil
}

// never is the 'epoch' the table stores for "never".
var never = time.Unix(0, 0)

// orZero turns the table's 'epoch' into the zero time.
func orZero(t time.Time) time.Time {
	if t.Equal(never) {
		return time.Time{}
	}
	return t
}

func toWeChatTokenState(r sqlcgen.WechatToken) domain.WeChatTokenState {
	s := domain.WeChatTokenState{
		App:         domain.AppID(r.AppID),
		Token:       domain.WeChatAccessToken(r.AccessToken),
		ExpiresAt:   orZero(r.ExpiresAt),
		Generation:  r.Generation,
		FetchedAt:   orZero(r.FetchedAt),
		FetchedBy:   r.FetchedBy,
		LeaseHolder: r.LeaseHolder,
		LeaseUntil:  orZero(r.LeaseUntil),
		Forced:      domain.ForcedRefreshes{Count: int(r.ForcedCount), Last: orZero(r.LastForcedAt)},

		StableTokenNotBefore: orZero(r.StableTokenNotBefore),
	}
	if r.ForcedCount > 0 && r.ForceDay.Valid {
		s.Forced.Day = r.ForceDay.Time.Format(time.DateOnly)
	}
	return s
}
