package wechat

// This file is the one place an HTTP exchange with WeChat happens: each
// attempt goes through the breaker of its (AppID, API), and a failure is
// retried, with exponential backoff and jitter, when three things hold:
//
//  1. It says WeChat could not serve the request now, not that the
//     request is wrong (which failures do is the verdict list below).
//     Permanent errcodes (40029, 40163, 40003, 40037, 41030, 43101,
//     47003…) never retry. 45011 (the minute quota is reached) does, like
//     -1: the quota's minute may roll over during the backoff, and the
//     retry budget bounds what retries add while it does not; when they
//     do not get through, the client gets 429 with Retry-After as before.
//  2. Repeating it cannot act twice. What WeChat does with a request
//     that arrived and got no answer is unknown: for an API that consumes
//     a single-use code (code2Session, getuserphonenumber: a repeat gets
//     40163 and burns the user's login) or acts (a forced stable_token
//     spends one of 20 a day; mediaCheckAsync starts a second check)
//     only a failure that proves the request was not acted on is retried:
//     no connection (the request never left), errcode -1 ("system busy,
//     retry later"), errcode 45011 (refused over the quota before
//     anything was done) or HTTP 503. The idempotent APIs in replaySafe
//     also retry a reset, a 5xx or a timeout.
//  3. The caller's deadline leaves room for the backoff and an attempt
//     (for a timeout: a whole client timeout), and the retry budget of
//     the (AppID, API) has a retry left.
//
// Every failure a retry is for counts against the breaker, with one
// exception: 45011 of an API whose quota is per user (perUserQuota), which
// one user's burst reaches while WeChat serves everyone else.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"

	"github.com/miniback/miniback/domain"
)

// API names of the exchanges Client makes itself (the token-bearing ones
// are named by their callers: phone.go, security.go…).
const (
	apiCode2Session = "code2session"
	apiStableToken  = "stable_token"
)

// replaySafe lists the APIs whose request may be sent again after it may
// have reached WeChat: a repeat acts as the first did. Any other API
// (code2Session, getuserphonenumber, media_check_async, subscribe send,
// and any API not listed) retries only failures that prove the first
// request was not acted on; subscribe send, only a request that never
// left (onlyUnsent).
var replaySafe = map[string]bool{
	apiStableToken:    true, // normal mode hands out the current token; a forced refresh is never replayed (StableToken)
	apiMsgSecCheck:    true, // a verdict, no effect
	apiWxaCodeUnlimit: true, // the same image again
	// NEVER: a send that reached WeChat may have delivered the message and
	// spent the user's one-time grant; a repeat sends twice or answers
	// 43101. Not even a "busy" answer is repeated (onlyUnsent).
	apiSubscribeSend: false,
}

// onlyUnsent lists the APIs retried only when the request never left
// (DNS, connect, TLS): not after errcode -1, errcode 45011 or HTTP 503
// either, which WeChat sends after the request reached it. Their callers retry later,
// on their own terms (the reminder queue's backoff for subscribe sends).
var onlyUnsent = map[string]bool{
	apiSubscribeSend: true,
}

// perUserQuota lists the APIs whose minute quota (45011) is counted per
// user, not per AppID: their 45011 is retried like any other, but does not
// count against the breaker of the (AppID, API), which would then refuse
// every user of the mini-program for one user's burst. The 45011 of an
// API not listed (getuserphonenumber, msg_sec_check, media_check_async,
// getwxacodeunlimit, stable_token, subscribe send…) counts: its quota is
// the AppID's, so while it is spent every user's call gets 45011 too, and
// an open breaker spares WeChat those calls.
var perUserQuota = map[string]bool{
	// WeChat: 100 calls per user per minute (the mini-game docs).
	apiCode2Session: true,
	// NOT per user: getuserphonenumber. Its code is the user's, but
	// WeChat documents no per-user quota for it: asked for its limits,
	// WeChat's community staff point to getApiQuota, which reports the
	// AppID's quotas. And one user cannot reach a per-user quota through
	// miniback: POST /v1/me/phone is in the "wechat" rate-limit group
	// (10 a minute per user by default), each a fresh single-use code. So
	// its 45011 is the AppID's quota spent, for every user.
	phoneAPI: false,
}

// verdict is what one attempt says about WeChat's health, and whether
// repeating it is safe.
type verdict int

const (
	answered verdict = iota // WeChat answered: a success, or an errcode about the request (a breaker success)
	ignored                 // says nothing of WeChat's health: the caller gave up, an unexpected reply (not counted)
	unsent                  // the request never left: DNS, connect, TLS (a failure; always safe to repeat)
	busy                    // WeChat said it failed without acting: errcode -1, HTTP 503 (a failure; safe to repeat)
	quota                   // WeChat refused it without acting, over the minute quota: errcode 45011 (safe to repeat; a failure unless perUserQuota)
	lost                    // the request left and the answer was lost: a reset, HTTP 500/502/504 (a failure; may have acted)
	timedOut                // the request left and no answer came in the client's timeout (a failure; may have acted)
)

// failed reports whether the verdict counts against the breaker of api.
func (v verdict) failed(api string) bool {
	if v == quota {
		return !perUserQuota[api]
	}
	return v >= unsent
}

func (v verdict) String() string {
	return [...]string{"answered", "ignored", "unsent", "busy", "quota", "lost", "timed out"}[v]
}

// minAttemptTime is the least time left before the caller's deadline for
// a retry after a quick failure: less would only be cut short.
const minAttemptTime = 100 * time.Millisecond

// errBuildRequest reports a request that could not be made (a bug).
var errBuildRequest = errors.New("build request")

// exchange is a 200 reply: its media type (no parameters) and body.
type exchange struct {
	contentType string
	body        []byte
}

// roundTrip sends the request newReq builds (once per attempt, with the
// attempt's context) to app's api, through its guard, and returns the
// last attempt's 200 reply (which may carry an errcode for the caller to
// map) or its error: a transport error, errHTTPStatus or errTooLarge (the
// caller scrubs and classifies them as before), or wechat_unavailable
// from an open breaker before any attempt. replay says whether a request
// that may have reached WeChat may be sent again (see replaySafe); limit
// caps the body.
func (c *Client) roundTrip(ctx context.Context, app domain.AppID, api string, replay bool, limit int64,
	newReq func(context.Context) (*http.Request, error)) (exchange, error) {
	g := c.guards.get(app, api)
	if g.budget != nil {
		g.budget.call(g.cfg.Now())
	}
	var last exchange
	var lastErr error
	for attempt := 0; ; attempt++ {
		report, err := g.allow()
		if err != nil {
			c.observeRejected(api)
			// Open, or half-open with its probes out. A retry refused here
			// (the attempts so far tripped it) answers the last attempt's
			// failure: a -1 reply, or its error.
			if attempt > 0 {
				return last, lastErr
			}
			return exchange{}, err
		}
		start := time.Now()
		r, v, err := c.attempt(ctx, limit, newReq)
		c.observeAttempt(ctx, api, start, r, err)
		g.noteReply(r, err)
		report(v)
		wait, ok := g.retryAfter(ctx, attempt, v, replay, c.timeout)
		if !ok {
			return r, err
		}
		g.cfg.Log.Debug("wechat: retrying", "appid", string(g.app), "api", g.api, "attempt", attempt+1,
			"verdict", v.String(), "backoff", wait.String())
		if g.cfg.Sleep(ctx, wait) != nil {
			return r, err // the caller gave up while waiting
		}
		last, lastErr = r, err
	}
}

// attempt makes one exchange, bounded by the client's timeout, and says
// what it tells of WeChat.
func (c *Client) attempt(ctx context.Context, limit int64, newReq func(context.Context) (*http.Request, error)) (exchange, verdict, error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	// Headers written means the request may have reached WeChat: before
	// that (DNS, connect, TLS) nothing did.
	var sent atomic.Bool
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{WroteHeaders: func() { sent.Store(true) }})
	req, err := newReq(actx)
	if err != nil {
		return exchange{}, ignored, fmt.Errorf("%w: %w", errBuildRequest, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return exchange{}, transportVerdict(ctx, err, sent.Load()), err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return exchange{}, statusVerdict(resp.StatusCode), fmt.Errorf("%w %d", errHTTPStatus, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		// A timeout while reading surfaces as a plain read error; report
		// the context's verdict so that it is classified as one.
		if ctxErr := actx.Err(); ctxErr != nil {
			err = ctxErr
		}
		return exchange{}, transportVerdict(ctx, err, true), fmt.Errorf("read reply: %w", err)
	}
	if int64(len(body)) > limit {
		return exchange{}, ignored, fmt.Errorf("%w: over %d bytes", errTooLarge, limit)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return exchange{contentType: mt, body: body}, errcodeVerdict(mt, body), nil
}

// transportVerdict classifies a failure to get a reply. ctx is the
// caller's: when it ended, the caller gave up, which says nothing of
// WeChat.
func transportVerdict(ctx context.Context, err error, sent bool) verdict {
	switch {
	case ctx.Err() != nil:
		return ignored
	case !sent:
		return unsent
	case isTimeout(err):
		return timedOut
	default:
		return lost
	}
}

// statusVerdict classifies a reply that is not 200. Only 503 says the
// request was not handled; another 5xx may come after WeChat acted. A
// 4xx or 3xx is a wrong URL or a proxy's refusal, not an outage.
func statusVerdict(status int) verdict {
	switch {
	case status == http.StatusServiceUnavailable:
		return busy
	case status >= 500:
		return lost
	default:
		return ignored
	}
}

// errcodeVerdict reads the errcode of a reply: -1 is WeChat being busy,
// 45011 the minute quota reached, anything else an answer.
func errcodeVerdict(mt string, body []byte) verdict {
	code, ok := replyErrcode(exchange{contentType: mt, body: body})
	switch {
	case !ok:
		return ignored // the caller reports the unexpected reply
	case code == -1:
		return busy
	case code == 45011:
		return quota
	}
	return answered
}

// replyErrcode returns the errcode of a JSON reply (0 for none, or for a
// reply that is not JSON: an image); ok is false for JSON that does not
// decode.
func replyErrcode(x exchange) (int, bool) {
	if !isJSONType(x.contentType, x.body) {
		return 0, true
	}
	var e struct {
		ErrCode int `json:"errcode"`
	}
	if err := json.Unmarshal(x.body, &e); err != nil {
		return 0, false
	}
	return e.ErrCode, true
}

// retryAfter decides whether the attempt-th attempt (from 0), whose
// verdict is v, is retried, and after how long. timeout is the client's
// timeout of one attempt.
func (g *guard) retryAfter(ctx context.Context, attempt int, v verdict, replay bool, timeout time.Duration) (time.Duration, bool) {
	r := g.cfg.Retry
	if g.budget == nil || attempt >= r.Retries {
		return 0, false
	}
	switch v {
	case unsent:
	case busy, quota:
		if onlyUnsent[g.api] {
			return 0, false
		}
	case lost, timedOut:
		if !replay {
			return 0, false
		}
	default:
		return 0, false
	}
	wait := backoff(r, attempt)
	need := wait + minAttemptTime
	if v == timedOut {
		// WeChat was slow: only a caller who waits for a whole second
		// attempt gets one, and one with no deadline (a background
		// refresh under a lease) gets none.
		need = wait + timeout
	}
	dl, bounded := ctx.Deadline()
	if (bounded && time.Until(dl) < need) || (!bounded && v == timedOut) {
		return 0, false
	}
	if !g.budget.retry(g.cfg.Now()) {
		g.cfg.Log.Debug("wechat: retry budget spent; not retrying", "appid", string(g.app), "api", g.api, "verdict", v.String())
		return 0, false
	}
	return wait, true
}

// backoff is the wait before retry attempt+1: Backoff doubled per
// attempt up to MaxBackoff, jittered between half and all of it so that
// the callers an outage failed together do not come back together.
func backoff(r RetrySettings, attempt int) time.Duration {
	d := r.Backoff
	for range attempt {
		if d >= r.MaxBackoff/2 {
			d = r.MaxBackoff
			break
		}
		d *= 2
	}
	d = min(d, r.MaxBackoff)
	half := d / 2
	return half + rand.N(d-half+1)
}

// unavailable returns the wechat_unavailable error of an open breaker in
// err's chain, if there is one: it passes through the transport error
// mappings unchanged.
func unavailable(err error) (*domain.Error, bool) {
	var de *domain.Error
	if errors.As(err, &de) && de.Code == domain.CodeWeChatUnavailable {
		return de, true
	}
	return nil, false
}
