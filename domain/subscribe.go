package domain

// Subscribe messages (订阅消息): the templates a deployment sends, the
// rules WeChat applies to each data value (so that 47003 is never our
// fault), the user's choices, and which send failures are final.

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// SubscribeMessage is one subscribeMessage.send: Data maps the template's
// keys ("thing1", "time2") to their values, already rendered.
type SubscribeMessage struct {
	AppID, OpenID, TemplateID, Page, MiniprogramState, Lang string
	Data                                                    map[string]string
}

// TemplateField maps one key of a template to where its value comes
// from: Key is WeChat's ("thing1", "time2": a type prefix and a number);
// Source names a value of the task ("title", "notes", "due_at",
// "created_at") or, after "=", is literal text ("=Task due").
type TemplateField struct {
	Key, Source string
}

// SubscribeTemplate is one subscribe-message template of an app: what it
// is for (Purpose, e.g. SubscribePurposeReminder), its WeChat template ID,
// the page the message opens (Page may hold "{id}", replaced by the
// task's id), miniprogram_state and lang, and its fields.
type SubscribeTemplate struct {
	AppID, Purpose, ID, Page string
	State, Lang              string
	Fields                   []TemplateField
}

// SubscribePurposeReminder is the purpose of the template that reminds a
// user of a task due soon.
const SubscribePurposeReminder = "reminder"

// The task values a template field can name (TemplateField.Source).
const (
	SubscribeSourceTitle     = "title"
	SubscribeSourceNotes     = "notes"
	SubscribeSourceDueAt     = "due_at"     // RFC 3339
	SubscribeSourceCreatedAt = "created_at" // RFC 3339
)

// subscribeSources are the Source names a template may use.
var subscribeSources = map[string]bool{
	SubscribeSourceTitle: true, SubscribeSourceNotes: true, SubscribeSourceDueAt: true, SubscribeSourceCreatedAt: true,
}

// The miniprogram_state values WeChat accepts (which version of the
// mini-program the message opens) and the languages.
var (
	subscribeStates = map[string]bool{"developer": true, "trial": true, "formal": true}
	subscribeLangs  = map[string]bool{"zh_CN": true, "en_US": true, "zh_HK": true, "zh_TW": true}
)

// MaxSubscribeGrants bounds the one-time grants kept per user and
// template. WeChat lets acceptances of a one-time template accumulate
// (each allows one send); the bound keeps a client that reports
// acceptances in a loop from piling up sends nobody asked for.
const MaxSubscribeGrants = 100

// SubscribeSameAcceptance is how close in time an accept the
// mini-program reports (POST /v1/me/subscriptions) and one WeChat pushes
// (subscribe_msg_popup_event) for the same user and template must be to
// be one acceptance, counted once. Both report the same tap within
// seconds; two taps by the user are two popups, each reported by both,
// and they pair off in order, so they still count twice.
const SubscribeSameAcceptance = 2 * time.Minute

// The user's choices for a template, as wx.requestSubscribeMessage
// returns them and the push events report them (SubscribeStatusString).
const (
	SubscribeAccept = "accept" // one more send allowed
	SubscribeReject = "reject" // refused this time
	SubscribeBan    = "ban"    // the template was banned by WeChat
	SubscribeFilter = "filter" // filtered out (the template's title matches another)
)

// ValidSubscribeResult reports whether s is one of the four choices.
func ValidSubscribeResult(s string) bool {
	switch s {
	case SubscribeAccept, SubscribeReject, SubscribeBan, SubscribeFilter:
		return true
	}
	return false
}

// Subscription is what is left of a user's subscription to one template.
type Subscription struct {
	App        AppID
	TemplateID string
	// Purpose is the configured template's (SubscribeTemplate.Purpose);
	// empty for a template not configured.
	Purpose string
	// Remaining is the number of sends left (one per acceptance not yet
	// spent, at most MaxSubscribeGrants).
	Remaining int
	// Status is the user's last choice (SubscribeAccept…).
	Status    string
	UpdatedAt time.Time
}

// Subscribe-message codes.
const (
	// CodeSubscribeTemplateUnknown: the template id is none of the app's
	// configured templates.
	CodeSubscribeTemplateUnknown Code = "subscribe_template_unknown"
	// The final answers of subscribeMessage.send: a retry cannot succeed.
	CodeSubscribeRefused          Code = "subscribe_refused"          // 43101: the user refused, or no grant is left
	CodeSubscribeDataInvalid      Code = "subscribe_data_invalid"     // 47003: a data value breaks WeChat's rules
	CodeSubscribeOpenIDInvalid    Code = "subscribe_openid_invalid"   // 40003: no such user of this app
	CodeSubscribeTemplateInvalid  Code = "subscribe_template_invalid" // 40037: no such template (or not this app's)
	CodeSubscribePageInvalid      Code = "subscribe_page_invalid"     // 41030: the page does not exist
	CodeSubscribeRejectedByWeChat Code = "subscribe_rejected"         // another errcode that says the request itself is wrong
)

// ErrSubscribeNeedsWeChatSession: the session is no WeChat login of a
// mini-program, so there is no user of a mini-program to subscribe.
func ErrSubscribeNeedsWeChatSession() *Error {
	return Errorf(CodeWeChatLoginRequired,
		"Subscribe messages need a session from a WeChat login (wx.login, then POST /v1/auth/wechat) in the mini-program that asked.")
}

// ErrSubscribeTemplateUnknown: the template id is not configured for the
// caller's app.
func ErrSubscribeTemplateUnknown(id string) *Error {
	return &Error{Code: CodeSubscribeTemplateUnknown,
		Message: "This template id is not configured for this mini-program; GET /v1/me/subscriptions lists those that are.",
		Fields:  []FieldError{{Field: "template_id", Code: "unknown", Message: "template_id is not configured for this app"}}}
}

// IsPermanentSendFailure reports whether a failed send can never succeed
// as it is: the user refused or has no grant left (43101), the data, the
// openid, the template or the page are wrong (47003, 40003, 40037,
// 41030), WeChat refused the request itself, or the app is no longer
// served (unknown_app). Busy (-1), quotas (45011), HTTP 5xx, network
// failures, timeouts, an open breaker, a misconfiguration an operator can
// fix (IP whitelist) and an unexpected reply are not: a later try may
// succeed.
func IsPermanentSendFailure(err error) bool {
	if err == nil {
		return false
	}
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case CodeSubscribeRefused, CodeSubscribeDataInvalid, CodeSubscribeOpenIDInvalid,
		CodeSubscribeTemplateInvalid, CodeSubscribePageInvalid, CodeSubscribeRejectedByWeChat,
		CodeUnknownApp: // the app is no longer served here
		return true
	}
	return false
}

// Validate checks a template's configuration: every field's key has a
// type WeChat knows and its source is a task value or a literal.
func (t SubscribeTemplate) Validate() error {
	var errs []error
	if t.AppID == "" {
		errs = append(errs, errors.New("appid is required"))
	}
	if t.ID == "" || len(t.ID) > 128 {
		errs = append(errs, errors.New("id (the template id) is required, at most 128 bytes"))
	}
	if t.Purpose == "" {
		errs = append(errs, errors.New("purpose is required (e.g. reminder)"))
	}
	if len(t.Page) > 1024 || strings.HasPrefix(t.Page, "/") {
		errs = append(errs, errors.New("page must be a mini-program path without a leading /, at most 1024 bytes"))
	}
	if t.State != "" && !subscribeStates[t.State] {
		errs = append(errs, fmt.Errorf("state %q must be developer, trial or formal", t.State))
	}
	if t.Lang != "" && !subscribeLangs[t.Lang] {
		errs = append(errs, fmt.Errorf("lang %q must be zh_CN, en_US, zh_HK or zh_TW", t.Lang))
	}
	if len(t.Fields) == 0 {
		errs = append(errs, errors.New("fields: at least one is required"))
	}
	seen := map[string]bool{}
	for _, f := range t.Fields {
		if _, ok := fieldKind(f.Key); !ok {
			errs = append(errs, fmt.Errorf("field %q: the key must be a WeChat type and a number (thing1, time2…)", f.Key))
		}
		if seen[f.Key] {
			errs = append(errs, fmt.Errorf("field %q is listed twice", f.Key))
		}
		seen[f.Key] = true
		if !strings.HasPrefix(f.Source, "=") && !subscribeSources[f.Source] {
			errs = append(errs, fmt.Errorf("field %q: source %q must be title, notes, due_at, created_at or =literal text", f.Key, f.Source))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("template %q of %s: %w", t.ID, t.AppID, errors.Join(errs...))
	}
	return nil
}

// SubscribeValues are a task's values by Source name, for Render: its
// title and notes, and its times as RFC 3339 in the due time's own offset
// (the one the client gave: the user's), so that a message shows the
// user's clock; created_at in the same offset (UTC without a due time).
func SubscribeValues(t Todo) map[string]string {
	loc := time.UTC
	v := map[string]string{SubscribeSourceTitle: t.Title, SubscribeSourceNotes: t.Notes}
	if t.DueAt != nil {
		loc = t.DueAt.Location()
		v[SubscribeSourceDueAt] = t.DueAt.Format(time.RFC3339)
	}
	if !t.CreatedAt.IsZero() {
		v[SubscribeSourceCreatedAt] = t.CreatedAt.In(loc).Format(time.RFC3339)
	}
	return v
}

// PageFor is the template's page for the task id.
func (t SubscribeTemplate) PageFor(id string) string { return strings.ReplaceAll(t.Page, "{id}", id) }

// Message is the send of t to openID about the task id with its values
// (see Render).
func (t SubscribeTemplate) Message(openID, id string, values map[string]string) (SubscribeMessage, error) {
	data, err := t.Render(values)
	if err != nil {
		return SubscribeMessage{}, err
	}
	return SubscribeMessage{AppID: t.AppID, OpenID: openID, TemplateID: t.ID, Page: t.PageFor(id),
		MiniprogramState: t.State, Lang: t.Lang, Data: data}, nil
}

// Render makes the message's data from values (by Source name; times as
// RFC 3339): each value is cut or formatted to WeChat's rule for its
// key's type, and an empty one replaced by a placeholder WeChat accepts.
// A time, date, phone_number or car_number that cannot be made valid is
// an error (the configuration maps the key to the wrong value).
func (t SubscribeTemplate) Render(values map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(t.Fields))
	for _, f := range t.Fields {
		kind, ok := fieldKind(f.Key)
		if !ok {
			return nil, fmt.Errorf("template %s: key %q has no WeChat type", t.ID, f.Key)
		}
		v, lit := strings.CutPrefix(f.Source, "=")
		if !lit {
			v = values[f.Source]
		}
		r, err := kind.render(v)
		if err != nil {
			return nil, fmt.Errorf("template %s: %s from %s: %w", t.ID, f.Key, f.Source, err)
		}
		out[f.Key] = r
	}
	return out, nil
}

// A fieldType is one of WeChat's data types, named by the key's prefix.
type fieldType string

const (
	fieldThing      fieldType = "thing"            // ≤ 20 characters
	fieldShortThing fieldType = "short_thing"      // ≤ 5 characters
	fieldName       fieldType = "name"             // ≤ 10 Chinese characters, or ≤ 20 letters
	fieldPhrase     fieldType = "phrase"           // ≤ 5 Chinese characters
	fieldCharString fieldType = "character_string" // ≤ 32 digits, letters and symbols
	fieldNumber     fieldType = "number"           // ≤ 32 digits (a decimal point allowed)
	fieldLetter     fieldType = "letter"           // ≤ 32 letters
	fieldSymbol     fieldType = "symbol"           // ≤ 5 symbols
	fieldTime       fieldType = "time"             // 24-hour time: 2006-01-02 15:04
	fieldDate       fieldType = "date"             // 2006-01-02
	fieldAmount     fieldType = "amount"           // a currency symbol and ≤ 10 digits (a decimal point allowed)
	fieldPhone      fieldType = "phone_number"     // ≤ 17 digits and symbols
	fieldCarNumber  fieldType = "car_number"       // ≤ 8 characters
)

var fieldTypes = map[fieldType]bool{
	fieldThing: true, fieldShortThing: true, fieldName: true, fieldPhrase: true, fieldCharString: true,
	fieldNumber: true, fieldLetter: true, fieldSymbol: true, fieldTime: true, fieldDate: true,
	fieldAmount: true, fieldPhone: true, fieldCarNumber: true,
}

// fieldKind is the type of a key: its prefix before the number
// ("character_string12" → character_string).
func fieldKind(key string) (fieldType, bool) {
	p := strings.TrimRight(key, "0123456789")
	if p == key || len(key)-len(p) > 3 || p == "" {
		return "", false
	}
	return fieldType(p), fieldTypes[fieldType(p)]
}

// SubscribeFieldType returns the WeChat type of a template key ("thing"
// for "thing1") and whether it is one WeChat knows.
func SubscribeFieldType(key string) (string, bool) {
	k, ok := fieldKind(key)
	return string(k), ok
}

// maxTimeInput bounds the text a time or date is parsed from.
const maxTimeInput = 64

// render cuts or formats v to the type's rule. It reads at most as much of
// v as the result needs (plus one pass for times), so a hostile value
// costs no more than a short one.
func (k fieldType) render(v string) (string, error) {
	switch k {
	case fieldThing:
		return orPlaceholder(keep(v, 20, thingRune, true), "无"), nil
	case fieldShortThing:
		return orPlaceholder(keep(v, 5, thingRune, true), "无"), nil
	case fieldName:
		// Up to 20 letters for a Latin name, else up to 10 characters.
		if s := keep(v, 20, thingRune, true); s != "" && latinName(s) {
			return s, nil
		}
		return orPlaceholder(keep(v, 10, thingRune, true), "无"), nil
	case fieldPhrase:
		return orPlaceholder(keep(v, 5, isHan, false), "无"), nil
	case fieldCharString:
		return orPlaceholder(keep(v, 32, isCharStringRune, false), "-"), nil
	case fieldNumber:
		return orPlaceholder(number(v, 32), "0"), nil
	case fieldLetter:
		return orPlaceholder(keep(v, 32, isASCIILetter, false), "N"), nil
	case fieldSymbol:
		return orPlaceholder(keep(v, 5, isASCIISymbol, false), "-"), nil
	case fieldAmount:
		return "¥" + orPlaceholder(number(v, 10), "0"), nil
	case fieldPhone:
		s := keep(v, 17, isPhoneRune, false)
		if s == "" {
			return "", errors.New("no phone number in the value")
		}
		return s, nil
	case fieldCarNumber:
		s := keep(v, 8, isCarRune, false)
		if s == "" {
			return "", errors.New("no car number in the value")
		}
		return s, nil
	case fieldTime, fieldDate:
		if len(v) > maxTimeInput {
			return "", errors.New("the value is not an RFC 3339 time")
		}
		at, err := time.Parse(time.RFC3339, strings.TrimSpace(v))
		if err != nil {
			return "", fmt.Errorf("the value is not an RFC 3339 time: %w", err)
		}
		// In the value's own offset: the user's time, as the client sent it.
		if k == fieldDate {
			return at.Format("2006-01-02"), nil
		}
		return at.Format("2006-01-02 15:04"), nil
	}
	return "", fmt.Errorf("unknown type %q", k)
}

func orPlaceholder(s, p string) string {
	if s == "" {
		return p
	}
	return s
}

// keep returns the first max runes of v that ok accepts, skipping the
// others. With spaces, any run of white space or control characters
// becomes one space and the result is trimmed; without, they are
// skipped. Invalid UTF-8 is skipped. It stops reading v as soon as the
// result is full.
func keep(v string, max int, ok func(rune) bool, spaces bool) string {
	var b strings.Builder
	n, pendingSpace := 0, false
	for _, r := range v {
		if n == max {
			break
		}
		if r == utf8.RuneError {
			continue
		}
		if spaces && (unicode.IsSpace(r) || unicode.IsControl(r)) {
			pendingSpace = n > 0
			continue
		}
		if !ok(r) {
			continue
		}
		if pendingSpace {
			if n+1 == max {
				break // a space would be the last rune: trimmed anyway
			}
			b.WriteByte(' ')
			n++
			pendingSpace = false
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// number keeps the digits of v and its first decimal point, at most max
// digits; a decimal point with no digit after it is dropped.
func number(v string, max int) string {
	var b strings.Builder
	digits, dot := 0, false
	for _, r := range v {
		if digits == max {
			break
		}
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
			digits++
		case r == '.' && !dot && digits > 0:
			b.WriteRune(r)
			dot = true
		}
	}
	return strings.TrimSuffix(b.String(), ".")
}

// thingRune is a character WeChat takes in a thing: Chinese, letters,
// digits, symbols and punctuation. Emoji and other characters outside the
// Basic Multilingual Plane, joiners and variation selectors, control and
// format characters and private-use ones are left out: WeChat answers
// 47003 for some of them.
func thingRune(r rune) bool {
	switch {
	case r > 0xFFFF, r == '\u200d', r >= '\ufe00' && r <= '\ufe0f', r == '\u20e3':
		return false
	case unicode.Is(unicode.So, r) && r >= 0x2190: // arrows, dingbats, pictographs (☀, ✅…)
		return false
	case unicode.IsControl(r), unicode.Is(unicode.Cf, r), unicode.Is(unicode.Co, r), unicode.Is(unicode.Cs, r):
		return false
	}
	return unicode.IsPrint(r)
}

func isHan(r rune) bool            { return unicode.Is(unicode.Han, r) && r <= 0xFFFF }
func isASCIILetter(r rune) bool    { return r < 0x80 && unicode.IsLetter(r) }
func isASCIISymbol(r rune) bool    { return r < 0x80 && (unicode.IsPunct(r) || unicode.IsSymbol(r)) }
func isCharStringRune(r rune) bool { return r > ' ' && r < 0x7f }
func isCarRune(r rune) bool        { return thingRune(r) && !unicode.IsSpace(r) }
func isPhoneRune(r rune) bool      { return (r >= '0' && r <= '9') || r == '+' || r == '-' }

// latinName reports whether s is only ASCII letters and spaces.
func latinName(s string) bool {
	for _, r := range s {
		if r != ' ' && !isASCIILetter(r) {
			return false
		}
	}
	return true
}
