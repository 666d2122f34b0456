package wechatsim

// This file simulates subscribe messages (订阅消息): the user's side
// (wx.requestSubscribeMessage, whose acceptances give one-time grants) and
// POST /cgi-bin/message/subscribe/send, in WeChat's wire format: behind
// the access token (platform.go; injected errcodes such as -1 and 45011
// answer before anything below, and spend no grant), the body is checked
// in this order:
//
//	body not JSON                          47001 data format error
//	touser empty, never issued, or
//	  issued for another app               40003 invalid openid
//	template_id not one of the app's       40037 invalid template_id
//	page's path (before ?) not published   41030 invalid page
//	miniprogram_state not developer,
//	  trial or formal; lang not zh_CN,
//	  en_US, zh_HK or zh_TW                40097 invalid args
//	a template key missing or empty        47003 argument invalid! data.KEY.value is empty
//	a value over its type's length         47003 argument invalid! data.KEY.value exceeds limit
//	a value of the wrong characters or
//	  format                               47003 argument invalid! data.KEY.value invalid
//	no grant left for the template         43101 user refuse to accept the msg
//
// Success spends one grant and answers {"errcode":0,"errmsg":"ok",
// "msgid":N} (a 64-bit number, as WeChat's). The simulator keeps a log of
// the messages it delivered (SubscribeMessages, GET /wechatsim/messages).
//
// Grants come from the user accepting in the popup: POST
// /wechatsim/subscribe (what the sample mini-program's stand-in for
// wx.requestSubscribeMessage calls; it also pushes
// subscribe_msg_popup_event to the app's Pusher, as WeChat does when
// message push is configured) or Grant in tests.
//
// The value rules are WeChat's documented ones, written here apart from
// the domain's rendering so that each checks the other: thing ≤ 20
// characters (short_thing ≤ 5) without emoji or control characters;
// number ≤ 32 digits (a decimal point and a leading minus allowed);
// letter ≤ 32 letters; symbol ≤ 5 symbols; character_string ≤ 32 letters,
// digits and symbols; phrase ≤ 5 Chinese characters; name ≤ 10
// characters, or ≤ 20 letters; time 15:04, 2006-01-02 15:04 or
// 2006年1月2日 15:04; date 2006-01-02 or 2006年1月2日 (a time may
// follow); amount a currency symbol and ≤ 10 digits (a decimal point
// allowed), 元 allowed at the end; phone_number ≤ 17 digits, +, - and
// spaces; car_number ≤ 8 characters.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// APISubscribeSend names subscribeMessage.send for CallsTo and InjectError.
const APISubscribeSend = "subscribe_send"

// The reminder template every simulated app has, and the run command
// configures for the simulator's app when MINIBACK_SUBSCRIBE_TEMPLATES is
// empty: thing1 the task's title, time2 its due time, thing3 its notes.
const (
	DefaultReminderTemplateID = "wechatsim-reminder-0001"
	DefaultReminderPage       = "pages/task/task?id={id}"
)

// DefaultReminderFields are the default reminder template's keys.
var DefaultReminderFields = []string{"thing1", "time2", "thing3"}

// defaultReminderPagePath is published for subscribe messages.
const defaultReminderPagePath = "pages/task/task"

func init() {
	errmsgs[40037] = "invalid template_id"
	errmsgs[41030] = "invalid page"
	errmsgs[43101] = "user refuse to accept the msg"
	errmsgs[47003] = "argument invalid!"
}

// SubscribeDelivery is a message subscribeMessage.send delivered.
type SubscribeDelivery struct {
	AppID            string            `json:"appid"`
	OpenID           string            `json:"touser"`
	TemplateID       string            `json:"template_id"`
	Page             string            `json:"page,omitempty"`
	MiniprogramState string            `json:"miniprogram_state,omitempty"`
	Lang             string            `json:"lang,omitempty"`
	Data             map[string]string `json:"data"`
	MsgID            int64             `json:"msgid"`
	At               time.Time         `json:"at"`
}

// maxDeliveries bounds the log of delivered messages (the oldest go).
const maxDeliveries = 10000

// subscriptions is the simulator's subscribe-message state; s.mu guards
// it.
type subscriptions struct {
	templates map[string]map[string][]string // appid → template id → keys
	grants    map[[3]string]int              // (appid, openid, template) → sends left
	delivered []SubscribeDelivery
	nextMsgID int64
}

// subs returns the state, made on first use: every app has the default
// reminder template. s.mu must be held.
func (s *Simulator) subs() *subscriptions {
	if s.subscribe == nil {
		s.subscribe = &subscriptions{templates: map[string]map[string][]string{}, grants: map[[3]string]int{},
			nextMsgID: 2409497963855396000}
	}
	return s.subscribe
}

// template returns the keys of appid's template id.
func (st *subscriptions) template(appid, id string) ([]string, bool) {
	if keys, ok := st.templates[appid][id]; ok {
		return keys, true
	}
	if id == DefaultReminderTemplateID {
		return DefaultReminderFields, true
	}
	return nil, false
}

// AddSubscribeTemplate gives appid the template id with keys (thing1,
// time2…), as choosing a template in the console does.
func (s *Simulator) AddSubscribeTemplate(appid, id string, keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.subs()
	if st.templates[appid] == nil {
		st.templates[appid] = map[string][]string{}
	}
	st.templates[appid][id] = slices.Clone(keys)
}

// Grant adds n one-time grants of appid's template to the user openid, as
// n acceptances in wx.requestSubscribeMessage do.
func (s *Simulator) Grant(appid, openid, templateID string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs().grants[[3]string{appid, openid, templateID}] += n
}

// Grants returns the sends left to openid of appid's template.
func (s *Simulator) Grants(appid, openid, templateID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.subs().grants[[3]string{appid, openid, templateID}]
}

// SubscribeMessages returns the messages delivered so far, oldest first.
func (s *Simulator) SubscribeMessages() []SubscribeDelivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.subs().delivered)
}

// subscribeSendRequest is the body of subscribeMessage.send.
type subscribeSendRequest struct {
	ToUser           string                    `json:"touser"`
	TemplateID       string                    `json:"template_id"`
	Page             string                    `json:"page"`
	Data             map[string]subscribeValue `json:"data"`
	MiniprogramState string                    `json:"miniprogram_state"`
	Lang             string                    `json:"lang"`
}

type subscribeValue struct {
	Value string `json:"value"`
}

// subscribeSendReply is its success.
type subscribeSendReply struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
	MsgID   int64  `json:"msgid"`
}

// subscribeSend serves POST /cgi-bin/message/subscribe/send.
func (s *Simulator) subscribeSend(w http.ResponseWriter, r *http.Request, appid string) {
	var req subscribeSendRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || json.Unmarshal(body, &req) != nil {
		writeAPIError(w, 47001)
		return
	}
	s.mu.Lock()
	u := s.sec().users[req.ToUser]
	keys, known := s.subs().template(appid, req.TemplateID)
	s.mu.Unlock()
	path, _, _ := strings.Cut(req.Page, "?")
	switch {
	case req.ToUser == "" || u == nil || u.app != appid:
		writeAPIError(w, 40003)
		return
	case !known:
		writeAPIError(w, 40037)
		return
	case req.Page != "" && path != defaultReminderPagePath && !s.isPublished(path):
		writeAPIError(w, 41030)
		return
	case req.MiniprogramState != "" && req.MiniprogramState != "developer" && req.MiniprogramState != "trial" && req.MiniprogramState != "formal",
		req.Lang != "" && req.Lang != "zh_CN" && req.Lang != "en_US" && req.Lang != "zh_HK" && req.Lang != "zh_TW":
		writeAPIError(w, 40097)
		return
	}
	data := make(map[string]string, len(keys))
	for _, k := range keys {
		v, ok := req.Data[k]
		if problem := checkSubscribeValue(k, v.Value, ok); problem != "" {
			writeAPIJSON(w, apiFailure{ErrCode: 47003,
				ErrMsg: fmt.Sprintf("argument invalid! data.%s.value %s rid: %s", k, problem, newRID())})
			return
		}
		data[k] = v.Value
	}
	s.mu.Lock()
	st := s.subs()
	gk := [3]string{appid, req.ToUser, req.TemplateID}
	if st.grants[gk] <= 0 {
		s.mu.Unlock()
		writeAPIError(w, 43101)
		return
	}
	st.grants[gk]--
	st.nextMsgID++
	d := SubscribeDelivery{AppID: appid, OpenID: req.ToUser, TemplateID: req.TemplateID, Page: req.Page,
		MiniprogramState: req.MiniprogramState, Lang: req.Lang, Data: data, MsgID: st.nextMsgID, At: s.now()}
	if len(st.delivered) == maxDeliveries {
		st.delivered = slices.Delete(st.delivered, 0, 1)
	}
	st.delivered = append(st.delivered, d)
	s.mu.Unlock()
	writeAPIJSON(w, subscribeSendReply{ErrCode: 0, ErrMsg: "ok", MsgID: d.MsgID})
	if s.log != nil {
		s.log.Info("wechatsim: subscribe send", "appid", appid, "openid", req.ToUser, "template_id", req.TemplateID, "msgid", d.MsgID)
	}
}

// The formats time and date values may take.
var (
	timeValue   = regexp.MustCompile(`^(\d{4}-\d{1,2}-\d{1,2} |\d{4}年\d{1,2}月\d{1,2}日 ?)?([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?$`)
	dateValue   = regexp.MustCompile(`^(\d{4}-\d{1,2}-\d{1,2}|\d{4}年\d{1,2}月\d{1,2}日)( ?([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?)?$`)
	amountValue = regexp.MustCompile(`^[¥￥$€£]?(\d+(\.\d+)?)元?$`)
)

// checkSubscribeValue returns what is wrong with the value of key ("is
// empty", "exceeds limit", "invalid"), or "" when WeChat accepts it.
func checkSubscribeValue(key, v string, present bool) string {
	kind := strings.TrimRight(key, "0123456789")
	if !present || strings.TrimSpace(v) == "" {
		return "is empty"
	}
	if !utf8.ValidString(v) {
		return "invalid"
	}
	n := utf8.RuneCountInString(v)
	all := func(ok func(rune) bool) bool {
		for _, r := range v {
			if !ok(r) {
				return false
			}
		}
		return true
	}
	limit := func(max int, ok func(rune) bool) string {
		switch {
		case n > max:
			return "exceeds limit"
		case !all(ok):
			return "invalid"
		}
		return ""
	}
	switch kind {
	case "thing":
		return limit(20, simThingRune)
	case "short_thing":
		return limit(5, simThingRune)
	case "number":
		if n > 32 {
			return "exceeds limit"
		}
		if _, err := strconv.ParseFloat(v, 64); err != nil || strings.ContainsAny(v, "eE+xXpP_") {
			return "invalid"
		}
	case "letter":
		return limit(32, func(r rune) bool { return r < 0x80 && unicode.IsLetter(r) })
	case "symbol":
		return limit(5, func(r rune) bool { return r < 0x80 && (unicode.IsPunct(r) || unicode.IsSymbol(r)) })
	case "character_string":
		return limit(32, func(r rune) bool { return r > ' ' && r < 0x7f })
	case "phrase":
		return limit(5, func(r rune) bool { return unicode.Is(unicode.Han, r) })
	case "name":
		if all(func(r rune) bool { return r == ' ' || (r < 0x80 && unicode.IsLetter(r)) }) {
			return limit(20, func(rune) bool { return true })
		}
		return limit(10, simThingRune)
	case "time":
		if !timeValue.MatchString(v) {
			return "invalid"
		}
	case "date":
		if !dateValue.MatchString(v) {
			return "invalid"
		}
	case "amount":
		m := amountValue.FindStringSubmatch(v)
		if m == nil {
			return "invalid"
		}
		if len(strings.ReplaceAll(m[1], ".", "")) > 10 {
			return "exceeds limit"
		}
	case "phone_number":
		return limit(17, func(r rune) bool { return (r >= '0' && r <= '9') || r == '+' || r == '-' || r == ' ' })
	case "car_number":
		return limit(8, func(r rune) bool { return simThingRune(r) && r != ' ' })
	default:
		return "invalid"
	}
	return ""
}

// simThingRune is a character a thing may hold: no emoji (nothing beyond
// the Basic Multilingual Plane, no pictographs, joiners or variation
// selectors), no control or format characters.
func simThingRune(r rune) bool {
	switch {
	case r > 0xFFFF, r == '\u200d', r >= '\ufe00' && r <= '\ufe0f', r == '\u20e3':
		return false
	case unicode.Is(unicode.So, r) && r >= 0x2190:
		return false
	case unicode.IsControl(r), unicode.Is(unicode.Cf, r), unicode.Is(unicode.Co, r):
		return false
	}
	return unicode.IsPrint(r)
}

// subscribeChoice is the body of POST /wechatsim/subscribe.
type subscribeChoice struct {
	TemplateIDs []string `json:"tmplIds"`
	// Result is every template's answer: accept (the default), reject,
	// ban or filter.
	Result string `json:"result"`
}

// userSubscribe serves POST /wechatsim/subscribe?appid=…&user=NAME (or
// &openid=…), the user's side of wx.requestSubscribeMessage: the body
// {"tmplIds":[…],"result":"accept"} is the user's answer to the popup;
// each accept adds one grant. The answer is wx.requestSubscribeMessage's
// success result ({"errMsg":"requestSubscribeMessage:ok", TEMPLATE_ID:
// "accept"|…}); when the app has a Pusher, WeChat's
// subscribe_msg_popup_event is pushed to it too ("pushed": the push URL's
// HTTP status).
func (s *Simulator) userSubscribe(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	appid, openid := q.Get("appid"), q.Get("openid")
	if openid == "" && q.Get("user") != "" {
		openid = OpenID(appid, q.Get("user"))
	}
	var c subscribeChoice
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&c); err != nil || len(c.TemplateIDs) == 0 || len(c.TemplateIDs) > 3 {
		http.Error(w, `the body must be {"tmplIds":[1 to 3 template ids],"result":"accept|reject|ban|filter"}`, http.StatusBadRequest)
		return
	}
	if c.Result == "" {
		c.Result = "accept"
	}
	if c.Result != "accept" && c.Result != "reject" && c.Result != "ban" && c.Result != "filter" {
		http.Error(w, "result must be accept, reject, ban or filter", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	u := s.sec().users[openid]
	if _, known := s.apps[appid]; !known || u == nil || u.app != appid {
		s.mu.Unlock()
		http.Error(w, "no such user of this appid (log in first)", http.StatusNotFound)
		return
	}
	out := map[string]any{"errMsg": "requestSubscribeMessage:ok"}
	var items []SubscriptionItem
	for _, id := range c.TemplateIDs {
		if _, ok := s.subs().template(appid, id); !ok {
			s.mu.Unlock()
			// What wx.requestSubscribeMessage fails with for a template
			// id the app does not have.
			writeHookJSON(w, map[string]any{"errMsg": "requestSubscribeMessage:fail invalid template id", "errCode": 20001})
			return
		}
		out[id] = c.Result
		if c.Result == "accept" {
			s.subs().grants[[3]string{appid, openid, id}]++
		}
		items = append(items, SubscriptionItem{TemplateID: id, Status: c.Result, PopupScene: "0"})
	}
	s.mu.Unlock()
	if p, ok := s.Pusher(appid); ok {
		reply, err := p.Push(r.Context(), SubscribeEvent("subscribe_msg_popup_event", openid, items...))
		if err == nil {
			out["pushed"] = reply.Status
		}
	}
	writeHookJSON(w, out)
}

// messages serves GET /wechatsim/messages[?appid=…][&openid=…|&user=NAME]:
// the delivered subscribe messages, oldest first, as {"messages":[…]}.
func (s *Simulator) messages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	appid, openid := q.Get("appid"), q.Get("openid")
	if openid == "" && q.Get("user") != "" {
		openid = OpenID(appid, q.Get("user"))
	}
	out := []SubscribeDelivery{}
	for _, d := range s.SubscribeMessages() {
		if (appid == "" || d.AppID == appid) && (openid == "" || d.OpenID == openid) {
			out = append(out, d)
		}
	}
	writeHookJSON(w, map[string]any{"messages": out})
}

func writeHookJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
