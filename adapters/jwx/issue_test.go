package jwx_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/miniback/miniback/adapters/jwx"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// jwxIssue signs c the way IssueAccess did before it wrote the JWS itself:
// with jwx's jwt.Builder and jwt.Sign. It is the reference the hand-written
// tokens are compared with.
func jwxIssue(t *testing.T, k testKey, iss, aud string, c ports.AccessClaims) string {
	t.Helper()
	b := jwt.NewBuilder().Issuer(iss).Audience([]string{aud}).Subject(string(c.UserID)).
		IssuedAt(c.IssuedAt).Expiration(c.ExpiresAt).JwtID(c.TokenID).
		Claim("sid", string(c.SessionID)).Claim("role", string(c.Role))
	if c.AppID != "" {
		b = b.Claim("appid", string(c.AppID))
	}
	tok, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	tok.Options().Enable(jwt.FlattenAudience)
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.TypeKey, "at+jwt"); err != nil {
		t.Fatal(err)
	}
	if err := hdr.Set(jws.KeyIDKey, k.key.ID()); err != nil {
		t.Fatal(err)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(k.alg, k.raw, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(signed)
}

func TestIssuedTokensAreTheBytesJWXWroteAndVerifyWithJWXAndUs(t *testing.T) {
	odd := "https://api.miniback.test/?a=1&b=<c>"
	for _, k := range []testKey{newEd25519(t), newP256(t, false), newP256(t, true)} {
		for _, tc := range []struct {
			name, iss, aud string
			c              ports.AccessClaims
		}{
			{"with appid", issuer, audience, claimsAt(epoch, appID)},
			{"without appid", issuer, audience, claimsAt(epoch, "")},
			{"admin, odd times", issuer, audience, func() ports.AccessClaims {
				c := claimsAt(epoch.Add(1500*time.Millisecond), appID)
				c.Role, c.ExpiresAt = domain.RoleAdmin, c.IssuedAt.Add(time.Hour+999*time.Millisecond)
				return c
			}()},
			{"characters JSON escapes", odd, "aud\"ience\\<>&", func() ports.AccessClaims {
				c := claimsAt(epoch, "wx<&>\u2028é")
				c.TokenID, c.SessionID = "t\"\\\n\x01<>&\u2029ü", "s&1"
				return c
			}()},
		} {
			t.Run(k.alg.String()+" "+tc.name, func(t *testing.T) {
				tokens, err := jwx.New(jwx.Config{Keys: []jwx.Key{k.key}, Issuer: tc.iss, Audience: tc.aud, Clock: fixedClock{epoch}})
				if err != nil {
					t.Fatal(err)
				}
				got := issue(t, tokens, tc.c)
				want := jwxIssue(t, k, tc.iss, tc.aud, tc.c)
				gotParts, wantParts := strings.Split(got, "."), strings.Split(want, ".")
				if len(gotParts) != 3 {
					t.Fatalf("token %q has %d parts", got, len(gotParts))
				}
				for i, name := range []string{"protected header", "payload"} {
					if gotParts[i] != wantParts[i] {
						t.Errorf("%s = %s, jwx wrote %s", name, gotParts[i], wantParts[i])
					}
				}
				if k.alg.String() == "EdDSA" && got != want { // Ed25519 is deterministic
					t.Errorf("token = %s, jwx wrote %s", got, want)
				}
				if _, err := jws.Verify([]byte(got), jws.WithKey(k.alg, k.raw.Public())); err != nil {
					t.Errorf("jws.Verify: %v", err)
				}
				parsed, err := jwt.Parse([]byte(got), jwt.WithKey(k.alg, k.raw.Public()),
					jwt.WithClock(jwt.ClockFunc(func() time.Time { return tc.c.IssuedAt })),
					jwt.WithIssuer(tc.iss), jwt.WithAudience(tc.aud))
				if err != nil {
					t.Fatalf("jwt.Parse: %v", err)
				}
				if parsed.Subject() != string(tc.c.UserID) || parsed.JwtID() != tc.c.TokenID {
					t.Errorf("jwt.Parse: sub %q jti %q", parsed.Subject(), parsed.JwtID())
				}
				if tc.name == "characters JSON escapes" {
					return // VerifyAccess refuses such an appid; jwx's reading is the check
				}
				verified, err := tokens.VerifyAccess(context.Background(), got)
				if err != nil {
					t.Fatalf("VerifyAccess: %v", err)
				}
				wantClaims := tc.c
				wantClaims.IssuedAt, wantClaims.ExpiresAt = wantClaims.IssuedAt.Truncate(time.Second), wantClaims.ExpiresAt.Truncate(time.Second)
				sameClaims(t, verified, wantClaims)
			})
		}
	}
}
