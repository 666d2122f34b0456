// Package jwx issues and verifies miniback's access tokens: RFC 9068 JWTs
// ("typ": "at+jwt") signed with EdDSA (Ed25519) or ES256 (P-256). Keys
// are handled with github.com/lestrrat-go/jwx; tokens are signed and
// verified by this package itself (crypto/ed25519, crypto/ecdsa, and JSON
// written and read strictly), which costs a fraction of going through jwx, and a token
// verified once is remembered until its exp (Config.CacheSize).
//
// Several keys may be configured: the first signs, all verify, so a new key
// can be rolled out ahead of the old one's removal without logging anyone
// out. Removing a key invalidates the tokens it signed. Verification never
// lets a token choose its algorithm: the kid in the token's protected header
// names a configured key, and that key's fixed algorithm must equal the
// header's.
package jwx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Defaults for the zero values of Config.TTL and Config.Skew.
const (
	DefaultTTL  = 15 * time.Minute
	DefaultSkew = 30 * time.Second
)

const (
	// tokenType is the protected "typ" header of an access token (RFC 9068).
	tokenType = "at+jwt"
	// claimAppID is the private claim carrying the mini-program's AppID.
	claimAppID = "appid"
	// claimSessionID names the session the token belongs to (the "sid" of
	// OpenID Connect), so a revoked session's tokens can be refused.
	claimSessionID = "sid"
	// claimRole carries the user's role when the token was issued.
	claimRole = "role"
	// maxTokenLen bounds what VerifyAccess will even look at. Our tokens
	// are a few hundred bytes.
	maxTokenLen = 4096
)

// Config configures Tokens.
type Config struct {
	// Keys are the signing keys: Keys[0] signs, all verify. Required.
	Keys []Key
	// Issuer is the "iss" claim issued and required. Required.
	Issuer string
	// Audience is the "aud" claim issued and required. Required.
	Audience string
	// TTL is an access token's lifetime; zero means DefaultTTL.
	TTL time.Duration
	// Clock tells the time for validation (and for claims without one);
	// nil means the wall clock.
	Clock ports.Clock
	// Skew is the clock skew tolerated on exp and iat; zero means
	// DefaultSkew.
	Skew time.Duration
	// CacheSize is how many verified tokens VerifyAccess remembers, so
	// that a token sent again is not verified again until its exp; zero
	// remembers none.
	CacheSize int
}

// Tokens issues and verifies access tokens. It is safe for concurrent use.
type Tokens struct {
	signer   *signer // Keys[0], its header and the fixed claims precomputed
	ttl      time.Duration
	skew     time.Duration
	clock    ports.Clock
	issuer   string
	audience string
	byKID    map[string]Key // every configured key, by kid: fixed for the life of the Tokens
	jwks     []byte         // the public JWK Set, marshalled once
	cache    *tokenCache    // nil when Config.CacheSize is zero
}

var (
	_ ports.TokenIssuer   = (*Tokens)(nil)
	_ ports.TokenVerifier = (*Tokens)(nil)
)

// New validates cfg and precomputes everything verification needs: the kid
// lookup and the public JWK Set.
func New(cfg Config) (*Tokens, error) {
	if len(cfg.Keys) == 0 {
		return nil, errors.New("jwx: no signing key configured")
	}
	if cfg.Issuer == "" {
		return nil, errors.New("jwx: issuer is required")
	}
	if cfg.Audience == "" {
		return nil, errors.New("jwx: audience is required")
	}
	if cfg.TTL < 0 || cfg.Skew < 0 {
		return nil, fmt.Errorf("jwx: TTL (%s) and skew (%s) must not be negative", cfg.TTL, cfg.Skew)
	}
	if cfg.CacheSize < 0 {
		return nil, fmt.Errorf("jwx: cache size %d must not be negative", cfg.CacheSize)
	}
	t := &Tokens{
		ttl:      orDefault(cfg.TTL, DefaultTTL),
		skew:     orDefault(cfg.Skew, DefaultSkew),
		clock:    cfg.Clock,
		issuer:   cfg.Issuer,
		audience: cfg.Audience,
		byKID:    make(map[string]Key, len(cfg.Keys)),
		cache:    newTokenCache(cfg.CacheSize),
	}
	if t.clock == nil {
		t.clock = jwt.ClockFunc(time.Now)
	}
	set := jwk.NewSet()
	for i, k := range cfg.Keys {
		if k.priv == nil || k.kid == "" {
			return nil, fmt.Errorf("jwx: key %d is not a parsed key (use ParsePrivateKeysPEM)", i)
		}
		if _, dup := t.byKID[k.kid]; dup {
			return nil, fmt.Errorf("jwx: key %d (%s) is configured twice", i, k.kid)
		}
		t.byKID[k.kid] = k
		pub, err := k.publicJWK()
		if err != nil {
			return nil, fmt.Errorf("jwx: key %d: %w", i, err)
		}
		if err := set.AddKey(pub); err != nil {
			return nil, fmt.Errorf("jwx: add key %d to JWK Set: %w", i, err)
		}
	}
	signer, err := newSigner(cfg.Keys[0], cfg.Issuer, cfg.Audience)
	if err != nil {
		return nil, fmt.Errorf("jwx: signing key: %w", err)
	}
	t.signer = signer
	jwks, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("jwx: marshal JWK Set: %w", err)
	}
	t.jwks = jwks
	return t, nil
}

// orDefault returns v, or def when v is zero.
func orDefault(v, def time.Duration) time.Duration {
	if v == 0 {
		return def
	}
	return v
}

// AccessTTL is the lifetime of the tokens IssueAccess signs.
func (t *Tokens) AccessTTL() time.Duration { return t.ttl }

// IssueAccess signs an access token for c with the first configured key.
// c.UserID, c.SessionID and c.TokenID are required; an empty c.Role means
// domain.RoleUser. A zero c.IssuedAt means now, a zero c.ExpiresAt means
// IssuedAt plus AccessTTL; times are kept to the second. c.AppID is sent
// as the "appid" claim when not empty.
func (t *Tokens) IssueAccess(_ context.Context, c ports.AccessClaims) (string, error) {
	if c.UserID == "" || c.SessionID == "" || c.TokenID == "" {
		return "", errors.New("jwx: issue access token: user id, session id and token id are required")
	}
	role := c.Role
	if role == "" {
		role = domain.RoleUser
	}
	if !role.Valid() {
		return "", fmt.Errorf("jwx: issue access token: unknown role %q", role)
	}
	iat := c.IssuedAt
	if iat.IsZero() {
		iat = t.clock.Now()
	}
	exp := c.ExpiresAt
	if exp.IsZero() {
		exp = iat.Add(t.ttl)
	}
	if !exp.After(iat) {
		return "", fmt.Errorf("jwx: issue access token: expiry %s is not after issue time %s", exp, iat)
	}
	signed, err := t.signer.sign(&issueClaims{
		appID: string(c.AppID), sub: string(c.UserID), sid: string(c.SessionID),
		jti: c.TokenID, role: string(role), iat: iat, exp: exp,
	})
	if err != nil {
		return "", fmt.Errorf("jwx: sign access token: %w", err)
	}
	return signed, nil
}

// VerifyAccess checks token's signature, header and claims, and returns
// its claims. Failures are *domain.Error: token_malformed when token is not
// a compact JWS, token_expired when it is past exp or not yet valid, and
// token_invalid otherwise. The cause is kept in Err, for logs.
//
// With a cache, a token verified before is not verified again until its
// exp: its claims come from the cache.
func (t *Tokens) VerifyAccess(_ context.Context, token string) (ports.AccessClaims, error) {
	now := t.clock.Now()
	if t.cache == nil || len(token) > maxTokenLen {
		return t.verify(token, now)
	}
	k := keyOf(token)
	if c, ok := t.cache.get(&k, now); ok {
		return c, nil
	}
	c, err := t.verify(token, now)
	if err != nil {
		return ports.AccessClaims{}, err
	}
	t.cache.put(&k, c, now)
	return c, nil
}

// PublicJWKS returns the public keys as a JWK Set (each with kid, alg and
// use=sig), for /.well-known/jwks.json. It holds no private key material.
func (t *Tokens) PublicJWKS() ([]byte, error) {
	return append([]byte(nil), t.jwks...), nil
}

// headerError is keyFor's refusal of a token's protected header.
type headerError string

func (e headerError) Error() string { return "protected header refused: " + string(e) }

var errNotCompact = errors.New("not a JWS compact serialization")

// looksCompact reports whether token has the shape of a JWS compact
// serialization: three base64url segments, the first two not empty (the
// signature may be: an alg "none" token is invalid, not malformed). It
// keeps JSON serializations out.
func looksCompact(token string) bool {
	if len(token) == 0 || len(token) > maxTokenLen || strings.Count(token, ".") != 2 {
		return false
	}
	hdr, rest, _ := strings.Cut(token, ".")
	payload, _, _ := strings.Cut(rest, ".")
	if hdr == "" || payload == "" {
		return false
	}
	for i := range len(token) {
		switch c := token[i]; {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

// tokenError wraps cause in a *domain.Error with a client-safe message.
func tokenError(code domain.Code, cause error) *domain.Error {
	msg := "The access token is invalid."
	switch code {
	case domain.CodeTokenMalformed:
		msg = "The access token is malformed."
	case domain.CodeTokenExpired:
		msg = "The access token has expired or is not yet valid."
	}
	return &domain.Error{Code: code, Message: msg, Err: cause}
}
