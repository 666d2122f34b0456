package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/miniback/miniback/domain"
)

func TestATokenWithAClaimOfTheWrongJSONTypeIsRefused(t *testing.T) {
	e := newEnv(t)
	userID := e.login(t, "dev-alice").User.ID
	header := map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": e.keys[0].ID()}
	exp := time.Now().Add(5 * time.Minute).Unix()
	for name, claims := range map[string]map[string]any{
		"exp a string": withClaim(claimsFor(userID), "exp", fmt.Sprint(exp)),
		"iat a string": withClaim(claimsFor(userID), "iat", fmt.Sprint(time.Now().Unix())),
		"jti null":     withClaim(claimsFor(userID), "jti", nil),
	} {
		token := signCompact(t, e.priv, header, claims)
		res := e.apiFor(t).Get("/v1/me", bearer(token))
		if res.Status != http.StatusUnauthorized || res.Problem().Code != string(domain.CodeTokenInvalid) {
			t.Errorf("%s: want 401 token_invalid\n%s", name, res)
		}
	}
	// The same construction with the right types is accepted.
	if res := e.api.Get("/v1/me", bearer(signCompact(t, e.priv, header, claimsFor(userID)))); res.Status != http.StatusOK {
		t.Fatalf("a well-typed hand-signed token was refused\n%s", res)
	}
}

func withClaim(claims map[string]any, name string, value any) map[string]any {
	claims[name] = value
	return claims
}
