package httpapi_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/httpapi/apitest"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// loginWith logs in with code, sending userAgent, through api.
func loginWith(t *testing.T, api *apitest.Client, code, userAgent string) loginResponse {
	t.Helper()
	res := api.JSON("POST", "/v1/auth/wechat", map[string]string{"code": code}, "User-Agent: "+userAgent)
	if res.Status != http.StatusOK {
		t.Fatalf("login with %q: want 200\n%s", code, res)
	}
	var l loginResponse
	res.Decode(&l)
	return l
}

// refresh presents a refresh token.
func refresh(api *apitest.Client, token string) *apitest.Response {
	return api.JSON("POST", "/v1/auth/refresh", map[string]string{"refresh_token": token})
}

// refreshed presents a refresh token that must work and returns the new pair.
func refreshed(t *testing.T, api *apitest.Client, token string) loginResponse {
	t.Helper()
	res := refresh(api, token)
	if res.Status != http.StatusOK {
		t.Fatalf("refresh: want 200\n%s", res)
	}
	var l loginResponse
	res.Decode(&l)
	return l
}

// wantProblem checks status and code.
func wantProblem(t *testing.T, res *apitest.Response, status int, code domain.Code) {
	t.Helper()
	if res.Status != status || res.Problem().Code != string(code) {
		t.Fatalf("want %d %s\n%s", status, code, res)
	}
}

// claimsOf decodes an access token's payload (no verification: the
// server did that).
func claimsOf(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", token)
	}
	var m map[string]any
	if err := json.Unmarshal(decodeSegment(t, parts[1]), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// decodeSegment decodes one base64url segment of a JWS.
func decodeSegment(t *testing.T, seg string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type sessionItem struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	UserAgent  string    `json:"user_agent"`
	AppID      string    `json:"app_id"`
	Current    bool      `json:"current"`
}

func listSessions(t *testing.T, api *apitest.Client, access string) []sessionItem {
	t.Helper()
	res := api.Get("/v1/auth/sessions", bearer(access))
	if res.Status != http.StatusOK {
		t.Fatalf("GET /v1/auth/sessions: want 200\n%s", res)
	}
	var body struct{ Items []sessionItem }
	res.Decode(&body)
	return body.Items
}

func TestLoginStartsASessionAndReturnsItsRefreshToken(t *testing.T) {
	e := newEnv(t)
	l := loginWith(t, e.api, "dev-alice", "Mozilla/5.0 MicroMessenger/8.0.50")
	if !strings.HasPrefix(l.RefreshToken, domain.RefreshTokenPrefix) || len(l.RefreshToken) != 47 {
		t.Errorf("refresh token %q: want mbr_ and 43 base64url characters", l.RefreshToken)
	}
	if l.RefreshExpiresIn != int(testPolicy.IdleTTL.Seconds()) || l.AccessToken == "" || l.ExpiresIn != int(tokenTTL.Seconds()) {
		t.Errorf("login %+v", l)
	}
	c := claimsOf(t, l.AccessToken)
	if c["role"] != "user" || c["sid"] == nil {
		t.Errorf("access token claims %v: want role user and a sid", c)
	}
	sessions := listSessions(t, e.api, l.AccessToken)
	if len(sessions) != 1 {
		t.Fatalf("sessions %+v, want the one login", sessions)
	}
	s := sessions[0]
	if s.ID != c["sid"] || !s.Current || s.UserAgent != "Mozilla/5.0 MicroMessenger/8.0.50" || s.AppID != appA ||
		!s.ExpiresAt.After(time.Now().Add(testPolicy.IdleTTL-time.Hour)) {
		t.Errorf("session %+v: want the token's current session with the login's user agent and app", s)
	}
}

func TestRefreshRotatesTheRefreshTokenAndKeepsTheSession(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	// Within the verifier's clock skew, so the new token is not "issued in
	// the future" for it.
	e.clock.Advance(20 * time.Second)
	next := refreshed(t, e.api, l.RefreshToken)
	if next.RefreshToken == l.RefreshToken || next.AccessToken == l.AccessToken || next.TokenType != "Bearer" {
		t.Fatalf("refresh gave %+v: want a new pair", next)
	}
	if claimsOf(t, next.AccessToken)["sid"] != claimsOf(t, l.AccessToken)["sid"] {
		t.Error("the refreshed access token belongs to another session")
	}
	if res := e.api.Get("/v1/me", bearer(next.AccessToken)); res.Status != http.StatusOK {
		t.Fatalf("the refreshed access token is refused\n%s", res)
	}
	s := listSessions(t, e.api, next.AccessToken)
	if len(s) != 1 || s[0].LastUsedAt.Sub(s[0].CreatedAt) < 20*time.Second {
		t.Errorf("sessions %+v: want one, used 20 s after its login", s)
	}
	// The next refresh works with the new token only.
	third := refreshed(t, e.api, next.RefreshToken)
	if third.RefreshToken == next.RefreshToken {
		t.Error("the second refresh returned the same token")
	}
}

func TestReusingARotatedRefreshTokenEndsTheWholeSession(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	next := refreshed(t, e.api, l.RefreshToken)

	// The rotated token comes back: a thief or a confused client.
	wantProblem(t, refresh(e.api, l.RefreshToken), http.StatusUnauthorized, domain.CodeRefreshTokenReused)
	// The whole family is dead: the newest refresh token and access token.
	wantProblem(t, refresh(e.api, next.RefreshToken), http.StatusUnauthorized, domain.CodeSessionRevoked)
	res := e.api.Get("/v1/me", bearer(next.AccessToken))
	wantProblem(t, res, http.StatusUnauthorized, domain.CodeSessionRevoked)
	if got := res.Header.Get("WWW-Authenticate"); got != `Bearer realm="miniback", error="invalid_token"` {
		t.Errorf("WWW-Authenticate %q", got)
	}
	// Other sessions of the user live on.
	other := e.login(t, "dev-alice")
	if res := e.api.Get("/v1/me", bearer(other.AccessToken)); res.Status != http.StatusOK {
		t.Errorf("another session of the user was ended too\n%s", res)
	}
}

func TestConcurrentRefreshesWithOneTokenHaveExactlyOneWinner(t *testing.T) {
	const racers = 12
	e := newEnv(t)
	l := e.login(t, "dev-alice")

	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		res   [racers]*apitest.Response
	)
	for i := range racers {
		api := e.apiFor(t)
		wg.Go(func() {
			<-start
			res[i] = refresh(api, l.RefreshToken)
		})
	}
	close(start)
	wg.Wait()

	var winner loginResponse
	winners := 0
	for i, r := range res {
		switch {
		case r.Status == http.StatusOK:
			winners++
			r.Decode(&winner)
		case r.Status == http.StatusUnauthorized && r.Problem().Code == string(domain.CodeRefreshTokenReused):
		default:
			t.Errorf("racer %d: want 200 or 401 refresh_token_reused\n%s", i, r)
		}
	}
	if winners != 1 {
		t.Fatalf("%d racers got new tokens, want exactly 1", winners)
	}
	// The losers presented a rotated token, which ends the session: no
	// token of it is live, so there are never two.
	wantProblem(t, refresh(e.api, winner.RefreshToken), http.StatusUnauthorized, domain.CodeSessionRevoked)
	wantProblem(t, e.api.Get("/v1/me", bearer(winner.AccessToken)), http.StatusUnauthorized, domain.CodeSessionRevoked)
}

func TestAccessTokensAndRefreshTokensAreNotInterchangeable(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	wantProblem(t, refresh(e.api, l.AccessToken), http.StatusUnauthorized, domain.CodeRefreshTokenInvalid)
	wantProblem(t, e.api.Get("/v1/me", bearer(l.RefreshToken)), http.StatusUnauthorized, domain.CodeTokenMalformed)
	// Neither attempt harmed the session.
	if res := refresh(e.api, l.RefreshToken); res.Status != http.StatusOK {
		t.Fatalf("the refresh token stopped working\n%s", res)
	}
}

func TestRefreshTokenNobodyIssuedIsInvalid(t *testing.T) {
	e := newEnv(t)
	made := domain.RefreshTokenPrefix + strings.Repeat("A", 43)
	wantProblem(t, refresh(e.api, made), http.StatusUnauthorized, domain.CodeRefreshTokenInvalid)
}

func TestRefreshExpiresAfterTheIdleLifetime(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	e.clock.Advance(testPolicy.IdleTTL - time.Minute)
	l = refreshed(t, e.api, l.RefreshToken) // in time: the idle clock restarts
	e.clock.Advance(testPolicy.IdleTTL)
	wantProblem(t, refresh(e.api, l.RefreshToken), http.StatusUnauthorized, domain.CodeRefreshTokenExpired)
}

func TestRefreshExpiresAfterTheAbsoluteLifetimeThoughUsed(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	step := testPolicy.IdleTTL - 24*time.Hour // always in time for the idle limit
	var used time.Duration
	for used+step < testPolicy.AbsoluteTTL {
		e.clock.Advance(step)
		used += step
		l = refreshed(t, e.api, l.RefreshToken)
		// Never past the absolute expiry.
		if left := time.Duration(l.RefreshExpiresIn) * time.Second; left > testPolicy.AbsoluteTTL-used+time.Second {
			t.Fatalf("refresh_expires_in %s after %s of a %s session", left, used, testPolicy.AbsoluteTTL)
		}
	}
	e.clock.Advance(testPolicy.AbsoluteTTL - used)
	res := refresh(e.api, l.RefreshToken)
	wantProblem(t, res, http.StatusUnauthorized, domain.CodeRefreshTokenExpired)
	if d := res.Problem().Detail; d == nil || !strings.Contains(*d, "maximum lifetime") {
		t.Errorf("detail %v: want the absolute lifetime named", d)
	}
}

func TestRefreshRequestMustBeWellFormed(t *testing.T) {
	e := newEnv(t)
	for name, tc := range map[string]struct {
		body    any
		headers []string
		status  int
		code    domain.Code
		field   string
	}{
		"no refresh_token":    {map[string]any{}, nil, http.StatusBadRequest, domain.CodeInvalid, "body.refresh_token"},
		"empty refresh_token": {map[string]any{"refresh_token": ""}, nil, http.StatusBadRequest, domain.CodeInvalid, "body.refresh_token"},
		"unknown field":       {map[string]any{"refresh_token": "x", "user_id": "u"}, nil, http.StatusBadRequest, domain.CodeInvalid, "body.user_id"},
		"not a string":        {map[string]any{"refresh_token": 7}, nil, http.StatusBadRequest, domain.CodeInvalid, "body.refresh_token"},
		"too long":            {map[string]any{"refresh_token": strings.Repeat("a", 4097)}, nil, http.StatusBadRequest, domain.CodeInvalid, "body.refresh_token"},
		"malformed JSON":      {`{"refresh_token":`, nil, http.StatusBadRequest, domain.CodeMalformedJSON, ""},
		"not JSON":            {"refresh_token=x", []string{"Content-Type: application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType, domain.CodeUnsupportedMediaType, ""},
	} {
		t.Run(name, func(t *testing.T) {
			res := e.apiFor(t).JSON("POST", "/v1/auth/refresh", tc.body, tc.headers...)
			wantProblem(t, res, tc.status, tc.code)
			if tc.field != "" {
				if codes := fieldCodes(res.Problem()); codes[tc.field] == "" {
					t.Errorf("no field error for %s: %v", tc.field, codes)
				}
			}
		})
	}
}

func TestLogoutEndsTheSessionAndItsTokens(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	other := e.login(t, "dev-alice")
	if res := e.api.JSON("POST", "/v1/auth/logout", nil, bearer(l.AccessToken)); res.Status != http.StatusNoContent || len(res.Body) != 0 {
		t.Fatalf("logout: want 204 without a body\n%s", res)
	}
	wantProblem(t, e.api.Get("/v1/me", bearer(l.AccessToken)), http.StatusUnauthorized, domain.CodeSessionRevoked)
	wantProblem(t, refresh(e.api, l.RefreshToken), http.StatusUnauthorized, domain.CodeSessionRevoked)
	wantProblem(t, e.api.JSON("POST", "/v1/auth/logout", nil), http.StatusUnauthorized, domain.CodeTokenMissing)
	if res := e.api.Get("/v1/me", bearer(other.AccessToken)); res.Status != http.StatusOK {
		t.Errorf("logout ended another session too\n%s", res)
	}
}

func TestSessionsListShowsOnlyMyLiveSessions(t *testing.T) {
	e := newEnv(t)
	phone := loginWith(t, e.api, "dev-alice", "WeChat iPhone")
	pad := loginWith(t, e.api, "dev-alice", "WeChat iPad")
	gone := loginWith(t, e.api, "dev-alice", "WeChat old phone")
	e.login(t, "dev-bob")
	if res := e.api.JSON("POST", "/v1/auth/logout", nil, bearer(gone.AccessToken)); res.Status != http.StatusNoContent {
		t.Fatal(res)
	}

	list := listSessions(t, e.api, phone.AccessToken)
	agents := map[string]bool{}
	for _, s := range list {
		agents[s.UserAgent] = s.Current
	}
	if len(list) != 2 || agents["WeChat iPhone"] != true || agents["WeChat iPad"] != false {
		t.Errorf("sessions %+v: want the phone (current) and the pad", list)
	}
	if list := listSessions(t, e.api, pad.AccessToken); len(list) != 2 {
		t.Errorf("from the pad: %d sessions", len(list))
	}
	wantProblem(t, e.api.Get("/v1/auth/sessions"), http.StatusUnauthorized, domain.CodeTokenMissing)
}

func TestEndingOneSessionByID(t *testing.T) {
	e := newEnv(t)
	mine := e.login(t, "dev-alice")
	lost := e.login(t, "dev-alice")
	bob := e.login(t, "dev-bob")
	lostID := claimsOf(t, lost.AccessToken)["sid"].(string)
	bobID := claimsOf(t, bob.AccessToken)["sid"].(string)
	auth := bearer(mine.AccessToken)

	wantProblem(t, e.api.JSON("DELETE", "/v1/auth/sessions/"+bobID, nil, auth), http.StatusNotFound, domain.CodeNotFound)
	if res := e.api.Get("/v1/me", bearer(bob.AccessToken)); res.Status != http.StatusOK {
		t.Fatalf("bob's session was touched\n%s", res)
	}
	res := e.api.JSON("DELETE", "/v1/auth/sessions/not-a-uuid", nil, auth)
	wantProblem(t, res, http.StatusBadRequest, domain.CodeInvalid)
	if codes := fieldCodes(res.Problem()); codes["path.id"] == "" {
		t.Errorf("no field error for path.id: %v", codes)
	}
	wantProblem(t, e.api.JSON("DELETE", "/v1/auth/sessions/3f8e5a1c-2b7d-4e9f-8a6b-1c2d3e4f5a6b", nil, auth), http.StatusNotFound, domain.CodeNotFound)

	if res := e.api.JSON("DELETE", "/v1/auth/sessions/"+lostID, nil, auth); res.Status != http.StatusNoContent {
		t.Fatalf("want 204\n%s", res)
	}
	wantProblem(t, e.api.Get("/v1/me", bearer(lost.AccessToken)), http.StatusUnauthorized, domain.CodeSessionRevoked)
	wantProblem(t, refresh(e.api, lost.RefreshToken), http.StatusUnauthorized, domain.CodeSessionRevoked)
	if res := e.api.JSON("DELETE", "/v1/auth/sessions/"+lostID, nil, auth); res.Status != http.StatusNoContent {
		t.Errorf("ending an ended session: want 204\n%s", res)
	}
	if res := e.api.Get("/v1/me", auth); res.Status != http.StatusOK {
		t.Errorf("the caller's own session ended\n%s", res)
	}
}

func TestEndingAllOtherSessionsKeepsTheCurrentOne(t *testing.T) {
	e := newEnv(t)
	keep := e.login(t, "dev-alice")
	others := []loginResponse{e.login(t, "dev-alice"), e.login(t, "dev-alice")}
	bob := e.login(t, "dev-bob")

	res := e.api.JSON("DELETE", "/v1/auth/sessions", nil, bearer(keep.AccessToken))
	if res.Status != http.StatusOK {
		t.Fatalf("want 200\n%s", res)
	}
	var body struct{ Ended int }
	res.Decode(&body)
	if body.Ended != 2 {
		t.Errorf("ended %d, want 2", body.Ended)
	}
	for _, o := range others {
		wantProblem(t, e.api.Get("/v1/me", bearer(o.AccessToken)), http.StatusUnauthorized, domain.CodeSessionRevoked)
		wantProblem(t, refresh(e.api, o.RefreshToken), http.StatusUnauthorized, domain.CodeSessionRevoked)
	}
	for _, l := range []loginResponse{keep, bob} {
		if res := e.api.Get("/v1/me", bearer(l.AccessToken)); res.Status != http.StatusOK {
			t.Errorf("a session that should live was ended\n%s", res)
		}
	}
}

// TestRevocationReachesAnotherInstanceAtItsNextRead runs two instances of
// the API on one database. A revocation made on A is refused on A at once;
// B keeps answering from memory (no database read per request) until its
// next read of the revocation feed, and refuses the token from then on. So
// the delay on other instances is bounded by one poll interval plus one
// read (MINIBACK_REVOCATION_POLL; measured in BenchmarkRevocationDelay).
func TestRevocationReachesAnotherInstanceAtItsNextRead(t *testing.T) {
	e := newEnv(t)
	b := e.newInstance(t, e.keys)
	ctx := context.Background()

	for _, tc := range []struct {
		name   string
		revoke func(t *testing.T, l loginResponse)
	}{
		{"logout", func(t *testing.T, l loginResponse) {
			if res := e.api.JSON("POST", "/v1/auth/logout", nil, bearer(l.AccessToken)); res.Status != http.StatusNoContent {
				t.Fatal(res)
			}
		}},
		{"refresh token reuse", func(t *testing.T, l loginResponse) {
			refreshed(t, e.api, l.RefreshToken)
			wantProblem(t, refresh(e.api, l.RefreshToken), http.StatusUnauthorized, domain.CodeRefreshTokenReused)
		}},
		{"ended from another session", func(t *testing.T, l loginResponse) {
			other := e.login(t, "dev-carol")
			if res := e.api.JSON("DELETE", "/v1/auth/sessions", nil, bearer(other.AccessToken)); res.Status != http.StatusOK {
				t.Fatal(res)
			}
		}},
		{"account deleted", func(t *testing.T, l loginResponse) {
			if res := e.api.JSON("DELETE", "/v1/me", nil, bearer(l.AccessToken)); res.Status != http.StatusNoContent {
				t.Fatal(res)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := e.login(t, "dev-carol")
			onB := apitest.New(t, b.handler)
			if res := onB.Get("/v1/auth/sessions", bearer(l.AccessToken)); res.Status != http.StatusOK {
				t.Fatalf("B refuses a fresh token\n%s", res)
			}
			tc.revoke(t, l)
			wantProblem(t, e.apiFor(t).Get("/v1/auth/sessions", bearer(l.AccessToken)), http.StatusUnauthorized, domain.CodeSessionRevoked)
			if res := onB.Get("/v1/auth/sessions", bearer(l.AccessToken)); res.Status == http.StatusUnauthorized {
				t.Fatalf("B refused before reading the feed: it must answer from memory\n%s", res)
			}
			if err := b.revs.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			wantProblem(t, onB.Get("/v1/auth/sessions", bearer(l.AccessToken)), http.StatusUnauthorized, domain.CodeSessionRevoked)
		})
	}
}

// TestRevocationReachesARunningInstanceOnItsOwn lets B's poller run (and
// its LISTEN wake it) as in production, and waits for B to refuse a token
// A revoked. The delay it logs is one sample; the benchmark measures it.
func TestRevocationReachesARunningInstanceOnItsOwn(t *testing.T) {
	e := newEnv(t)
	b := e.newInstance(t, e.keys)
	ctx, cancel := context.WithCancel(context.Background())
	var bg sync.WaitGroup
	defer bg.Wait()
	defer cancel()
	bg.Go(func() { b.revs.Run(ctx, time.Second, func(err error) { t.Errorf("B's poller: %v", err) }) })
	bg.Go(func() { e.db.ListenRevocations(ctx, b.revs.Wake, nil) })

	l := e.login(t, "dev-alice")
	onB := apitest.New(t, b.handler)
	if res := e.api.JSON("POST", "/v1/auth/logout", nil, bearer(l.AccessToken)); res.Status != http.StatusNoContent {
		t.Fatal(res)
	}
	revoked := time.Now()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res := onB.Get("/v1/auth/sessions", bearer(l.AccessToken))
		if res.Status == http.StatusUnauthorized {
			wantProblem(t, res, http.StatusUnauthorized, domain.CodeSessionRevoked)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("B never refused the revoked token")
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("B refused the token %s after the logout on A", time.Since(revoked).Round(time.Millisecond))
}

func TestDeleteMeDeletesTheAccountAndEndsEverySession(t *testing.T) {
	e := newEnv(t)
	first := e.login(t, "dev-alice")
	second := e.login(t, "dev-alice")
	bob := e.login(t, "dev-bob")
	if res := e.api.JSON("DELETE", "/v1/me", nil, bearer(first.AccessToken)); res.Status != http.StatusNoContent {
		t.Fatalf("want 204\n%s", res)
	}
	for _, l := range []loginResponse{first, second} {
		wantProblem(t, e.api.Get("/v1/me", bearer(l.AccessToken)), http.StatusUnauthorized, domain.CodeSessionRevoked)
		wantProblem(t, refresh(e.api, l.RefreshToken), http.StatusUnauthorized, domain.CodeRefreshTokenInvalid)
	}
	if res := e.api.Get("/v1/me", bearer(bob.AccessToken)); res.Status != http.StatusOK {
		t.Errorf("another account was touched\n%s", res)
	}
	// The same WeChat user logging in again gets a new, empty account.
	again := e.login(t, "dev-alice")
	if !again.IsNewUser || again.User.ID == first.User.ID {
		t.Errorf("login after deletion: new %t, id %s (was %s)", again.IsNewUser, again.User.ID, first.User.ID)
	}
	var n int
	if err := e.db.Pool().QueryRow(context.Background(), "SELECT count(*) FROM users WHERE id = $1", first.User.ID).Scan(&n); err != nil || n != 0 {
		t.Errorf("the deleted user is still stored (%d, %v)", n, err)
	}
	wantProblem(t, e.api.JSON("DELETE", "/v1/me", nil), http.StatusUnauthorized, domain.CodeTokenMissing)
}

func TestDeleteMeOfAnAccountAlreadyGoneIsNotFound(t *testing.T) {
	e := newEnv(t)
	// A valid token for a user the store does not know (deleted through
	// another instance before this one read the feed).
	token := issue(t, e.tokens, "3f8e5a1c-2b7d-4e9f-8a6b-1c2d3e4f5a6b")
	wantProblem(t, e.api.JSON("DELETE", "/v1/me", nil, bearer(token)), http.StatusNotFound, domain.CodeNotFound)
}

func TestProfileShowsTheRoleAndAPatchCannotChangeItOrTheID(t *testing.T) {
	e := newEnv(t)
	l := e.login(t, "dev-mallory")
	auth := bearer(l.AccessToken)
	for _, body := range []map[string]any{
		{"role": "admin"},
		{"nickname": "M", "role": "admin"},
		{"id": "00000000-0000-4000-8000-000000000000"},
		{"nickname": "M", "user": map[string]any{"role": "admin"}},
	} {
		res := e.api.JSON("PATCH", "/v1/me", body, auth)
		wantProblem(t, res, http.StatusBadRequest, domain.CodeInvalid)
	}
	var got user
	e.api.Get("/v1/me", auth).Decode(&got)
	if got.Role != "user" || got.ID != l.User.ID || got.Nickname != "" {
		t.Errorf("after refused patches: %+v", got)
	}
	// A refresh reads the role from the store, not from anything sent.
	if c := claimsOf(t, refreshed(t, e.api, l.RefreshToken).AccessToken); c["role"] != "user" {
		t.Errorf("role claim %v after refresh", c["role"])
	}
}

// downStores answer every call with the database's unavailability.
type downStores struct {
	ports.SessionStore // nil: any method not overridden below would panic
	err                error
}

func (d downStores) CreateSession(context.Context, domain.Session, domain.RefreshTokenHash) (domain.Session, error) {
	return domain.Session{}, d.err
}
func (d downStores) RotateRefreshToken(context.Context, domain.RefreshTokenHash, domain.RefreshTokenHash, time.Time, func(domain.Session) (domain.Session, error)) (ports.Rotation, error) {
	return ports.Rotation{}, d.err
}
func (d downStores) ListActiveSessions(context.Context, domain.UserID, time.Time, int) ([]domain.Session, error) {
	return nil, d.err
}
func (d downStores) RevokeSession(context.Context, domain.UserID, domain.SessionID, domain.RevokeReason, time.Time) (domain.Revocation, bool, error) {
	return domain.Revocation{}, false, d.err
}
func (d downStores) RevokeOtherSessions(context.Context, domain.UserID, domain.SessionID, domain.RevokeReason, time.Time) ([]domain.Revocation, error) {
	return nil, d.err
}
func (d downStores) DeleteUser(context.Context, domain.UserID, time.Time) (domain.Revocation, error) {
	return domain.Revocation{}, d.err
}
func (d downStores) ListUsers(context.Context, domain.UserQuery, int) ([]domain.User, error) {
	return nil, d.err
}
func (d downStores) SetUserRole(context.Context, domain.UserID, domain.Role) (domain.User, error) {
	return domain.User{}, d.err
}

func TestSessionAccountAndAdminOperationsAnswer503WhenTheDatabaseIsDown(t *testing.T) {
	down := downStores{err: &domain.Error{Code: domain.CodeUnavailable, Message: "The database is unavailable; try again later.", Err: errors.New(internalText)}}
	e := newEnv(t, withFailingStores(down, down, down))
	const userID = "3f8e5a1c-2b7d-4e9f-8a6b-1c2d3e4f5a6b"
	auth := bearer(issue(t, e.tokens, userID))
	adminToken, err := e.tokens.IssueAccess(context.Background(), ports.AccessClaims{UserID: userID, SessionID: testSessionID, TokenID: "t", Role: domain.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	valid, _ := domain.NewRefreshToken(rand.Reader)
	for name, res := range map[string]*apitest.Response{
		"login":           e.api.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-alice"}),
		"refresh":         refresh(e.api, valid.Reveal()),
		"logout":          e.api.JSON("POST", "/v1/auth/logout", nil, auth),
		"list sessions":   e.api.Get("/v1/auth/sessions", auth),
		"end one session": e.api.JSON("DELETE", "/v1/auth/sessions/"+testSessionID, nil, auth),
		"end the others":  e.api.JSON("DELETE", "/v1/auth/sessions", nil, auth),
		"delete account":  e.api.JSON("DELETE", "/v1/me", nil, auth),
		"admin user list": e.api.Get("/v1/admin/users", bearer(adminToken)),
	} {
		if res.Status != http.StatusServiceUnavailable || res.Problem().Code != string(domain.CodeUnavailable) || res.Header.Get("Retry-After") == "" {
			t.Errorf("%s: want 503 unavailable with Retry-After\n%s", name, res)
		}
		if strings.Contains(string(res.Body), internalText) {
			t.Errorf("%s: the 503 shows its cause", name)
		}
	}
}

func TestEverySecuredSessionOperationWantsAToken(t *testing.T) {
	e := newEnv(t)
	for _, op := range []struct{ method, path string }{
		{"POST", "/v1/auth/logout"},
		{"GET", "/v1/auth/sessions"},
		{"DELETE", "/v1/auth/sessions"},
		{"DELETE", "/v1/auth/sessions/" + testSessionID},
		{"DELETE", "/v1/auth/sessions/not-a-uuid"}, // 401 before any word on the parameter
		{"DELETE", "/v1/me"},
		{"GET", "/v1/admin/users"},
		{"GET", "/v1/admin/users?limit=ten"},
	} {
		for name, headers := range map[string][]string{"no token": nil, "garbage": {"Authorization: Bearer garbage"}} {
			res := e.apiFor(t).JSON(op.method, op.path, nil, headers...)
			if res.Status != http.StatusUnauthorized || res.Problem().Errors != nil {
				t.Errorf("%s %s with %s: want 401 without field errors\n%s", op.method, op.path, name, res)
			}
		}
	}
	// The public ones need none.
	if res := e.api.Get("/.well-known/jwks.json"); res.Status != http.StatusOK {
		t.Errorf("jwks: %s", res)
	}
}
