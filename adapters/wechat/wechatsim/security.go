package wechatsim

// This file simulates WeChat's content security: msgSecCheck v2
// (POST /wxa/msg_sec_check) and mediaCheckAsync v2
// (POST /wxa/media_check_async), behind the access token like every
// token-bearing API (platform.go), with WeChat's wire format.
//
// Both check the body in this order, as WeChat does:
//
//	body not JSON                          47001 data format error
//	version not 2                          40097 invalid args
//	scene not 1..4                         40129 invalid scene
//	openid empty or never issued           40003 invalid openid
//	openid issued for another app          43104 appid and openid not match
//	openid's user idle for over 2 hours    61010 code is expired
//	msg_sec_check: content empty or over
//	  2,500 characters                     40097 invalid args
//	media_check_async: media_url not an
//	  http(s) URL, media_type not 1 or 2   40097 invalid args
//
// An openid is issued by a successful code2Session (dev-, solo-, once-
// codes), which also counts as the user opening the mini-program; Visit
// does the same for tests. The simulator's clock (Config.Now) drives the
// 2-hour rule (WeChat's requirement that the user opened the mini-program
// recently; 61010 is what community reports say WeChat answers).
//
// Then an error marker in the content, title, nickname or signature
// (msg_sec_check) or in the media_url (media_check_async) answers its
// errcode (markers.go): err-busy is -1, err-45011 45011, and likewise
// err-40003, err-40097, err-40129, err-43104, err-48001 and err-61010.
//
// Otherwise the verdict is chosen by marker words in the same places:
//
//	contains "sim-risky"   suggest risky, label 20001 (politics)
//	contains "sim-review"  suggest review, label 10001 (ads)
//	otherwise              suggest pass, label 100 (normal)
//
// SetMediaVerdict overrides the verdict of images whose media_url contains
// a given substring (an upload id, say). An image's verdict is not in the
// reply: MediaVerdict returns the wxa_media_check event WeChat would push
// for a trace_id, for a message-push test to deliver.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// API names of content security, for CallsTo and InjectError.
const (
	APIMsgSecCheck     = "msg_sec_check"
	APIMediaCheckAsync = "media_check_async"
)

// Content security's limits and markers.
const (
	// ActiveWindow is how recently a user must have opened the
	// mini-program for content security to accept their openid.
	ActiveWindow = 2 * time.Hour
	// MaxContentRunes is the longest content msg_sec_check takes.
	MaxContentRunes = 2500

	MarkerRisky  = "sim-risky"
	MarkerReview = "sim-review"
)

// Labels the simulator answers with.
const (
	LabelNormal   = 100
	LabelAds      = 10001
	LabelPolitics = 20001
)

func init() {
	errmsgs[40003] = "invalid openid"
	errmsgs[40097] = "invalid args"
	errmsgs[40129] = "invalid scene"
	errmsgs[43104] = "appid and openid not match"
	errmsgs[61010] = "code is expired"
	errmsgs[48001] = "api unauthorized"
}

// user is an openid the simulator issued.
type user struct {
	app    string
	active time.Time // the last time the user opened the mini-program
}

// mediaJob is an image check in progress.
type mediaJob struct {
	app, openid, url string
	at               time.Time
}

// mediaOverride sets the verdict of images whose URL contains substr.
type mediaOverride struct{ substr, suggest string }

// security is the simulator's content security state; s.mu guards it.
type security struct {
	users     map[string]*user // openid → its app and activity
	jobs      map[string]mediaJob
	overrides []mediaOverride
}

// sec returns the content security state, made on first use. s.mu must be
// held.
func (s *Simulator) sec() *security {
	if s.security == nil {
		s.security = &security{users: make(map[string]*user), jobs: make(map[string]mediaJob)}
	}
	return s.security
}

// noteLogin records that name's openid in appid was issued and that the
// user just opened the mini-program.
func (s *Simulator) noteLogin(appid, openid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sec().users[openid] = &user{app: appid, active: s.now()}
}

// Visit records that name opened appid's mini-program now (as a login
// does), so content security accepts their openid for ActiveWindow.
func (s *Simulator) Visit(appid, name string) { s.noteLogin(appid, OpenID(appid, name)) }

// checkOpenID returns the errcode content security answers for openid in
// appid, or 0.
func (s *Simulator) checkOpenID(appid, openid string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.sec().users[openid]
	switch {
	case openid == "" || u == nil:
		return 40003
	case u.app != appid:
		return 43104
	case s.now().Sub(u.active) > ActiveWindow:
		return 61010
	}
	return 0
}

// secCheckRequest is the body of both APIs.
type secCheckRequest struct {
	Version   int    `json:"version"`
	OpenID    string `json:"openid"`
	Scene     int    `json:"scene"`
	Content   string `json:"content"`
	Title     string `json:"title"`
	Nickname  string `json:"nickname"`
	Signature string `json:"signature"`
	MediaURL  string `json:"media_url"`
	MediaType int    `json:"media_type"`
}

// readSecRequest decodes and checks what both APIs share, answering the
// errcode itself when the request is refused.
func (s *Simulator) readSecRequest(w http.ResponseWriter, r *http.Request, appid string) (secCheckRequest, bool) {
	var req secCheckRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || json.Unmarshal(body, &req) != nil {
		writeAPIError(w, 47001)
		return req, false
	}
	code := 0
	switch {
	case req.Version != 2:
		code = 40097
	case req.Scene < 1 || req.Scene > 4:
		code = 40129
	default:
		code = s.checkOpenID(appid, req.OpenID)
	}
	if code != 0 {
		writeAPIError(w, code)
		return req, false
	}
	return req, true
}

// verdictOf picks the verdict a marker in text asks for.
func verdictOf(text string) (string, int) {
	switch {
	case strings.Contains(text, MarkerRisky):
		return "risky", LabelPolitics
	case strings.Contains(text, MarkerReview):
		return "review", LabelAds
	}
	return "pass", LabelNormal
}

// labelOf is the label the simulator gives a suggestion.
func labelOf(suggest string) int {
	switch suggest {
	case "risky":
		return LabelPolitics
	case "review":
		return LabelAds
	}
	return LabelNormal
}

// secResult is result and each detail of a verdict.
type secResult struct {
	Suggest string `json:"suggest"`
	Label   int    `json:"label"`
}

type secDetail struct {
	Strategy string `json:"strategy"`
	ErrCode  int    `json:"errcode"`
	Suggest  string `json:"suggest"`
	Label    int    `json:"label"`
	Prob     int    `json:"prob,omitempty"`
	Keyword  string `json:"keyword,omitempty"`
	Level    int    `json:"level,omitempty"`
}

// msgSecCheckReply is msg_sec_check v2's success, in WeChat's field order.
type msgSecCheckReply struct {
	ErrCode int         `json:"errcode"`
	ErrMsg  string      `json:"errmsg"`
	Result  secResult   `json:"result"`
	Detail  []secDetail `json:"detail"`
	TraceID string      `json:"trace_id"`
}

// msgSecCheck serves POST /wxa/msg_sec_check (behind withToken).
func (s *Simulator) msgSecCheck(w http.ResponseWriter, r *http.Request, appid string) {
	req, ok := s.readSecRequest(w, r, appid)
	if !ok {
		return
	}
	if req.Content == "" || utf8.RuneCountInString(req.Content) > MaxContentRunes {
		writeAPIError(w, 40097)
		return
	}
	text := req.Content + "\x00" + req.Title + "\x00" + req.Nickname + "\x00" + req.Signature
	if code, ok := markedErrcode(text, secMarkerErrcodes); ok {
		s.secFail(w, APIMsgSecCheck, appid, code)
		return
	}
	suggest, label := verdictOf(text)
	details := []secDetail{{Strategy: "content_model", Suggest: suggest, Label: label, Prob: 90}}
	if suggest != "pass" {
		kw := MarkerRisky
		if suggest == "review" {
			kw = MarkerReview
		}
		details = append(details, secDetail{Strategy: "keyword", Suggest: suggest, Label: label, Level: 20, Keyword: kw})
	}
	trace := newTraceID(s.now())
	writeAPIJSON(w, msgSecCheckReply{ErrMsg: "ok", Result: secResult{suggest, label}, Detail: details, TraceID: trace})
	if s.log != nil {
		s.log.Info("wechatsim: msg_sec_check", "appid", appid, "scene", req.Scene, "suggest", suggest, "trace_id", trace)
	}
}

// secFail answers an errcode a marker asked for, and logs it.
func (s *Simulator) secFail(w http.ResponseWriter, api, appid string, errcode int) {
	writeAPIError(w, errcode)
	if s.log != nil {
		s.log.Info("wechatsim: "+api, "appid", appid, "errcode", errcode, "outcome", "marker")
	}
}

// mediaCheckReply is media_check_async's success.
type mediaCheckReply struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
	TraceID string `json:"trace_id"`
}

// mediaCheckAsync serves POST /wxa/media_check_async (behind withToken).
func (s *Simulator) mediaCheckAsync(w http.ResponseWriter, r *http.Request, appid string) {
	req, ok := s.readSecRequest(w, r, appid)
	if !ok {
		return
	}
	u, err := url.Parse(req.MediaURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (req.MediaType != 1 && req.MediaType != 2) {
		writeAPIError(w, 40097)
		return
	}
	if code, ok := markedErrcode(req.MediaURL, secMarkerErrcodes); ok {
		s.secFail(w, APIMediaCheckAsync, appid, code)
		return
	}
	now := s.now()
	trace := newTraceID(now)
	s.mu.Lock()
	s.sec().jobs[trace] = mediaJob{app: appid, openid: req.OpenID, url: req.MediaURL, at: now}
	s.mu.Unlock()
	writeAPIJSON(w, mediaCheckReply{ErrMsg: "ok", TraceID: trace})
	if s.log != nil {
		s.log.Info("wechatsim: media_check_async", "appid", appid, "scene", req.Scene, "trace_id", trace)
	}
	if s.verdictDelay > 0 {
		time.AfterFunc(s.verdictDelay, func() { s.pushVerdict(appid, trace) })
	}
}

// pushVerdict delivers trace's verdict to appid's push URL, as WeChat
// does some time after mediaCheckAsync. Without a Pusher for the app the
// verdict is only available through MediaVerdict.
func (s *Simulator) pushVerdict(appid, trace string) {
	p, ok := s.Pusher(appid)
	ev, found := s.MediaVerdict(trace)
	if !ok || !found {
		return
	}
	result := ev["result"].(map[string]any)
	suggest, label := result["suggest"].(string), result["label"].(int)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reply, err := p.Push(ctx, MediaCheckEvent(appid, ev["FromUserName"].(string), trace, suggest, label))
	if s.log != nil {
		s.log.Info("wechatsim: pushed wxa_media_check", "appid", appid, "trace_id", trace, "suggest", suggest,
			"delivered", err == nil && reply.OK())
	}
}

// SetMediaVerdict makes the images whose media_url contains substr get
// suggest ("pass", "review" or "risky") in MediaVerdict, over the markers.
// The latest matching override wins.
func (s *Simulator) SetMediaVerdict(substr, suggest string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.sec()
	sec.overrides = append(sec.overrides, mediaOverride{substr: substr, suggest: suggest})
}

// MediaCheck is an image check the simulator accepted.
type MediaCheck struct {
	TraceID, AppID, OpenID, MediaURL string
}

// MediaChecks returns the image checks accepted so far, in no order.
func (s *Simulator) MediaChecks() []MediaCheck {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]MediaCheck, 0, len(s.sec().jobs))
	for trace, j := range s.sec().jobs {
		out = append(out, MediaCheck{TraceID: trace, AppID: j.app, OpenID: j.openid, MediaURL: j.url})
	}
	return out
}

// MediaVerdict returns the wxa_media_check event WeChat would push (the
// JSON message body, before any encryption) with the verdict of the image
// check traceID, and false for an unknown trace_id.
func (s *Simulator) MediaVerdict(traceID string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.sec()
	j, ok := sec.jobs[traceID]
	if !ok {
		return nil, false
	}
	suggest, label := verdictOf(j.url)
	for i := len(sec.overrides) - 1; i >= 0; i-- {
		if strings.Contains(j.url, sec.overrides[i].substr) {
			suggest = sec.overrides[i].suggest
			label = labelOf(suggest)
			break
		}
	}
	return map[string]any{
		"ToUserName":   originalID(j.app),
		"FromUserName": j.openid,
		"CreateTime":   s.now().Unix(),
		"MsgType":      "event",
		"Event":        "wxa_media_check",
		"appid":        j.app,
		"trace_id":     traceID,
		"version":      2,
		"detail":       []map[string]any{{"strategy": "content_model", "errcode": 0, "suggest": suggest, "label": label, "prob": 90}},
		"errcode":      0,
		"errmsg":       "ok",
		"result":       map[string]any{"suggest": suggest, "label": label},
	}, true
}

// originalID is the mini-program's original id (gh_…), which WeChat puts
// in ToUserName: derived from the appid, stable.
func originalID(appid string) string {
	return "gh_" + strings.ToLower(mac("wechatsim-original-id", appid))[:12]
}

// newTraceID returns a trace id shaped like WeChat's
// ("690b03d2-301f6111-35ffbd44").
func newTraceID(now time.Time) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString([]byte{byte(now.Unix() >> 24), byte(now.Unix() >> 16), byte(now.Unix() >> 8), byte(now.Unix())}) +
		"-" + hex.EncodeToString(b[:4]) + "-" + hex.EncodeToString(b[4:])
}
