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

const window = 2 * time.Minute

func subscriber(t *testing.T, db *postgres.DB, openid string) domain.UserID {
	t.Helper()
	u, _, err := postgres.NewUserStore(db).UpsertWeChatUser(context.Background(), identity("wxapp", openid, "", "key"))
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func record(t *testing.T, s *postgres.SubscriptionStore, c ports.SubscriptionChoice) domain.Subscription {
	t.Helper()
	if c.App == "" {
		c.App = "wxapp"
	}
	if c.TemplateID == "" {
		c.TemplateID = "T1"
	}
	if c.SameWithin == 0 {
		c.SameWithin = window
	}
	sub, err := s.Record(context.Background(), c)
	if err != nil {
		t.Fatalf("Record(%+v): %v", c, err)
	}
	return sub
}

func TestRecordCountsEachAcceptanceOnceWhicheverSourceReportsIt(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewSubscriptionStore(db)
	alice := subscriber(t, db, "o-alice")
	client := func(at time.Time, result string) domain.Subscription {
		return record(t, s, ports.SubscriptionChoice{User: alice, Result: result, Source: ports.SubscriptionFromClient, At: at})
	}
	popup := func(at time.Time, result string) domain.Subscription {
		return record(t, s, ports.SubscriptionChoice{OpenID: "o-alice", Result: result, Source: ports.SubscriptionFromPopup, At: at})
	}
	steps := []struct {
		name string
		do   func() domain.Subscription
		want int
	}{
		{"the client reports a tap", func() domain.Subscription { return client(t0, "accept") }, 1},
		{"the push reports the same tap", func() domain.Subscription { return popup(t0.Add(3*time.Second), "accept") }, 1},
		{"two more taps, reported by the client", func() domain.Subscription {
			client(t0.Add(10*time.Second), "accept")
			return client(t0.Add(11*time.Second), "accept")
		}, 3},
		{"their pushes arrive after both", func() domain.Subscription {
			popup(t0.Add(12*time.Second), "accept")
			return popup(t0.Add(13*time.Second), "accept")
		}, 3},
		{"a push alone (the client never posted)", func() domain.Subscription { return popup(t0.Add(time.Hour), "accept") }, 4},
		{"a client accept long after: a new tap", func() domain.Subscription { return client(t0.Add(2*time.Hour), "accept") }, 5},
		{"a reject adds nothing", func() domain.Subscription { return client(t0.Add(3*time.Hour), "reject") }, 5},
		{"a change event's accept adds nothing", func() domain.Subscription {
			return record(t, s, ports.SubscriptionChoice{OpenID: "o-alice", Result: "accept", Source: ports.SubscriptionFromChange, At: t0.Add(4 * time.Hour)})
		}, 5},
	}
	for _, st := range steps {
		if got := st.do(); got.Remaining != st.want {
			t.Fatalf("%s: remaining %d, want %d", st.name, got.Remaining, st.want)
		}
	}
	subs, err := s.List(context.Background(), alice, "wxapp")
	if err != nil {
		t.Fatal(err)
	}
	if len(subs) != 1 || subs[0].Remaining != 5 || subs[0].Status != "accept" || subs[0].TemplateID != "T1" {
		t.Errorf("List = %+v", subs)
	}
}

func TestRecordKeepsTheLatestChoiceAsStatusAndBoundsTheGrants(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewSubscriptionStore(db)
	alice := subscriber(t, db, "o-alice")
	var sub domain.Subscription
	for i := range domain.MaxSubscribeGrants + 5 {
		sub = record(t, s, ports.SubscriptionChoice{User: alice, Result: "accept", Source: ports.SubscriptionFromClient, At: t0.Add(time.Duration(i) * time.Minute)})
	}
	if sub.Remaining != domain.MaxSubscribeGrants {
		t.Errorf("remaining %d after %d accepts, want the bound %d", sub.Remaining, domain.MaxSubscribeGrants+5, domain.MaxSubscribeGrants)
	}
	late := t0.Add(time.Duration(domain.MaxSubscribeGrants+10) * time.Minute)
	if sub = record(t, s, ports.SubscriptionChoice{OpenID: "o-alice", Result: "reject", Source: ports.SubscriptionFromChange, At: late}); sub.Status != "reject" {
		t.Errorf("status %q after a change to reject", sub.Status)
	}
	// A report older than the last choice does not overwrite it.
	if sub = record(t, s, ports.SubscriptionChoice{User: alice, Result: "ban", Source: ports.SubscriptionFromClient, At: late.Add(-time.Hour)}); sub.Status != "reject" {
		t.Errorf("status %q after an older report, want reject", sub.Status)
	}
	if sub.Remaining != domain.MaxSubscribeGrants {
		t.Errorf("remaining %d: a reject does not take grants away (WeChat keeps those accepted)", sub.Remaining)
	}
}

func TestRecordOfAPushForAnUnknownOpenIDIsNotFound(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewSubscriptionStore(db)
	_, err := s.Record(context.Background(), ports.SubscriptionChoice{App: "wxapp", OpenID: "o-nobody", TemplateID: "T1",
		Result: "accept", Source: ports.SubscriptionFromPopup, At: t0, SameWithin: window})
	if domain.ErrorCode(err) != domain.CodeNotFound {
		t.Errorf("err = %v, want not found", err)
	}
}

func TestListKeepsUsersAndAppsApart(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewSubscriptionStore(db)
	alice, bob := subscriber(t, db, "o-alice"), subscriber(t, db, "o-bob")
	record(t, s, ports.SubscriptionChoice{User: alice, Result: "accept", Source: ports.SubscriptionFromClient, At: t0})
	record(t, s, ports.SubscriptionChoice{User: alice, App: "wxother", Result: "accept", Source: ports.SubscriptionFromClient, At: t0})
	for _, tc := range []struct {
		user domain.UserID
		app  domain.AppID
		want int
	}{{alice, "wxapp", 1}, {alice, "wxother", 1}, {bob, "wxapp", 0}, {"not-a-uuid", "wxapp", 0}} {
		subs, err := s.List(context.Background(), tc.user, tc.app)
		if err != nil || len(subs) != tc.want {
			t.Errorf("List(%s, %s) = %v, %v; want %d", tc.user, tc.app, subs, err, tc.want)
		}
	}
}

// Concurrent reports of distinct taps by both sources pair off: N taps,
// each reported by the client and by the push, in any interleaving, are N
// grants.
func TestConcurrentReportsOfTheSameTapsCountEachOnce(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewSubscriptionStore(db)
	alice := subscriber(t, db, "o-alice")
	const taps = 10
	var wg sync.WaitGroup
	for i := range taps {
		at := t0.Add(time.Duration(i) * time.Second)
		for _, c := range []ports.SubscriptionChoice{
			{User: alice, Source: ports.SubscriptionFromClient},
			{OpenID: "o-alice", Source: ports.SubscriptionFromPopup},
		} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.App, c.TemplateID, c.Result, c.At, c.SameWithin = "wxapp", "T1", "accept", at, window
				if _, err := s.Record(context.Background(), c); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	subs, err := s.List(context.Background(), alice, "wxapp")
	if err != nil || len(subs) != 1 || subs[0].Remaining != taps {
		t.Errorf("List = %+v, %v; want %d grants", subs, err, taps)
	}
}

// BenchmarkRecordAcceptance is one client accept: lock, pair (none), an
// acceptance row, the grant.
func BenchmarkRecordAcceptance(b *testing.B) {
	db := pgtest.NewDB(b)
	s := postgres.NewSubscriptionStore(db)
	u, _, err := postgres.NewUserStore(db).UpsertWeChatUser(context.Background(), identity("wxapp", "o-bench", "", "key"))
	if err != nil {
		b.Fatal(err)
	}
	at := t0
	for b.Loop() {
		at = at.Add(time.Second)
		if _, err := s.Record(context.Background(), ports.SubscriptionChoice{User: u.ID, App: "wxapp", TemplateID: "T1", Result: "accept",
			Source: ports.SubscriptionFromClient, At: at, SameWithin: window}); err != nil {
			b.Fatal(err)
		}
	}
}
