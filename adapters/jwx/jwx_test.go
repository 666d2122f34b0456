package jwx_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/miniback/miniback/adapters/jwx"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

const (
	issuer   = "https://api.miniback.test"
	audience = "miniback"
	userID   = domain.UserID("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
	tokenID  = "3q2-7wX9aVbQm1nP0kLz4g"
	sessID   = domain.SessionID("5b0c4e1a-8f2d-4c3b-9a7e-6d5f4e3c2b1a")
	appID    = domain.AppID("wx0123456789abcdef")
)

// epoch is the pinned "now" of every test.
var epoch = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

type fixedClock struct{ now time.Time }

func (c fixedClock) Now() time.Time { return c.now }

// testKey is a generated key: its raw private key, for forging tokens, and
// the same key as jwx parsed it from PEM.
type testKey struct {
	raw crypto.Signer
	alg jwa.SignatureAlgorithm
	pem []byte
	key jwx.Key
}

func pemOf(t testing.TB, typ string, der []byte) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pkcs8(t testing.TB, priv any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf(t, "PRIVATE KEY", der)
}

func parseOne(t testing.TB, p []byte) jwx.Key {
	t.Helper()
	keys, err := jwx.ParsePrivateKeysPEM(p)
	if err != nil {
		t.Fatalf("ParsePrivateKeysPEM: %v", err)
	}
	if len(keys) != 1 {
		t.Fatalf("got %d keys, want 1", len(keys))
	}
	return keys[0]
}

func newEd25519(t testing.TB) testKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := pkcs8(t, priv)
	return testKey{raw: priv, alg: jwa.EdDSA, pem: p, key: parseOne(t, p)}
}

// newP256 returns a P-256 key, PEM-encoded as SEC 1 when sec1 is set and
// as PKCS #8 otherwise.
func newP256(t testing.TB, sec1 bool) testKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := pkcs8(t, priv)
	if sec1 {
		der, err := x509.MarshalECPrivateKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		p = pemOf(t, "EC PRIVATE KEY", der)
	}
	return testKey{raw: priv, alg: jwa.ES256, pem: p, key: parseOne(t, p)}
}

func newTokens(t testing.TB, now time.Time, keys ...testKey) *jwx.Tokens {
	t.Helper()
	cfg := jwx.Config{Issuer: issuer, Audience: audience, Clock: fixedClock{now}}
	for _, k := range keys {
		cfg.Keys = append(cfg.Keys, k.key)
	}
	tokens, err := jwx.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return tokens
}

// claimsAt are the claims of a token issued at iat by the app's login.
func claimsAt(iat time.Time, app domain.AppID) ports.AccessClaims {
	return ports.AccessClaims{UserID: userID, SessionID: sessID, Role: domain.RoleUser, AppID: app, TokenID: tokenID, IssuedAt: iat, ExpiresAt: iat.Add(jwx.DefaultTTL)}
}

func issue(t testing.TB, tokens *jwx.Tokens, c ports.AccessClaims) string {
	t.Helper()
	tok, err := tokens.IssueAccess(context.Background(), c)
	if err != nil {
		t.Fatalf("IssueAccess: %v", err)
	}
	return tok
}

// header and claims of a token that would verify if signed by a configured
// key.
func validHeader(k testKey) map[string]any {
	return map[string]any{"typ": "at+jwt", "kid": k.key.ID()}
}

func validClaims() map[string]any {
	return map[string]any{
		"iss": issuer, "aud": audience, "sub": string(userID), "jti": tokenID,
		"sid": string(sessID), "role": "user",
		"iat": epoch.Unix(), "exp": epoch.Add(jwx.DefaultTTL).Unix(),
	}
}

// forge signs claims under hdr with jws directly, so that every header and
// claim, including typ, is exactly as given (jws.Sign adds only alg).
func forge(t testing.TB, alg jwa.SignatureAlgorithm, key any, hdr, claims map[string]any) string {
	t.Helper()
	h := jws.NewHeaders()
	for k, v := range hdr {
		if err := h.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := jws.Sign(payload, jws.WithKey(alg, key, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatalf("jws.Sign: %v", err)
	}
	return string(signed)
}

// b64JSON is the base64url encoding of v's JSON.
func b64JSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func with(m map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	out[k] = v
	return out
}

func without(m map[string]any, k string) map[string]any {
	out := with(m, k, nil)
	delete(out, k)
	return out
}

func wantCode(t testing.TB, err error, want domain.Code) {
	t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not a *domain.Error", err, err)
	}
	if de.Code != want {
		t.Fatalf("code = %q, want %q (error: %v)", de.Code, want, err)
	}
	if de.Err == nil {
		t.Errorf("error %v keeps no cause", err)
	}
}

func sameClaims(t testing.TB, got, want ports.AccessClaims) {
	t.Helper()
	if got.UserID != want.UserID || got.SessionID != want.SessionID || got.Role != want.Role ||
		got.AppID != want.AppID || got.TokenID != want.TokenID ||
		!got.IssuedAt.Equal(want.IssuedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Fatalf("claims = %+v, want %+v", got, want)
	}
}

func TestVerifyAccessReturnsTheIssuedClaims(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  func(testing.TB) testKey
		app  domain.AppID
	}{
		{"EdDSA with appid", newEd25519, appID},
		{"EdDSA without appid", newEd25519, ""},
		{"ES256 PKCS8 with appid", func(t testing.TB) testKey { return newP256(t, false) }, appID},
		{"ES256 SEC1 without appid", func(t testing.TB) testKey { return newP256(t, true) }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tokens := newTokens(t, epoch, tc.key(t))
			want := claimsAt(epoch, tc.app)
			got, err := tokens.VerifyAccess(context.Background(), issue(t, tokens, want))
			if err != nil {
				t.Fatalf("VerifyAccess: %v", err)
			}
			sameClaims(t, got, want)
		})
	}
}

func TestIssueAccessWritesRFC9068HeaderAndClaims(t *testing.T) {
	for _, k := range []testKey{newEd25519(t), newP256(t, false)} {
		t.Run(k.alg.String(), func(t *testing.T) {
			tokens := newTokens(t, epoch, k)
			parts := strings.Split(issue(t, tokens, claimsAt(epoch, appID)), ".")
			if len(parts) != 3 {
				t.Fatalf("token has %d parts, want 3", len(parts))
			}
			var hdr, claims map[string]any
			for i, v := range []*map[string]any{&hdr, &claims} {
				b, err := base64.RawURLEncoding.DecodeString(parts[i])
				if err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(b, v); err != nil {
					t.Fatal(err)
				}
			}
			wantHdr := map[string]any{"typ": "at+jwt", "alg": k.alg.String(), "kid": k.key.ID()}
			if len(hdr) != len(wantHdr) {
				t.Errorf("header = %v, want %v", hdr, wantHdr)
			}
			for name, v := range wantHdr {
				if hdr[name] != v {
					t.Errorf("header %q = %v, want %v", name, hdr[name], v)
				}
			}
			wantClaims := map[string]any{
				"iss": issuer, "aud": audience, "sub": string(userID), "jti": tokenID, "appid": string(appID),
				"sid": string(sessID), "role": "user",
				"iat": float64(epoch.Unix()), "exp": float64(epoch.Add(jwx.DefaultTTL).Unix()),
			}
			if len(claims) != len(wantClaims) {
				t.Errorf("claims = %v, want %v", claims, wantClaims)
			}
			for name, v := range wantClaims {
				if claims[name] != v {
					t.Errorf("claim %q = %v (%T), want %v", name, claims[name], claims[name], v)
				}
			}
		})
	}
}

func TestSessionIDAndRoleRoundTrip(t *testing.T) {
	tokens := newTokens(t, epoch, newEd25519(t))
	for _, role := range []domain.Role{domain.RoleUser, domain.RoleAdmin} {
		want := claimsAt(epoch, appID)
		want.Role = role
		got, err := tokens.VerifyAccess(context.Background(), issue(t, tokens, want))
		if err != nil {
			t.Fatalf("VerifyAccess: %v", err)
		}
		sameClaims(t, got, want)
	}
}

func TestIssueAccessWithoutARoleIssuesAUserToken(t *testing.T) {
	tokens := newTokens(t, epoch, newEd25519(t))
	c := claimsAt(epoch, appID)
	c.Role = ""
	got, err := tokens.VerifyAccess(context.Background(), issue(t, tokens, c))
	if err != nil {
		t.Fatalf("VerifyAccess: %v", err)
	}
	if got.Role != domain.RoleUser {
		t.Errorf("role = %q, want user", got.Role)
	}
}

func TestIssueAccessFillsMissingTimesFromClockAndTTL(t *testing.T) {
	k := newEd25519(t)
	tokens := newTokens(t, epoch, k)
	c := ports.AccessClaims{UserID: userID, SessionID: sessID, TokenID: tokenID}
	got, err := tokens.VerifyAccess(context.Background(), issue(t, tokens, c))
	if err != nil {
		t.Fatalf("VerifyAccess: %v", err)
	}
	sameClaims(t, got, claimsAt(epoch, ""))
	if tokens.AccessTTL() != jwx.DefaultTTL {
		t.Errorf("AccessTTL = %s, want %s", tokens.AccessTTL(), jwx.DefaultTTL)
	}
}

func TestIssueAccessRefusesIncompleteClaims(t *testing.T) {
	tokens := newTokens(t, epoch, newEd25519(t))
	for _, tc := range []struct {
		name string
		c    ports.AccessClaims
	}{
		{"no user id", ports.AccessClaims{SessionID: sessID, TokenID: tokenID}},
		{"no session id", ports.AccessClaims{UserID: userID, TokenID: tokenID}},
		{"no token id", ports.AccessClaims{UserID: userID, SessionID: sessID}},
		{"unknown role", ports.AccessClaims{UserID: userID, SessionID: sessID, TokenID: tokenID, Role: "root"}},
		{"expiry before issue", ports.AccessClaims{UserID: userID, SessionID: sessID, TokenID: tokenID, IssuedAt: epoch, ExpiresAt: epoch.Add(-time.Second)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tok, err := tokens.IssueAccess(context.Background(), tc.c); err == nil {
				t.Fatalf("IssueAccess = %q, want an error", tok)
			}
		})
	}
}

func TestVerifyAccessChecksTimesWithSkew(t *testing.T) {
	k := newEd25519(t)
	signer := newTokens(t, epoch, k)
	exp := epoch.Add(jwx.DefaultTTL)
	for _, tc := range []struct {
		name  string
		now   time.Time // the verifier's clock
		token func(t *testing.T) string
		want  domain.Code // "" means valid
	}{
		{"fresh token is valid", epoch,
			func(t *testing.T) string { return issue(t, signer, claimsAt(epoch, appID)) }, ""},
		{"token past exp within skew is valid", exp.Add(jwx.DefaultSkew - time.Second),
			func(t *testing.T) string { return issue(t, signer, claimsAt(epoch, appID)) }, ""},
		{"token past exp beyond skew is expired", exp.Add(jwx.DefaultSkew),
			func(t *testing.T) string { return issue(t, signer, claimsAt(epoch, appID)) }, domain.CodeTokenExpired},
		{"token issued in the future within skew is valid", epoch.Add(-jwx.DefaultSkew),
			func(t *testing.T) string { return issue(t, signer, claimsAt(epoch, appID)) }, ""},
		{"token issued in the future beyond skew is not yet valid", epoch.Add(-jwx.DefaultSkew - time.Second),
			func(t *testing.T) string { return issue(t, signer, claimsAt(epoch, appID)) }, domain.CodeTokenExpired},
		{"token with nbf in the future beyond skew is not yet valid", epoch,
			func(t *testing.T) string {
				return forge(t, k.alg, k.raw, validHeader(k), with(validClaims(), "nbf", epoch.Add(time.Minute).Unix()))
			}, domain.CodeTokenExpired},
		{"expired token with a bad signature is invalid, not expired", exp.Add(time.Hour),
			func(t *testing.T) string {
				return forge(t, k.alg, newEd25519(t).raw, validHeader(k), validClaims())
			}, domain.CodeTokenInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newTokens(t, tc.now, k).VerifyAccess(context.Background(), tc.token(t))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("VerifyAccess: %v", err)
				}
				return
			}
			wantCode(t, err, tc.want)
		})
	}
}

func TestVerifyAccessRefusesForgedAndForeignTokens(t *testing.T) {
	ed := newEd25519(t)
	ec := newP256(t, false)
	stranger := newEd25519(t)
	verifier := newTokens(t, epoch, ed, ec)
	edPub := []byte(ed.raw.Public().(ed25519.PublicKey))
	edPubDER, err := x509.MarshalPKIXPublicKey(ed.raw.Public())
	if err != nil {
		t.Fatal(err)
	}
	edPubPEM := pemOf(t, "PUBLIC KEY", edPubDER)
	claims := validClaims()
	for _, tc := range []struct {
		name  string
		why   string // in the error's cause
		token func(t *testing.T) string
	}{
		{"alg none", "alg \"none\" is not allowed", func(t *testing.T) string {
			return b64JSON(t, with(validHeader(ed), "alg", "none")) + "." + b64JSON(t, claims) + "."
		}},
		{"alg none with a signature", "alg \"none\" is not allowed", func(t *testing.T) string {
			return b64JSON(t, with(validHeader(ed), "alg", "none")) + "." + b64JSON(t, claims) + ".c2ln"
		}},
		{"HS256 keyed with the raw public key", "alg \"HS256\" is not allowed", func(t *testing.T) string {
			return forge(t, jwa.HS256, edPub, validHeader(ed), claims)
		}},
		{"HS256 keyed with the PEM public key", "alg \"HS256\" is not allowed", func(t *testing.T) string {
			return forge(t, jwa.HS256, edPubPEM, validHeader(ed), claims)
		}},
		{"ES256 header naming an EdDSA key", "does not match key", func(t *testing.T) string {
			return forge(t, jwa.ES256, newP256(t, false).raw, validHeader(ed), claims)
		}},
		{"EdDSA header naming an ES256 key", "does not match key", func(t *testing.T) string {
			return forge(t, jwa.EdDSA, stranger.raw, validHeader(ec), claims)
		}},
		{"ES384 header", "alg \"ES384\" is not allowed", func(t *testing.T) string {
			p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			return forge(t, jwa.ES384, p384, validHeader(ec), claims)
		}},
		{"another key under a configured kid", "could not verify", func(t *testing.T) string {
			return forge(t, stranger.alg, stranger.raw, validHeader(ed), claims)
		}},
		{"another key under its own unknown kid", "unknown kid", func(t *testing.T) string {
			return forge(t, stranger.alg, stranger.raw, validHeader(stranger), claims)
		}},
		{"missing kid", "missing kid", func(t *testing.T) string {
			return forge(t, ed.alg, ed.raw, without(validHeader(ed), "kid"), claims)
		}},
		{"typ JWT", "typ \"JWT\"", func(t *testing.T) string {
			return forge(t, ed.alg, ed.raw, with(validHeader(ed), "typ", "JWT"), claims)
		}},
		{"missing typ", "typ \"\"", func(t *testing.T) string {
			return forge(t, ed.alg, ed.raw, without(validHeader(ed), "typ"), claims)
		}},
		{"unknown critical header", "critical", func(t *testing.T) string {
			h := with(validHeader(ed), "crit", []string{"exp"})
			return forge(t, ed.alg, ed.raw, with(h, "exp", 1), claims)
		}},
		{"wrong aud", "\"aud\"", func(t *testing.T) string {
			return forge(t, ed.alg, ed.raw, validHeader(ed), with(claims, "aud", "someone-else"))
		}},
		{"missing aud", "\"aud\"", func(t *testing.T) string {
			return forge(t, ed.alg, ed.raw, validHeader(ed), without(claims, "aud"))
		}},
		{"wrong iss", "\"iss\"", func(t *testing.T) string {
			return forge(t, ed.alg, ed.raw, validHeader(ed), with(claims, "iss", "https://evil.test"))
		}},
		{"missing sub", "\"sub\"", func(t *testing.T) string {
			return forge(t, ed.alg, ed.raw, validHeader(ed), without(claims, "sub"))
		}},
		{"missing jti", "\"jti\"", func(t *testing.T) string {
			return forge(t, ed.alg, ed.raw, validHeader(ed), without(claims, "jti"))
		}},
		{"missing exp", "\"exp\"", func(t *testing.T) string {
			return forge(t, ed.alg, ed.raw, validHeader(ed), without(claims, "exp"))
		}},
		{"missing iat", "\"iat\"", func(t *testing.T) string {
			return forge(t, ed.alg, ed.raw, validHeader(ed), without(claims, "iat"))
		}},
		{"missing sid", "\"sid\"", func(t *testing.T) string {
			return forge(t, ed.alg, ed.raw, validHeader(ed), without(claims, "sid"))
		}},
		{"empty sid", "\"sid\"", func(t *testing.T) string {
			return forge(t, ed.alg, ed.raw, validHeader(ed), with(claims, "sid", ""))
		}},
		{"sid not a string", "\"sid\"", func(t *testing.T) string {
			return forge(t, ed.alg, ed.raw, validHeader(ed), with(claims, "sid", 7))
		}},
		{"missing role", "\"role\"", func(t *testing.T) string {
			return forge(t, ed.alg, ed.raw, validHeader(ed), without(claims, "role"))
		}},
		{"unknown role", "\"role\"", func(t *testing.T) string {
			return forge(t, ed.alg, ed.raw, validHeader(ed), with(claims, "role", "superuser"))
		}},
		{"appid not a string", "\"appid\"", func(t *testing.T) string {
			return forge(t, ed.alg, ed.raw, validHeader(ed), with(claims, "appid", 42))
		}},
		{"tampered payload", "could not verify", func(t *testing.T) string {
			parts := strings.Split(issue(t, verifier, claimsAt(epoch, appID)), ".")
			parts[1] = b64JSON(t, with(claims, "sub", "0190a1b2-0000-7e5f-8a9b-0c1d2e3f4a5b"))
			return strings.Join(parts, ".")
		}},
		{"tampered header", "could not verify", func(t *testing.T) string {
			parts := strings.Split(issue(t, verifier, claimsAt(epoch, appID)), ".")
			parts[0] = b64JSON(t, with(with(validHeader(ed), "alg", "EdDSA"), "cty", "JWT"))
			return strings.Join(parts, ".")
		}},
		{"signature of another token", "could not verify", func(t *testing.T) string {
			a := strings.Split(issue(t, verifier, claimsAt(epoch, appID)), ".")
			b := strings.Split(issue(t, verifier, claimsAt(epoch, "")), ".")
			return a[0] + "." + a[1] + "." + b[2]
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verifier.VerifyAccess(context.Background(), tc.token(t))
			wantCode(t, err, domain.CodeTokenInvalid)
			if !strings.Contains(err.Error(), tc.why) {
				t.Errorf("error %q does not say %q", err, tc.why)
			}
		})
	}
}

func TestVerifyAccessCallsNonCompactInputMalformed(t *testing.T) {
	k := newEd25519(t)
	tokens := newTokens(t, epoch, k)
	valid := issue(t, tokens, claimsAt(epoch, appID))
	random := make([]byte, 48)
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	jsonJWS, err := jws.Sign([]byte(`{}`), jws.WithJSON(), jws.WithKey(k.alg, k.raw))
	if err != nil {
		t.Fatal(err)
	}
	payload := b64JSON(t, validClaims())
	for _, tc := range []struct{ name, token string }{
		{"empty", ""},
		{"one word", "abc"},
		{"three one-letter segments", "a.b.c"},
		{"random base64", base64.RawURLEncoding.EncodeToString(random)},
		{"random std base64 in three segments", base64.StdEncoding.EncodeToString(random[:16]) + "." +
			base64.StdEncoding.EncodeToString(random[16:32]) + "." + base64.StdEncoding.EncodeToString(random[32:])},
		{"two segments", strings.Join(strings.Split(valid, ".")[:2], ".")},
		{"four segments", valid + ".abc"},
		{"empty header", "." + payload + ".c2ln"},
		{"empty payload", b64JSON(t, validHeader(k)) + "..c2ln"},
		{"header not JSON", base64.RawURLEncoding.EncodeToString([]byte("hello")) + "." + payload + ".c2ln"},
		{"Bearer prefix", "Bearer " + valid},
		{"surrounding spaces", " " + valid + " "},
		{"JWS JSON serialization", string(jsonJWS)},
		{"oversized", valid + strings.Repeat("A", 5000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tokens.VerifyAccess(context.Background(), tc.token)
			wantCode(t, err, domain.CodeTokenMalformed)
		})
	}
}

func TestKeyRotationKeepsOldTokensUntilTheOldKeyIsRemoved(t *testing.T) {
	old, next := newEd25519(t), newP256(t, false)
	before := newTokens(t, epoch, old)
	during := newTokens(t, epoch, next, old)
	after := newTokens(t, epoch, next)
	oldToken := issue(t, before, claimsAt(epoch, appID))
	newToken := issue(t, during, claimsAt(epoch, appID))
	for _, tc := range []struct {
		name     string
		verifier *jwx.Tokens
		token    string
		want     domain.Code // "" means valid
	}{
		{"old token verifies while the new key signs", during, oldToken, ""},
		{"new token verifies while the old key is kept", during, newToken, ""},
		{"new token verifies after the old key is removed", after, newToken, ""},
		{"old token fails once the old key is removed", after, oldToken, domain.CodeTokenInvalid},
		{"new token fails where the new key is unknown", before, newToken, domain.CodeTokenInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.verifier.VerifyAccess(context.Background(), tc.token)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("VerifyAccess: %v", err)
				}
				sameClaims(t, got, claimsAt(epoch, appID))
				return
			}
			wantCode(t, err, tc.want)
		})
	}
	hdr, _, _ := strings.Cut(newToken, ".")
	if b, _ := base64.RawURLEncoding.DecodeString(hdr); !strings.Contains(string(b), next.key.ID()) {
		t.Errorf("rotated token header %s does not name the first key %s", b, next.key.ID())
	}
}

// The cache belongs to the Tokens whose keys verified its entries: the
// Tokens built without the old key (a restart with the key removed) does
// not accept a token of that key, however often the old Tokens verified
// and cached it.
func TestCachedTokenOfARemovedKeyIsRefused(t *testing.T) {
	old, next := newEd25519(t), newP256(t, false)
	cached := func(keys ...testKey) *jwx.Tokens {
		cfg := jwx.Config{Issuer: issuer, Audience: audience, Clock: fixedClock{epoch}, CacheSize: 100}
		for _, k := range keys {
			cfg.Keys = append(cfg.Keys, k.key)
		}
		tokens, err := jwx.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return tokens
	}
	during, after := cached(next, old), cached(next)
	oldToken := issue(t, cached(old), claimsAt(epoch, appID))
	for range 2 {
		if _, err := during.VerifyAccess(context.Background(), oldToken); err != nil {
			t.Fatalf("old token while the old key is kept: %v", err)
		}
	}
	_, err := after.VerifyAccess(context.Background(), oldToken)
	wantCode(t, err, domain.CodeTokenInvalid)
	if !strings.Contains(err.Error(), "unknown kid") {
		t.Errorf("error %q does not say unknown kid", err)
	}
}

func TestParsePrivateKeysPEMReadsEveryBlockInOrder(t *testing.T) {
	ed, ec, sec1 := newEd25519(t), newP256(t, false), newP256(t, true)
	data := append(append(append([]byte("# signing keys\n"), ed.pem...), ec.pem...), sec1.pem...)
	keys, err := jwx.ParsePrivateKeysPEM(data)
	if err != nil {
		t.Fatalf("ParsePrivateKeysPEM: %v", err)
	}
	want := []testKey{ed, ec, sec1}
	if len(keys) != len(want) {
		t.Fatalf("got %d keys, want %d", len(keys), len(want))
	}
	for i, k := range keys {
		if k.ID() != want[i].key.ID() || k.Algorithm() != want[i].alg.String() {
			t.Errorf("key %d = %s %s, want %s %s", i, k.Algorithm(), k.ID(), want[i].alg, want[i].key.ID())
		}
	}
}

func TestParsePrivateKeysPEMRefusesUnsupportedInput(t *testing.T) {
	rsaPEM := func(t *testing.T) []byte {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		return pkcs8(t, k)
	}
	p384 := func(t *testing.T) *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	for _, tc := range []struct {
		name    string
		data    func(t *testing.T) []byte
		errHint string
	}{
		{"empty", func(*testing.T) []byte { return nil }, "empty"},
		{"only whitespace", func(*testing.T) []byte { return []byte(" \n\t\n") }, "empty"},
		{"garbage", func(*testing.T) []byte { return []byte("not a key at all") }, "no PEM block"},
		{"RSA PKCS8", rsaPEM, "RSA"},
		{"RSA PKCS1", func(t *testing.T) []byte {
			return pemOf(t, "RSA PRIVATE KEY", []byte{0x30, 0x00})
		}, "unsupported PEM block type"},
		{"P-384 PKCS8", func(t *testing.T) []byte { return pkcs8(t, p384(t)) }, "P-384"},
		{"P-384 SEC1", func(t *testing.T) []byte {
			der, err := x509.MarshalECPrivateKey(p384(t))
			if err != nil {
				t.Fatal(err)
			}
			return pemOf(t, "EC PRIVATE KEY", der)
		}, "P-384"},
		{"public key", func(t *testing.T) []byte {
			der, err := x509.MarshalPKIXPublicKey(newEd25519(t).raw.Public())
			if err != nil {
				t.Fatal(err)
			}
			return pemOf(t, "PUBLIC KEY", der)
		}, "unsupported PEM block type"},
		{"corrupt DER", func(t *testing.T) []byte { return pemOf(t, "PRIVATE KEY", []byte("junk")) }, "parse"},
		{"good key then garbage", func(t *testing.T) []byte {
			return append(newEd25519(t).pem, "trailing junk"...)
		}, "after PEM block 1"},
		{"good key then RSA key", func(t *testing.T) []byte {
			return append(newEd25519(t).pem, rsaPEM(t)...)
		}, "PEM block 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := jwx.ParsePrivateKeysPEM(tc.data(t))
			if err == nil {
				t.Fatalf("ParsePrivateKeysPEM = %v, want an error", keys)
			}
			if !strings.Contains(err.Error(), tc.errHint) {
				t.Errorf("error %q does not mention %q", err, tc.errHint)
			}
		})
	}
}

// TestKeyIDIsTheRFC7638Thumbprint uses the Ed25519 key of RFC 8037,
// appendix A, whose thumbprint that RFC gives (A.3).
func TestKeyIDIsTheRFC7638Thumbprint(t *testing.T) {
	seed, err := base64.RawURLEncoding.DecodeString("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
	if err != nil {
		t.Fatal(err)
	}
	k := parseOne(t, pkcs8(t, ed25519.NewKeyFromSeed(seed)))
	if want := "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; k.ID() != want {
		t.Errorf("kid = %q, want %q", k.ID(), want)
	}
	if k.Algorithm() != "EdDSA" {
		t.Errorf("alg = %q, want EdDSA", k.Algorithm())
	}
}

func TestPublicJWKSHoldsOnlyPublicKeys(t *testing.T) {
	ed, ec := newEd25519(t), newP256(t, true)
	raw, err := newTokens(t, epoch, ed, ec).PublicJWKS()
	if err != nil {
		t.Fatalf("PublicJWKS: %v", err)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatalf("JWKS %s: %v", raw, err)
	}
	want := []map[string]any{
		{"kty": "OKP", "crv": "Ed25519", "kid": ed.key.ID(), "alg": "EdDSA", "use": "sig"},
		{"kty": "EC", "crv": "P-256", "kid": ec.key.ID(), "alg": "ES256", "use": "sig"},
	}
	if len(set.Keys) != len(want) {
		t.Fatalf("JWKS has %d keys, want %d: %s", len(set.Keys), len(want), raw)
	}
	for i, k := range set.Keys {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := k[private]; ok {
				t.Errorf("key %d has private member %q: %s", i, private, raw)
			}
		}
		for name, v := range want[i] {
			if k[name] != v {
				t.Errorf("key %d %q = %v, want %v", i, name, k[name], v)
			}
		}
	}
}

func TestNewRefusesIncompleteConfig(t *testing.T) {
	k := newEd25519(t).key
	base := jwx.Config{Keys: []jwx.Key{k}, Issuer: issuer, Audience: audience}
	for _, tc := range []struct {
		name   string
		change func(*jwx.Config)
	}{
		{"no keys", func(c *jwx.Config) { c.Keys = nil }},
		{"zero key", func(c *jwx.Config) { c.Keys = []jwx.Key{{}} }},
		{"same key twice", func(c *jwx.Config) { c.Keys = []jwx.Key{k, k} }},
		{"no issuer", func(c *jwx.Config) { c.Issuer = "" }},
		{"no audience", func(c *jwx.Config) { c.Audience = "" }},
		{"negative TTL", func(c *jwx.Config) { c.TTL = -time.Minute }},
		{"negative skew", func(c *jwx.Config) { c.Skew = -time.Second }},
		{"negative cache size", func(c *jwx.Config) { c.CacheSize = -1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.change(&cfg)
			if _, err := jwx.New(cfg); err == nil {
				t.Fatal("New succeeded, want an error")
			}
		})
	}
	if _, err := jwx.New(base); err != nil {
		t.Fatalf("New(base): %v", err)
	}
}

func TestPrintingAKeyShowsNoSecret(t *testing.T) {
	k := newEd25519(t)
	want := "EdDSA key " + k.key.ID()
	cfg := jwx.Config{Keys: []jwx.Key{k.key}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if got := fmt.Sprintf(verb, k.key); got != want {
			t.Errorf("%s of a Key = %q, want %q", verb, got, want)
		}
		if got := fmt.Sprintf(verb, cfg); !strings.Contains(got, want) {
			t.Errorf("%s of a Config = %q, want it to show %q", verb, got, want)
		}
	}
}

func TestGenerateEd25519PEMMakesAUsableKey(t *testing.T) {
	p, err := jwx.GenerateEd25519PEM()
	if err != nil {
		t.Fatalf("GenerateEd25519PEM: %v", err)
	}
	k := parseOne(t, p)
	if k.Algorithm() != "EdDSA" {
		t.Fatalf("alg = %q, want EdDSA", k.Algorithm())
	}
	tokens, err := jwx.New(jwx.Config{Keys: []jwx.Key{k}, Issuer: issuer, Audience: audience, Clock: fixedClock{epoch}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.VerifyAccess(context.Background(), issue(t, tokens, claimsAt(epoch, appID))); err != nil {
		t.Fatalf("VerifyAccess: %v", err)
	}
}

// BenchmarkVerifyAccess measures a full verification (EdDSA, ES256: no
// cache) and a token seen before (cached).
func BenchmarkVerifyAccess(b *testing.B) {
	ed := newEd25519(b)
	for _, tc := range []struct {
		name  string
		key   testKey
		cache int
	}{
		{"EdDSA", ed, 0},
		{"ES256", newP256(b, false), 0},
		{"EdDSA cached", ed, 10_000},
	} {
		b.Run(tc.name, func(b *testing.B) {
			tokens, err := jwx.New(jwx.Config{Keys: []jwx.Key{tc.key.key}, Issuer: issuer, Audience: audience, Clock: fixedClock{epoch}, CacheSize: tc.cache})
			if err != nil {
				b.Fatal(err)
			}
			token := issue(b, tokens, claimsAt(epoch, appID))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tokens.VerifyAccess(ctx, token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkIssueAccess(b *testing.B) {
	for _, k := range []testKey{newEd25519(b), newP256(b, false)} {
		b.Run(k.alg.String(), func(b *testing.B) {
			tokens := newTokens(b, epoch, k)
			c := claimsAt(epoch, appID)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tokens.IssueAccess(ctx, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
