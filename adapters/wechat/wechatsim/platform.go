package wechatsim

// This file holds what every WeChat server API behind an access_token
// shares in the simulator: the stable_token endpoint, the tokens it issues
// (with generations and expiry, as WeChat keeps them), the access-token
// check in front of each API, per-API call counts, and injected failures.
//
// Token rules, as WeChat documents them for POST /cgi-bin/stable_token:
//
//   - A token lives TokenTTL (7,200 s). Normal mode returns the current
//     token and its remaining life; only within the token's last 5 minutes
//     does it rotate, and then the previous token stays valid 5 more
//     minutes, so expires_in is always at least 300.
//   - force_refresh:true rotates at once and the previous token dies at
//     once. At most 20 forced refreshes a day per app (45009 after that);
//     one within 30 s of the last does not rotate and returns the current
//     token (WeChat: "连续使用该模式时，请保证调用时间隔至少为30s，否则不会刷新";
//     not an errcode), and still counts against the 20.
//   - An API called with a token that expired answers 42001; with one that
//     was replaced, revoked or never issued, 40001; with none, 41001.
//
// Tests steer it with Config.Now (a fake clock), InjectError (the next
// calls of an API for an app fail with an errcode), Revoke (someone else
// force-refreshed) and Poison (the current token is refused although normal
// mode keeps returning it, so only a forced refresh helps); the running
// simulator takes the last three over HTTP (faults.go).

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// TokenTTL is the life of an access token, as on WeChat.
const TokenTTL = 7200 * time.Second

// Token timings from WeChat's stable_token documentation.
const (
	rotateWithin   = 5 * time.Minute  // normal mode rotates in the token's last 5 minutes
	overlap        = 5 * time.Minute  // the previous token stays valid this long after a normal rotation
	forceGap       = 30 * time.Second // forced refreshes closer than this do not rotate
	forcePerDayMax = 20               // forced refreshes allowed per app per day
)

// API names for CallsTo and InjectError. Each is the last segment of the
// API's path, as WeChat's docs name them.
const (
	APICode2Session = "jscode2session"
	APIStableToken  = "stable_token"
)

// Errcodes and messages the token machinery answers, as WeChat words them.
const (
	ErrTokenInvalid = 40001 // invalid credential, access_token is invalid or not latest
	ErrTokenExpired = 42001 // access_token expired
	ErrTokenMissing = 41001 // access_token missing
)

// errmsgs are WeChat's messages for the errcodes the simulator can answer
// (an "rid" is appended to each, as WeChat does).
var errmsgs = map[int]string{
	-1:    "system error",
	40001: "invalid credential, access_token is invalid or not latest",
	40002: "invalid grant_type",
	40013: "invalid appid",
	40125: "invalid appsecret",
	40164: "invalid ip 203.0.113.9 ipv6 ::ffff:203.0.113.9, not in whitelist",
	41001: "access_token missing",
	41002: "appid missing",
	41004: "appsecret missing",
	42001: "access_token expired",
	45009: "reach max api daily quota limit",
	45011: "api minute-quota reach limit mustslower retry next minute",
	47001: "data format error",
	89503: "此次调用需要管理员确认，请耐心等候",
}

// issued is one access token the simulator handed out.
type issued struct {
	app     string
	gen     int       // 1 for an app's first token, +1 per rotation
	expires time.Time // past this the token answers 42001
	// validUntil ends the token early: when it was replaced (overlap after
	// a normal rotation, at once after a forced one) or revoked. Zero
	// means it lives until expires.
	validUntil time.Time
}

// appTokens is the token state of one app.
type appTokens struct {
	current   string
	poisoned  bool      // the current token answers 40001 (see Poison)
	forceDay  string    // the day forceCount counts, in Beijing time
	forceN    int       // forced refreshes on forceDay
	lastForce time.Time // the last forced refresh that rotated
}

// platform is the shared state of the token-bearing APIs. Its methods
// assume s.mu is held unless they take it themselves.
type platform struct {
	tokens   map[string]*issued    // token → what it is
	apps     map[string]*appTokens // appid → its tokens
	apiCalls map[string]int        // API name → calls, valid or not
	inject   map[string][]int      // API + "\x00" + appid → errcodes to answer next
	// injectStatus: API + "\x00" + appid → HTTP statuses to answer next
	// (faults.go).
	injectStatus map[string][]int
}

func newPlatform() platform {
	return platform{
		tokens:   make(map[string]*issued),
		apps:     make(map[string]*appTokens),
		apiCalls: make(map[string]int),
		inject:   make(map[string][]int),
	}
}

// beijing is WeChat's day boundary for daily quotas.
var beijing = time.FixedZone("CST", 8*3600)

// now returns the simulator's clock.
func (s *Simulator) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}

// CallsTo returns how many requests reached api (APIStableToken, …),
// valid or not.
func (s *Simulator) CallsTo(api string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.plat.apiCalls[api]
}

// InjectError makes the next times calls of api for appid answer errcode
// (after the request's own checks pass, the access token's included).
func (s *Simulator) InjectError(api, appid string, errcode, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := api + "\x00" + appid
	for range times {
		s.plat.inject[k] = append(s.plat.inject[k], errcode)
	}
}

// injected pops the next injected errcode for api and appid, if any.
func (s *Simulator) injected(api, appid string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := api + "\x00" + appid
	q := s.plat.inject[k]
	if len(q) == 0 {
		return 0, false
	}
	s.plat.inject[k] = q[1:]
	return q[0], true
}

// Revoke rotates appid's token as a forced refresh by someone else would:
// the current token answers 40001 at once, and normal mode hands out a new
// one. It counts against no budget.
func (s *Simulator) Revoke(appid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rotate(appid, true)
}

// Poison makes appid's current token answer 40001 while normal-mode
// stable_token keeps returning it; only a forced refresh (or the token's
// natural rotation) gets a working one.
func (s *Simulator) Poison(appid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.plat.apps[appid]; a != nil {
		a.poisoned = true
	}
}

// CurrentToken returns appid's current token and its generation ("" and 0
// before the first stable_token call). For tests.
func (s *Simulator) CurrentToken(appid string) (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.plat.apps[appid]
	if a == nil || a.current == "" {
		return "", 0
	}
	return a.current, s.plat.tokens[a.current].gen
}

// ForcedRefreshes returns how many forced refreshes appid made today
// (Beijing time), rotating or not.
func (s *Simulator) ForcedRefreshes(appid string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.plat.apps[appid]
	if a == nil || a.forceDay != s.now().In(beijing).Format(time.DateOnly) {
		return 0
	}
	return a.forceN
}

// rotate issues a new current token for appid. hard ends the previous one
// at once (forced refresh); otherwise it keeps working for overlap.
func (s *Simulator) rotate(appid string, hard bool) *issued {
	now := s.now()
	a := s.plat.apps[appid]
	if a == nil {
		a = &appTokens{}
		s.plat.apps[appid] = a
	}
	gen := 1
	if old := s.plat.tokens[a.current]; old != nil {
		gen = old.gen + 1
		end := now.Add(overlap)
		if hard {
			end = now
		}
		if end.After(old.expires) {
			end = old.expires
		}
		old.validUntil = end
	}
	tok := newAccessToken()
	t := &issued{app: appid, gen: gen, expires: now.Add(TokenTTL)}
	s.plat.tokens[tok] = t
	a.current, a.poisoned = tok, false
	return t
}

// stableTokenRequest is the body of POST /cgi-bin/stable_token.
type stableTokenRequest struct {
	GrantType    string `json:"grant_type"`
	AppID        string `json:"appid"`
	Secret       string `json:"secret"`
	ForceRefresh bool   `json:"force_refresh"`
}

// tokenReply is stable_token's success.
type tokenReply struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

// stableToken serves POST /cgi-bin/stable_token.
func (s *Simulator) stableToken(w http.ResponseWriter, r *http.Request) {
	s.countAPI(APIStableToken)
	var req stableTokenRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil || json.Unmarshal(body, &req) != nil {
		writeAPIError(w, 47001)
		return
	}
	want, known := s.apps[req.AppID]
	switch {
	case req.GrantType != "client_credential":
		writeAPIError(w, 40002)
		return
	case req.AppID == "":
		writeAPIError(w, 41002)
		return
	case !known:
		writeAPIError(w, 40013)
		return
	case req.Secret == "":
		writeAPIError(w, 41004)
		return
	case !equalSecret(req.Secret, want):
		writeAPIError(w, 40125)
		return
	}
	if s.answerInjected(w, APIStableToken, req.AppID, func(code int) { writeAPIError(w, code) }) {
		return
	}
	tok, ttl, errcode := s.issueToken(req.AppID, req.ForceRefresh)
	// gen is read before the reply is written: a test may act on the
	// reply (and rotate the token) before this handler logs.
	gen := s.generation(tok)
	if errcode != 0 {
		writeAPIError(w, errcode)
		return
	}
	writeAPIJSON(w, tokenReply{AccessToken: tok, ExpiresIn: int(ttl / time.Second)})
	if s.log != nil {
		s.log.Info("wechatsim: stable_token", "appid", req.AppID, "force_refresh", req.ForceRefresh,
			"generation", gen, "expires_in", int(ttl/time.Second))
	}
}

// issueToken applies the normal or forced mode rules and returns the token
// to answer with, its remaining life, or an errcode.
func (s *Simulator) issueToken(appid string, force bool) (string, time.Duration, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	a := s.plat.apps[appid]
	cur := (*issued)(nil)
	if a != nil {
		cur = s.plat.tokens[a.current]
	}
	switch {
	case force:
		if a == nil {
			a = &appTokens{}
			s.plat.apps[appid] = a
		}
		day := now.In(beijing).Format(time.DateOnly)
		if a.forceDay != day {
			a.forceDay, a.forceN = day, 0
		}
		if a.forceN >= forcePerDayMax {
			return "", 0, 45009
		}
		a.forceN++
		if cur == nil || now.Sub(a.lastForce) >= forceGap {
			a.lastForce = now
			cur = s.rotate(appid, true)
		}
	case cur == nil || !now.Before(cur.expires.Add(-rotateWithin)):
		cur = s.rotate(appid, false)
	}
	return s.plat.apps[appid].current, cur.expires.Sub(now), 0
}

// generation returns tok's generation, for log lines.
func (s *Simulator) generation(tok string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.plat.tokens[tok]; t != nil {
		return t.gen
	}
	return 0
}

// TokenAPI is withToken for APIs mounted outside the simulator's own mux
// (tests of the token-bearing caller).
func (s *Simulator) TokenAPI(api string, h func(w http.ResponseWriter, r *http.Request, appid string)) http.HandlerFunc {
	return s.withToken(api, h)
}

// withToken wraps the handler of a token-bearing API: it counts the call,
// checks ?access_token= like WeChat (41001, 40001, 42001), answers an
// injected errcode if there is one, and otherwise calls h with the
// token's appid.
func (s *Simulator) withToken(api string, h func(w http.ResponseWriter, r *http.Request, appid string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.countAPI(api)
		appid, errcode := s.checkToken(r.URL.Query().Get("access_token"))
		if errcode == ErrTokenMissing && s.openAPIHome != "" {
			appid, errcode = s.openAPIApp(w, r)
		}
		if errcode != 0 {
			writeAPIError(w, errcode)
			return
		}
		if s.answerInjected(w, api, appid, func(code int) { writeAPIError(w, code) }) {
			return
		}
		h(w, r, appid)
	}
}

// checkToken returns the appid of a valid token, or WeChat's errcode.
func (s *Simulator) checkToken(tok string) (string, int) {
	if tok == "" {
		return "", ErrTokenMissing
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.plat.tokens[tok]
	if t == nil {
		return "", ErrTokenInvalid
	}
	now := s.now()
	a := s.plat.apps[t.app]
	switch {
	case !now.Before(t.expires):
		return "", ErrTokenExpired
	case !t.validUntil.IsZero() && !now.Before(t.validUntil):
		return "", ErrTokenInvalid
	case a.current == tok && a.poisoned:
		return "", ErrTokenInvalid
	}
	return t.app, 0
}

func (s *Simulator) countAPI(api string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.plat.apiCalls[api]++
}

// apiFailure is WeChat's error body for the token-bearing APIs.
type apiFailure struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// writeAPIError answers errcode as WeChat's JSON APIs do: HTTP 200,
// application/json, {"errcode","errmsg"} with a request id in errmsg.
func writeAPIError(w http.ResponseWriter, errcode int) {
	msg, ok := errmsgs[errcode]
	if !ok {
		msg = "simulated error"
	}
	writeAPIJSON(w, apiFailure{ErrCode: errcode, ErrMsg: msg + " rid: " + newRID()})
}

// writeAPIJSON writes v as WeChat's JSON APIs do (unlike code2Session,
// which says text/plain).
func writeAPIJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; encoding=utf-8")
	_, _ = w.Write(b)
}

// newAccessToken returns a token shaped like WeChat's: 136 characters of
// letters, digits, '-' and '_' (WeChat's are opaque, 100–200 long).
func newAccessToken() string {
	b := make([]byte, 102)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// equalSecret compares secrets in constant time.
func equalSecret(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
