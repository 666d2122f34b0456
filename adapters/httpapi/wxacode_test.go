package httpapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/httpapi/apitest"
	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/domain"
)

// The magic bytes images start with.
var (
	jpegMagic = []byte{0xff, 0xd8, 0xff}
	pngMagic  = []byte("\x89PNG\r\n\x1a\n")
)

// wxaCalls is how many getwxacodeunlimit requests reached the simulator.
func (e *env) wxaCalls() int { return e.sim.Simulator().CallsTo(wechatsim.APIWxaCodeUnlimit) }

// wxaCode asks for a code with token and body.
func wxaCode(c *apitest.Client, token string, body any) *apitest.Response {
	return c.JSON("POST", "/v1/wxacode", body, bearer(token))
}

func wantImage(t *testing.T, res *apitest.Response, contentType string, magic []byte, cache string) {
	t.Helper()
	if res.Status != http.StatusOK || res.Header.Get("Content-Type") != contentType || !bytes.HasPrefix(res.Body, magic) {
		t.Fatalf("want a %s\n%s", contentType, res)
	}
	sum := sha256.Sum256(res.Body)
	if got, want := res.Header.Get("ETag"), `"`+hex.EncodeToString(sum[:])+`"`; got != want {
		t.Errorf("ETag %s, want the content hash %s", got, want)
	}
	if cc := res.Header.Get("Cache-Control"); !strings.HasPrefix(cc, "private, max-age=") {
		t.Errorf("Cache-Control %q", cc)
	}
	if got := res.Header.Get("X-Wxacode-Cache"); got != cache {
		t.Errorf("X-Wxacode-Cache %q, want %q", got, cache)
	}
}

func TestWxaCode_ReturnsWeChatsJPEGWithCacheHeaders(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	res := wxaCode(e.api, l.AccessToken, map[string]any{"scene": "invite=u42", "page": "pages/index/index", "width": 280})
	wantImage(t, res, "image/jpeg", jpegMagic, "miss")
	if n := e.wxaCalls(); n != 1 {
		t.Fatalf("%d WeChat calls, want 1", n)
	}
}

func TestWxaCode_TransparentCodeIsAPNG(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	res := wxaCode(e.api, l.AccessToken, map[string]any{"scene": "a", "is_hyaline": true, "line_color": map[string]int{"r": 7, "g": 193, "b": 96}})
	wantImage(t, res, "image/png", pngMagic, "miss")
}

func TestWxaCode_AnIdenticalRequestIsServedFromStorageWithoutWeChat(t *testing.T) {
	for _, storage := range []string{"local", "s3"} {
		t.Run(storage, func(t *testing.T) {
			e := newEnv(t, withStorage(storage))
			alice, bob := e.login(t, "dev-alice"), e.login(t, "dev-bob")
			first := wxaCode(e.api, alice.AccessToken, map[string]any{"scene": "card=7"})
			wantImage(t, first, "image/jpeg", jpegMagic, "miss")
			// Another user, the defaults spelled out: the same code.
			second := wxaCode(e.api, bob.AccessToken, map[string]any{"scene": "card=7", "width": 430, "env_version": "release",
				"check_path": true, "auto_color": false, "is_hyaline": false})
			wantImage(t, second, "image/jpeg", jpegMagic, "hit")
			if !bytes.Equal(first.Body, second.Body) || first.Header.Get("ETag") != second.Header.Get("ETag") {
				t.Fatal("the cached image differs from WeChat's")
			}
			if n := e.wxaCalls(); n != 1 {
				t.Fatalf("%d WeChat calls, want 1", n)
			}
			// Different parameters are a different code.
			wantImage(t, wxaCode(e.api, alice.AccessToken, map[string]any{"scene": "card=7", "width": 431}), "image/jpeg", jpegMagic, "miss")
			if n := e.wxaCalls(); n != 2 {
				t.Fatalf("%d WeChat calls, want 2", n)
			}
		})
	}
}

// Two mini-programs on one deployment never share a cached code.
func TestWxaCode_EachMiniProgramHasItsOwnCodes(t *testing.T) {
	e := newEnv(t, withApps(appA, appB))
	a := e.api.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-alice", "appid": appA})
	b := e.api.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-alice", "appid": appB})
	var la, lb loginResponse
	a.Decode(&la)
	b.Decode(&lb)
	ra := wxaCode(e.api, la.AccessToken, map[string]any{"scene": "x"})
	rb := wxaCode(e.api, lb.AccessToken, map[string]any{"scene": "x"})
	wantImage(t, ra, "image/jpeg", jpegMagic, "miss")
	wantImage(t, rb, "image/jpeg", jpegMagic, "miss")
	if bytes.Equal(ra.Body, rb.Body) {
		t.Fatal("two apps got the same image")
	}
}

func TestWxaCode_ABrokenRuleIs400BeforeWeChatIsCalled(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	tests := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no scene", map[string]any{"page": "pages/index/index"}, "body.scene"},
		{"an empty scene", map[string]any{"scene": ""}, "body.scene"},
		{"a scene of 33 characters", map[string]any{"scene": strings.Repeat("x", 33)}, "body.scene"},
		{"a space in the scene", map[string]any{"scene": "a b"}, "body.scene"},
		{"% in the scene", map[string]any{"scene": "a%20b"}, "body.scene"},
		{"Chinese in the scene", map[string]any{"scene": "邀请"}, "body.scene"},
		{"a leading slash", map[string]any{"scene": "a", "page": "/pages/index/index"}, "body.page"},
		{"a query in the page", map[string]any{"scene": "a", "page": "pages/index/index?id=1"}, "body.page"},
		{"279 px", map[string]any{"scene": "a", "width": 279}, "body.width"},
		{"1281 px", map[string]any{"scene": "a", "width": 1281}, "body.width"},
		{"an unknown version", map[string]any{"scene": "a", "env_version": "beta"}, "body.env_version"},
		{"a colour over 255", map[string]any{"scene": "a", "line_color": map[string]int{"r": 256, "g": 0, "b": 0}}, "body.line_color.r"},
		{"an unknown field", map[string]any{"scene": "a", "path": "pages/index/index"}, "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields := wantProblemFields(t, wxaCode(e.apiFor(t), l.AccessToken, tt.body), http.StatusBadRequest, domain.CodeInvalid)
			found := false
			for f := range fields {
				found = found || strings.HasPrefix(f, tt.field)
			}
			if !found {
				t.Fatalf("no error for %s in %v", tt.field, fields)
			}
		})
	}
	if n := e.wxaCalls(); n != 0 {
		t.Fatalf("%d WeChat calls, want none", n)
	}
}

func TestWxaCode_AnUnpublishedPageIs422UnlessTheCheckIsOff(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	res := wxaCode(e.api, l.AccessToken, map[string]any{"scene": "a", "page": "pages/new/new"})
	wantProblem(t, res, http.StatusUnprocessableEntity, domain.CodeWxaCodePageNotFound)
	if p := res.Problem(); p.Detail == nil || !strings.Contains(*p.Detail, "check_path: false") {
		t.Fatalf("the detail does not say how to get a code for an unpublished page\n%s", res)
	}
	wantImage(t, wxaCode(e.api, l.AccessToken, map[string]any{"scene": "a", "page": "pages/new/new", "check_path": false, "env_version": "develop"}),
		"image/jpeg", jpegMagic, "miss")
	e.sim.Simulator().PublishPages("pages/new/new")
	wantImage(t, wxaCode(e.api, l.AccessToken, map[string]any{"scene": "a", "page": "pages/new/new"}), "image/jpeg", jpegMagic, "miss")
}

func TestWxaCode_WeChatsQuotaIs429WithRetryAfterAndIsNotCached(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	e.sim.Simulator().InjectError(wechatsim.APIWxaCodeUnlimit, appA, 45009, 1)
	res := wxaCode(e.api, l.AccessToken, map[string]any{"scene": "a"})
	wantProblem(t, res, http.StatusTooManyRequests, domain.CodeWeChatRateLimited)
	if ra := res.Header.Get("Retry-After"); ra != "60" {
		t.Fatalf("Retry-After %q, want 60", ra)
	}
	wantImage(t, wxaCode(e.api, l.AccessToken, map[string]any{"scene": "a"}), "image/jpeg", jpegMagic, "miss")
	if n := e.wxaCalls(); n != 2 {
		t.Fatalf("%d WeChat calls, want 2", n)
	}
}

func TestWxaCode_WeChatRefusingTheSceneIs400(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	e.sim.Simulator().InjectError(wechatsim.APIWxaCodeUnlimit, appA, 40169, 1)
	wantProblem(t, wxaCode(e.api, l.AccessToken, map[string]any{"scene": "a"}), http.StatusBadRequest, domain.CodeWxaCodeSceneInvalid)
}

func TestWxaCode_ARevokedAccessTokenIsRenewedAndTheCodeMade(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	sim := e.sim.Simulator()
	wantImage(t, wxaCode(e.api, l.AccessToken, map[string]any{"scene": "a"}), "image/jpeg", jpegMagic, "miss")
	sim.Revoke(appA) // another server force-refreshed the token
	wantImage(t, wxaCode(e.api, l.AccessToken, map[string]any{"scene": "b"}), "image/jpeg", jpegMagic, "miss")
	if n := e.wxaCalls(); n != 3 {
		t.Fatalf("%d WeChat calls, want 3 (one refused with 40001, then retried)", n)
	}
	if n := sim.CallsTo(wechatsim.APIStableToken); n != 2 {
		t.Fatalf("%d stable_token calls, want 2", n)
	}
}

func TestWxaCode_APasswordLoginHasNoMiniProgram(t *testing.T) {
	e := newEnv(t)
	l := e.register(t, "qr-bob", "qr-bob@example.com", "correct horse battery staple")
	wantProblem(t, wxaCode(e.api, l.AccessToken, map[string]any{"scene": "a"}), http.StatusForbidden, domain.CodeWeChatLoginRequired)
	if n := e.wxaCalls(); n != 0 {
		t.Fatalf("%d WeChat calls, want none", n)
	}
}

func TestWxaCode_NeedsAnAccessToken(t *testing.T) {
	e := newEnv(t)
	wantProblem(t, e.api.JSON("POST", "/v1/wxacode", map[string]any{"scene": "a"}), http.StatusUnauthorized, domain.CodeTokenMissing)
}

func TestWxaCode_EachUsersNewCodesAreLimited(t *testing.T) {
	e := newEnv(t, withWxaCodeLimit(domain.ThrottleRule{Limit: 2, Window: time.Hour}))
	alice := e.login(t, "dev-alice")
	for _, s := range []string{"a", "b"} {
		wantImage(t, wxaCode(e.api, alice.AccessToken, map[string]any{"scene": s}), "image/jpeg", jpegMagic, "miss")
	}
	res := wxaCode(e.api, alice.AccessToken, map[string]any{"scene": "c"})
	wantProblem(t, res, http.StatusTooManyRequests, domain.CodeWxaCodeRateLimited)
	if res.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	// Cached codes stay free, and the limit is per user.
	wantImage(t, wxaCode(e.api, alice.AccessToken, map[string]any{"scene": "a"}), "image/jpeg", jpegMagic, "hit")
	bob := e.login(t, "dev-bob")
	wantImage(t, wxaCode(e.api, bob.AccessToken, map[string]any{"scene": "c"}), "image/jpeg", jpegMagic, "miss")
}

// A realistic burst: 1,000 requests from 50 users opening 20 share cards,
// 32 at a time, in random order. Each card costs WeChat one call; the
// rest are served from storage or share a call under way.
//
//	go test ./adapters/httpapi -run TestWxaCode_ABurstOfShareCardsCostsOneWeChatCallPerCard -v
func TestWxaCode_ABurstOfShareCardsCostsOneWeChatCallPerCard(t *testing.T) {
	for _, storage := range []string{"local", "s3"} {
		t.Run(storage, func(t *testing.T) {
			const requests, cards, users, parallel = 1000, 20, 50, 32
			e := newEnv(t, withStorage(storage))
			tokens := make([]string, users)
			for i := range tokens {
				tokens[i] = e.login(t, fmt.Sprintf("dev-sharer-%d", i)).AccessToken
			}
			c := e.apiFor(t)
			work := make(chan int, requests)
			for i := range requests {
				work <- i
			}
			close(work)
			var hits, misses atomic.Int64
			var asked sync.Map // the cards requested
			var wg sync.WaitGroup
			start := time.Now()
			for range parallel {
				wg.Go(func() {
					for i := range work {
						card := rand.IntN(cards)
						asked.Store(card, true)
						res := wxaCode(c, tokens[i%users], map[string]any{"scene": fmt.Sprintf("card=%d", card), "page": "pages/index/index"})
						if res.Status != http.StatusOK {
							t.Errorf("request %d: %s", i, res)
							return
						}
						if res.Header.Get("X-Wxacode-Cache") == "hit" {
							hits.Add(1)
						} else {
							misses.Add(1)
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			calls := e.wxaCalls()
			t.Logf("%s storage: %d requests over %d cards by %d users (%d at a time) in %v: %d WeChat calls, "+
				"%d served from storage (%.1f%%), %d shared a call under way; WeChat calls per request %.3f",
				storage, requests, cards, users, parallel, elapsed.Round(time.Millisecond), calls,
				hits.Load(), 100*float64(hits.Load())/requests, misses.Load()-int64(calls), float64(calls)/requests)
			distinct := 0
			asked.Range(func(any, any) bool { distinct++; return true })
			if calls != distinct {
				t.Fatalf("%d WeChat calls for %d distinct cards, want one per card", calls, distinct)
			}
		})
	}
}
