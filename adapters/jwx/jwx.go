// Package jwx issues and verifies miniback's access tokens with
// github.com/lestrrat-go/jwx: RFC 9068 JWTs ("typ": "at+jwt") signed with
// EdDSA (Ed25519) or ES256 (P-256).
//
// Several keys may be configured: the first signs, all verify, so a new key
// can be rolled out ahead of the old one's removal without logging anyone
// out. Removing a key invalidates the tokens it signed. Verification never
// lets a token choose its algorithm: the kid in the token's protected header
// names a configured key, and that key's fixed algorithm must equal the
// header's.
package jwx

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
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
}

// Tokens issues and verifies access tokens. It is safe for concurrent use.
type Tokens struct {
	signer    Key
	ttl       time.Duration
	clock     ports.Clock
	issuer    string
	audience  string
	byKID     map[string]Key    // every configured key, by kid
	parseOpts []jwt.ParseOption // built once: the key provider and all validators
	jwks      []byte            // the public JWK Set, marshalled once
}

var (
	_ ports.TokenIssuer   = (*Tokens)(nil)
	_ ports.TokenVerifier = (*Tokens)(nil)
)

// New validates cfg and precomputes everything verification needs: the kid
// lookup, the jwt.Parse options and the public JWK Set.
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
	t := &Tokens{
		signer:   cfg.Keys[0],
		ttl:      orDefault(cfg.TTL, DefaultTTL),
		clock:    cfg.Clock,
		issuer:   cfg.Issuer,
		audience: cfg.Audience,
		byKID:    make(map[string]Key, len(cfg.Keys)),
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
	jwks, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("jwx: marshal JWK Set: %w", err)
	}
	t.jwks = jwks
	t.parseOpts = []jwt.ParseOption{
		jwt.WithKeyProvider(jws.KeyProviderFunc(t.provideKey)),
		// Pedantic: the verified payload is the claims, never a nested
		// JWS, and jwt.Parse skips re-guessing its format (one JSON decode
		// fewer per call).
		jwt.WithPedantic(true),
		jwt.WithClock(t.clock), // ports.Clock has jwt.Clock's method set
		jwt.WithAcceptableSkew(orDefault(cfg.Skew, DefaultSkew)),
		jwt.WithIssuer(t.issuer),
		jwt.WithAudience(t.audience),
		// jwt's exp and iat checks skip absent claims: require them.
		jwt.WithRequiredClaim(jwt.ExpirationKey),
		jwt.WithRequiredClaim(jwt.IssuedAtKey),
		jwt.WithRequiredClaim(jwt.SubjectKey),
		jwt.WithRequiredClaim(jwt.JwtIDKey),
		jwt.WithRequiredClaim(claimSessionID),
		jwt.WithRequiredClaim(claimRole),
	}
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
	b := jwt.NewBuilder().
		Issuer(t.issuer).
		Audience([]string{t.audience}).
		Subject(string(c.UserID)).
		IssuedAt(iat).
		Expiration(exp).
		JwtID(c.TokenID).
		Claim(claimSessionID, string(c.SessionID)).
		Claim(claimRole, string(role))
	if c.AppID != "" {
		b = b.Claim(claimAppID, string(c.AppID))
	}
	tok, err := b.Build()
	if err != nil {
		return "", fmt.Errorf("jwx: build access token: %w", err)
	}
	tok.Options().Enable(jwt.FlattenAudience) // "aud": "x", not ["x"]

	// jws.Sign writes alg into the headers it is given, so each token
	// gets its own.
	hdr := jws.NewHeaders()
	for name, v := range map[string]any{jws.TypeKey: tokenType, jws.KeyIDKey: t.signer.kid} {
		if err := hdr.Set(name, v); err != nil {
			return "", fmt.Errorf("jwx: set %q header: %w", name, err)
		}
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(t.signer.alg, t.signer.priv, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("jwx: sign access token: %w", err)
	}
	return string(signed), nil
}

// VerifyAccess checks token's signature, header and claims, and returns
// its claims. Failures are *domain.Error: token_malformed when token is not
// a compact JWS, token_expired when it is past exp or not yet valid, and
// token_invalid otherwise. The cause is kept in Err, for logs.
func (t *Tokens) VerifyAccess(_ context.Context, token string) (ports.AccessClaims, error) {
	if !looksCompact(token) {
		return ports.AccessClaims{}, tokenError(domain.CodeTokenMalformed, errNotCompact)
	}
	tok, err := jwt.Parse([]byte(token), t.parseOpts...)
	if err != nil {
		return ports.AccessClaims{}, tokenError(classify(err), err)
	}
	// Only now is the payload known to be signed by a configured key.
	if err := checkClaimTypes(token); err != nil {
		return ports.AccessClaims{}, tokenError(domain.CodeTokenInvalid, err)
	}
	c := ports.AccessClaims{
		UserID:    domain.UserID(tok.Subject()),
		TokenID:   tok.JwtID(),
		IssuedAt:  tok.IssuedAt(),
		ExpiresAt: tok.Expiration(),
	}
	if v, ok := tok.Get(claimAppID); ok {
		s, ok := v.(string)
		if !ok {
			return ports.AccessClaims{}, tokenError(domain.CodeTokenInvalid, fmt.Errorf("claim %q is a %T, not a string", claimAppID, v))
		}
		c.AppID = domain.AppID(s)
	}
	// Both are required claims, so present.
	v, _ := tok.Get(claimSessionID)
	sid, ok := v.(string)
	if !ok || sid == "" {
		return ports.AccessClaims{}, tokenError(domain.CodeTokenInvalid, fmt.Errorf("claim %q is not a non-empty string", claimSessionID))
	}
	c.SessionID = domain.SessionID(sid)
	v, _ = tok.Get(claimRole)
	role, ok := v.(string)
	if !ok || !domain.Role(role).Valid() {
		return ports.AccessClaims{}, tokenError(domain.CodeTokenInvalid, fmt.Errorf("claim %q is not a known role", claimRole))
	}
	c.Role = domain.Role(role)
	return c, nil
}

// The JSON types the claims must have (RFC 7519 §4.1: NumericDate and
// StringOrURI values). jwt.Parse is lenient where these are strict: it
// takes an "exp", "iat" or "nbf" written as a string of digits, and a null
// "sub" or "jti", and it never looks at a private claim's type.
var (
	numberClaims = []string{jwt.ExpirationKey, jwt.IssuedAtKey, jwt.NotBeforeKey}
	stringClaims = []string{jwt.IssuerKey, jwt.SubjectKey, jwt.JwtIDKey, "typ", claimSessionID, claimRole, claimAppID}
)

// checkClaimTypes refuses a verified token whose time claims are not JSON
// numbers, whose string claims are not JSON strings, whose "aud" is
// neither a string nor an array of strings, or that names a claim twice
// (RFC 7519 §4 lets a parser take the last, but then one payload reads two
// ways). Only a holder of a signing key can make such a token, but a claim
// whose type is not the one this package issues means it did not issue the
// token as read, and another verifier of it might read it otherwise.
func checkClaimTypes(token string) error {
	_, rest, _ := strings.Cut(token, ".")
	segment, _, _ := strings.Cut(rest, ".")
	payload, err := base64.RawURLEncoding.DecodeString(segment)
	if err != nil {
		return fmt.Errorf("decode payload: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errors.New("the claims are not a JSON object")
	}
	seen := make(map[string]bool, 10)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("decode claims: %w", err)
		}
		name, _ := tok.(string) // an object's keys are strings
		if seen[name] {
			return fmt.Errorf("claim %q appears twice", name)
		}
		seen[name] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("decode claim %q: %w", name, err)
		}
		if err := checkClaimType(name, v); err != nil {
			return err
		}
	}
	return nil
}

// checkClaimType checks one claim's JSON type; claims it does not know
// may have any.
func checkClaimType(name string, v json.RawMessage) error {
	switch {
	case slices.Contains(numberClaims, name):
		if !isJSONNumber(v) {
			return fmt.Errorf("claim %q is not a JSON number", name)
		}
	case slices.Contains(stringClaims, name):
		if !isJSONString(v) {
			return fmt.Errorf("claim %q is not a JSON string", name)
		}
	case name == jwt.AudienceKey:
		if isJSONString(v) {
			return nil
		}
		var list []json.RawMessage
		if v[0] != '[' || json.Unmarshal(v, &list) != nil {
			return fmt.Errorf("claim %q is neither a string nor an array of strings", name)
		}
		for _, item := range list {
			if !isJSONString(item) {
				return fmt.Errorf("claim %q is neither a string nor an array of strings", name)
			}
		}
	}
	return nil
}

// isJSONNumber and isJSONString tell a valid JSON value's type from its
// first byte (the decoder has checked the value and skipped the space
// before it).
func isJSONNumber(v json.RawMessage) bool {
	return len(v) > 0 && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9'))
}

func isJSONString(v json.RawMessage) bool { return len(v) > 0 && v[0] == '"' }

// PublicJWKS returns the public keys as a JWK Set (each with kid, alg and
// use=sig), for /.well-known/jwks.json. It holds no private key material.
func (t *Tokens) PublicJWKS() ([]byte, error) {
	return append([]byte(nil), t.jwks...), nil
}

// provideKey is the jws.KeyProvider of every verification. It trusts the
// token for nothing but the kid: typ must be at+jwt, alg must be EdDSA or
// ES256 and equal to the algorithm of the configured key the kid names.
// Only then does that key go to the sink, with the key's own algorithm.
func (t *Tokens) provideKey(_ context.Context, sink jws.KeySink, sig *jws.Signature, _ *jws.Message) error {
	h := sig.ProtectedHeaders()
	if typ := h.Type(); typ != tokenType {
		return headerError(fmt.Sprintf("typ %q is not %q", typ, tokenType))
	}
	alg := h.Algorithm()
	if alg != jwa.EdDSA && alg != jwa.ES256 {
		return headerError(fmt.Sprintf("alg %q is not allowed", alg))
	}
	if crit := h.Critical(); len(crit) > 0 {
		return headerError(fmt.Sprintf("unsupported critical headers %q", crit))
	}
	kid := h.KeyID()
	if kid == "" {
		return headerError("missing kid")
	}
	k, ok := t.byKID[kid]
	if !ok {
		return headerError(fmt.Sprintf("unknown kid %q", kid))
	}
	if k.alg != alg {
		return headerError(fmt.Sprintf("alg %q does not match key %q (%s)", alg, kid, k.alg))
	}
	sink.Key(k.alg, k.pub)
	return nil
}

// headerError is provideKey's refusal of a token's protected header.
type headerError string

func (e headerError) Error() string { return "protected header refused: " + string(e) }

var errNotCompact = errors.New("not a JWS compact serialization")

// looksCompact reports whether token has the shape of a JWS compact
// serialization: three base64url segments, the first two not empty (the
// signature may be: an alg "none" token is invalid, not malformed). It
// keeps JSON serializations, which jwt.Parse would accept, out.
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

// classify maps a jwt.Parse error to a token code. Validation runs only
// after the signature is verified, so a forged token is invalid, never
// expired. What the key provider, the signature check and the validators
// did not reject failed to decode: malformed.
func classify(err error) domain.Code {
	var (
		he headerError
		ve jwt.ValidationError
	)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired()), errors.Is(err, jwt.ErrTokenNotYetValid()), errors.Is(err, jwt.ErrInvalidIssuedAt()):
		return domain.CodeTokenExpired
	case errors.As(err, &he), jws.IsVerificationError(err), errors.As(err, &ve):
		return domain.CodeTokenInvalid
	default:
		return domain.CodeTokenMalformed
	}
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
