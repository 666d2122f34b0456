// Package wechatsim simulates WeChat's server APIs so that miniback's real
// WeChat client can run against it in development and tests, with no
// mini-program and no network: code2Session (below), stable_token and the
// token-bearing APIs (platform.go: token generations and expiry, 40001 and
// 42001, per-API call counts, injected errcodes), and one file per further
// API: content security (security.go: msgSecCheck v2 and mediaCheckAsync
// v2; "sim-risky" in a text or an image URL is judged risky, "sim-review"
// review, anything else passes).
//
// Every documented error of every API can be reached without Go, as the
// run command needs: the login and phone codes err-40029, err-busy and
// the like (below and phone.go); the same markers as words in the inputs
// of content security and in a QR code's scene (markers.go: err-45011 in
// a nickname, a scene of err-45009, err-busy for -1); and, for the APIs
// whose input no user controls (stable_token above all),
// POST /wechatsim/faults {"api","appid","errcode","times"}, with
// POST /wechatsim/revoke and /wechatsim/poison to make the access token
// go bad so that the next call needs stable_token (faults.go).
//
// stable_token follows WeChat's rules (platform.go). One of them reads as
// a surprise: a force_refresh within 30 s of the last forced refresh that
// rotated answers the current token without rotating it (and counts
// against the day's 20), because WeChat's documentation of
// getStableAccessToken says so: "连续使用该模式时，请保证调用时间隔至少为
// 30s，否则不会刷新" (when the mode is used repeatedly, calls must be at
// least 30 s apart, otherwise it does not refresh). It is not an errcode.
// miniback never sends one: its persisted budget refuses a forced refresh
// within 30 s of the last before WeChat is called.
//
// It serves GET /sns/jscode2session?appid=&secret=&js_code=&grant_type=
// and answers like WeChat: HTTP 200, Content-Type text/plain, and a JSON
// body that is either {"session_key","openid","unionid"} or
// {"errcode","errmsg"} with an errmsg such as "invalid code, rid: …".
//
// The request is checked first, in this order:
//
//	grant_type is not authorization_code  40002 invalid grant_type
//	appid missing                         41002 appid missing
//	appid not configured                  40013 invalid appid
//	secret missing                        41004 appsecret missing
//	secret wrong for the appid            40125 invalid appsecret
//	js_code missing                       41008 missing code
//
// Then js_code picks the answer:
//
//	dev-<name>     success, reusable forever; openid stable per (appid,
//	               name), unionid stable per name across appids
//	solo-<name>    success with dev-<name>'s openid but no unionid
//	keep-<name>    like dev-<name>, but keeps the user's last session_key
//	               (see opendata.go, which also hands out open data)
//	once-<name>    like dev-<name> the first time per appid, then
//	               40163 code been used
//	err-40029      40029 invalid code
//	err-40163      40163 code been used
//	err-45011      45011 api minute-quota reach limit
//	err-40226      40226 high risk user
//	err-busy       -1 system error
//	err-slow       waits Config.SlowDelay (or until the request ends),
//	               then succeeds as dev-slow
//	err-malformed  HTTP 200 with truncated JSON
//	err-500        HTTP 500 with an HTML body
//	anything else  40029 invalid code
//
// Before js_code is read, an errcode injected with InjectError or an HTTP
// status injected with InjectStatus (faults.go) for APICode2Session and
// the appid is answered instead, once per injection.
//
// An openid is "o" followed by the first 27 characters of
// base64url(HMAC-SHA256(key=appid, name)); a unionid is "u" followed by 27
// characters of an HMAC keyed by a fixed string. A session_key is 16 random
// bytes in base64, new on every login as on WeChat. The simulator never
// logs session keys.
//
// Message push (消息推送) goes the other way: a Pusher (pusher.go) delivers
// events to a push URL exactly as WeChat signs and encrypts them (plain or
// safe mode, JSON or XML), for tests, and the running simulator delivers
// POST /wechatsim/push?appid=…&user=NAME with a JSON object of the
// message's fields to the push URL registered with SetPusher.
//
// Try it with curl against a running simulator:
//
//	curl "$URL/sns/jscode2session?appid=wxd0d0d0d0d0d0d0d0&secret=wechatsim-dev-secret&js_code=dev-alice&grant_type=authorization_code"
//
// POST /wxa/business/getuserphonenumber (phone.go) exchanges a
// getPhoneNumber code: phone-<digits> is a +86 number (countryCode a
// string), phonenum-<digits> the same with countryCode a JSON number,
// intl-<cc>-<digits> a number of country code cc, once-phone-<digits> a
// single-use code (40029 the second time, as WeChat answers), and
// otherapp-<digits> a number watermarked for OtherAppID; err-40029,
// err-40163, err-45011, err-40013, err-busy and err-badphone fail as
// phone.go lists. Anything else is 40029.
package wechatsim

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The app a zero Config serves, for the run command's development default.
const (
	DefaultAppID  = "wxd0d0d0d0d0d0d0d0"
	DefaultSecret = "wechatsim-dev-secret"
)

// DefaultSlowDelay is how long err-slow waits when Config.SlowDelay is zero.
const DefaultSlowDelay = 10 * time.Second

// unionKey keys the unionid HMAC: one simulated Open Platform account binds
// every configured app.
const unionKey = "wechatsim-open-platform"

// Config configures a Simulator.
type Config struct {
	// Apps maps each known appid to its secret; empty means
	// {DefaultAppID: DefaultSecret}.
	Apps map[string]string
	// SlowDelay is how long err-slow waits; zero means DefaultSlowDelay.
	SlowDelay time.Duration
	// Log, when set, gets one line per request (appid, code, errcode,
	// openid; never the secret, a session_key or an access token).
	Log *slog.Logger
	// Now is the simulator's clock (token expiry, daily quotas); nil means
	// time.Now.
	Now func() time.Time
	// OpenAPIHome, when set, makes the simulator also play Cloud Hosting's
	// open-API service for a container of this app (openapi.go).
	OpenAPIHome string
	// MediaVerdictDelay, when positive, makes the simulator push each
	// media check's verdict (wxa_media_check) that long after the check,
	// as WeChat does, through the app's Pusher (SetPusher) if it has one.
	// Zero leaves delivery to the test (MediaVerdict).
	MediaVerdictDelay time.Duration
}

// Simulator is an http.Handler that answers like WeChat's code2Session.
// It is safe for concurrent use.
type Simulator struct {
	apps  map[string]string
	slow  time.Duration
	log   *slog.Logger
	mux   *http.ServeMux
	mu    sync.Mutex
	used  map[string]bool // appid + "\x00" + code, for once- codes
	calls map[string]int  // js_code → calls
	total int
	clock func() time.Time
	plat  platform // access tokens and the APIs behind them (platform.go)
	// security is content security's state (security.go), made on first
	// use.
	security *security
	keys     lastKeys // the session key issued last per user, for open data (opendata.go)
	// verdictDelay is Config.MediaVerdictDelay (security.go).
	verdictDelay time.Duration
	// openAPIHome is Config.OpenAPIHome (openapi.go).
	openAPIHome string
	// pushers deliver message pushes (pusher.go).
	pushers pushers
	wxa     wxaPages // the published pages getwxacodeunlimit knows (wxacode.go)
	// subscribe is subscribe messages' state (subscribe.go), made on
	// first use.
	subscribe *subscriptions
}

// New returns a Simulator for cfg.
func New(cfg Config) *Simulator {
	apps := make(map[string]string, len(cfg.Apps))
	for id, secret := range cfg.Apps {
		apps[id] = secret
	}
	if len(apps) == 0 {
		apps[DefaultAppID] = DefaultSecret
	}
	s := &Simulator{
		apps:  apps,
		slow:  cfg.SlowDelay,
		log:   cfg.Log,
		mux:   http.NewServeMux(),
		used:  make(map[string]bool),
		calls: make(map[string]int),
		clock: cfg.Now,
		plat:  newPlatform(),

		openAPIHome:  cfg.OpenAPIHome,
		verdictDelay: cfg.MediaVerdictDelay,
	}
	if s.slow <= 0 {
		s.slow = DefaultSlowDelay
	}
	s.routes()
	return s
}

// routes registers every simulated API: one line each.
func (s *Simulator) routes() {
	s.mux.HandleFunc("GET /sns/jscode2session", s.code2Session)
	s.mux.HandleFunc("POST /cgi-bin/stable_token", s.stableToken)
	s.mux.HandleFunc("POST /wxa/business/getuserphonenumber", s.withToken(APIGetUserPhoneNumber, s.phoneNumber))
	s.mux.HandleFunc("POST /wxa/msg_sec_check", s.withToken(APIMsgSecCheck, s.msgSecCheck))
	s.mux.HandleFunc("POST /wxa/media_check_async", s.withToken(APIMediaCheckAsync, s.mediaCheckAsync))
	s.mux.HandleFunc("GET /wechatsim/open-data", s.openData)
	s.mux.HandleFunc("POST /wechatsim/push", s.pushEvent) // pusher.go
	s.mux.HandleFunc("POST /wxa/getwxacodeunlimit", s.withToken(APIWxaCodeUnlimit, s.wxaCodeUnlimit))
	s.mux.HandleFunc("POST /cgi-bin/message/subscribe/send", s.withToken(APISubscribeSend, s.subscribeSend)) // subscribe.go
	s.mux.HandleFunc("POST /wechatsim/subscribe", s.userSubscribe)
	s.mux.HandleFunc("GET /wechatsim/messages", s.messages)
	s.mux.HandleFunc("POST /wechatsim/faults", s.addFault) // faults.go
	s.mux.HandleFunc("GET /wechatsim/faults", s.listFaults)
	s.mux.HandleFunc("DELETE /wechatsim/faults", s.clearFaults)
	s.mux.HandleFunc("POST /wechatsim/revoke", s.revokeHook)
	s.mux.HandleFunc("POST /wechatsim/poison", s.poisonHook)
}

// ServeHTTP routes the simulated APIs; anything else is 404 or 405.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Calls returns how many code2Session requests arrived, valid or not.
func (s *Simulator) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// CallsFor returns how many code2Session requests carried js_code code.
func (s *Simulator) CallsFor(code string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[code]
}

// identity is a successful reply, in WeChat's field order.
type identity struct {
	SessionKey string `json:"session_key"`
	OpenID     string `json:"openid"`
	UnionID    string `json:"unionid,omitempty"`
}

// failure is an error reply.
type failure struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// code2Session checks the request, then answers according to js_code.
func (s *Simulator) code2Session(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	appid, secret, code := q.Get("appid"), q.Get("secret"), q.Get("js_code")
	s.count(code)

	want, known := s.apps[appid]
	switch {
	case q.Get("grant_type") != "authorization_code":
		s.fail(w, appid, code, 40002, "invalid grant_type")
	case appid == "":
		s.fail(w, appid, code, 41002, "appid missing")
	case !known:
		s.fail(w, appid, code, 40013, "invalid appid")
	case secret == "":
		s.fail(w, appid, code, 41004, "appsecret missing")
	case !equalSecret(secret, want):
		s.fail(w, appid, code, 40125, "invalid appsecret")
	case code == "":
		s.fail(w, appid, code, 41008, "missing code")
	case s.answerInjected(w, APICode2Session, appid, func(errcode int) { s.fail(w, appid, code, errcode, errmsg(errcode)) }):
	default:
		s.answer(w, r, appid, code)
	}
}

// answer replies to a well-formed request according to its code.
func (s *Simulator) answer(w http.ResponseWriter, r *http.Request, appid, code string) {
	switch code {
	case "err-40029":
		s.fail(w, appid, code, 40029, "invalid code")
	case "err-40163":
		s.fail(w, appid, code, 40163, "code been used")
	case "err-45011":
		s.fail(w, appid, code, 45011, "api minute-quota reach limit")
	case "err-40226":
		s.fail(w, appid, code, 40226, "high risk user")
	case "err-busy":
		s.fail(w, appid, code, -1, "system error")
	case "err-slow":
		select {
		case <-time.After(s.slow):
			s.succeed(w, appid, code, "slow", true)
		case <-r.Context().Done():
			s.logf(appid, code, "request ended while slow")
		}
	case "err-malformed":
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(`{"session_key":"c2ltdWxhdG9y","openid":"oMalfor`))
		s.logf(appid, code, "malformed reply")
	case "err-500":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("<html><head><title>500 Internal Server Error</title></head><body><center><h1>500 Internal Server Error</h1></center></body></html>\n"))
		s.logf(appid, code, "HTTP 500")
	default:
		switch prefix, name, _ := strings.Cut(code, "-"); {
		case name != "" && prefix == "dev":
			s.succeed(w, appid, code, name, true)
		case name != "" && prefix == "keep":
			s.succeed(w, appid, code, name, true)
		case name != "" && prefix == "solo":
			s.succeed(w, appid, code, name, false)
		case name != "" && prefix == "once":
			if s.firstUse(appid, code) {
				s.succeed(w, appid, code, name, true)
			} else {
				s.fail(w, appid, code, 40163, "code been used")
			}
		default:
			s.fail(w, appid, code, 40029, "invalid code")
		}
	}
}

// errmsg is WeChat's message for an injected errcode.
func errmsg(errcode int) string {
	if m, ok := errmsgs[errcode]; ok {
		return m
	}
	return "simulated error"
}

// succeed replies with name's identity in appid and a fresh session key.
func (s *Simulator) succeed(w http.ResponseWriter, appid, code, name string, withUnion bool) {
	id := identity{SessionKey: s.sessionKeyFor(appid, OpenID(appid, name), code), OpenID: OpenID(appid, name)}
	s.noteLogin(appid, id.OpenID) // content security accepts it now
	if withUnion {
		id.UnionID = UnionID(name)
	}
	writeJSON(w, id)
	if s.log != nil {
		s.log.Info("wechatsim: code2Session", "appid", appid, "code", code, "openid", id.OpenID, "unionid", id.UnionID)
	}
}

// fail replies with a WeChat error.
func (s *Simulator) fail(w http.ResponseWriter, appid, code string, errcode int, msg string) {
	writeJSON(w, failure{ErrCode: errcode, ErrMsg: msg + ", rid: " + newRID()})
	if s.log != nil {
		s.log.Info("wechatsim: code2Session", "appid", appid, "code", code, "errcode", errcode)
	}
}

func (s *Simulator) logf(appid, code, what string) {
	if s.log != nil {
		s.log.Info("wechatsim: code2Session", "appid", appid, "code", code, "outcome", what)
	}
}

func (s *Simulator) count(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total++
	s.calls[code]++
	s.plat.apiCalls[APICode2Session]++
}

// firstUse marks code as used in appid and reports whether it was fresh.
func (s *Simulator) firstUse(appid, code string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := appid + "\x00" + code
	if s.used[k] {
		return false
	}
	s.used[k] = true
	return true
}

// OpenID returns the openid the simulator gives name in appid.
func OpenID(appid, name string) string { return "o" + mac(appid, name) }

// UnionID returns the unionid the simulator gives name in every app.
func UnionID(name string) string { return "u" + mac(unionKey, name) }

// mac returns 27 characters of base64url(HMAC-SHA256(key, msg)).
func mac(key, msg string) string {
	h := hmac.New(sha256.New, []byte(key))
	h.Write([]byte(msg))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))[:27]
}

// newSessionKey returns 16 random bytes in base64, like WeChat's keys.
func newSessionKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.StdEncoding.EncodeToString(b)
}

// newRID returns a request id shaped like WeChat's ("65a1b2c3-0a1b2c3d-…").
func newRID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%08x-%08x-%08x", time.Now().Unix(), binary.BigEndian.Uint32(b[:4]), binary.BigEndian.Uint32(b[4:]))
}

// writeJSON writes v as WeChat does: status 200, text/plain.
func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write(b)
}
