package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/miniback/miniback/domain"
)

// authenticate is the first per-operation middleware. For a secured
// operation it verifies the bearer token, refuses it if its session was
// revoked (a lookup in memory: no database round trip; logout excepted,
// see acceptsEndedSession), and puts its claims in the request's context,
// the only place handlers take the caller's identity from. It runs before request validation, so a caller without a valid
// token learns nothing about what the operation accepts.
func (h *handler) authenticate(c *gin.Context) {
	route := h.ops.route(c)
	if route == nil {
		h.abort(c, errors.New("no spec operation for the matched route"))
		return
	}
	if !requiresBearer(route) {
		return
	}
	token, err := bearerToken(c.Request)
	if err != nil {
		h.refuse(c, err)
		return
	}
	if h.verifier == nil {
		h.abort(c, errors.New("no token verifier configured"))
		return
	}
	claims, err := h.verifier.VerifyAccess(c.Request.Context(), token)
	if err != nil {
		// The verifier's *domain.Error (token_malformed, token_invalid,
		// token_expired) passes through; anything else is internal.
		h.refuse(c, err)
		return
	}
	if claims.UserID == "" || claims.SessionID == "" {
		h.refuse(c, &domain.Error{Code: domain.CodeTokenInvalid, Message: "The access token is invalid.",
			Err: errors.New("verified token has no subject or session")})
		return
	}
	// Checked on every request, even for a token the verifier answered
	// from its cache: the cache holds verification, not authorization.
	if h.revoked != nil && h.revoked.Revoked(claims) && !acceptsEndedSession[route.Method+" "+route.Path] {
		h.refuse(c, errSessionRevoked)
		return
	}
	setClaims(c, claims)
}

// refuse answers a request whose token was not accepted. When a token
// was sent, the challenge says it was the token (RFC 6750 invalid_token).
func (h *handler) refuse(c *gin.Context, err error) {
	if _, k := kindOf(err); k.status == http.StatusUnauthorized && c.GetHeader("Authorization") != "" {
		c.Header("WWW-Authenticate", challenge+`, error="invalid_token"`)
	}
	h.abort(c, err)
}

// bearerToken extracts the token of an "Authorization: Bearer <token>"
// header (RFC 6750; the scheme is case-insensitive).
func bearerToken(r *http.Request) (string, error) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 || (len(values) == 1 && strings.TrimSpace(values[0]) == "") {
		return "", domain.Errorf(domain.CodeTokenMissing, "An access token is required: send Authorization: Bearer <token>.")
	}
	if len(values) > 1 {
		return "", errMalformedAuthorization
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(values[0]), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.IndexByte(token, ' ') >= 0 || strings.IndexByte(token, '\t') >= 0 {
		return "", errMalformedAuthorization
	}
	return token, nil
}

// errMalformedAuthorization refuses an Authorization header that is not
// one "Bearer <token>". It is made once, not on every request.
var errMalformedAuthorization = domain.Errorf(domain.CodeTokenMalformed, "The Authorization header must be \"Bearer <token>\".")

// acceptsEndedSession lists the operations ("METHOD /path") that take a
// verified token whose session has ended. Logout is idempotent (the spec:
// logging out twice succeeds): a client that retries it, or logs out after
// its session was ended elsewhere, gets 204, not 401. This is safe because
// logout acts only on the token's own session, which is over already;
// every other operation refuses such a token.
var acceptsEndedSession = map[string]bool{http.MethodPost + " /v1/auth/logout": true}

// errSessionRevoked refuses a valid token whose session has ended (logout,
// revocation, refresh token reuse) or whose account was deleted.
var errSessionRevoked = domain.Errorf(domain.CodeSessionRevoked, "This session has ended; log in again.")

// errNoClaims answers a secured handler reached without verified claims:
// a wiring bug, which fails closed with 401.
var errNoClaims = &domain.Error{Code: domain.CodeUnauthorized, Message: "An access token is required.",
	Err: errors.New("secured handler reached without verified claims")}
