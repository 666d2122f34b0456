package argon2id_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/miniback/miniback/adapters/argon2id"
	"github.com/miniback/miniback/domain"
)

// cheap keeps the functional tests fast; the OWASP parameters are tested
// on their own and measured by the benchmarks.
var cheap = argon2id.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func newHasher(t testing.TB, cfg argon2id.Config) *argon2id.Hasher {
	t.Helper()
	h, err := argon2id.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return h
}

func TestHashIsAnOWASPArgon2idPHCStringThatVerifies(t *testing.T) {
	h := newHasher(t, argon2id.Config{})
	hash, err := h.Hash(context.Background(), "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(hash.Reveal(), "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v=19" || parts[3] != "m=19456,t=2,p=1" {
		t.Fatalf("hash %q is not $argon2id$v=19$m=19456,t=2,p=1$salt$hash", hash.Reveal())
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) != 16 || len(key) != 32 {
		t.Errorf("salt %d bytes, hash %d bytes (%v, %v); want 16 and 32 in unpadded base64", len(salt), len(key), err1, err2)
	}
	match, rehash, err := h.Verify(context.Background(), hash, "correct horse battery staple")
	if err != nil || !match || rehash {
		t.Errorf("Verify = %t, %t, %v; want a match needing no rehash", match, rehash, err)
	}
}

func TestVerifyTellsRightFromWrong(t *testing.T) {
	h := newHasher(t, argon2id.Config{Params: cheap})
	ctx := context.Background()
	hash, _ := h.Hash(ctx, "s3cret-password")
	for _, tc := range []struct {
		password domain.Password
		want     bool
	}{
		{"s3cret-password", true},
		{"s3cret-passworD", false},
		{"s3cret-password ", false},
		{"", false},
	} {
		match, _, err := h.Verify(ctx, hash, tc.password)
		if err != nil || match != tc.want {
			t.Errorf("Verify(%q) = %t, %v; want %t", tc.password.Reveal(), match, err, tc.want)
		}
	}
}

func TestEachHashHasItsOwnSalt(t *testing.T) {
	h := newHasher(t, argon2id.Config{Params: cheap})
	a, _ := h.Hash(context.Background(), "same password")
	b, _ := h.Hash(context.Background(), "same password")
	if a == b {
		t.Error("two hashes of one password are equal")
	}
}

func TestPasswordsAreComparedAfterNFKCNormalisation(t *testing.T) {
	h := newHasher(t, argon2id.Config{Params: cheap})
	ctx := context.Background()
	hash, _ := h.Hash(ctx, "caf\u00e9-ｐａｓｓ")                // composed é, full-width letters
	match, _, err := h.Verify(ctx, hash, "cafe\u0301-pass") // decomposed é, ASCII letters
	if err != nil || !match {
		t.Errorf("the same password typed another way does not match: %t, %v", match, err)
	}
}

func TestVerifyUsesTheStoredParametersAndAsksForARehash(t *testing.T) {
	ctx := context.Background()
	old := newHasher(t, argon2id.Config{Params: cheap})
	hash, _ := old.Hash(ctx, "an old password")
	current := newHasher(t, argon2id.Config{Params: argon2id.Params{Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}})
	match, rehash, err := current.Verify(ctx, hash, "an old password")
	if err != nil || !match || !rehash {
		t.Errorf("Verify = %t, %t, %v; want a match that asks for a rehash", match, rehash, err)
	}
}

func TestVerifyRefusesHashesThatAreNotArgon2idPHCStrings(t *testing.T) {
	h := newHasher(t, argon2id.Config{Params: cheap})
	good, _ := h.Hash(context.Background(), "password!")
	parts := strings.Split(good.Reveal(), "$")
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	for name, bad := range map[string]string{
		"empty":                 "",
		"bcrypt":                "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
		"argon2i":               with(1, "argon2i"),
		"old version":           with(2, "v=16"),
		"missing parameter":     with(3, "m=64,t=1"),
		"reordered parameters":  with(3, "t=1,m=64,p=1"),
		"leading zero":          with(3, "m=064,t=1,p=1"),
		"zero passes":           with(3, "m=64,t=0,p=1"),
		"gigabytes of memory":   with(3, "m=4194304,t=1,p=1"),
		"salt not base64":       with(4, "!!!!"),
		"padded salt":           with(4, parts[4]+"=="),
		"short hash":            with(5, "AAAA"),
		"one part too many":     good.Reveal() + "$x",
		"parameter not numeric": with(3, "m=x,t=1,p=1"),
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := h.Verify(context.Background(), domain.PasswordHash(bad), "password!")
			if err == nil {
				t.Fatal("Verify accepted a corrupt hash")
			}
			if bad != "" && strings.Contains(err.Error(), bad) {
				t.Errorf("the error quotes the stored hash: %v", err)
			}
		})
	}
}

func TestDummyHashHasTheCurrentParametersAndMatchesNothingGuessable(t *testing.T) {
	h := newHasher(t, argon2id.Config{})
	if !strings.HasPrefix(h.DummyHash().Reveal(), "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("dummy hash %q does not use the current parameters", h.DummyHash().Reveal())
	}
	for _, guess := range []domain.Password{"", "password", "12345678"} {
		if match, _, err := h.Verify(context.Background(), h.DummyHash(), guess); err != nil || match {
			t.Errorf("dummy hash matched %q (%v)", guess.Reveal(), err)
		}
	}
}

func TestConcurrencyDefaultsToTwicePerCPUAndRefusesNegative(t *testing.T) {
	if h := newHasher(t, argon2id.Config{Params: cheap}); h.Concurrency() < 2 || h.Concurrency()%2 != 0 {
		t.Errorf("default concurrency %d, want 2 × GOMAXPROCS", h.Concurrency())
	}
	if _, err := argon2id.New(argon2id.Config{Params: cheap, Concurrency: -1}); err == nil {
		t.Error("negative concurrency accepted")
	}
	if _, err := argon2id.New(argon2id.Config{Params: argon2id.Params{Memory: 1 << 30, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}}); err == nil {
		t.Error("a terabyte of memory per hash accepted")
	}
}

func TestHashAndPasswordNeverPrint(t *testing.T) {
	h := newHasher(t, argon2id.Config{Params: cheap})
	hash, _ := h.Hash(context.Background(), "hunter2-hunter2")
	p := domain.Password("hunter2-hunter2")
	s := fmt.Sprintf("%v %s %+v %#v %v", hash, hash, p, p, []any{hash, p})
	if strings.Contains(s, "argon2id") || strings.Contains(s, "hunter2") {
		t.Errorf("printed: %s", s)
	}
}

// BenchmarkHash measures one Argon2id hash at OWASP's parameters (19 MiB,
// t=2, p=1): the cost of a registration and of a password change, and what
// a login's Verify costs too. B/op is the memory one hash holds.
func BenchmarkHash(b *testing.B) {
	h := newHasher(b, argon2id.Config{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/hash")
}

// BenchmarkVerify measures a password login's check (the same work for an
// unknown user, against the dummy hash).
func BenchmarkVerify(b *testing.B) {
	h := newHasher(b, argon2id.Config{})
	ctx := context.Background()
	hash, _ := h.Hash(ctx, "correct horse battery staple")
	b.ReportAllocs()
	for b.Loop() {
		if match, _, err := h.Verify(ctx, hash, "correct horse battery staple"); err != nil || !match {
			b.Fatal(match, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/hash")
}
