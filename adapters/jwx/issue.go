package jwx

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/lestrrat-go/jwx/v2/jwa"
)

// The issue path writes the compact JWS itself instead of going through
// jwt.Builder and jws.Sign: those build a token object, a header object
// and a map per token and marshal them with reflection: 151 allocations
// and half again the time of the Ed25519 signature itself per token (2
// allocations here; BenchmarkIssueAccess). The bytes
// are the ones jwx wrote: members in the same (sorted) order, the same
// JSON types and escaping, times as integer seconds, and ES256 signatures
// as the fixed 64-byte r||s of RFC 7518 section 3.4. Tests check every
// token against jws.Verify and jwt.Parse as well as against VerifyAccess.

// es256Size is the length of an ES256 signature: r and s, 32 bytes each.
const es256Size = 64

// signer is the precomputed part of what the signing key issues: the
// base64url protected header with its trailing dot, and the quoted iss and
// aud claims.
type signer struct {
	header string // base64url({"alg":...,"kid":...,"typ":"at+jwt"}) + "."
	iss    []byte // JSON string
	aud    []byte // JSON string
	sigLen int    // raw signature length
	ed     ed25519.PrivateKey
	ec     *ecdsa.PrivateKey
}

// newSigner precomputes k's protected header and the fixed claims.
func newSigner(k Key, issuer, audience string) (*signer, error) {
	// A map marshals with its keys sorted, the order jwx wrote them in.
	hdr, err := json.Marshal(map[string]string{"alg": k.alg.String(), "kid": k.kid, "typ": tokenType})
	if err != nil {
		return nil, fmt.Errorf("marshal protected header: %w", err)
	}
	s := &signer{header: base64.RawURLEncoding.EncodeToString(hdr) + "."}
	if s.iss, err = json.Marshal(issuer); err != nil {
		return nil, fmt.Errorf("marshal issuer: %w", err)
	}
	if s.aud, err = json.Marshal(audience); err != nil {
		return nil, fmt.Errorf("marshal audience: %w", err)
	}
	switch p := k.priv.(type) {
	case ed25519.PrivateKey:
		if k.alg != jwa.EdDSA {
			return nil, fmt.Errorf("key %s: Ed25519 key with algorithm %s", k.kid, k.alg)
		}
		s.ed, s.sigLen = p, ed25519.SignatureSize
	case *ecdsa.PrivateKey:
		if k.alg != jwa.ES256 {
			return nil, fmt.Errorf("key %s: ECDSA key with algorithm %s", k.kid, k.alg)
		}
		s.ec, s.sigLen = p, es256Size
	default:
		return nil, fmt.Errorf("key %s: unsupported private key %T", k.kid, k.priv)
	}
	return s, nil
}

// issueClaims are the values of one token's claims, already defaulted.
type issueClaims struct {
	appID, sub, sid, jti, role string
	iat, exp                   time.Time
}

// appendClaims appends the JSON claims object, members in sorted order as
// jwx wrote them: appid (when set), aud, exp, iat, iss, jti, role, sid, sub.
func (s *signer) appendClaims(b []byte, c *issueClaims) []byte {
	b = append(b, '{')
	if c.appID != "" {
		b = append(b, `"appid":`...)
		b = appendJSONString(b, c.appID)
		b = append(b, ',')
	}
	b = append(b, `"aud":`...)
	b = append(b, s.aud...)
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, c.exp.Unix(), 10)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, c.iat.Unix(), 10)
	b = append(b, `,"iss":`...)
	b = append(b, s.iss...)
	b = append(b, `,"jti":`...)
	b = appendJSONString(b, c.jti)
	b = append(b, `,"role":`...)
	b = appendJSONString(b, c.role)
	b = append(b, `,"sid":`...)
	b = appendJSONString(b, c.sid)
	b = append(b, `,"sub":`...)
	b = appendJSONString(b, c.sub)
	return append(b, '}')
}

// sign returns the compact JWS of c.
func (s *signer) sign(c *issueClaims) (string, error) {
	var buf [512]byte
	payload := s.appendClaims(buf[:0], c)
	enc := base64.RawURLEncoding
	n := len(s.header) + enc.EncodedLen(len(payload))
	out := make([]byte, n, n+1+enc.EncodedLen(s.sigLen))
	copy(out, s.header)
	enc.Encode(out[len(s.header):], payload)
	var sig [es256Size]byte // both signature sizes are 64 bytes
	switch {
	case s.ed != nil:
		copy(sig[:], ed25519.Sign(s.ed, out))
	default:
		digest := sha256.Sum256(out)
		r, ss, err := ecdsa.Sign(rand.Reader, s.ec, digest[:])
		if err != nil {
			return "", fmt.Errorf("ES256 sign: %w", err)
		}
		r.FillBytes(sig[:32])
		ss.FillBytes(sig[32:])
	}
	out = append(out, '.')
	out = out[:n+1+enc.EncodedLen(s.sigLen)]
	enc.Encode(out[n+1:], sig[:s.sigLen])
	return string(out), nil
}

// appendJSONString appends s as encoding/json quotes it (with its HTML
// escaping, as jwx's encoder did). Our claim values are plain ASCII and
// take the fast path; anything else goes through encoding/json itself, so
// the bytes cannot differ.
func appendJSONString(b []byte, s string) []byte {
	for i := range len(s) {
		switch c := s[i]; {
		case c < 0x20, c >= utf8.RuneSelf, c == '"', c == '\\', c == '<', c == '>', c == '&':
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
