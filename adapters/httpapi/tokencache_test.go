package httpapi_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/miniback/miniback/adapters/httpapi/apitest"
	"github.com/miniback/miniback/domain"
)

// The verifier caches a token it has verified, but the middleware checks
// revocation on every request: once its session is revoked, a token every
// instance has already seen (and cached) is refused, on the instance that
// revoked it at once and on another at its next read of the feed.
func TestARevokedSessionIsRefusedThoughItsTokenIsCached(t *testing.T) {
	e := newEnv(t)
	b := e.newInstance(t, e.keys)
	onB := apitest.New(t, b.handler)
	l := e.login(t, "dev-alice")
	for range 2 { // verified, then from the cache
		for _, api := range []*apitest.Client{e.api, onB} {
			if res := api.Get("/v1/me", bearer(l.AccessToken)); res.Status != http.StatusOK {
				t.Fatalf("a fresh token was refused\n%s", res)
			}
		}
	}

	if res := e.api.JSON("POST", "/v1/auth/logout", nil, bearer(l.AccessToken)); res.Status != http.StatusNoContent {
		t.Fatal(res)
	}
	wantProblem(t, e.api.Get("/v1/me", bearer(l.AccessToken)), http.StatusUnauthorized, domain.CodeSessionRevoked)
	if err := b.revs.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, onB.Get("/v1/me", bearer(l.AccessToken)), http.StatusUnauthorized, domain.CodeSessionRevoked)
}

// A token one signature byte away from a cached one is not served from the
// cache: it is verified, and refused.
func TestATokenOneSignatureByteFromACachedOneIsRefused(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	if res := e.api.Get("/v1/me", bearer(l.AccessToken)); res.Status != http.StatusOK {
		t.Fatalf("a fresh token was refused\n%s", res)
	}
	cut := strings.LastIndexByte(l.AccessToken, '.')
	sig, err := base64.RawURLEncoding.DecodeString(l.AccessToken[cut+1:])
	if err != nil {
		t.Fatal(err)
	}
	sig[len(sig)/2] ^= 0x80
	forged := l.AccessToken[:cut+1] + base64.RawURLEncoding.EncodeToString(sig)
	wantProblem(t, e.api.Get("/v1/me", bearer(forged)), http.StatusUnauthorized, domain.CodeTokenInvalid)
	if res := e.api.Get("/v1/me", bearer(l.AccessToken)); res.Status != http.StatusOK {
		t.Fatalf("the genuine token was refused after the forged one\n%s", res)
	}
}
