package ports

import (
	"context"
	"time"

	"github.com/miniback/miniback/domain"
)

// WeChatTokenStore keeps each served app's access token for the whole
// deployment, with the lease that lets one replica at a time refresh it
// and the forced-refresh budget every replica spends from. Each method is
// one short statement: nothing holds a connection, a lock or a transaction
// while a replica calls WeChat.
type WeChatTokenStore interface {
	// WeChatToken returns app's state; a state with no token (App set)
	// when nothing was stored yet.
	WeChatToken(ctx context.Context, app domain.AppID) (domain.WeChatTokenState, error)
	// AcquireWeChatTokenLease makes holder app's refresher until until,
	// unless another holder's lease runs past now, and returns the state
	// as it is then. ok is false when another holder keeps the lease.
	AcquireWeChatTokenLease(ctx context.Context, app domain.AppID, holder string, now, until time.Time) (s domain.WeChatTokenState, ok bool, err error)
	// StoreWeChatToken saves tok (expiring at expiresAt, fetched at
	// fetchedAt by holder) and ends holder's lease. ok is false, and
	// nothing is written, when holder no longer holds the lease.
	StoreWeChatToken(ctx context.Context, app domain.AppID, holder string, tok domain.WeChatAccessToken, expiresAt, fetchedAt time.Time) (s domain.WeChatTokenState, ok bool, err error)
	// ReleaseWeChatTokenLease ends holder's lease, if it holds it.
	ReleaseWeChatTokenLease(ctx context.Context, app domain.AppID, holder string) error
	// SpendForcedRefresh counts one forced refresh at now, in one
	// statement, if holder holds the lease and b allows it
	// (domain.ForceRefreshBudget.Check), and returns the state. ok is
	// false, and nothing is counted, otherwise.
	SpendForcedRefresh(ctx context.Context, app domain.AppID, holder string, now time.Time, b domain.ForceRefreshBudget) (s domain.WeChatTokenState, ok bool, err error)
	// StopStableToken records that no replica may call stable_token for
	// app before notBefore (its daily quota is used up): the state's
	// StableTokenNotBefore becomes notBefore, unless it is already later.
	StopStableToken(ctx context.Context, app domain.AppID, notBefore time.Time) error
}
