package httpapi_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/jwx"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// pinnedClock always says the same time.
type pinnedClock time.Time

func (c pinnedClock) Now() time.Time { return time.Time(c) }

// claimsFor returns valid access token claims for userID, as jwx signs them.
func claimsFor(userID string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": issuer, "aud": audience, "sub": userID, "jti": "test-token",
		"sid": testSessionID, "role": "user",
		"iat": now.Unix(), "exp": now.Add(tokenTTL).Unix(),
	}
}

// signCompact signs a JWS compact token by hand, so a test can forge
// headers jwx would never write.
func signCompact(t *testing.T, priv ed25519.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(header) + "." + enc(claims)
	if priv == nil {
		return input + "."
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, []byte(input)))
}

// issuerWith returns a jwx issuer differing from the env's in cfg's
// non-zero fields (same key unless cfg names keys).
func (e *env) issuerWith(t *testing.T, cfg jwx.Config) *jwx.Tokens {
	t.Helper()
	if cfg.Keys == nil {
		cfg.Keys = e.keys
	}
	if cfg.Issuer == "" {
		cfg.Issuer = issuer
	}
	if cfg.Audience == "" {
		cfg.Audience = audience
	}
	tokens, err := jwx.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

// testSessionID is the session of hand-made tokens: none the store knows,
// which the API does not need to.
const testSessionID = "7c1f4e2a-0b9d-4c8e-a5f6-3d2e1b0a9c8d"

func issue(t *testing.T, tokens ports.TokenIssuer, userID string) string {
	t.Helper()
	tok, err := tokens.IssueAccess(context.Background(), ports.AccessClaims{
		UserID: domain.UserID(userID), SessionID: testSessionID, TokenID: "test-token"})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestEachRefusedTokenHasItsOwnCode(t *testing.T) {
	e := newEnv(t)
	userID := e.login(t, "dev-alice").User.ID
	kid := e.keys[0].ID()

	otherPEM, err := jwx.GenerateEd25519PEM()
	if err != nil {
		t.Fatal(err)
	}
	otherKeys, err := jwx.ParsePrivateKeysPEM(otherPEM)
	if err != nil {
		t.Fatal(err)
	}
	pastClock := pinnedClock(time.Now().Add(-2 * time.Hour))

	for _, tc := range []struct {
		name   string
		header string // Authorization header value; "" sends none
		code   domain.Code
	}{
		{"missing", "", domain.CodeTokenMissing},
		{"garbage", "Bearer garbage", domain.CodeTokenMalformed},
		{"basic scheme", "Basic YWxpY2U6c2VjcmV0", domain.CodeTokenMalformed},
		{"bearer without token", "Bearer", domain.CodeTokenMalformed},
		{"expired", "Bearer " + issue(t, e.issuerWith(t, jwx.Config{Clock: pastClock}), userID), domain.CodeTokenExpired},
		{"alg none", "Bearer " + signCompact(t, nil, map[string]any{"alg": "none", "typ": "at+jwt", "kid": kid}, claimsFor(userID)), domain.CodeTokenInvalid},
		{"signed by another key", "Bearer " + issue(t, e.issuerWith(t, jwx.Config{Keys: otherKeys}), userID), domain.CodeTokenInvalid},
		{"another key claiming our kid", "Bearer " + signCompact(t, privateKey(t, otherPEM), map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": kid}, claimsFor(userID)), domain.CodeTokenInvalid},
		{"wrong audience", "Bearer " + issue(t, e.issuerWith(t, jwx.Config{Audience: "another-api"}), userID), domain.CodeTokenInvalid},
		{"wrong issuer", "Bearer " + issue(t, e.issuerWith(t, jwx.Config{Issuer: "someone-else"}), userID), domain.CodeTokenInvalid},
		{"wrong typ", "Bearer " + signCompact(t, e.priv, map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": kid}, claimsFor(userID)), domain.CodeTokenInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.header != "" {
				headers = append(headers, "Authorization: "+tc.header)
			}
			res := e.apiFor(t).Get("/v1/me", headers...)
			if res.Status != http.StatusUnauthorized {
				t.Fatalf("want 401\n%s", res)
			}
			if p := res.Problem(); p.Code != string(tc.code) {
				t.Errorf("problem code %q, want %q", p.Code, tc.code)
			}
			want := `Bearer realm="miniback", error="invalid_token"`
			if tc.header == "" {
				want = `Bearer realm="miniback"`
			}
			if got := res.Header.Get("WWW-Authenticate"); got != want {
				t.Errorf("WWW-Authenticate %q, want %q", got, want)
			}
		})
	}

	// The hand-made signing is sound: the same construction with the
	// right typ is accepted.
	good := signCompact(t, e.priv, map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": kid}, claimsFor(userID))
	if res := e.api.Get("/v1/me", bearer(good)); res.Status != http.StatusOK {
		t.Fatalf("a well-formed hand-signed token was refused\n%s", res)
	}
}

func TestAuthenticationComesBeforeBodyValidation(t *testing.T) {
	e := newEnv(t)
	for name, headers := range map[string][]string{
		"no token":  nil,
		"bad token": {"Authorization: Bearer garbage"},
	} {
		t.Run(name, func(t *testing.T) {
			res := e.apiFor(t).JSON("PATCH", "/v1/me", `{"role":"admin"`, append(headers, "Content-Type: text/plain")...)
			if res.Status != http.StatusUnauthorized {
				t.Fatalf("want 401 before any word on the body\n%s", res)
			}
			if p := res.Problem(); p.Errors != nil {
				t.Errorf("a 401 lists field errors: %+v", *p.Errors)
			}
		})
	}
}

func TestTokenOfADeletedUserIsNotFound(t *testing.T) {
	e := newEnv(t)
	// A valid token for a user the store does not know.
	token := issue(t, e.tokens, "3f8e5a1c-2b7d-4e9f-8a6b-1c2d3e4f5a6b")
	res := e.api.Get("/v1/me", bearer(token))
	if res.Status != http.StatusNotFound || res.Problem().Code != string(domain.CodeNotFound) {
		t.Fatalf("want 404 not_found\n%s", res)
	}
}
