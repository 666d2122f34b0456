package postgres_test

import (
	"context"
	"testing"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/domain"
)

func TestWeChatSessionKeyIsThatOfTheLatestLoginInTheApp(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewUserStore(db)
	ctx := context.Background()

	alice, _ := upsert(t, s, identity("wxapp", "open-alice", "", "key-1"))
	bob, _ := upsert(t, s, identity("wxapp", "open-bob", "", "key-of-bob"))
	if k, err := s.WeChatSessionKey(ctx, alice.ID, "wxapp"); err != nil || k.Reveal() != "key-1" {
		t.Fatalf("after the first login: key %q, %v; want key-1", k.Reveal(), err)
	}
	upsert(t, s, identity("wxapp", "open-alice", "", "key-2")) // wx.login again
	if k, err := s.WeChatSessionKey(ctx, alice.ID, "wxapp"); err != nil || k.Reveal() != "key-2" {
		t.Errorf("after the second login: key %q, %v; want key-2", k.Reveal(), err)
	}
	if k, err := s.WeChatSessionKey(ctx, bob.ID, "wxapp"); err != nil || k.Reveal() != "key-of-bob" {
		t.Errorf("bob's key %q, %v; want his own", k.Reveal(), err)
	}

	_, err := s.WeChatSessionKey(ctx, alice.ID, "wxother")
	wantCode(t, err, domain.CodeNotFound) // no identity in that app
	_, err = s.WeChatSessionKey(ctx, "not-a-uuid", "wxapp")
	wantCode(t, err, domain.CodeNotFound)
	_, err = s.WeChatSessionKey(ctx, "00000000-0000-0000-0000-000000000000", "wxapp")
	wantCode(t, err, domain.CodeNotFound)
}
