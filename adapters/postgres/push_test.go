package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

const lease = time.Minute

func pushEvent(t *testing.T, body string) ports.PushEvent {
	t.Helper()
	m, err := domain.ParsePushMessage([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return ports.PushEvent{App: "wxapp", Key: m.DedupKey(), Message: m}
}

const popupBody = `<xml><ToUserName>gh_1</ToUserName><FromUserName>o-alice</FromUserName><CreateTime>1740000000</CreateTime><MsgType>event</MsgType>
<Event>subscribe_msg_popup_event</Event><SubscribeMsgPopupEvent>
<List><TemplateId>T1</TemplateId><SubscribeStatusString>accept</SubscribeStatusString><PopupScene>0</PopupScene></List>
<List><TemplateId>T2</TemplateId><SubscribeStatusString>reject</SubscribeStatusString><PopupScene>0</PopupScene></List>
</SubscribeMsgPopupEvent></xml>`

func claim(t *testing.T, s *postgres.PushStore, e ports.PushEvent, now time.Time) ports.PushClaim {
	t.Helper()
	c, err := s.ClaimPushEvent(context.Background(), e, now, lease)
	if err != nil {
		t.Fatalf("ClaimPushEvent: %v", err)
	}
	return c
}

func TestClaimPushEventRecordsAMessageOnceAndClaimsItOnce(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewPushStore(db)
	e := pushEvent(t, popupBody)

	first := claim(t, s, e, t0)
	if !first.Claimed || first.Deliveries != 1 || first.Token == "" {
		t.Fatalf("first delivery: %+v, want claimed", first)
	}
	// A retry while the first is dispatching: a duplicate.
	if c := claim(t, s, e, t0.Add(time.Second)); c.Claimed || c.Deliveries != 2 {
		t.Errorf("retry during the dispatch: %+v, want not claimed", c)
	}
	if err := s.FinishPushEvent(context.Background(), first, t0.Add(time.Second), true); err != nil {
		t.Fatal(err)
	}
	// After the dispatch, even past the lease: a duplicate.
	if c := claim(t, s, e, t0.Add(2*lease)); c.Claimed || c.Deliveries != 3 {
		t.Errorf("retry after the dispatch: %+v, want not claimed", c)
	}

	var rows, items int
	var message, status string
	var encrypted bool
	var dispatched *time.Time
	pool := db.Pool()
	if err := pool.QueryRow(context.Background(), `SELECT count(*), min(message), bool_or(encrypted), min(dispatched_at) FROM wechat_push_events`).
		Scan(&rows, &message, &encrypted, &dispatched); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || message != popupBody || encrypted || dispatched == nil || !dispatched.Equal(t0.Add(time.Second)) {
		t.Errorf("rows %d, message kept %v, encrypted %v, dispatched %v", rows, message == popupBody, encrypted, dispatched)
	}
	if err := pool.QueryRow(context.Background(),
		`SELECT count(*), string_agg(template_id || '=' || status || '@' || open_id || '/' || create_time, ',' ORDER BY position)
		 FROM wechat_subscription_events`).Scan(&items, &status); err != nil {
		t.Fatal(err)
	}
	if items != 2 || status != "T1=accept@o-alice/1740000000,T2=reject@o-alice/1740000000" {
		t.Errorf("subscription items: %d %q; want each template once", items, status)
	}
}

func TestClaimPushEventAfterAFailedOrAbandonedDispatch(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewPushStore(db)
	e := pushEvent(t, popupBody)

	failed := claim(t, s, e, t0)
	if err := s.FinishPushEvent(context.Background(), failed, t0, false); err != nil {
		t.Fatal(err)
	}
	retry := claim(t, s, e, t0.Add(time.Second))
	if !retry.Claimed {
		t.Fatalf("the delivery after a failed dispatch: %+v, want claimed", retry)
	}
	// The retry's instance dies: its claim lapses after the lease.
	if c := claim(t, s, e, t0.Add(time.Second+lease-time.Millisecond)); c.Claimed {
		t.Error("claimed within another delivery's lease")
	}
	late := claim(t, s, e, t0.Add(time.Second+lease))
	if !late.Claimed {
		t.Fatal("the delivery after the lease lapsed must claim")
	}
	// The dead delivery's claim ends nothing now.
	if err := s.FinishPushEvent(context.Background(), retry, t0.Add(2*lease), true); err != nil {
		t.Fatal(err)
	}
	if c := claim(t, s, e, t0.Add(time.Second+lease+30*time.Second)); c.Claimed {
		t.Error("still held by the late delivery: must not be claimed")
	}
	var items int
	if err := db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM wechat_subscription_events`).Scan(&items); err != nil {
		t.Fatal(err)
	}
	if items != 2 {
		t.Errorf("%d subscription items, want the 2 of the first delivery", items)
	}
}

func TestClaimPushEventConcurrentDeliveriesClaimOnce(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewPushStore(db)
	e := pushEvent(t, popupBody)
	var wg sync.WaitGroup
	var mu sync.Mutex
	claimed := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := s.ClaimPushEvent(context.Background(), e, t0, lease)
			if err != nil {
				t.Error(err)
				return
			}
			if c.Claimed {
				mu.Lock()
				claimed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if claimed != 1 {
		t.Errorf("%d deliveries claimed the message, want 1", claimed)
	}
}

func TestClaimPushEventKeepsAppsApart(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewPushStore(db)
	a := pushEvent(t, popupBody)
	b := a
	b.App = "wxother"
	if !claim(t, s, a, t0).Claimed || !claim(t, s, b, t0).Claimed {
		t.Error("the same message to two apps is two messages")
	}
}

func TestPurgePushEventsDeletesOldMessagesWithTheirItems(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewPushStore(db)
	old := pushEvent(t, popupBody)
	recent := pushEvent(t, `{"FromUserName":"o-bob","CreateTime":1740000001,"Event":"some_event"}`)
	claim(t, s, old, t0)
	claim(t, s, recent, t0.Add(48*time.Hour))
	n, err := s.PurgePushEvents(context.Background(), t0.Add(24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("purged %d, %v; want 1", n, err)
	}
	var events, items int
	if err := db.Pool().QueryRow(context.Background(),
		`SELECT (SELECT count(*) FROM wechat_push_events), (SELECT count(*) FROM wechat_subscription_events)`).Scan(&events, &items); err != nil {
		t.Fatal(err)
	}
	if events != 1 || items != 0 {
		t.Errorf("left %d events and %d items, want 1 and 0", events, items)
	}
}

func TestRevokeIdentitySessionsEndsEveryLiveSessionOfThatUserOnly(t *testing.T) {
	db := pgtest.NewDB(t)
	users, sessions := postgres.NewUserStore(db), postgres.NewSessionStore(db)
	alice := newUser(t, users, "alice") // identity (wxapp, open-alice)
	bob := newUser(t, users, "bob")
	a1, _ := startSession(t, sessions, alice.ID)
	a2, _ := startSession(t, sessions, alice.ID)
	b1, _ := startSession(t, sessions, bob.ID)
	at := t0.Add(time.Hour)

	revs, err := sessions.RevokeIdentitySessions(context.Background(), "wxapp", "open-alice", domain.RevokeWeChatAuthorization, at)
	if err != nil {
		t.Fatal(err)
	}
	got := map[domain.SessionID]bool{}
	for _, r := range revs {
		if r.UserID != alice.ID || !r.RevokedAt.Equal(at) {
			t.Errorf("revocation %+v", r)
		}
		got[r.SessionID] = true
	}
	if len(revs) != 2 || !got[a1.ID] || !got[a2.ID] {
		t.Errorf("revoked %v, want alice's two sessions", revs)
	}
	live, err := sessions.ListActiveSessions(context.Background(), bob.ID, at, 10)
	if err != nil || len(live) != 1 || live[0].ID != b1.ID {
		t.Errorf("bob's sessions: %v, %v", live, err)
	}
	// The feed every replica reads has them.
	feed, _, err := sessions.RevocationsSince(context.Background(), ports.RevocationCursor{}, t0)
	if err != nil || len(feed) != 2 {
		t.Errorf("feed: %v, %v", feed, err)
	}
	// Again: nothing left to end. An unknown identity: nothing at all.
	for _, openid := range []domain.OpenID{"open-alice", "open-nobody"} {
		if revs, err := sessions.RevokeIdentitySessions(context.Background(), "wxapp", openid, domain.RevokeWeChatAuthorization, at); err != nil || len(revs) != 0 {
			t.Errorf("%s: %v, %v; want none", openid, revs, err)
		}
	}
	// Another app's user with the same openid keeps theirs.
	if revs, _ := sessions.RevokeIdentitySessions(context.Background(), "wxother", "open-bob", domain.RevokeWeChatAuthorization, at); len(revs) != 0 {
		t.Errorf("revoked across apps: %v", revs)
	}
}
