package app_test

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// memPushStore is the PushStore's contract in memory: one record per
// (app, key), claims with a lease.
type memPushStore struct {
	mu     sync.Mutex
	events map[string]*memPushEvent
	nextID int64
	purged []time.Time
}

type memPushEvent struct {
	id           int64
	message      domain.PushMessage
	deliveries   int
	token        string
	claimedUntil time.Time
	dispatched   bool
	receivedAt   time.Time
}

var _ ports.PushStore = (*memPushStore)(nil)

func (s *memPushStore) ClaimPushEvent(_ context.Context, e ports.PushEvent, now time.Time, lease time.Duration) (ports.PushClaim, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.events == nil {
		s.events = map[string]*memPushEvent{}
	}
	k := string(e.App) + "\x00" + e.Key
	ev, ok := s.events[k]
	if !ok {
		s.nextID++
		ev = &memPushEvent{id: s.nextID, message: e.Message, receivedAt: now}
		s.events[k] = ev
	}
	ev.deliveries++
	c := ports.PushClaim{ID: ev.id, Deliveries: ev.deliveries}
	if !ev.dispatched && !ev.claimedUntil.After(now) {
		ev.token = strconv.Itoa(ev.deliveries)
		ev.claimedUntil = now.Add(lease)
		c.Claimed, c.Token = true, ev.token
	}
	return c, nil
}

func (s *memPushStore) FinishPushEvent(_ context.Context, c ports.PushClaim, now time.Time, dispatched bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ev := range s.events {
		if ev.id == c.ID && ev.token == c.Token {
			ev.claimedUntil = time.Time{}
			ev.dispatched = dispatched
		}
	}
	return nil
}

func (s *memPushStore) PurgePushEvents(_ context.Context, before time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.purged = append(s.purged, before)
	return 0, nil
}

type fakeIdentitySessions struct {
	mu    sync.Mutex
	calls []string
	revs  []domain.Revocation
	err   error
}

func (f *fakeIdentitySessions) RevokeIdentitySessions(_ context.Context, app domain.AppID, openid domain.OpenID, reason domain.RevokeReason, at time.Time) ([]domain.Revocation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, string(app)+"/"+string(openid)+"/"+string(reason))
	return f.revs, f.err
}

type fakeMedia struct {
	calls []string
	err   error
}

func (f *fakeMedia) ApplyMediaVerdict(_ context.Context, app domain.AppID, traceID, suggest string, label int) error {
	f.calls = append(f.calls, string(app)+"/"+traceID+"/"+suggest+"/"+strconv.Itoa(label))
	return f.err
}

const (
	pushApp   = domain.AppID("wx00000000000000a1")
	pushToken = "pushtoken"
)

type pushFixture struct {
	uc       app.Push
	store    *memPushStore
	sessions *fakeIdentitySessions
	media    *fakeMedia
	revs     *app.Revocations
	now      time.Time
}

func newPushFixture(t *testing.T) *pushFixture {
	t.Helper()
	e, err := domain.NewPushEndpoint(pushToken, "", domain.PushPlain)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	f := &pushFixture{store: &memPushStore{}, sessions: &fakeIdentitySessions{}, media: &fakeMedia{}, now: now}
	f.revs = app.NewRevocations(fakeFeed{}, fixedClock{now}, time.Hour)
	f.uc = app.Push{
		Settings: app.PushSettings{Endpoints: map[domain.AppID]domain.PushEndpoint{pushApp: e}},
		Store:    f.store, Sessions: f.sessions, Revocations: f.revs, Media: f.media, Clock: fixedClock{now},
	}
	return f
}

// signed is a plaintext delivery signed with the app's token now.
func (f *pushFixture) signed() domain.PushQuery {
	ts := strconv.FormatInt(f.now.Unix(), 10)
	return domain.PushQuery{Signature: domain.PushSignature(pushToken, ts, "nonce1"), Timestamp: ts, Nonce: "nonce1"}
}

func revokeBody(openid, appID string) string {
	return `{"ToUserName":"gh_1","FromUserName":"platform","CreateTime":1740830400,"MsgType":"event",` +
		`"Event":"user_authorization_revoke","OpenID":"` + openid + `","AppID":"` + appID + `","RevokeInfo":"1"}`
}

func TestPushRevocationEndsTheUsersSessionsOnce(t *testing.T) {
	f := newPushFixture(t)
	f.sessions.revs = []domain.Revocation{{SessionID: "s1", UserID: "u1", RevokedAt: f.now}}
	body := []byte(revokeBody("o-alice", string(pushApp)))
	for i := range 4 { // WeChat's delivery and its three retries
		out, err := f.uc.Receive(context.Background(), pushApp, f.signed(), body)
		if err != nil {
			t.Fatal(err)
		}
		if out.Duplicate != (i > 0) || out.Event != domain.PushEventAuthorizationRevoke {
			t.Errorf("delivery %d: %+v", i, out)
		}
	}
	if want := []string{"wx00000000000000a1/o-alice/wechat_authorization_revoked"}; len(f.sessions.calls) != 1 || f.sessions.calls[0] != want[0] {
		t.Errorf("revocations = %v, want %v", f.sessions.calls, want)
	}
	if !f.revs.Revoked(ports.AccessClaims{SessionID: "s1", UserID: "u1", IssuedAt: f.now.Add(-time.Minute)}) {
		t.Error("this instance must refuse the ended session's tokens at once")
	}
}

func TestPushRevocationForAnotherAppEndsNothing(t *testing.T) {
	f := newPushFixture(t)
	if _, err := f.uc.Receive(context.Background(), pushApp, f.signed(), []byte(revokeBody("o-alice", "wx_plugin_app"))); err != nil {
		t.Fatal(err)
	}
	if len(f.sessions.calls) != 0 {
		t.Errorf("revoked %v", f.sessions.calls)
	}
}

func TestPushFailedDispatchIsRetriedByWeChatsNextDelivery(t *testing.T) {
	f := newPushFixture(t)
	f.sessions.err = domain.Errorf(domain.CodeUnavailable, "")
	body := []byte(revokeBody("o-bob", string(pushApp)))
	if _, err := f.uc.Receive(context.Background(), pushApp, f.signed(), body); domain.ErrorCode(err) != domain.CodeUnavailable {
		t.Fatalf("err = %v, want the store's unavailable", err)
	}
	f.sessions.err = nil
	out, err := f.uc.Receive(context.Background(), pushApp, f.signed(), body)
	if err != nil || out.Duplicate {
		t.Fatalf("retry: %+v, %v; want dispatched", out, err)
	}
	if len(f.sessions.calls) != 2 {
		t.Errorf("calls = %v, want the failed one and the retry", f.sessions.calls)
	}
	if out, _ := f.uc.Receive(context.Background(), pushApp, f.signed(), body); !out.Duplicate {
		t.Error("after a successful dispatch, a delivery is a duplicate")
	}
}

func TestPushMediaVerdictGoesToMediaVerdicts(t *testing.T) {
	f := newPushFixture(t)
	for i, body := range []string{
		`{"FromUserName":"o1","CreateTime":1,"MsgType":"event","Event":"wxa_media_check","appid":"wx00000000000000a1","trace_id":"t-1","version":2,"result":{"suggest":"risky","label":20002}}`,
		// The same second, another check: not a duplicate of the first.
		`{"FromUserName":"o1","CreateTime":1,"MsgType":"event","Event":"wxa_media_check","appid":"wx00000000000000a1","trace_id":"t-2","version":2,"result":{"suggest":"pass","label":100}}`,
		// A check that failed carries no verdict.
		`{"FromUserName":"o1","CreateTime":1,"MsgType":"event","Event":"wxa_media_check","trace_id":"t-3","errcode":43104}`,
	} {
		if _, err := f.uc.Receive(context.Background(), pushApp, f.signed(), []byte(body)); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
	}
	want := []string{"wx00000000000000a1/t-1/risky/20002", "wx00000000000000a1/t-2/pass/100"}
	if len(f.media.calls) != 2 || f.media.calls[0] != want[0] || f.media.calls[1] != want[1] {
		t.Errorf("verdicts = %v, want %v", f.media.calls, want)
	}
}

func TestPushMediaVerdictWithoutReceiverIsOnlyRecorded(t *testing.T) {
	f := newPushFixture(t)
	f.uc.Media = nil
	body := `{"FromUserName":"o1","CreateTime":1,"Event":"wxa_media_check","trace_id":"t-1","result":{"suggest":"risky","label":20002}}`
	if _, err := f.uc.Receive(context.Background(), pushApp, f.signed(), []byte(body)); err != nil {
		t.Fatal(err)
	}
	if len(f.store.events) != 1 {
		t.Errorf("recorded %d events", len(f.store.events))
	}
}

func TestPushFailingMediaVerdictFailsThePush(t *testing.T) {
	f := newPushFixture(t)
	f.media.err = errors.New("storage down")
	body := `{"FromUserName":"o1","CreateTime":1,"Event":"wxa_media_check","trace_id":"t-1","result":{"suggest":"risky","label":20002}}`
	if _, err := f.uc.Receive(context.Background(), pushApp, f.signed(), []byte(body)); err == nil {
		t.Fatal("want the verdict's error, so that WeChat delivers again")
	}
}

func TestPushUnknownEventsAreRecordedAndAcknowledged(t *testing.T) {
	f := newPushFixture(t)
	out, err := f.uc.Receive(context.Background(), pushApp, f.signed(), []byte(`<xml><FromUserName>o1</FromUserName><CreateTime>1</CreateTime><Event>some_new_event</Event></xml>`))
	if err != nil || out.Event != "some_new_event" || len(f.store.events) != 1 {
		t.Fatalf("%+v, %v, %d recorded", out, err, len(f.store.events))
	}
}

// strictPushStore fails the test on any call: nothing may reach the store.
type strictPushStore struct{ t *testing.T }

func (s strictPushStore) ClaimPushEvent(context.Context, ports.PushEvent, time.Time, time.Duration) (ports.PushClaim, error) {
	s.t.Error("an unauthenticated push reached the store")
	return ports.PushClaim{}, nil
}
func (s strictPushStore) FinishPushEvent(context.Context, ports.PushClaim, time.Time, bool) error {
	s.t.Error("an unauthenticated push reached the store")
	return nil
}
func (s strictPushStore) PurgePushEvents(context.Context, time.Time) (int64, error) { return 0, nil }

func TestPushRefusalsNeverReachTheStore(t *testing.T) {
	f := newPushFixture(t)
	f.uc.Store = strictPushStore{t}
	body := []byte(revokeBody("o-alice", string(pushApp)))
	bad := f.signed()
	bad.Signature = domain.PushSignature("another-token", bad.Timestamp, bad.Nonce)
	stale := domain.PushQuery{Timestamp: "1700000000", Nonce: "n"}
	stale.Signature = domain.PushSignature(pushToken, stale.Timestamp, stale.Nonce)
	for name, tc := range map[string]struct {
		app  domain.AppID
		q    domain.PushQuery
		want domain.Code
	}{
		"unknown app":     {"wx_unknown", f.signed(), domain.CodeNotFound},
		"wrong signature": {pushApp, bad, domain.CodePushSignatureInvalid},
		"no signature":    {pushApp, domain.PushQuery{Timestamp: bad.Timestamp, Nonce: bad.Nonce}, domain.CodePushSignatureInvalid},
		"stale":           {pushApp, stale, domain.CodePushTimestampStale},
	} {
		if _, err := f.uc.Receive(context.Background(), tc.app, tc.q, body); domain.ErrorCode(err) != tc.want {
			t.Errorf("%s: err = %v, want %s", name, err, tc.want)
		}
	}
	if len(f.sessions.calls) != 0 {
		t.Errorf("dispatched %v", f.sessions.calls)
	}
}

func TestPushVerifyURL(t *testing.T) {
	f := newPushFixture(t)
	q := f.signed()
	q.EchoStr = "12345"
	if echo, err := f.uc.VerifyURL(context.Background(), pushApp, q); err != nil || echo != "12345" {
		t.Errorf("VerifyURL = %q, %v", echo, err)
	}
	if _, err := f.uc.VerifyURL(context.Background(), "wx_unknown", q); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Errorf("unknown app: %v", err)
	}
}

func TestPushPurgeKeepsTheRetention(t *testing.T) {
	f := newPushFixture(t)
	if _, err := f.uc.PurgeOld(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.uc.Settings.Retention = time.Hour
	if _, err := f.uc.PurgeOld(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []time.Time{f.now.Add(-app.DefaultPushRetention), f.now.Add(-time.Hour)}
	if len(f.store.purged) != 2 || !f.store.purged[0].Equal(want[0]) || !f.store.purged[1].Equal(want[1]) {
		t.Errorf("purged before %v, want %v", f.store.purged, want)
	}
}

// purgeSignal is a push store whose purge reports its cutoff once.
type purgeSignal struct {
	memPushStore
	once   sync.Once
	before chan time.Time
}

func (s *purgeSignal) PurgePushEvents(_ context.Context, before time.Time) (int64, error) {
	s.once.Do(func() { s.before <- before })
	return 3, nil
}

func TestStartBackgroundPurgesPushedMessagesPastTheirRetention(t *testing.T) {
	store := &purgeSignal{before: make(chan time.Time, 1)}
	a := app.New(app.Ports{Clock: fixedClock{now}, RevocationFeed: fakeFeed{}, PushEvents: store},
		app.Options{Schedule: app.Schedule{PushPurge: time.Millisecond}, Push: app.PushSettings{Retention: 48 * time.Hour}})
	logs := &syncBuffer{}
	b := a.StartBackground(slog.New(slog.NewJSONHandler(logs, nil)))
	before := <-store.before
	b.Stop()
	if !before.Equal(now.Add(-48 * time.Hour)) {
		t.Errorf("purged before %s, want the retention before now", before)
	}
	if !strings.Contains(logs.String(), `"msg":"purged pushed messages past their retention","deleted":3`) {
		t.Errorf("log %q", logs.String())
	}
}
