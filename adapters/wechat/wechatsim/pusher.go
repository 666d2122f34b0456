package wechatsim

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The push settings of the app a zero Config serves, for the run
// command's development default. They are public: development only.
const (
	DefaultPushToken      = "wechatsimDevPushToken"
	DefaultEncodingAESKey = "wechatsimDevEncodingAESKey0123456789abcdefg"
)

// PushFormat is the console's 数据格式 for message push.
type PushFormat string

const (
	PushJSON PushFormat = "json"
	PushXML  PushFormat = "xml"
)

// Pusher delivers messages to a push URL as WeChat's servers do
// (消息推送): a POST with ?signature=&timestamp=&nonce= where signature is
// hex(sha1(sort(Token, timestamp, nonce))), the message as JSON or XML;
// or, encrypted (安全模式), with &encrypt_type=aes&msg_signature= where
// msg_signature is hex(sha1(sort(Token, timestamp, nonce, Encrypt))) and
// the body is {"ToUserName","Encrypt"} or <xml><ToUserName/><Encrypt/></xml>,
// Encrypt being base64(AES-256-CBC(key, IV = key[:16],
// PKCS#7 to 32-byte blocks of random(16) + len(4, big-endian) + message +
// AppID)) with key = base64(EncodingAESKey + "="). It also sends the GET
// that checks the URL. It is written from WeChat's documentation, apart
// from the receiver it tests, and reproduces WeChat's published examples
// (pusher_test.go).
type Pusher struct {
	// URL is the push URL, e.g. http://localhost:8080/v1/wechat/push/wx….
	URL   string
	AppID string
	Token string
	// EncodingAESKey encrypts deliveries when Encrypted.
	EncodingAESKey string
	Encrypted      bool
	// Format is JSON unless set to PushXML.
	Format PushFormat
	// UserName is the mini-program's original ID, the messages'
	// ToUserName; empty means "gh_" + the AppID's last 12 characters.
	UserName string

	// Client sends the requests; nil means http.DefaultClient.
	Client *http.Client
	// Now stamps timestamps and CreateTime; nil means time.Now.
	Now func() time.Time
	// Random draws nonces and the 16 random bytes of an encrypted
	// message; nil means crypto/rand.
	Random io.Reader
}

// Message is a message's fields in order, under WeChat's names.
type Message []Field

// Field is one field of a message. Value is a string, an integer, a
// Message (a nested object: result of a media check) or a []Message (the
// List of a subscription event: in JSON an array, or the object itself
// when there is one item, as WeChat sends it; in XML the items are List
// elements inside an element named XMLWrapper).
type Field struct {
	Name       string
	Value      any
	XMLWrapper string
}

// Get returns the value of the field name, or nil.
func (m Message) Get(name string) any {
	for _, f := range m {
		if f.Name == name {
			return f.Value
		}
	}
	return nil
}

// event starts a message of the event: the fields every event has.
func event(from, name string) Message {
	return Message{{Name: "FromUserName", Value: from}, {Name: "MsgType", Value: "event"}, {Name: "Event", Value: name}}
}

// RevokeEvent is user_authorization_revoke: the user openid of appid
// withdrew authorisation (revokeInfo says which, e.g. "1"). Its
// FromUserName is the platform's, not the user's, as on WeChat.
func RevokeEvent(appid, openid, revokeInfo string) Message {
	return append(event("o_wechat_platform_notify", "user_authorization_revoke"),
		Field{Name: "OpenID", Value: openid}, Field{Name: "AppID", Value: appid}, Field{Name: "RevokeInfo", Value: revokeInfo})
}

// MediaCheckEvent is wxa_media_check: the verdict (suggest pass, review or
// risky, and its label) of the mediaCheckAsync traceID asked for the user
// openid of appid.
func MediaCheckEvent(appid, openid, traceID, suggest string, label int) Message {
	return append(event(openid, "wxa_media_check"),
		Field{Name: "appid", Value: appid}, Field{Name: "trace_id", Value: traceID}, Field{Name: "version", Value: 2},
		Field{Name: "detail", Value: []Message{{{Name: "strategy", Value: "content_model"}, {Name: "errcode", Value: 0},
			{Name: "suggest", Value: suggest}, {Name: "label", Value: label}, {Name: "prob", Value: 90}}}, XMLWrapper: "-"},
		Field{Name: "errcode", Value: 0}, Field{Name: "errmsg", Value: "ok"},
		Field{Name: "result", Value: Message{{Name: "suggest", Value: suggest}, {Name: "label", Value: label}}})
}

// SubscriptionItem is one template of a subscription event.
type SubscriptionItem struct {
	TemplateID string
	Status     string // accept or reject (popup, change); success or fail:… (sent)
	PopupScene string // popup events
	MsgID      string // sent events
	ErrorCode  int    // sent events
}

// itemWrappers name the XML element around a subscription event's items.
var itemWrappers = map[string]string{
	"subscribe_msg_popup_event":  "SubscribeMsgPopupEvent",
	"subscribe_msg_change_event": "SubscribeMsgChangeEvent",
	"subscribe_msg_sent_event":   "SubscribeMsgSentEvent",
}

// SubscribeEvent is one of subscribe_msg_popup_event,
// subscribe_msg_change_event and subscribe_msg_sent_event for the user
// openid.
func SubscribeEvent(eventName, openid string, items ...SubscriptionItem) Message {
	wrapper := itemWrappers[eventName]
	list := make([]Message, len(items))
	for i, it := range items {
		m := Message{{Name: "TemplateId", Value: it.TemplateID}}
		if eventName == "subscribe_msg_sent_event" {
			m = append(m, Field{Name: "MsgID", Value: it.MsgID}, Field{Name: "ErrorCode", Value: it.ErrorCode},
				Field{Name: "ErrorStatus", Value: it.Status})
		} else {
			m = append(m, Field{Name: "SubscribeStatusString", Value: it.Status})
			if it.PopupScene != "" {
				m = append(m, Field{Name: "PopupScene", Value: it.PopupScene})
			}
		}
		list[i] = m
	}
	return append(event(openid, eventName), Field{Name: "List", Value: list, XMLWrapper: wrapper})
}

// Marshal renders m as the Format says, with ToUserName and CreateTime
// first unless m has them.
func (p *Pusher) Marshal(m Message) []byte {
	full := Message{}
	if m.Get("ToUserName") == nil {
		full = append(full, Field{Name: "ToUserName", Value: p.userName()})
	}
	if m.Get("CreateTime") == nil {
		full = append(full, Field{Name: "CreateTime", Value: p.now().Unix()})
	}
	full = append(full, m...)
	var buf bytes.Buffer
	if p.Format == PushXML {
		buf.WriteString("<xml>")
		writeXMLFields(&buf, full)
		buf.WriteString("</xml>")
	} else {
		writeJSONObject(&buf, full)
	}
	return buf.Bytes()
}

func writeJSONObject(buf *bytes.Buffer, m Message) {
	buf.WriteByte('{')
	for i, f := range m {
		if i > 0 {
			buf.WriteByte(',')
		}
		name, _ := json.Marshal(f.Name)
		buf.Write(name)
		buf.WriteByte(':')
		writeJSONValue(buf, f.Value)
	}
	buf.WriteByte('}')
}

func writeJSONValue(buf *bytes.Buffer, v any) {
	switch v := v.(type) {
	case Message:
		writeJSONObject(buf, v)
	case []Message:
		if len(v) == 1 {
			writeJSONObject(buf, v[0]) // one item: the object itself
			return
		}
		buf.WriteByte('[')
		for i, m := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeJSONObject(buf, m)
		}
		buf.WriteByte(']')
	default:
		b, _ := json.Marshal(v)
		buf.Write(b)
	}
}

func writeXMLFields(buf *bytes.Buffer, m Message) {
	for _, f := range m {
		switch v := f.Value.(type) {
		case Message:
			fmt.Fprintf(buf, "<%s>", f.Name)
			writeXMLFields(buf, v)
			fmt.Fprintf(buf, "</%s>", f.Name)
		case []Message:
			// In XML, a subscription event's items are List elements
			// in a wrapper; other lists (detail) repeat their element.
			if f.XMLWrapper != "" && f.XMLWrapper != "-" {
				fmt.Fprintf(buf, "<%s>", f.XMLWrapper)
			}
			for _, item := range v {
				fmt.Fprintf(buf, "<%s>", f.Name)
				writeXMLFields(buf, item)
				fmt.Fprintf(buf, "</%s>", f.Name)
			}
			if f.XMLWrapper != "" && f.XMLWrapper != "-" {
				fmt.Fprintf(buf, "</%s>", f.XMLWrapper)
			}
		case string:
			// "]]>" cannot sit inside CDATA: split it across two sections.
			fmt.Fprintf(buf, "<%s><![CDATA[%s]]></%s>", f.Name, strings.ReplaceAll(v, "]]>", "]]]]><![CDATA[>"), f.Name)
		default:
			fmt.Fprintf(buf, "<%s>%v</%s>", f.Name, v, f.Name)
		}
	}
}

// Request returns the signed POST that delivers m.
func (p *Pusher) Request(ctx context.Context, m Message) (*http.Request, error) {
	return p.RequestBody(ctx, p.Marshal(m))
}

// RequestBody returns the signed POST that delivers the message text msg
// (encrypted when p is), for messages Marshal cannot make.
func (p *Pusher) RequestBody(ctx context.Context, msg []byte) (*http.Request, error) {
	ts := strconv.FormatInt(p.now().Unix(), 10)
	nonce, err := p.nonce()
	if err != nil {
		return nil, err
	}
	q := url.Values{"signature": {Signature(p.Token, ts, nonce)}, "timestamp": {ts}, "nonce": {nonce}}
	body := msg
	if p.Encrypted {
		enc, err := p.encrypt(msg)
		if err != nil {
			return nil, err
		}
		q.Set("encrypt_type", "aes")
		q.Set("msg_signature", Signature(p.Token, ts, nonce, enc))
		body = p.envelope(enc)
	}
	return p.newRequest(ctx, http.MethodPost, q, body)
}

// envelope is an encrypted delivery's body.
func (p *Pusher) envelope(enc string) []byte {
	if p.Format == PushXML {
		return []byte("<xml><ToUserName><![CDATA[" + p.userName() + "]]></ToUserName><Encrypt><![CDATA[" + enc + "]]></Encrypt></xml>")
	}
	b, _ := json.Marshal(struct{ ToUserName, Encrypt string }{p.userName(), enc})
	return b
}

// VerifyRequest returns WeChat's check of the push URL: a signed GET whose
// answer must be echostr.
func (p *Pusher) VerifyRequest(ctx context.Context, echostr string) (*http.Request, error) {
	ts := strconv.FormatInt(p.now().Unix(), 10)
	nonce, err := p.nonce()
	if err != nil {
		return nil, err
	}
	q := url.Values{"signature": {Signature(p.Token, ts, nonce)}, "timestamp": {ts}, "nonce": {nonce}, "echostr": {echostr}}
	return p.newRequest(ctx, http.MethodGet, q, nil)
}

func (p *Pusher) newRequest(ctx context.Context, method string, q url.Values, body []byte) (*http.Request, error) {
	u, err := url.Parse(p.URL)
	if err != nil {
		return nil, fmt.Errorf("wechatsim: push URL: %w", err)
	}
	u.RawQuery = q.Encode()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), r)
	if err != nil {
		return nil, err
	}
	if body != nil {
		if p.Format == PushXML {
			req.Header.Set("Content-Type", "text/xml")
		} else {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	req.Header.Set("User-Agent", "Mozilla/4.0 (wechatsim message push)")
	return req, nil
}

// PushReply is the push URL's answer to a delivery.
type PushReply struct {
	Status int
	Body   string
}

// OK reports whether WeChat would take the answer as received: HTTP 200
// with "success" or nothing.
func (r PushReply) OK() bool {
	return r.Status == http.StatusOK && (r.Body == "success" || r.Body == "")
}

// Push delivers m and returns the answer.
func (p *Pusher) Push(ctx context.Context, m Message) (PushReply, error) {
	req, err := p.Request(ctx, m)
	if err != nil {
		return PushReply{}, err
	}
	return p.do(req)
}

// VerifyURL sends the URL check and returns the answer.
func (p *Pusher) VerifyURL(ctx context.Context, echostr string) (PushReply, error) {
	req, err := p.VerifyRequest(ctx, echostr)
	if err != nil {
		return PushReply{}, err
	}
	return p.do(req)
}

func (p *Pusher) do(req *http.Request) (PushReply, error) {
	c := p.Client
	if c == nil {
		c = http.DefaultClient
	}
	res, err := c.Do(req)
	if err != nil {
		return PushReply{}, fmt.Errorf("wechatsim: push to %s: %w", req.URL.Redacted(), err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return PushReply{}, fmt.Errorf("wechatsim: read the push reply: %w", err)
	}
	return PushReply{Status: res.StatusCode, Body: string(b)}, nil
}

// Signature is WeChat's push signature of parts: hex(sha1(the parts sorted
// and concatenated)).
func Signature(parts ...string) string {
	sorted := append([]string(nil), parts...)
	sort.Strings(sorted)
	sum := sha1.Sum([]byte(strings.Join(sorted, "")))
	return hex.EncodeToString(sum[:])
}

// Encrypt is WeChat's Encrypt of msg for appid with encodingAESKey, the
// 16 random bytes drawn from random.
func Encrypt(encodingAESKey, appid string, msg []byte, random io.Reader) (string, error) {
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != 32 {
		return "", errors.New("wechatsim: an EncodingAESKey is 43 base64 characters")
	}
	var plain bytes.Buffer
	if _, err := io.CopyN(&plain, random, 16); err != nil {
		return "", fmt.Errorf("wechatsim: random bytes: %w", err)
	}
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(msg)))
	plain.Write(n[:])
	plain.Write(msg)
	plain.WriteString(appid)
	pad := 32 - plain.Len()%32 // PKCS#7 to the key's 32 bytes
	plain.Write(bytes.Repeat([]byte{byte(pad)}, pad))
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", err
	}
	out := plain.Bytes()
	cipher.NewCBCEncrypter(block, key[:16]).CryptBlocks(out, out)
	return base64.StdEncoding.EncodeToString(out), nil
}

func (p *Pusher) encrypt(msg []byte) (string, error) {
	return Encrypt(p.EncodingAESKey, p.AppID, msg, p.random())
}

// nonce is a decimal number of up to 10 digits, like WeChat's.
func (p *Pusher) nonce() (string, error) {
	n, err := rand.Int(p.random(), big.NewInt(1e10))
	if err != nil {
		return "", fmt.Errorf("wechatsim: nonce: %w", err)
	}
	return n.String(), nil
}

func (p *Pusher) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Pusher) random() io.Reader {
	if p.Random != nil {
		return p.Random
	}
	return rand.Reader
}

func (p *Pusher) userName() string {
	if p.UserName != "" {
		return p.UserName
	}
	id := p.AppID
	if len(id) > 12 {
		id = id[len(id)-12:]
	}
	return "gh_" + id
}

// pushers holds the Pusher of each app whose pushes the simulator
// delivers (SetPusher).
type pushers struct {
	mu sync.Mutex
	m  map[string]*Pusher
}

// SetPusher makes the simulator deliver appid's messages with p: the run
// command registers the API's push URL once it listens, and simulated
// APIs whose answers come by push (mediaCheckAsync's verdict) use it.
func (s *Simulator) SetPusher(appid string, p *Pusher) {
	s.pushers.mu.Lock()
	defer s.pushers.mu.Unlock()
	if s.pushers.m == nil {
		s.pushers.m = map[string]*Pusher{}
	}
	s.pushers.m[appid] = p
}

// Pusher returns appid's Pusher, if SetPusher gave it one.
func (s *Simulator) Pusher(appid string) (*Pusher, bool) {
	s.pushers.mu.Lock()
	defer s.pushers.mu.Unlock()
	p, ok := s.pushers.m[appid]
	return p, ok
}

// pushEvent serves POST /wechatsim/push?appid=…[&user=NAME], the run
// command's way to deliver an event by hand: the body is the message's
// fields as a JSON object (e.g. {"Event":"user_authorization_revoke"});
// user fills the fields naming a user with the openid the simulator gives
// NAME (as dev-NAME logs in), and the message goes to the app's Pusher.
// The answer is {"status":…,"reply":…}: the push URL's.
func (s *Simulator) pushEvent(w http.ResponseWriter, r *http.Request) {
	appid, user := r.URL.Query().Get("appid"), r.URL.Query().Get("user")
	p, ok := s.Pusher(appid)
	if !ok {
		http.Error(w, "no push URL is registered for this appid", http.StatusNotFound)
		return
	}
	var fields map[string]json.RawMessage
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&fields); err != nil {
		http.Error(w, "the body must be a JSON object of the message's fields", http.StatusBadRequest)
		return
	}
	var event string
	_ = json.Unmarshal(fields["Event"], &event)
	m := toMessage(fields, event)
	if m.Get("MsgType") == nil {
		m = append(m, Field{Name: "MsgType", Value: "event"})
	}
	if user != "" {
		openid := OpenID(appid, user)
		if m.Get("FromUserName") == nil {
			m = append(m, Field{Name: "FromUserName", Value: openid})
		}
		if event == "user_authorization_revoke" && m.Get("OpenID") == nil {
			m = append(m, Field{Name: "OpenID", Value: openid}, Field{Name: "AppID", Value: appid})
		}
	}
	reply, err := p.Push(r.Context(), m)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"status": reply.Status, "reply": reply.Body})
}

// toMessage turns decoded JSON members into a Message, keys sorted:
// objects become nested Messages, a List of objects the event's items.
func toMessage(fields map[string]json.RawMessage, eventName string) Message {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	m := Message{}
	for _, k := range names {
		var v any
		_ = json.Unmarshal(fields[k], &v)
		m = append(m, toField(k, v, eventName))
	}
	return m
}

func toField(name string, v any, eventName string) Field {
	switch v := v.(type) {
	case float64:
		return Field{Name: name, Value: int64(v)}
	case map[string]any:
		raw, _ := json.Marshal(v)
		var fields map[string]json.RawMessage
		_ = json.Unmarshal(raw, &fields)
		return Field{Name: name, Value: toMessage(fields, eventName)}
	case []any:
		var items []Message
		for _, it := range v {
			if f := toField(name, it, eventName); f.Value != nil {
				if m, ok := f.Value.(Message); ok {
					items = append(items, m)
				}
			}
		}
		wrapper := "-"
		if w, ok := itemWrappers[eventName]; ok && name == "List" {
			wrapper = w
		}
		return Field{Name: name, Value: items, XMLWrapper: wrapper}
	}
	return Field{Name: name, Value: v}
}
