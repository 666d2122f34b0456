package main

import (
	"context"
	"log/slog"
	"runtime"
	"testing"

	"github.com/miniback/miniback/adapters/postgres/pgtest"
)

// TestDBMaxConnsSizesThePool: MINIBACK_DB_MAX_CONNS sizes the database
// pool; unset or 0, it is max(16, 4 × GOMAXPROCS), more than pgxpool's
// max(4, NumCPU) on a small machine.
func TestDBMaxConnsSizesThePool(t *testing.T) {
	url := pgtest.NewURL(t)
	for _, tc := range []struct {
		env  []string
		want int32
	}{
		{nil, int32(max(16, 4*runtime.GOMAXPROCS(0)))},
		{[]string{"MINIBACK_DB_MAX_CONNS=0"}, int32(max(16, 4*runtime.GOMAXPROCS(0)))},
		{[]string{"MINIBACK_DB_MAX_CONNS=3"}, 3},
		{[]string{"MINIBACK_DB_MAX_CONNS=40"}, 40},
	} {
		cfg, err := LoadConfig(append(tc.env, "DATABASE_URL="+url))
		if err != nil {
			t.Fatal(err)
		}
		m := &Main{Config: cfg, Logger: slog.New(slog.DiscardHandler)}
		if err := m.openDatabase(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := m.db.Pool().Config().MaxConns; got != tc.want {
			t.Errorf("%v: pool of %d connections, want %d", tc.env, got, tc.want)
		}
		m.db.Close()
	}
}
