package domain

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Content security: which user text and images WeChat checks
// (msgSecCheck v2 for text, mediaCheckAsync for images), what its verdicts
// mean here, and the moderation items an administrator reviews.

// Content security codes.
const (
	// CodeContentRisky: WeChat judged a text (or an image) risky; the
	// field errors name each refused field. Nothing was stored.
	CodeContentRisky Code = "content_risky"
	// CodeContentCheckUnavailable: WeChat could not check the text and
	// the deployment refuses unchecked text (ContentRefuse).
	CodeContentCheckUnavailable Code = "content_check_unavailable"
)

// ContentField is a piece of user content content security can check.
// Each is switched on or off by the deployment (MINIBACK_CONTENT_CHECK).
type ContentField string

const (
	FieldNickname   ContentField = "nickname"
	FieldBio        ContentField = "bio"
	FieldTodoTitle  ContentField = "todo_title"
	FieldTodoNotes  ContentField = "todo_notes"
	FieldAvatar     ContentField = "avatar"     // avatar images, after upload
	FieldAttachment ContentField = "attachment" // attachment images, after upload
)

// ContentFields lists every field, in the order they are documented.
var ContentFields = []ContentField{FieldNickname, FieldBio, FieldTodoTitle, FieldTodoNotes, FieldAvatar, FieldAttachment}

// DefaultContentFields are checked when the deployment chooses none: the
// profile's public text and pictures, which other users see. Task text is
// private to its owner, so checking it is the deployment's choice.
var DefaultContentFields = []ContentField{FieldNickname, FieldBio, FieldAvatar}

// Scenes of WeChat's content security (msgSecCheck and mediaCheckAsync v2).
const (
	SceneProfile   = 1 // 资料: nicknames, signatures, avatars
	SceneComment   = 2 // 评论
	SceneForum     = 3 // 论坛
	SceneSocialLog = 4 // 社交日志
)

// Scene is the WeChat scene a field is checked in. Profile fields are
// scene 1. A task's title and notes are the user's own free-form record,
// written for themselves and kept over time, like a diary entry: "social
// log" (4) is the scene for that, where "comment" (2) is a reply to
// someone else's content and "forum" (3) a post written for the public.
func (f ContentField) Scene() int {
	switch f {
	case FieldTodoTitle, FieldTodoNotes, FieldAttachment:
		return SceneSocialLog
	}
	return SceneProfile
}

// Param is the request field a client sends the content in, as field
// errors name it.
func (f ContentField) Param() string {
	switch f {
	case FieldTodoTitle:
		return "title"
	case FieldTodoNotes:
		return "notes"
	case FieldAvatar:
		return "avatar_upload_id"
	case FieldAttachment:
		return "upload_id"
	}
	return string(f)
}

// IsMedia reports whether the field is an image rather than text.
func (f ContentField) IsMedia() bool { return f == FieldAvatar || f == FieldAttachment }

// ParseContentFields reads a comma-separated list of fields. "none" (or
// "off") alone checks nothing; "all" checks every field.
func ParseContentFields(s string) ([]ContentField, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "none", "off":
		return []ContentField{}, nil
	case "all":
		return slices.Clone(ContentFields), nil
	}
	var out []ContentField
	for _, part := range strings.Split(s, ",") {
		f := ContentField(strings.ToLower(strings.TrimSpace(part)))
		if f == "" {
			continue
		}
		if !slices.Contains(ContentFields, f) {
			return nil, fmt.Errorf("unknown content field %q (known: %s, or none, all)", part, joinFields(ContentFields))
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no content field in %q (use none to check nothing)", s)
	}
	return out, nil
}

func joinFields(fs []ContentField) string {
	ss := make([]string, len(fs))
	for i, f := range fs {
		ss[i] = string(f)
	}
	return strings.Join(ss, ", ")
}

// ContentFailurePolicy is what happens to text WeChat could not check
// (WeChat down, busy, over quota, timed out, or refusing the request).
type ContentFailurePolicy string

const (
	// ContentAccept stores the text and flags it for an administrator.
	ContentAccept ContentFailurePolicy = "accept"
	// ContentRefuse refuses the request with CodeContentCheckUnavailable
	// (503); nothing is stored.
	ContentRefuse ContentFailurePolicy = "refuse"
)

// Valid reports whether p is a known policy.
func (p ContentFailurePolicy) Valid() bool { return p == ContentAccept || p == ContentRefuse }

// ContentChecks is the deployment's content security setting.
type ContentChecks struct {
	Fields    []ContentField
	OnFailure ContentFailurePolicy // "" means ContentAccept
}

// Checks reports whether field is checked.
func (c ContentChecks) Checks(f ContentField) bool { return slices.Contains(c.Fields, f) }

// Suggest is WeChat's verdict on content: result.suggest.
type Suggest string

const (
	SuggestPass   Suggest = "pass"
	SuggestReview Suggest = "review"
	SuggestRisky  Suggest = "risky"
)

// Valid reports whether s is one of WeChat's suggestions.
func (s Suggest) Valid() bool { return s == SuggestPass || s == SuggestReview || s == SuggestRisky }

// worse returns the more severe of two suggestions.
func (s Suggest) worse(t Suggest) Suggest {
	rank := map[Suggest]int{SuggestPass: 0, SuggestReview: 1, SuggestRisky: 2}
	if rank[t] > rank[s] {
		return t
	}
	return s
}

// ContentMaxRunes is the most text one msgSecCheck call takes.
const ContentMaxRunes = 2500

// TextCheck is one msgSecCheck v2 request.
type TextCheck struct {
	App     AppID
	OpenID  OpenID
	Scene   int
	Content string // at most ContentMaxRunes
}

// TextVerdict is WeChat's answer to a TextCheck.
type TextVerdict struct {
	Suggest Suggest
	Label   int // e.g. 100 normal, 20001 politics
	TraceID string
}

// MediaCheck is one mediaCheckAsync v2 request for an image.
type MediaCheck struct {
	App    AppID
	OpenID OpenID
	Scene  int
	URL    string // where WeChat downloads the image
}

// SplitContent cuts text into pieces of at most max runes, for a text
// longer than one check takes. Empty text has no pieces.
func SplitContent(s string, max int) []string {
	var out []string
	for s != "" {
		if utf8.RuneCountInString(s) <= max {
			return append(out, s)
		}
		i, n := 0, 0
		for n < max {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
			n++
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	return out
}

// CombineVerdicts merges the verdicts of the pieces of one text: the most
// severe suggestion wins, with its label and trace id.
func CombineVerdicts(vs []TextVerdict) TextVerdict {
	var out TextVerdict
	for i, v := range vs {
		if i == 0 || out.Suggest.worse(v.Suggest) != out.Suggest {
			out = v
		}
	}
	return out
}

// ErrContentRisky refuses the fields WeChat judged risky.
func ErrContentRisky(fields ...ContentField) *Error {
	bad := make([]FieldError, len(fields))
	for i, f := range fields {
		bad[i] = FieldError{Field: f.Param(), Code: string(CodeContentRisky), Message: f.Param() + " was refused by content security"}
	}
	msg := "Content security refused this content; change it and try again."
	if len(fields) == 1 {
		msg = fmt.Sprintf("Content security refused %s; change it and try again.", fields[0].Param())
	}
	return &Error{Code: CodeContentRisky, Message: msg, Fields: bad}
}

// ErrContentCheckUnavailable refuses text WeChat could not check.
func ErrContentCheckUnavailable(cause error) *Error {
	return &Error{Code: CodeContentCheckUnavailable, RetryAfter: 5 * time.Second,
		Message: "Content security could not check this text right now; try again shortly.", Err: cause}
}

// ModerationID identifies a moderation item (a UUID).
type ModerationID string

// ModerationSubject is what a moderation item is about.
type ModerationSubject string

const (
	SubjectProfile ModerationSubject = "profile" // SubjectID is the user's id
	SubjectTodo    ModerationSubject = "todo"
	SubjectUpload  ModerationSubject = "upload"
)

// ModerationStatus is where an item is in an administrator's queue.
type ModerationStatus string

const (
	// ModerationPending: an image check waits for WeChat's verdict.
	ModerationPending ModerationStatus = "pending"
	// ModerationOpen: flagged, waiting for an administrator.
	ModerationOpen ModerationStatus = "open"
	// ModerationCleared: WeChat passed the image; nothing to do.
	ModerationCleared ModerationStatus = "cleared"
	// ModerationApproved and ModerationRemoved: an administrator decided.
	ModerationApproved ModerationStatus = "approved"
	ModerationRemoved  ModerationStatus = "removed"
)

// Valid reports whether s is a known status.
func (s ModerationStatus) Valid() bool {
	switch s {
	case ModerationPending, ModerationOpen, ModerationCleared, ModerationApproved, ModerationRemoved:
		return true
	}
	return false
}

// Verdicts of a moderation item besides WeChat's suggestions.
const (
	VerdictPending   = "pending"   // an image check in progress
	VerdictUnchecked = "unchecked" // no verdict could be had; Reason says why
)

// Reasons an item is unchecked, besides a WeChat failure's problem code.
const (
	ReasonNoWeChatIdentity = "no_wechat_identity" // the author has no openid to check with
	ReasonCheckFailed      = "check_failed"       // WeChat's asynchronous check reported an error
)

// ModerationItem is one piece of content flagged for an administrator, or
// an image check awaiting WeChat's verdict.
type ModerationItem struct {
	ID        ModerationID
	User      UserID // the author
	App       AppID  // whose openid was checked; "" when none
	Subject   ModerationSubject
	SubjectID string // the user, task or upload id
	Field     ContentField
	Content   string // the checked text; "" for an image
	Verdict   string // a Suggest, VerdictPending or VerdictUnchecked
	Label     int
	TraceID   string
	Reason    string
	Status    ModerationStatus
	CreatedAt time.Time
	UpdatedAt time.Time
}

// BlocksUpload reports whether the item's upload must not be served: an
// image WeChat judged risky that no administrator approved, or one an
// administrator removed.
func (m ModerationItem) BlocksUpload() bool {
	if m.Subject != SubjectUpload {
		return false
	}
	switch m.Status {
	case ModerationRemoved:
		return true
	case ModerationApproved:
		return false
	}
	return m.Verdict == string(SuggestRisky)
}

// WithMediaVerdict applies WeChat's asynchronous verdict to a pending
// image check. suggest "" means WeChat reported an error instead of a
// verdict: the image is flagged as unchecked. A verdict for an item that
// already has one changes nothing (changed false): WeChat repeats a push
// it thinks was not received.
func (m ModerationItem) WithMediaVerdict(suggest Suggest, label int, now time.Time) (next ModerationItem, changed bool, err error) {
	if suggest != "" && !suggest.Valid() {
		return m, false, Invalid(FieldError{Field: "suggest", Code: "invalid_value", Message: "suggest must be pass, review or risky"})
	}
	if m.Verdict != VerdictPending {
		return m, false, nil
	}
	status := ModerationOpen
	switch suggest {
	case SuggestPass:
		m.Verdict, status = string(suggest), ModerationCleared
	case SuggestReview, SuggestRisky:
		m.Verdict = string(suggest)
	default: // "": WeChat reported an error
		m.Verdict, m.Reason = VerdictUnchecked, ReasonCheckFailed
	}
	if m.Status == ModerationPending {
		// An administrator who decided before the verdict came keeps
		// the last word.
		m.Status = status
	}
	m.Label, m.UpdatedAt = label, now
	return m, true, nil
}

// ModerationAction is an administrator's decision on an item.
type ModerationAction string

const (
	ActionApprove ModerationAction = "approve"
	ActionRemove  ModerationAction = "remove"
)

// Resolve applies an administrator's decision. Deciding the same way again
// changes nothing; deciding differently replaces the decision.
func (m ModerationItem) Resolve(a ModerationAction, now time.Time) (ModerationItem, error) {
	var to ModerationStatus
	switch a {
	case ActionApprove:
		to = ModerationApproved
	case ActionRemove:
		to = ModerationRemoved
	default:
		return m, Invalid(FieldError{Field: "action", Code: "invalid_value", Message: "action must be approve or remove"})
	}
	if m.Status != to {
		m.Status, m.UpdatedAt = to, now
	}
	return m, nil
}

// ErrModerationItemNotFound: no such moderation item.
func ErrModerationItemNotFound(cause error) *Error {
	return &Error{Code: CodeNotFound, Message: "The moderation item does not exist.", Err: cause}
}

// Page sizes of the moderation list.
const (
	ModerationPageDefault = 20
	ModerationPageMax     = 100
)

// ModerationQuery is an administrator's listing of moderation items,
// newest first.
type ModerationQuery struct {
	Status ModerationStatus // "" means ModerationOpen
	Limit  int              // 1 to ModerationPageMax; 0 means the default
	Cursor string           // as ModerationCursor.Encode wrote it
	After  *ModerationCursor
}

// Normalize applies the defaults and checks every criterion.
func (q ModerationQuery) Normalize() (ModerationQuery, error) {
	var bad []FieldError
	switch {
	case q.Status == "":
		q.Status = ModerationOpen
	case !q.Status.Valid():
		bad = append(bad, FieldError{"query.status", "invalid_value", "status must be pending, open, cleared, approved or removed"})
	}
	switch {
	case q.Limit == 0:
		q.Limit = ModerationPageDefault
	case q.Limit < 1 || q.Limit > ModerationPageMax:
		bad = append(bad, FieldError{"query.limit", "out_of_range", "limit must be between 1 and 100"})
	}
	if q.Cursor != "" {
		after, err := DecodeModerationCursor(q.Cursor)
		if err != nil {
			bad = append(bad, err.(*Error).Fields...)
		}
		q.After = after
	}
	if len(bad) > 0 {
		return ModerationQuery{}, Invalid(bad...)
	}
	return q, nil
}

// ModerationCursor is the last item of a page.
type ModerationCursor struct {
	CreatedAt time.Time
	ID        ModerationID
}

// Encode returns the cursor as an opaque URL-safe string.
func (c ModerationCursor) Encode() string {
	b, _ := json.Marshal(struct {
		T time.Time    `json:"t"`
		I ModerationID `json:"i"`
	}{c.CreatedAt, c.ID}) // a time and a string cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeModerationCursor reads a cursor Encode wrote; anything else is a
// validation error naming the cursor parameter.
func DecodeModerationCursor(s string) (*ModerationCursor, error) {
	bad := Invalid(FieldError{"query.cursor", "invalid", "cursor is not one this server returned"})
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	var c struct {
		T time.Time    `json:"t"`
		I ModerationID `json:"i"`
	}
	if err := json.Unmarshal(b, &c); err != nil || c.T.IsZero() || c.I == "" {
		return nil, bad
	}
	return &ModerationCursor{CreatedAt: c.T, ID: c.I}, nil
}
