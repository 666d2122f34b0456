package postgres_test

import (
	"context"
	"net/url"
	"runtime"
	"testing"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
)

// TestOpenWithSizesThePoolUnlessTheURLDoes: Options.MaxConns sizes the
// pool; a URL's pool_max_conns wins over it; zero means DefaultMaxConns,
// max(16, 4 × GOMAXPROCS), as Open has; a negative size is refused.
func TestOpenWithSizesThePoolUnlessTheURLDoes(t *testing.T) {
	ctx := context.Background()
	base := pgtest.NewURL(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("pool_max_conns", "3")
	u.RawQuery = q.Encode()
	withURLSize := u.String()

	for _, tc := range []struct {
		name string
		url  string
		opts postgres.Options
		want int32
	}{
		{"option", base, postgres.Options{MaxConns: 7}, 7},
		{"URL wins", withURLSize, postgres.Options{MaxConns: 7}, 3},
		{"URL alone", withURLSize, postgres.Options{}, 3},
		{"default", base, postgres.Options{}, int32(max(16, 4*runtime.GOMAXPROCS(0)))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := postgres.OpenWith(ctx, tc.url, tc.opts)
			if tc.opts == (postgres.Options{}) {
				db, err = postgres.Open(ctx, tc.url)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if got := db.Pool().Config().MaxConns; got != tc.want {
				t.Errorf("MaxConns %d, want %d", got, tc.want)
			}
		})
	}
	if db, err := postgres.OpenWith(ctx, base, postgres.Options{MaxConns: -1}); err == nil {
		db.Close()
		t.Error("a negative pool size was accepted")
	}
}
