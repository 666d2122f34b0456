package jwx

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// epoch is the pinned start of every test's clock.
var epoch = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// movableClock is a clock the test sets.
type movableClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *movableClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *movableClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// cachedTokens returns Tokens with a fresh Ed25519 key and a cache of size
// entries, on clock.
func cachedTokens(t testing.TB, size int, clock ports.Clock) *Tokens {
	t.Helper()
	p, err := GenerateEd25519PEM()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := ParsePrivateKeysPEM(p)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := New(Config{Keys: keys, Issuer: "https://api.miniback.test", Audience: "miniback", Clock: clock, CacheSize: size})
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

// issueN signs a token whose jti is n, issued at epoch.
func issueN(t testing.TB, tokens *Tokens, n int) string {
	t.Helper()
	tok, err := tokens.IssueAccess(context.Background(), ports.AccessClaims{
		UserID: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", SessionID: "5b0c4e1a-8f2d-4c3b-9a7e-6d5f4e3c2b1a",
		TokenID: fmt.Sprint("jti-", n), IssuedAt: epoch, AppID: "wx0123456789abcdef",
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// mark changes the cached claims of token, so that a test can tell a
// cache hit (the marked claims) from a full verification (the token's).
func mark(t *testing.T, tokens *Tokens, token string) {
	t.Helper()
	k := keyOf(token)
	s := tokens.cache.shard(&k)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.entries[k]
	if !ok {
		t.Fatal("the token is not cached")
	}
	c.TokenID = "from the cache"
	s.entries[k] = c
}

func verifyOK(t *testing.T, tokens *Tokens, token string) ports.AccessClaims {
	t.Helper()
	c, err := tokens.VerifyAccess(context.Background(), token)
	if err != nil {
		t.Fatalf("VerifyAccess: %v", err)
	}
	return c
}

func TestVerifyAccessServesATokenSeenBeforeFromTheCache(t *testing.T) {
	tokens := cachedTokens(t, 100, &movableClock{now: epoch})
	token := issueN(t, tokens, 1)
	first := verifyOK(t, tokens, token)
	if n := tokens.cache.len(); n != 1 {
		t.Fatalf("cache holds %d entries after one verification, want 1", n)
	}
	if again := verifyOK(t, tokens, token); again != first {
		t.Fatalf("second verification = %+v, want the first's %+v", again, first)
	}
	mark(t, tokens, token)
	if got := verifyOK(t, tokens, token); got.TokenID != "from the cache" {
		t.Fatalf("a token seen before was verified again (jti %q), not served from the cache", got.TokenID)
	}
}

func TestVerifyAccessWithoutACacheVerifiesEveryTime(t *testing.T) {
	tokens := cachedTokens(t, 0, &movableClock{now: epoch})
	if tokens.cache != nil {
		t.Fatal("a cache of size 0 exists")
	}
	token := issueN(t, tokens, 1)
	verifyOK(t, tokens, token)
	verifyOK(t, tokens, token)
}

// flipSignatureBit returns token with one bit of its signature's byte i
// changed, spelled canonically.
func flipSignatureBit(t *testing.T, token string, i int) string {
	t.Helper()
	cut := strings.LastIndexByte(token, '.')
	sig, err := base64.RawURLEncoding.DecodeString(token[cut+1:])
	if err != nil {
		t.Fatal(err)
	}
	sig[i] ^= 0x01
	return token[:cut+1] + base64.RawURLEncoding.EncodeToString(sig)
}

func TestATokenDifferingInOneSignatureByteIsNotACacheHit(t *testing.T) {
	tokens := cachedTokens(t, 100, &movableClock{now: epoch})
	token := issueN(t, tokens, 1)
	verifyOK(t, tokens, token)
	for _, i := range []int{0, 31, 63} {
		_, err := tokens.VerifyAccess(context.Background(), flipSignatureBit(t, token, i))
		if domain.ErrorCode(err) != domain.CodeTokenInvalid || !strings.Contains(err.Error(), "could not verify") {
			t.Errorf("signature byte %d changed: want token_invalid (could not verify), got %v", i, err)
		}
	}
	if n := tokens.cache.len(); n != 1 {
		t.Errorf("cache holds %d entries, want only the genuine token", n)
	}
}

// A 64-byte signature is 86 base64url characters, whose last carries two
// bits that encode nothing. Setting them spells the same bytes otherwise:
// such a token is refused as malformed, so one signed token has exactly
// one accepted spelling.
func TestATokenSpelledNonCanonicallyIsRefused(t *testing.T) {
	tokens := cachedTokens(t, 100, &movableClock{now: epoch})
	token := issueN(t, tokens, 1)
	verifyOK(t, tokens, token)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, token[len(token)-1])
	if last%4 != 0 {
		t.Fatalf("the last character %q carries padding bits", token[len(token)-1])
	}
	respelled := token[:len(token)-1] + string(alphabet[last+1])
	if _, err := base64.RawURLEncoding.DecodeString(respelled[strings.LastIndexByte(respelled, '.')+1:]); err != nil {
		t.Fatalf("the lenient decoder refuses the respelling too: %v", err)
	}
	_, err := tokens.VerifyAccess(context.Background(), respelled)
	if domain.ErrorCode(err) != domain.CodeTokenMalformed {
		t.Errorf("non-canonical spelling: want token_malformed, got %v", err)
	}
}

func TestACachedTokenIsNotServedFromTheCacheFromItsExp(t *testing.T) {
	clock := &movableClock{now: epoch}
	tokens := cachedTokens(t, 100, clock)
	token := issueN(t, tokens, 1)
	exp := verifyOK(t, tokens, token).ExpiresAt
	mark(t, tokens, token)

	clock.Set(exp.Add(-time.Nanosecond))
	if got := verifyOK(t, tokens, token); got.TokenID != "from the cache" {
		t.Fatalf("just before exp: jti %q, want the cached entry", got.TokenID)
	}

	// From exp on, the entry is dropped; the full check still accepts the
	// token within the skew, without caching it again.
	clock.Set(exp)
	if got := verifyOK(t, tokens, token); got.TokenID != "jti-1" {
		t.Fatalf("at exp: jti %q, want a full verification's", got.TokenID)
	}
	if n := tokens.cache.len(); n != 0 {
		t.Fatalf("at exp the cache holds %d entries, want 0", n)
	}

	clock.Set(exp.Add(DefaultSkew))
	if _, err := tokens.VerifyAccess(context.Background(), token); domain.ErrorCode(err) != domain.CodeTokenExpired {
		t.Fatalf("past exp and skew: want token_expired, got %v", err)
	}
}

func TestTheCacheNeverHoldsMoreThanItsSize(t *testing.T) {
	for _, size := range []int{1, 100, 1000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			tokens := cachedTokens(t, size, &movableClock{now: epoch})
			for i := range 3 * size {
				verifyOK(t, tokens, issueN(t, tokens, i))
				if n := tokens.cache.len(); n > size {
					t.Fatalf("after %d tokens the cache holds %d entries, more than %d", i+1, n, size)
				}
			}
			// Every shard is full by now: the whole size is in use.
			if n := tokens.cache.len(); n != size {
				t.Errorf("after %d tokens the cache holds %d entries, want %d", 3*size, n, size)
			}
		})
	}
}

// fullShard returns a one-shard cache holding key, expiring at exp, and
// minPerShard-1 other entries expiring at others.
func fullShard(t *testing.T, key cacheKey, exp, others time.Time) *tokenCache {
	t.Helper()
	c := newTokenCache(minPerShard)
	if len(c.shards) != 1 {
		t.Fatalf("%d shards, want 1", len(c.shards))
	}
	c.put(&key, ports.AccessClaims{ExpiresAt: exp}, epoch)
	for i := 1; i < minPerShard; i++ {
		k := cacheKey{byte(i)}
		c.put(&k, ports.AccessClaims{ExpiresAt: others}, epoch)
	}
	return c
}

func TestAFullShardEvictsAnExpiredEntryBeforeALiveOne(t *testing.T) {
	live := cacheKey{0xff}
	c := fullShard(t, live, epoch.Add(time.Hour), epoch.Add(time.Minute))
	now := epoch.Add(2 * time.Minute) // all but live have expired
	// While fewer entries than a sample are live, every sample holds an
	// expired one.
	for i := range evictSample - 1 {
		k := cacheKey{0xfe, byte(i)}
		c.put(&k, ports.AccessClaims{ExpiresAt: now.Add(time.Hour)}, now)
		if _, ok := c.get(&live, now); !ok {
			t.Fatalf("insert %d evicted the live entry while expired ones remained", i)
		}
	}
	if n := c.len(); n != minPerShard {
		t.Errorf("cache holds %d entries, want %d", n, minPerShard)
	}
}

func TestAFullShardEvictsTheSampledEntryThatExpiresSoonest(t *testing.T) {
	last := cacheKey{0xff}
	c := fullShard(t, last, epoch.Add(2*time.Hour), epoch.Add(time.Hour))
	for i := range 10 * minPerShard {
		k := cacheKey{0xfe, byte(i), byte(i >> 8)}
		c.put(&k, ports.AccessClaims{ExpiresAt: epoch.Add(time.Hour)}, epoch)
		if _, ok := c.get(&last, epoch); !ok {
			t.Fatalf("insert %d evicted the entry that expires last", i)
		}
	}
}

// Run with -race: concurrent verifications of a few tokens, more than the
// cache holds, and forged ones, each get the right answer.
func TestTheCacheIsSafeForConcurrentUse(t *testing.T) {
	tokens := cachedTokens(t, 8, &movableClock{now: epoch})
	const n = 24
	valid := make([]string, n)
	for i := range valid {
		valid[i] = issueN(t, tokens, i)
	}
	forged := flipSignatureBit(t, valid[0], 5)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 60 {
				k := (g*7 + i) % n
				c, err := tokens.VerifyAccess(context.Background(), valid[k])
				if err != nil || c.TokenID != fmt.Sprint("jti-", k) {
					t.Errorf("token %d: claims %+v, error %v", k, c, err)
					return
				}
				if i%10 == 0 {
					if _, err := tokens.VerifyAccess(context.Background(), forged); err == nil {
						t.Error("a forged token was accepted")
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if got := tokens.cache.len(); got > 8 {
		t.Errorf("cache holds %d entries, more than 8", got)
	}
}
