package jwx_test

import (
	"context"
	"crypto"
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/miniback/miniback/domain"
)

// signPayload signs payload as it is, byte for byte, with k under a valid
// header: the claims need not be what json.Marshal would write.
func signPayload(t *testing.T, k testKey, payload string) string {
	t.Helper()
	h := jws.NewHeaders()
	for name, v := range validHeader(k) {
		if err := h.Set(name, v); err != nil {
			t.Fatal(err)
		}
	}
	signed, err := jws.Sign([]byte(payload), jws.WithKey(k.alg, k.raw, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatal(err)
	}
	return string(signed)
}

func TestVerifyAccessRefusesClaimsOfTheWrongJSONType(t *testing.T) {
	ed := newEd25519(t)
	verifier := newTokens(t, epoch, ed)
	claims := validClaims()
	iat, exp := epoch.Unix(), epoch.Add(10*60*1e9).Unix()
	for _, tc := range []struct {
		name  string
		claim string
		value any
	}{
		// What jwt.Parse itself accepted.
		{"exp a string of digits", "exp", fmt.Sprint(exp)},
		{"iat a string of digits", "iat", fmt.Sprint(iat)},
		{"nbf a string of digits", "nbf", fmt.Sprint(iat)},
		{"sub null", "sub", nil},
		{"jti null", "jti", nil},
		{"typ a number", "typ", 7},
		{"typ null", "typ", nil},
		{"typ an object", "typ", map[string]any{}},
		// What it refused already, still refused.
		{"exp null", "exp", nil},
		{"exp true", "exp", true},
		{"iss a number", "iss", 7},
		{"sub a number", "sub", 7},
		{"jti an array", "jti", []string{tokenID}},
		{"sid null", "sid", nil},
		{"role a number", "role", 1},
		{"appid null", "appid", nil},
		{"aud a number", "aud", 7},
		{"aud with a number", "aud", []any{audience, 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verifier.VerifyAccess(context.Background(), forge(t, ed.alg, ed.raw, validHeader(ed), with(claims, tc.claim, tc.value)))
			if err == nil {
				t.Fatalf("a token whose %q is %#v was accepted", tc.claim, tc.value)
			}
			if code := domain.ErrorCode(err); code != domain.CodeTokenInvalid && code != domain.CodeTokenMalformed {
				t.Errorf("code %q, want token_invalid or token_malformed (error: %v)", code, err)
			}
		})
	}

	// The right types pass: numbers (even with a fraction) for the times,
	// strings for the rest, and aud as a string or an array of strings.
	for name, token := range map[string]string{
		"nbf and a typ claim": forge(t, ed.alg, ed.raw, validHeader(ed), with(with(claims, "nbf", iat), "typ", "at+jwt")),
		"fractional exp":      forge(t, ed.alg, ed.raw, validHeader(ed), with(claims, "exp", float64(exp)+0.5)),
		"aud as an array":     forge(t, ed.alg, ed.raw, validHeader(ed), with(claims, "aud", []string{audience, "other"})),
		"spaces in the JSON": signPayload(t, ed, fmt.Sprintf(`{ "iss" : %q , "aud" : [ %q ] , "sub" : %q , "jti" : %q , "sid" : %q , "role" : "user" , "iat" : %d , "exp" : %d }`,
			issuer, audience, userID, tokenID, sessID, iat, exp)),
	} {
		if _, err := verifier.VerifyAccess(context.Background(), token); err != nil {
			t.Errorf("%s: refused: %v", name, err)
		}
	}
}

// A claim given twice must not pass the type check with one value and be
// read with the other, so a repeated claim is refused whatever its values.
func TestVerifyAccessRefusesARepeatedClaim(t *testing.T) {
	ed := newEd25519(t)
	verifier := newTokens(t, epoch, ed)
	exp := fmt.Sprint(epoch.Add(10 * 60 * 1e9).Unix())
	base := fmt.Sprintf(`{"iss":%q,"aud":%q,"sub":%q,"jti":%q,"role":"user","iat":%d`, issuer, audience, userID, tokenID, epoch.Unix())
	sid := fmt.Sprintf(`,"sid":%q`, sessID)
	for _, tail := range []string{
		`,"exp":` + exp + `,"exp":"` + exp + `"` + sid,
		`,"exp":"` + exp + `","exp":` + exp + sid,
		`,"exp":` + exp + `,"exp":` + exp + sid,
		`,"exp":` + exp + sid + sid,
	} {
		if _, err := verifier.VerifyAccess(context.Background(), signPayload(t, ed, base+tail+"}")); domain.ErrorCode(err) != domain.CodeTokenInvalid {
			t.Errorf("%s: want token_invalid, got %v", tail, err)
		}
	}
	if _, err := verifier.VerifyAccess(context.Background(), signPayload(t, ed, base+`,"exp":`+exp+sid+"}")); err != nil {
		t.Errorf("the same claims, each once, were refused: %v", err)
	}
}

// Claim names are read exactly as written: another case is another
// (unknown) claim, and an escaped spelling of a name is that name.
func TestVerifyAccessReadsClaimNamesExactly(t *testing.T) {
	ed := newEd25519(t)
	verifier := newTokens(t, epoch, ed)
	exp := epoch.Add(10 * 60 * 1e9).Unix()
	base := fmt.Sprintf(`{"iss":%q,"aud":%q,"jti":%q,"sid":%q,"role":"user","iat":%d`, issuer, audience, tokenID, sessID, epoch.Unix())
	sub := fmt.Sprintf(`,"sub":%q`, userID)
	for _, tc := range []struct {
		name, tail string
		want       domain.Code // "" means valid
	}{
		{"an upper-case EXP is another claim", sub + fmt.Sprintf(`,"exp":%d,"EXP":"never"}`, exp), ""},
		{"an upper-case EXP alone is no exp", sub + fmt.Sprintf(`,"EXP":%d}`, exp), domain.CodeTokenInvalid},
		{"an escaped exp is exp", sub + fmt.Sprintf(`,"\u0065xp":%d}`, exp), ""},
		{"an escaped exp beside exp is a repeat", sub + fmt.Sprintf(`,"exp":%d,"\u0065xp":%d}`, exp, exp), domain.CodeTokenInvalid},
		{"an escaped sub is sub", fmt.Sprintf(`,"\u0073ub":%q,"exp":%d}`, userID, exp), ""},
		{"an escaped sub value is read unescaped", fmt.Sprintf(`,"sub":"\u0030%s","exp":%d}`, userID[1:], exp), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := verifier.VerifyAccess(context.Background(), signPayload(t, ed, base+tc.tail))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if c.UserID != userID || c.ExpiresAt.Unix() != exp {
					t.Fatalf("claims %+v, want sub %s and exp %d", c, userID, exp)
				}
				return
			}
			if code := domain.ErrorCode(err); code != tc.want {
				t.Fatalf("code %q, want %q (error: %v)", code, tc.want, err)
			}
		})
	}
}

// The header is read as strictly as the claims: its parameters have their
// JSON types and appear once, and "b64": false (RFC 7797) is refused.
func TestVerifyAccessRefusesAnOddHeader(t *testing.T) {
	ed := newEd25519(t)
	verifier := newTokens(t, epoch, ed)
	payload := b64JSON(t, validClaims())
	sign := func(hdr string) string {
		input := base64.RawURLEncoding.EncodeToString([]byte(hdr)) + "." + payload
		sig, err := ed.raw.Sign(nil, []byte(input), crypto.Hash(0))
		if err != nil {
			t.Fatal(err)
		}
		return input + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	kid := ed.key.ID()
	if _, err := verifier.VerifyAccess(context.Background(), sign(fmt.Sprintf(`{"alg":"EdDSA","kid":%q,"typ":"at+jwt","x":[1,{"y":"}"}]}`, kid))); err != nil {
		t.Fatalf("a header with an unknown parameter was refused: %v", err)
	}
	for _, tc := range []struct {
		name, hdr string
		want      domain.Code
	}{
		{"alg twice", fmt.Sprintf(`{"alg":"none","kid":%q,"typ":"at+jwt","alg":"EdDSA"}`, kid), domain.CodeTokenMalformed},
		{"kid a number", `{"alg":"EdDSA","kid":7,"typ":"at+jwt"}`, domain.CodeTokenMalformed},
		{"typ null", fmt.Sprintf(`{"alg":"EdDSA","kid":%q,"typ":null}`, kid), domain.CodeTokenMalformed},
		{"crit not an array", fmt.Sprintf(`{"alg":"EdDSA","kid":%q,"typ":"at+jwt","crit":"b64"}`, kid), domain.CodeTokenMalformed},
		{"b64 false", fmt.Sprintf(`{"alg":"EdDSA","kid":%q,"typ":"at+jwt","b64":false}`, kid), domain.CodeTokenInvalid},
		{"upper-case ALG", fmt.Sprintf(`{"ALG":"EdDSA","kid":%q,"typ":"at+jwt"}`, kid), domain.CodeTokenInvalid},
		{"not an object", `["EdDSA"]`, domain.CodeTokenMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verifier.VerifyAccess(context.Background(), sign(tc.hdr))
			wantCode(t, err, tc.want)
		})
	}
}
