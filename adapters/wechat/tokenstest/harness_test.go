package tokenstest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/adapters/wechat"
	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/domain"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	app    = domain.AppID("wx5ha7edt0ken00001")
	secret = "shared-token-test-secret"
	// echoPath is a token-bearing API the tests mount on the simulator.
	echoAPI  = "test_echo"
	echoPath = "/wxa/test_echo"
)

// t0 is 09:00 in Beijing (01:00 UTC).
var t0 = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)

// fakeClock is a clock the tests move by hand; both the simulator and the
// replicas read one.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer collects the log lines of every replica.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// lines returns the log lines that contain every one of words.
func (s *syncBuffer) lines(words ...string) []string {
	var out []string
	for _, l := range strings.Split(s.String(), "\n") {
		all := l != ""
		for _, w := range words {
			all = all && strings.Contains(l, w)
		}
		if all {
			out = append(out, l)
		}
	}
	return out
}

// deployment is a simulator and several replicas of miniback's token
// handling on one database.
type deployment struct {
	t        *testing.T
	sim      *wechatsim.Simulator
	simClock *fakeClock // WeChat's clock
	clock    *fakeClock // the replicas' clock (the same as simClock unless a test sets skew)
	url      string     // the simulator's base URL
	dbURL    string
	store    *postgres.WeChatTokenStore // for the tests' own reads
	log      *syncBuffer
	replicas []*replica
	// gate, when set, holds every stable_token request until it is closed.
	gate atomic.Pointer[chan struct{}]
	// seen collects every token stable_token handed out, for the leak
	// checks.
	seenMu sync.Mutex
	seen   map[string]bool
}

// replica is one miniback process's view: its own WeChat client, pool,
// token copy and API caller.
type replica struct {
	name   string
	tokens *wechat.SharedTokens
	api    *wechat.API
	db     *postgres.DB // its own pool
}

type options struct {
	replicas  int
	skewed    bool // replicas get a clock of their own
	wait      time.Duration
	budgetCfg domain.ForceRefreshBudget
	start     time.Time // zero: t0
}

func newDeployment(t *testing.T, o options) *deployment {
	t.Helper()
	if o.replicas == 0 {
		o.replicas = 3
	}
	if o.start.IsZero() {
		o.start = t0
	}
	d := &deployment{t: t, simClock: newClock(o.start), log: &syncBuffer{}, seen: map[string]bool{}}
	d.clock = d.simClock
	if o.skewed {
		d.clock = newClock(o.start)
	}
	d.sim = wechatsim.New(wechatsim.Config{Apps: map[string]string{string(app): secret}, Now: d.simClock.Now})
	mux := http.NewServeMux()
	mux.Handle("/", d.sim)
	mux.HandleFunc("POST /cgi-bin/stable_token", func(w http.ResponseWriter, r *http.Request) {
		if g := d.gate.Load(); g != nil {
			<-*g
		}
		// Record every token handed out, for the leak checks.
		rec := httptest.NewRecorder()
		d.sim.ServeHTTP(rec, r)
		var reply struct {
			AccessToken string `json:"access_token"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &reply) == nil && reply.AccessToken != "" {
			d.seenMu.Lock()
			d.seen[reply.AccessToken] = true
			d.seenMu.Unlock()
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
	mux.Handle("POST "+echoPath, d.sim.TokenAPI(echoAPI, func(w http.ResponseWriter, _ *http.Request, appid string) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"errcode":0,"errmsg":"ok","appid":"` + appid + `"}`))
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	d.url = srv.URL
	d.dbURL = pgtest.NewURL(t)
	d.store = postgres.NewWeChatTokenStore(d.open())
	for i := range o.replicas {
		d.replicas = append(d.replicas, d.newReplica(string(rune('a'+i)), o))
	}
	t.Cleanup(d.checkNoLeak)
	return d
}

// open opens a connection pool of its own on the deployment's database.
func (d *deployment) open() *postgres.DB {
	d.t.Helper()
	db, err := postgres.OpenWith(context.Background(), d.dbURL, postgres.Options{MaxConns: 4})
	if err != nil {
		d.t.Fatal(err)
	}
	d.t.Cleanup(db.Close)
	return db
}

func (d *deployment) newReplica(name string, o options) *replica {
	d.t.Helper()
	c, err := wechat.NewClient(wechat.Config{BaseURL: d.url, Apps: map[domain.AppID]string{app: secret}})
	if err != nil {
		d.t.Fatal(err)
	}
	db := d.open()
	tokens, err := c.NewSharedTokens(wechat.SharedTokensConfig{
		Store: postgres.NewWeChatTokenStore(db), Clock: d.clock, Holder: "replica-" + name,
		Log:  slog.New(slog.NewJSONHandler(d.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Wait: o.wait, Budget: o.budgetCfg,
	})
	if err != nil {
		d.t.Fatal(err)
	}
	return &replica{name: name, tokens: tokens, api: c.API(tokens), db: db}
}

// call calls the echo API through r, as a use-case would.
func (r *replica) call(ctx context.Context) error {
	var out struct {
		AppID string `json:"appid"`
	}
	return r.api.PostJSON(ctx, app, echoAPI, echoPath, map[string]string{}, &out)
}

// stored returns the deployment's stored token state.
func (d *deployment) stored() domain.WeChatTokenState {
	d.t.Helper()
	st, err := d.store.WeChatToken(context.Background(), app)
	if err != nil {
		d.t.Fatal(err)
	}
	return st
}

// concurrently runs n calls spread over the replicas, all released at
// once, and returns their errors.
func (d *deployment) concurrently(n int) []error {
	d.t.Helper()
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = d.replicas[i%len(d.replicas)].call(context.Background())
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// warm has every replica make one call, so each holds a copy.
func (d *deployment) warm() {
	d.t.Helper()
	for _, r := range d.replicas {
		if err := r.call(context.Background()); err != nil {
			d.t.Fatalf("replica %s: %v", r.name, err)
		}
	}
}

// checkNoLeak fails the test if any token the simulator issued appears
// in the log.
func (d *deployment) checkNoLeak() {
	logged := d.log.String()
	d.seenMu.Lock()
	defer d.seenMu.Unlock()
	for tok := range d.seen {
		if strings.Contains(logged, tok) {
			d.t.Errorf("an access token appears in the log")
			return
		}
	}
}

// noTokenIn fails the test if err's text holds any token issued so far.
func (d *deployment) noTokenIn(err error) {
	d.t.Helper()
	if err == nil {
		return
	}
	d.seenMu.Lock()
	defer d.seenMu.Unlock()
	for tok := range d.seen {
		if strings.Contains(err.Error(), tok) {
			d.t.Errorf("an access token appears in an error: %v", err)
		}
	}
}

// tokens returns every token stable_token handed out so far.
func (d *deployment) tokens() []string {
	d.seenMu.Lock()
	defer d.seenMu.Unlock()
	out := make([]string, 0, len(d.seen))
	for tok := range d.seen {
		out = append(out, tok)
	}
	return out
}
