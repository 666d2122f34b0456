// Package argon2id hashes passwords with Argon2id (RFC 9106) through
// golang.org/x/crypto/argon2, at OWASP's recommended parameters by default,
// and stores them as PHC strings. A semaphore bounds how many hashes run at
// once: each takes Memory KiB, so a burst of logins cannot exhaust memory.
package argon2id

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

var _ ports.PasswordHasher = (*Hasher)(nil)

// Params are Argon2id's cost parameters and output sizes.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// OWASP is the OWASP Password Storage Cheat Sheet's first Argon2id
// configuration: 19 MiB, 2 passes, 1 lane; with a 128-bit salt and a
// 256-bit hash.
var OWASP = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds on the parameters of a stored hash. A hash outside them is refused
// as corrupt rather than letting a bad row allocate gigabytes.
const (
	maxMemoryKiB = 256 * 1024
	maxTime      = 16
	maxThreads   = 16
	minSaltLen   = 8
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 64
)

// DefaultMaxWait is how long a hash waits for a turn before the request is
// answered "unavailable" with a retry hint.
const DefaultMaxWait = 10 * time.Second

// Config configures a Hasher; zero fields take the defaults.
type Config struct {
	// Params for new hashes; zero means OWASP.
	Params Params
	// Concurrency bounds the hashes computed at once; zero means
	// 2 × GOMAXPROCS.
	Concurrency int
	// MaxWait bounds the wait for a turn; zero means DefaultMaxWait.
	MaxWait time.Duration
}

// Hasher implements ports.PasswordHasher.
type Hasher struct {
	params  Params
	slots   chan struct{}
	maxWait time.Duration
	dummy   domain.PasswordHash
}

// New returns a Hasher. It computes its dummy hash now, so New takes as
// long as one hash.
func New(cfg Config) (*Hasher, error) {
	p := cfg.Params
	if p == (Params{}) {
		p = OWASP
	}
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("argon2id parameters: %w", err)
	}
	n := cfg.Concurrency
	if n == 0 {
		n = 2 * runtime.GOMAXPROCS(0)
	}
	if n < 0 {
		return nil, fmt.Errorf("argon2id concurrency must be positive, not %d", n)
	}
	wait := cfg.MaxWait
	if wait <= 0 {
		wait = DefaultMaxWait
	}
	h := &Hasher{params: p, slots: make(chan struct{}, n), maxWait: wait}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret) // crypto/rand.Read never fails
	dummy, err := h.Hash(context.Background(), domain.Password(base64.RawStdEncoding.EncodeToString(secret)))
	if err != nil {
		return nil, err
	}
	h.dummy = dummy
	return h, nil
}

// Params returns the parameters of new hashes.
func (h *Hasher) Params() Params { return h.params }

// Concurrency returns how many hashes may run at once.
func (h *Hasher) Concurrency() int { return cap(h.slots) }

// DummyHash is the hash of a random password nobody knows, made with the
// current parameters.
func (h *Hasher) DummyHash() domain.PasswordHash { return h.dummy }

// Hash returns a PHC string of p (NFKC-normalised) under a fresh random salt.
func (h *Hasher) Hash(ctx context.Context, p domain.Password) (domain.PasswordHash, error) {
	salt := make([]byte, h.params.SaltLen)
	_, _ = rand.Read(salt)
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	key := h.params.key(p, salt)
	release()
	return domain.PasswordHash(h.params.encode(salt, key)), nil
}

// Verify reports whether p matches the PHC string hash, comparing in
// constant time, and whether hash was made with other parameters than the
// current ones. A hash that is not an Argon2id PHC string within bounds is
// an error (a corrupt row), not a mismatch.
func (h *Hasher) Verify(ctx context.Context, hash domain.PasswordHash, p domain.Password) (match, rehash bool, err error) {
	params, salt, want, err := decode(hash.Reveal())
	if err != nil {
		return false, false, fmt.Errorf("stored password hash: %w", err)
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return false, false, err
	}
	got := params.key(p, salt)
	release()
	match = subtle.ConstantTimeCompare(got, want) == 1
	return match, params != h.params, nil
}

// acquire waits for a hashing slot, for as long as ctx and maxWait allow.
func (h *Hasher) acquire(ctx context.Context) (release func(), err error) {
	release = func() { <-h.slots }
	select {
	case h.slots <- struct{}{}:
		return release, nil
	default:
	}
	timer := time.NewTimer(h.maxWait)
	defer timer.Stop()
	select {
	case h.slots <- struct{}{}:
		return release, nil
	case <-ctx.Done():
		return nil, busy(fmt.Errorf("wait for a password hashing slot: %w", ctx.Err()))
	case <-timer.C:
		return nil, busy(fmt.Errorf("no password hashing slot free within %s", h.maxWait))
	}
}

func busy(cause error) error {
	return &domain.Error{Code: domain.CodeUnavailable, Message: "The server is busy checking passwords; try again shortly.",
		RetryAfter: time.Second, Err: cause}
}

func (p Params) key(pw domain.Password, salt []byte) []byte {
	return argon2.IDKey([]byte(pw.Normalized()), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

// encode writes the PHC string: $argon2id$v=19$m=..,t=..,p=..$salt$hash,
// salt and hash in unpadded standard base64.
func (p Params) encode(salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

func (p Params) check() error {
	switch {
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemoryKiB:
		return fmt.Errorf("memory %d KiB out of range", p.Memory)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("time %d out of range", p.Time)
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Errorf("threads %d out of range", p.Threads)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("salt length %d out of range", p.SaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("key length %d out of range", p.KeyLen)
	}
	return nil
}

var errNotPHC = errors.New("not an argon2id PHC string")

// decode parses a PHC string written by encode. The error never quotes the
// string: it is a secret.
func decode(s string) (Params, []byte, []byte, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return Params{}, nil, nil, errNotPHC
	}
	var p Params
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return Params{}, nil, nil, errNotPHC
	}
	for i, name := range []string{"m", "t", "p"} {
		k, v, ok := strings.Cut(fields[i], "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || k != name || err != nil || (v != "0" && v[0] == '0') {
			return Params{}, nil, nil, errNotPHC
		}
		switch name {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > maxThreads {
				return Params{}, nil, nil, errNotPHC
			}
			p.Threads = uint8(n)
		}
	}
	salt, err1 := base64.RawStdEncoding.Strict().DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.Strict().DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return Params{}, nil, nil, errNotPHC
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := p.check(); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: %w", errNotPHC, err)
	}
	return p, salt, key, nil
}
