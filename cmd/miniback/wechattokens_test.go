package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/domain"
)

// lockedBuffer is a log sink safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestMainFetchesTheSharedWeChatTokenAtStartAndKeepsItInPostgreSQL: on
// the run command's defaults (the simulator), the background refresher
// fetches the app's token as the server starts, stores it for every
// replica, and the API caller uses it; no log line shows it.
func TestMainFetchesTheSharedWeChatTokenAtStartAndKeepsItInPostgreSQL(t *testing.T) {
	pgtest.SkipIfShort(t, "starts miniback")
	dbURL := pgtest.NewURL(t)
	cfg, err := LoadConfig([]string{"DATABASE_URL=" + dbURL, "MINIBACK_ADDR=127.0.0.1:0", "MINIBACK_DATA_DIR=" + t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	m := NewMain(cfg, logs)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := m.Run(ctx); err != nil {
		t.Fatal(errors.Join(err, m.Close()))
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = m.Close()
		}
	})

	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store := postgres.NewWeChatTokenStore(db)
	var st domain.WeChatTokenState
	for st.Token == "" {
		if ctx.Err() != nil {
			t.Fatalf("no token stored after start:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond) // for the refresher's goroutine, not for a clock
		if st, err = store.WeChatToken(ctx, wechatsim.DefaultAppID); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := m.wechatTokens.Token(ctx, wechatsim.DefaultAppID)
	if err != nil || tok != st.Token.Reveal() {
		t.Fatalf("Token: same as stored %t, err %v", tok == st.Token.Reveal(), err)
	}
	if n := m.sim.Simulator().CallsTo(wechatsim.APIStableToken); n != 1 {
		t.Errorf("stable_token called %d times, want 1", n)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	closed = true
	if !strings.Contains(logs.String(), `"msg":"wechat token: refreshed"`) || !strings.Contains(logs.String(), `"reason":"first"`) {
		t.Errorf("no refresh logged:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), tok) {
		t.Error("the access token appears in the log")
	}
}
