package app

import (
	"context"
	"fmt"
	"time"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// MediaVerdicts applies the verdict of an asynchronous media check
// (mediaCheckAsync) that WeChat pushed as wxa_media_check: suggest is
// result.suggest (pass, review or risky) and label result.label. A trace
// id it does not know is no error (return nil); an error makes the push
// fail, and WeChat delivers it again.
type MediaVerdicts interface {
	ApplyMediaVerdict(ctx context.Context, app domain.AppID, traceID string, suggest string, label int) error
}

// PushSettings are the deployment's message push settings.
type PushSettings struct {
	// Endpoints are the apps whose push URL is served; the others' answer
	// 404.
	Endpoints map[domain.AppID]domain.PushEndpoint
	// MaxAge is how far a push's timestamp may be from the clock; zero
	// means domain.DefaultPushMaxAge.
	MaxAge time.Duration
	// Retention is how long received messages are kept; zero means
	// DefaultPushRetention.
	Retention time.Duration
}

// DefaultPushRetention is how long received messages are kept by default.
const DefaultPushRetention = 30 * 24 * time.Hour

// pushClaimLease is how long a delivery being dispatched holds its
// message: a retry within it is acknowledged as a duplicate; after it (the
// instance died mid-dispatch) the retry dispatches again. WeChat waits 5 s
// for an answer, and dispatches take milliseconds.
const pushClaimLease = time.Minute

// Push receives WeChat's message push: the URL check, and deliveries,
// which it authenticates, records once and dispatches.
type Push struct {
	Settings PushSettings
	Store    ports.PushStore
	Sessions ports.IdentitySessions
	// Revocations hears of the sessions a revocation ends at once.
	Revocations *Revocations
	// Media, when set, gets the verdicts of media checks.
	Media MediaVerdicts
	Clock ports.Clock
	// Subscriptions applies the users' subscription choices WeChat
	// pushes (popup and change events) to their grants.
	Subscriptions Subscriptions
}

// PushOutcome says what became of a delivery.
type PushOutcome struct {
	Event string
	// Duplicate: WeChat delivered the message before; it was acknowledged
	// and not dispatched again.
	Duplicate bool
}

var errNoPushEndpoint = domain.Errorf(domain.CodeNotFound, "No message push is configured here for this AppID.")

func (uc Push) endpoint(app domain.AppID) (domain.PushEndpoint, error) {
	e, ok := uc.Settings.Endpoints[app]
	if !ok {
		return domain.PushEndpoint{}, errNoPushEndpoint
	}
	return e, nil
}

func (uc Push) maxAge() time.Duration {
	if uc.Settings.MaxAge > 0 {
		return uc.Settings.MaxAge
	}
	return domain.DefaultPushMaxAge
}

// VerifyURL answers WeChat's check of app's push URL with the echostr.
func (uc Push) VerifyURL(_ context.Context, app domain.AppID, q domain.PushQuery) (string, error) {
	e, err := uc.endpoint(app)
	if err != nil {
		return "", err
	}
	return e.VerifyURL(q, uc.Clock.Now(), uc.maxAge())
}

// Receive authenticates a delivery to app's push URL, records its message
// and, the first time, dispatches it: a user who withdrew authorisation
// loses every session, a media verdict goes to Media, subscription choices
// are recorded (for the reminders), anything else is only recorded. An
// unauthenticated delivery is refused before its message is read.
func (uc Push) Receive(ctx context.Context, app domain.AppID, q domain.PushQuery, body []byte) (PushOutcome, error) {
	e, err := uc.endpoint(app)
	if err != nil {
		return PushOutcome{}, err
	}
	now := uc.Clock.Now()
	m, err := e.Open(app, q, body, now, uc.maxAge())
	if err != nil {
		return PushOutcome{}, err
	}
	out := PushOutcome{Event: m.Event}
	claim, err := uc.Store.ClaimPushEvent(ctx, ports.PushEvent{App: app, Key: m.DedupKey(), Message: m}, now, pushClaimLease)
	if err != nil {
		return out, fmt.Errorf("record push event: %w", err)
	}
	if !claim.Claimed {
		out.Duplicate = true
		return out, nil
	}
	if err := uc.dispatch(ctx, app, m, now); err != nil {
		// Released, so that WeChat's next delivery dispatches again.
		if ferr := uc.Store.FinishPushEvent(ctx, claim, now, false); ferr != nil {
			err = fmt.Errorf("%w (and releasing the claim: %v)", err, ferr)
		}
		return out, fmt.Errorf("dispatch push event %s: %w", m.Event, err)
	}
	if err := uc.Store.FinishPushEvent(ctx, claim, now, true); err != nil {
		// Dispatched all the same: at worst a retry after the lease
		// dispatches again, and every dispatch is idempotent.
		return out, fmt.Errorf("mark push event dispatched: %w", err)
	}
	return out, nil
}

// dispatch acts on a message. Each action is idempotent: a dispatch
// repeated after a failure does no harm.
func (uc Push) dispatch(ctx context.Context, app domain.AppID, m domain.PushMessage, now time.Time) error {
	switch m.Event {
	case domain.PushEventAuthorizationRevoke:
		// A revocation names the mini-program in AppID; one for another
		// app (a plugin's, say) ends nothing here.
		if m.OpenID == "" || (m.AppID != "" && m.AppID != app) {
			return nil
		}
		revs, err := uc.Sessions.RevokeIdentitySessions(ctx, app, m.OpenID, domain.RevokeWeChatAuthorization, now)
		if err != nil {
			return fmt.Errorf("end the sessions of a user who withdrew authorisation: %w", err)
		}
		uc.Revocations.Note(revs...)
	case domain.PushEventMediaCheck:
		// A check that failed (errcode, no result) has no verdict to apply.
		if uc.Media == nil || m.Media.TraceID == "" || m.Media.Suggest == "" {
			return nil
		}
		if err := uc.Media.ApplyMediaVerdict(ctx, app, m.Media.TraceID, m.Media.Suggest, m.Media.Label); err != nil {
			return fmt.Errorf("apply media verdict: %w", err)
		}
	case domain.PushEventSubscribePopup, domain.PushEventSubscribeChange:
		// Recorded with their items by the claim, and applied to the
		// user's grants: a popup's accept adds one, unless the
		// mini-program reported the same tap (Subscriptions).
		if err := uc.Subscriptions.RecordPushed(ctx, app, m.User(), m.Event, m.Subscriptions); err != nil {
			return err
		}
	}
	// Every other event (subscribe_msg_sent_event included: its items are
	// recorded by the claim) is recorded and acknowledged.
	return nil
}

// PurgeOld deletes the messages received longer ago than the retention.
func (uc Push) PurgeOld(ctx context.Context) (int64, error) {
	retain := uc.Settings.Retention
	if retain <= 0 {
		retain = DefaultPushRetention
	}
	n, err := uc.Store.PurgePushEvents(ctx, uc.Clock.Now().Add(-retain))
	if err != nil {
		return 0, fmt.Errorf("purge push events: %w", err)
	}
	return n, nil
}
