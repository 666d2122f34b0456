package jwx

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// The verification below reads the compact JWS itself rather than through
// jwt.Parse, which decoded header and claims through jwx's generic JSON
// machinery (some 350 allocations, as much time as the Ed25519 check). It
// keeps every rule jwt.Parse applied and adds the stricter ones this
// package had layered on top: exact JSON types for the claims, no repeated
// member, canonical base64url.

// b64 decodes the three segments. Strict refuses non-zero padding bits,
// so that one token has exactly one spelling: two different strings never
// carry the same signed bytes.
var b64 = base64.RawURLEncoding.Strict()

// verify checks token at now and returns its claims. Failures are
// *domain.Error: token_malformed when token is not a compact JWS of JSON
// objects, token_expired when it is past exp or not yet valid, and
// token_invalid otherwise. The signature is checked before any claim, so
// a forged token is invalid, never expired.
func (t *Tokens) verify(token string, now time.Time) (ports.AccessClaims, error) {
	if !looksCompact(token) {
		return ports.AccessClaims{}, tokenError(domain.CodeTokenMalformed, errNotCompact)
	}
	h64, rest, _ := strings.Cut(token, ".")
	p64, s64, _ := strings.Cut(rest, ".")
	hdrJSON, err := b64.DecodeString(h64)
	if err != nil {
		return ports.AccessClaims{}, tokenError(domain.CodeTokenMalformed, fmt.Errorf("decode header: %w", err))
	}
	payload, err := b64.DecodeString(p64)
	if err != nil {
		return ports.AccessClaims{}, tokenError(domain.CodeTokenMalformed, fmt.Errorf("decode payload: %w", err))
	}
	sig, err := b64.DecodeString(s64)
	if err != nil {
		return ports.AccessClaims{}, tokenError(domain.CodeTokenMalformed, fmt.Errorf("decode signature: %w", err))
	}
	hdr, err := parseHeader(hdrJSON)
	if err != nil {
		return ports.AccessClaims{}, tokenError(domain.CodeTokenMalformed, fmt.Errorf("header: %w", err))
	}
	key, err := t.keyFor(hdr)
	if err != nil {
		return ports.AccessClaims{}, tokenError(domain.CodeTokenInvalid, err)
	}
	if !key.verify([]byte(token[:len(h64)+1+len(p64)]), sig) {
		return ports.AccessClaims{}, tokenError(domain.CodeTokenInvalid, fmt.Errorf("could not verify the signature with key %s", key.kid))
	}
	// Only now is the payload known to be signed by a configured key.
	c, err := t.parseClaims(payload)
	if err != nil {
		var ce claimError
		if errors.As(err, &ce) {
			return ports.AccessClaims{}, tokenError(domain.CodeTokenInvalid, err)
		}
		return ports.AccessClaims{}, tokenError(domain.CodeTokenMalformed, fmt.Errorf("claims: %w", err))
	}
	return t.validate(c, now)
}

// header is a token's protected header, as far as verification reads it.
type header struct {
	alg, kid, typ string
	crit          []string
	b64False      bool // "b64": false (RFC 7797), which this package never issues
}

// The header parameters header reads, as nameSet bits.
const (
	hdrAlg = iota
	hdrKid
	hdrTyp
	hdrCrit
	hdrB64
)

// parseHeader reads the protected header. A parameter it reads must have
// its JSON type (jwx refused the others too); any other parameter is
// ignored, but none may appear twice.
func parseHeader(b []byte) (header, error) {
	var (
		h    header
		seen nameSet
	)
	err := members(b, func(name, v []byte) error {
		bit := -1
		switch string(name) {
		case "alg":
			bit = hdrAlg
		case "kid":
			bit = hdrKid
		case "typ":
			bit = hdrTyp
		case "crit":
			bit = hdrCrit
		case "b64":
			bit = hdrB64
		}
		if !seen.add(bit, name) {
			return fmt.Errorf("parameter %q appears twice", name)
		}
		var ok bool
		switch bit {
		case hdrAlg:
			h.alg, ok = jsonString(v)
		case hdrKid:
			h.kid, ok = jsonString(v)
		case hdrTyp:
			h.typ, ok = jsonString(v)
		case hdrCrit:
			h.crit, ok = stringArray(v)
		case hdrB64:
			h.b64False, ok = string(v) == "false", string(v) == "true" || string(v) == "false"
		default:
			return nil
		}
		if !ok {
			return fmt.Errorf("parameter %q has the wrong JSON type", name)
		}
		return nil
	})
	return h, err
}

// keyFor trusts the header for nothing but the kid: typ must be at+jwt,
// alg must be EdDSA or ES256 and equal to the algorithm of the configured
// key the kid names. Only then is that key used, with its own algorithm.
func (t *Tokens) keyFor(h header) (Key, error) {
	if h.typ != tokenType {
		return Key{}, headerError(fmt.Sprintf("typ %q is not %q", h.typ, tokenType))
	}
	alg := jwa.SignatureAlgorithm(h.alg)
	if alg != jwa.EdDSA && alg != jwa.ES256 {
		return Key{}, headerError(fmt.Sprintf("alg %q is not allowed", h.alg))
	}
	if len(h.crit) > 0 {
		return Key{}, headerError(fmt.Sprintf("unsupported critical headers %q", h.crit))
	}
	if h.b64False {
		// RFC 7797 requires b64 to be listed in crit, refused above.
		return Key{}, headerError("b64 false is not supported")
	}
	if h.kid == "" {
		return Key{}, headerError("missing kid")
	}
	k, ok := t.byKID[h.kid]
	if !ok {
		return Key{}, headerError(fmt.Sprintf("unknown kid %q", h.kid))
	}
	if k.alg != alg {
		return Key{}, headerError(fmt.Sprintf("alg %q does not match key %q (%s)", alg, h.kid, k.alg))
	}
	return k, nil
}

// verify checks sig over input with the key's own algorithm: Ed25519
// (RFC 8032, as crypto/ed25519 checks it) or ES256, whose signature is
// r and s as two 32-byte big-endian integers (RFC 7518 §3.4).
func (k Key) verify(input, sig []byte) bool {
	switch pub := k.pub.(type) {
	case ed25519.PublicKey:
		return k.alg == jwa.EdDSA && ed25519.Verify(pub, input, sig)
	case *ecdsa.PublicKey:
		if k.alg != jwa.ES256 || len(sig) != 64 {
			return false
		}
		digest := sha256.Sum256(input)
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		return ecdsa.Verify(pub, digest[:], r, s)
	default:
		return false
	}
}

// claims are the members of a verified payload that verification reads.
type claims struct {
	seen                       nameSet
	iss                        string
	aud                        bool // "aud" names this verifier's audience
	sub, jti, sid, role, appID string
	exp, iat, nbf              int64 // seconds since the epoch
}

// The claims claims reads, as nameSet bits.
const (
	bitIss = iota
	bitSub
	bitAud
	bitExp
	bitNbf
	bitIat
	bitJti
	bitTyp // the claim, not the header: read for its type only
	bitSid
	bitRole
	bitAppID
)

func claimBit(name []byte) int {
	switch string(name) {
	case "iss":
		return bitIss
	case "sub":
		return bitSub
	case "aud":
		return bitAud
	case "exp":
		return bitExp
	case "nbf":
		return bitNbf
	case "iat":
		return bitIat
	case "jti":
		return bitJti
	case "typ":
		return bitTyp
	case claimSessionID:
		return bitSid
	case claimRole:
		return bitRole
	case claimAppID:
		return bitAppID
	}
	return -1
}

// claimError refuses claims that are well-formed JSON but not what this
// package issues: token_invalid, where a JSON error is token_malformed.
type claimError string

func (e claimError) Error() string { return string(e) }

// parseClaims reads a verified payload. The claims it knows must have the
// JSON types RFC 7519 gives them (§4.1: NumericDate and StringOrURI
// values): numbers for the times, strings for the rest, a string or an
// array of strings for "aud". No claim may appear twice (RFC 7519 §4 lets
// a parser take the last, but then one payload reads two ways). Only a
// holder of a signing key can make such a token, but a claim whose type is
// not the one this package issues means it did not issue the token as
// read, and another verifier of it might read it otherwise. Claims it does
// not know may have any type.
func (t *Tokens) parseClaims(b []byte) (claims, error) {
	var c claims
	err := members(b, func(name, v []byte) error {
		bit := claimBit(name)
		if !c.seen.add(bit, name) {
			return claimError(fmt.Sprintf("claim %q appears twice", name))
		}
		var ok bool
		switch bit {
		case -1:
			return nil
		case bitExp, bitIat, bitNbf:
			var n int64
			if n, ok = numericDate(v); ok {
				switch bit {
				case bitExp:
					c.exp = n
				case bitIat:
					c.iat = n
				default:
					c.nbf = n
				}
			}
			if !ok {
				return claimError(fmt.Sprintf("claim %q is not a JSON number of seconds", name))
			}
			return nil
		case bitAud:
			c.aud, ok = t.namesAudience(v)
			if !ok {
				return claimError(fmt.Sprintf("claim %q is neither a string nor an array of strings", name))
			}
			return nil
		}
		var s string
		if s, ok = jsonString(v); !ok {
			return claimError(fmt.Sprintf("claim %q is not a JSON string", name))
		}
		switch bit {
		case bitIss:
			c.iss = s
		case bitSub:
			c.sub = s
		case bitJti:
			c.jti = s
		case bitSid:
			c.sid = s
		case bitRole:
			c.role = s
		case bitAppID:
			c.appID = s
		}
		return nil
	})
	return c, err
}

// namesAudience reports whether the "aud" value v is a string or an array
// of strings (ok), and whether it names this verifier's audience.
func (t *Tokens) namesAudience(v []byte) (match, ok bool) {
	if s, ok := jsonString(v); ok {
		return s == t.audience, true
	}
	list, ok := stringArray(v)
	return ok && containsString(list, t.audience), ok
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// stringArray returns the array of strings v (a valid JSON value).
func stringArray(v []byte) ([]string, bool) {
	if len(v) == 0 || v[0] != '[' {
		return nil, false
	}
	var list []string
	ok := true
	forEachElement(v, func(e []byte) {
		s, isString := jsonString(e)
		ok = ok && isString
		list = append(list, s)
	})
	return list, ok
}

// forEachElement calls f with each raw element of the valid JSON array v.
func forEachElement(v []byte, f func(e []byte)) {
	i := skipSpace(v, 1)
	if v[i] == ']' {
		return
	}
	for {
		end := valueEnd(v, i)
		f(v[i:end])
		if i = skipSpace(v, end); v[i] == ']' {
			return
		}
		i = skipSpace(v, i+1)
	}
}

// maxSeconds bounds a NumericDate: float64 holds every whole second up to
// it exactly, and time.Unix takes it.
const maxSeconds = 1 << 53

// numericDate reads a NumericDate: a JSON number of seconds since the
// epoch, whose fraction is dropped (times are kept to the second, as
// jwt.Parse kept them).
func numericDate(v []byte) (int64, bool) {
	if !isJSONNumber(v) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || math.Abs(f) >= maxSeconds {
		return 0, false
	}
	return int64(f), true
}

// validate applies the rules of an access token to verified claims at
// now: the times first (token_expired), with the configured skew and to
// the second, then issuer, audience and the required claims
// (token_invalid).
func (t *Tokens) validate(c claims, now time.Time) (ports.AccessClaims, error) {
	invalid := func(format string, args ...any) (ports.AccessClaims, error) {
		return ports.AccessClaims{}, tokenError(domain.CodeTokenInvalid, fmt.Errorf(format, args...))
	}
	expired := func(format string, args ...any) (ports.AccessClaims, error) {
		return ports.AccessClaims{}, tokenError(domain.CodeTokenExpired, fmt.Errorf(format, args...))
	}
	for _, r := range []struct {
		bit  int
		name string
	}{{bitExp, "exp"}, {bitIat, "iat"}} {
		if !c.seen.has(r.bit) {
			return invalid("required claim %q is missing", r.name)
		}
	}
	now = now.Truncate(time.Second)
	exp, iat := time.Unix(c.exp, 0).UTC(), time.Unix(c.iat, 0).UTC()
	if !now.Before(exp.Add(t.skew)) {
		return expired(`claim "exp" (%s) is past`, exp.Format(time.RFC3339))
	}
	if now.Before(iat.Add(-t.skew)) {
		return expired(`claim "iat" (%s) is in the future`, iat.Format(time.RFC3339))
	}
	if nbf := time.Unix(c.nbf, 0); c.seen.has(bitNbf) && now.Before(nbf.Add(-t.skew)) {
		return expired(`claim "nbf" (%s) is in the future`, nbf.UTC().Format(time.RFC3339))
	}
	switch {
	case !c.seen.has(bitIss) || c.iss != t.issuer:
		return invalid(`claim "iss" is not %q`, t.issuer)
	case !c.aud:
		return invalid(`claim "aud" does not name %q`, t.audience)
	case c.sub == "":
		return invalid(`claim "sub" is missing or empty`)
	case c.jti == "":
		return invalid(`claim "jti" is missing or empty`)
	case c.sid == "":
		return invalid("claim %q is missing or empty", claimSessionID)
	case !domain.Role(c.role).Valid():
		return invalid("claim %q is missing or not a known role", claimRole)
	}
	return ports.AccessClaims{
		UserID:    domain.UserID(c.sub),
		SessionID: domain.SessionID(c.sid),
		Role:      domain.Role(c.role),
		AppID:     domain.AppID(c.appID),
		TokenID:   c.jti,
		IssuedAt:  iat,
		ExpiresAt: exp,
	}, nil
}
