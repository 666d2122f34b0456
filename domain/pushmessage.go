package domain

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// PushFormat is the 数据格式 chosen in the console.
type PushFormat string

const (
	PushJSON PushFormat = "json"
	PushXML  PushFormat = "xml"
)

// The push events miniback acts on. Every other event is recorded and
// acknowledged.
const (
	// PushEventAuthorizationRevoke: the user withdrew authorisation
	// (OpenID, AppID, RevokeInfo).
	PushEventAuthorizationRevoke = "user_authorization_revoke"
	// The user's subscription choices: at the popup, in the settings,
	// and the outcome of a send.
	PushEventSubscribePopup  = "subscribe_msg_popup_event"
	PushEventSubscribeChange = "subscribe_msg_change_event"
	PushEventSubscribeSent   = "subscribe_msg_sent_event"
	// PushEventMediaCheck: the verdict of a mediaCheckAsync.
	PushEventMediaCheck = "wxa_media_check"
)

// PushMessage is one pushed message, parsed from WeChat's JSON or XML.
// Parsing is tolerant of what WeChat is known to vary (numbers sent as
// strings and strings as numbers, a List that is an object or an array,
// field names in either case) and strict about size and shape.
type PushMessage struct {
	Format PushFormat
	// Text is the message as WeChat sent it (decrypted, for an encrypted
	// delivery): valid UTF-8 without NUL.
	Text      string
	Encrypted bool // it came encrypted

	ToUserName   string
	FromUserName string // the user for most events; the platform for user_authorization_revoke
	CreateTime   string // Unix seconds, as sent
	MsgType      string
	Event        string
	MsgID        string

	// Encrypt is the ciphertext of an encrypted delivery's envelope.
	Encrypt string

	// user_authorization_revoke.
	OpenID     OpenID
	AppID      AppID
	RevokeInfo string

	// Subscriptions are the items of a subscribe_msg_*_event, in order.
	Subscriptions []SubscriptionItem

	// Media is a wxa_media_check's verdict.
	Media MediaVerdict
}

// SubscriptionItem is one template of a subscribe_msg_*_event.
type SubscriptionItem struct {
	TemplateID string
	// Status is the user's choice (SubscribeStatusString: accept,
	// reject, …) or, for a sent event, ErrorStatus (success, fail…).
	Status     string
	PopupScene string
	MsgID      string // sent events
	ErrorCode  string // sent events
}

// MediaVerdict is what a wxa_media_check says.
type MediaVerdict struct {
	TraceID string
	// Suggest is result.suggest: pass, review or risky; empty when the
	// check itself failed (ErrCode).
	Suggest string
	Label   int
	ErrCode int
}

// CreatedAt returns CreateTime as Unix seconds (0 when absent or not a
// number).
func (m PushMessage) CreatedAt() int64 {
	n, _ := strconv.ParseInt(m.CreateTime, 10, 64)
	return n
}

// User is the OpenID the message is about: OpenID when the message names
// one (user_authorization_revoke), else FromUserName.
func (m PushMessage) User() OpenID {
	if m.OpenID != "" {
		return m.OpenID
	}
	return OpenID(m.FromUserName)
}

// DedupKey identifies the message among WeChat's retries of it (WeChat
// retries a delivery three times when it gets no answer in 5 s): its
// MsgId when it has one; else FromUserName, CreateTime and Event, plus
// what tells apart two events of one second from the same sender —
// OpenID (a revocation's FromUserName is the platform, not the user) and
// trace_id (two media checks may end in one second: WxJava issue 2705).
// It is the hex SHA-256 of those, so its length is fixed.
func (m PushMessage) DedupKey() string {
	var parts []string
	if m.MsgID != "" {
		parts = []string{"msgid", m.MsgID}
	} else {
		parts = []string{"event", m.FromUserName, m.CreateTime, m.Event, string(m.OpenID), m.Media.TraceID}
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])
}

// Limits of a message's shape. WeChat's messages are flat with at most one
// list: a body past these is not one of them, and is refused before it
// costs anything.
const (
	maxPushDepth       = 8
	maxPushXMLElements = 2000
	maxPushItems       = 100
	maxPushFieldBytes  = 1024
)

func errPushBody(why string) *Error {
	return Invalid(FieldError{Field: "body", Code: "invalid_format", Message: "the body is not a WeChat push message: " + why})
}

// ParsePushMessage parses a message, JSON or XML by its first character
// (whatever the Content-Type said). It is linear in the body: XML is read
// token by token with bounded depth and element count, a DOCTYPE (the door
// to entity expansion) is refused, and encoding/xml expands no entity but
// the five predefined ones.
func ParsePushMessage(body []byte) (PushMessage, error) {
	if !utf8.Valid(body) || bytes.IndexByte(body, 0) >= 0 {
		return PushMessage{}, errPushBody("it must be UTF-8 text without NUL")
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n\ufeff")
	var m PushMessage
	var err error
	switch {
	case len(trimmed) == 0:
		return PushMessage{}, errPushBody("it is empty")
	case trimmed[0] == '{':
		m, err = parsePushJSON(body)
	case trimmed[0] == '<':
		m, err = parsePushXML(body)
	default:
		return PushMessage{}, errPushBody("it is neither JSON nor XML")
	}
	if err != nil {
		return PushMessage{}, err
	}
	m.Text = string(body)
	if err := m.checkFields(); err != nil {
		return PushMessage{}, err
	}
	return m, nil
}

// checkFields refuses field values no store can keep (JSON escapes can
// spell NUL) or that are absurdly long.
func (m PushMessage) checkFields() error {
	fields := []string{m.ToUserName, m.FromUserName, m.CreateTime, m.MsgType, m.Event, m.MsgID,
		string(m.OpenID), string(m.AppID), m.RevokeInfo, m.Media.TraceID, m.Media.Suggest}
	for _, it := range m.Subscriptions {
		fields = append(fields, it.TemplateID, it.Status, it.PopupScene, it.MsgID, it.ErrorCode)
	}
	for _, f := range fields {
		if len(f) > maxPushFieldBytes || !utf8.ValidString(f) || strings.IndexByte(f, 0) >= 0 {
			return errPushBody("a field is too long or not text")
		}
	}
	return nil
}

// looseString is a JSON value WeChat sends as a string or as a number
// (CreateTime, MsgId, label, errcode); anything else reads as empty.
type looseString string

func (s *looseString) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = looseString(v)
	case len(b) > 0 && (b[0] == '-' || '0' <= b[0] && b[0] <= '9'):
		*s = looseString(b)
	default:
		*s = ""
	}
	return nil
}

// jsonPushMessage is a JSON message. encoding/json matches member names
// case-insensitively, so "appid" (wxa_media_check) and "AppID"
// (user_authorization_revoke) both land in AppID.
type jsonPushMessage struct {
	ToUserName   looseString
	FromUserName looseString
	CreateTime   looseString
	MsgType      looseString
	Event        looseString
	MsgID        looseString `json:"MsgId"`
	Encrypt      looseString
	OpenID       looseString
	AppID        looseString
	RevokeInfo   looseString
	TraceID      looseString `json:"trace_id"`
	ErrCode      looseString `json:"errcode"`
	IsRisky      looseString `json:"isrisky"` // the media check's version 1
	Result       json.RawMessage
	List         json.RawMessage
}

type jsonPushItem struct {
	TemplateID            looseString `json:"TemplateId"`
	SubscribeStatusString looseString
	PopupScene            looseString
	MsgID                 looseString
	ErrorCode             looseString
	ErrorStatus           looseString
}

func parsePushJSON(body []byte) (PushMessage, error) {
	if err := checkJSONShape(body); err != nil {
		return PushMessage{}, err
	}
	var j jsonPushMessage
	if err := json.Unmarshal(body, &j); err != nil {
		return PushMessage{}, errPushBody("it is not a JSON object")
	}
	m := PushMessage{
		Format: PushJSON, ToUserName: string(j.ToUserName), FromUserName: string(j.FromUserName),
		CreateTime: string(j.CreateTime), MsgType: string(j.MsgType), Event: string(j.Event), MsgID: string(j.MsgID),
		Encrypt: string(j.Encrypt), OpenID: OpenID(j.OpenID), AppID: AppID(j.AppID), RevokeInfo: string(j.RevokeInfo),
		Media: MediaVerdict{TraceID: string(j.TraceID), ErrCode: atoi(string(j.ErrCode))},
	}
	if r := bytes.TrimSpace(j.Result); len(r) > 0 && r[0] == '{' {
		var res struct{ Suggest, Label looseString }
		if err := json.Unmarshal(r, &res); err == nil {
			m.Media.Suggest, m.Media.Label = string(res.Suggest), atoi(string(res.Label))
		}
	}
	m.Media.fromV1(string(j.IsRisky))
	// List is an array, or the one item itself when there is only one.
	var items []jsonPushItem
	switch l := bytes.TrimSpace(j.List); {
	case len(l) > 0 && l[0] == '[':
		// Item by item, so that a list of a million stops at the limit
		// instead of being decoded whole.
		dec := json.NewDecoder(bytes.NewReader(l))
		if _, err := dec.Token(); err != nil {
			return PushMessage{}, errPushBody("List is not a list of items")
		}
		for dec.More() {
			if len(items) == maxPushItems {
				return PushMessage{}, errPushBody("List has too many items")
			}
			var it jsonPushItem
			if err := dec.Decode(&it); err != nil {
				return PushMessage{}, errPushBody("List is not a list of items")
			}
			items = append(items, it)
		}
	case len(l) > 0 && l[0] == '{':
		var it jsonPushItem
		if err := json.Unmarshal(l, &it); err != nil {
			return PushMessage{}, errPushBody("List is not an item")
		}
		items = []jsonPushItem{it}
	}
	for _, it := range items {
		status := it.SubscribeStatusString
		if status == "" {
			status = it.ErrorStatus
		}
		m.Subscriptions = append(m.Subscriptions, SubscriptionItem{
			TemplateID: string(it.TemplateID), Status: string(status), PopupScene: string(it.PopupScene),
			MsgID: string(it.MsgID), ErrorCode: string(it.ErrorCode),
		})
	}
	return m, nil
}

// maxPushJSONSeparators bounds the members and items of a JSON message
// (WeChat's have a few dozen); maxPushDepth bounds its nesting.
const maxPushJSONSeparators = 4 * maxPushXMLElements

// checkJSONShape is one pass over the bytes before encoding/json decodes
// them: it counts the separators (',' and ':') and nesting outside strings
// and refuses a body past the limits, so that a megabyte of members or
// items costs a scan, not a decode of each.
func checkJSONShape(b []byte) error {
	separators, depth := 0, 0
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case ',', ':':
			if separators++; separators > maxPushJSONSeparators {
				return errPushBody("it has too many members or items")
			}
		case '{', '[':
			if depth++; depth > maxPushDepth {
				return errPushBody("it is nested too deeply")
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// fromV1 reads version 1 of the media check (isrisky "0" or "1") when
// there is no version 2 result.
func (v *MediaVerdict) fromV1(isRisky string) {
	if v.Suggest != "" || isRisky == "" {
		return
	}
	switch isRisky {
	case "0":
		v.Suggest = "pass"
	case "1":
		v.Suggest = "risky"
	}
}

// The wrappers of a subscription event's items in XML. The docs show
// SubscribeMsgPopupEvent in a change event's example too, so any of them
// is read whatever the Event.
var xmlItemWrappers = map[string]bool{
	"subscribemsgpopupevent": true, "subscribemsgchangeevent": true, "subscribemsgsentevent": true,
}

// parsePushXML reads <xml><Field>value</Field>…</xml> token by token. Leaf
// elements directly under the root are the message's fields; result's
// children the media verdict's; each List under a subscription wrapper an
// item. Names are matched case-insensitively; unknown elements are
// skipped (counted against the limits all the same).
func parsePushXML(body []byte) (PushMessage, error) {
	if err := checkXMLShape(body); err != nil {
		return PushMessage{}, err
	}
	m := PushMessage{Format: PushXML}
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	// The body was checked to be UTF-8: a declaration may spell it
	// "utf8"; any other encoding is refused.
	d.CharsetReader = func(label string, input io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "utf8") {
			return input, nil
		}
		return nil, errors.New("not UTF-8")
	}
	var path []string // lower-case local names from the root
	var text []byte   // character data of the innermost open element
	elements := 0
	isRisky := ""
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return PushMessage{}, errPushBody("it is not well-formed XML")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			elements++
			if len(path) >= maxPushDepth || elements > maxPushXMLElements {
				return PushMessage{}, errPushBody("it is nested too deeply or has too many elements")
			}
			if len(path) == 0 && elements > 1 {
				return PushMessage{}, errPushBody("it has more than one root element")
			}
			name := strings.ToLower(t.Name.Local)
			path = append(path, name)
			text = text[:0]
			if len(path) == 3 && name == "list" && xmlItemWrappers[path[1]] {
				if len(m.Subscriptions) == maxPushItems {
					return PushMessage{}, errPushBody("List has too many items")
				}
				m.Subscriptions = append(m.Subscriptions, SubscriptionItem{})
			}
		case xml.CharData:
			if len(path) > 0 {
				text = append(text, t...)
			}
		case xml.EndElement:
			m.setXML(path, strings.TrimSpace(string(text)), &isRisky)
			path = path[:len(path)-1]
			text = text[:0]
		case xml.Directive:
			// <!DOCTYPE …> and its kin: no push message has one, and
			// a DTD is how entity-expansion attacks start.
			return PushMessage{}, errPushBody("a DOCTYPE or other declaration is not allowed")
		case xml.ProcInst:
			if t.Target != "xml" || elements > 0 {
				return PushMessage{}, errPushBody("a processing instruction is not allowed")
			}
		}
	}
	if elements == 0 {
		return PushMessage{}, errPushBody("it has no root element")
	}
	m.Media.fromV1(isRisky)
	return m, nil
}

// Limits checkXMLShape holds a body to: the tags of maxPushXMLElements
// elements (a start and an end tag each, an XML declaration), and
// attributes, which no push message has, a few per tag.
const (
	maxPushXMLTags       = 2*maxPushXMLElements + 1
	maxPushXMLTagEquals  = 8
	cdataStart, cdataEnd = "<![CDATA[", "]]>"
)

// checkXMLShape is one pass over the bytes before encoding/xml reads them.
// encoding/xml reads a whole tag, with all its attributes, and a whole
// declaration before it returns them as one token, so the limits the token
// loop keeps come too late for a tag of a megabyte of attributes or a
// DOCTYPE of a megabyte of entities. This pass refuses those first: any
// "<!" but CDATA (DOCTYPE, ENTITY, comments: no push message has them),
// too many tags, or a tag with too many "=". It is a bound on cost, not a
// parser: encoding/xml still decides what is well-formed.
func checkXMLShape(b []byte) error {
	tags := 0
	for i := 0; i < len(b); i++ {
		if b[i] != '<' {
			continue
		}
		rest := b[i:]
		if bytes.HasPrefix(rest, []byte(cdataStart)) {
			end := bytes.Index(rest, []byte(cdataEnd))
			if end < 0 {
				return errPushBody("it is not well-formed XML")
			}
			i += end + len(cdataEnd) - 1
			continue
		}
		if len(rest) > 1 && rest[1] == '!' {
			return errPushBody("a DOCTYPE, declaration or comment is not allowed")
		}
		if tags++; tags > maxPushXMLTags {
			return errPushBody("it is nested too deeply or has too many elements")
		}
		end := bytes.IndexByte(rest, '>')
		if end < 0 {
			return errPushBody("it is not well-formed XML")
		}
		if bytes.Count(rest[:end], []byte("=")) > maxPushXMLTagEquals {
			return errPushBody("a tag has too many attributes")
		}
		i += end
	}
	return nil
}

// setXML stores the value of the element that just closed at path.
func (m *PushMessage) setXML(path []string, v string, isRisky *string) {
	switch len(path) {
	case 2:
		switch path[1] {
		case "tousername":
			m.ToUserName = v
		case "fromusername":
			m.FromUserName = v
		case "createtime":
			m.CreateTime = v
		case "msgtype":
			m.MsgType = v
		case "event":
			m.Event = v
		case "msgid":
			m.MsgID = v
		case "encrypt":
			m.Encrypt = v
		case "openid":
			m.OpenID = OpenID(v)
		case "appid":
			m.AppID = AppID(v)
		case "revokeinfo":
			m.RevokeInfo = v
		case "trace_id":
			m.Media.TraceID = v
		case "errcode":
			m.Media.ErrCode = atoi(v)
		case "isrisky":
			*isRisky = v
		}
	case 3:
		if path[1] == "result" {
			switch path[2] {
			case "suggest":
				m.Media.Suggest = v
			case "label":
				m.Media.Label = atoi(v)
			}
		}
	case 4:
		if path[2] != "list" || !xmlItemWrappers[path[1]] || len(m.Subscriptions) == 0 {
			return
		}
		it := &m.Subscriptions[len(m.Subscriptions)-1]
		switch path[3] {
		case "templateid":
			it.TemplateID = v
		case "subscribestatusstring", "errorstatus":
			if it.Status == "" {
				it.Status = v
			}
		case "popupscene":
			it.PopupScene = v
		case "msgid":
			it.MsgID = v
		case "errorcode":
			it.ErrorCode = v
		}
	}
}

// atoi reads a number WeChat may send as text; anything else is 0.
func atoi(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0
	}
	return n
}
