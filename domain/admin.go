package domain

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// Codes of the admin operations.
const (
	// CodeAccountDisabled: an admin disabled the account; every login and
	// refresh is refused until an admin enables it again.
	CodeAccountDisabled Code = "account_disabled"
	// CodeCannotDisableSelf: an admin tried to disable their own account.
	CodeCannotDisableSelf Code = "cannot_disable_self"
	// CodeCannotRevokeOwnAdmin: an admin tried to take their own admin
	// role away (which could leave the deployment without one).
	CodeCannotRevokeOwnAdmin Code = "cannot_revoke_own_admin"
	// CodeLastAdmin: revoking the role would leave the deployment without
	// an admin (possible with a token issued before the actor's own role
	// was revoked).
	CodeLastAdmin Code = "last_admin"
)

// Revoke reasons of the admin operations.
const (
	RevokeEndedByAdmin    RevokeReason = "ended_by_admin"   // an admin ended the session
	RevokeAccountDisabled RevokeReason = "account_disabled" // an admin disabled the account
)

// ErrAccountDisabled is what a login or refresh of a disabled account
// answers.
func ErrAccountDisabled() error {
	return Errorf(CodeAccountDisabled, "This account has been disabled by an administrator.")
}

// Actor is who performs an admin action, and from where: the user and role
// of a verified access token, the client's address and the request's id.
// The zero Actor is an operator's command (the CLI): no user, no address.
type Actor struct {
	User      UserID
	Role      Role
	Address   string
	RequestID string
}

// CanAdminister reports whether the actor may use the admin operations.
func (a Actor) CanAdminister() bool { return a.Role.CanAdminister() }

// Disablement is why and since when an account is disabled.
type Disablement struct {
	At     time.Time
	Reason string
	By     UserID // empty when an operator's command disabled it
}

// DisableReasonMaxRunes bounds the reason an admin gives.
const DisableReasonMaxRunes = 500

// NormalizeDisableReason trims a reason and checks it: 1 to 500
// characters without control characters.
func NormalizeDisableReason(reason string) (string, error) {
	r := strings.TrimSpace(reason)
	switch {
	case r == "":
		return "", Invalid(FieldError{"reason", "required", "reason must not be blank"})
	case utf8.RuneCountInString(r) > DisableReasonMaxRunes:
		return "", Invalid(FieldError{"reason", "too_long", "reason must be at most 500 characters"})
	case hasControl(r):
		return "", Invalid(FieldError{"reason", "invalid_characters", "reason must not contain control characters"})
	}
	return r, nil
}

// WeChatLogin is one of a user's WeChat identities, as an admin sees it:
// never its session_key.
type WeChatLogin struct {
	App         AppID
	OpenID      OpenID
	UnionID     UnionID
	CreatedAt   time.Time
	LastLoginAt time.Time
}

// UserCounts are how many things a user has.
type UserCounts struct {
	Tasks          int64
	Uploads        int64
	ActiveSessions int64
}

// AdminUserView is a user as an admin sees them.
type AdminUserView struct {
	User     User
	WeChat   []WeChatLogin
	Disabled *Disablement // nil while the account is enabled
	Counts   UserCounts
}

// Page sizes of the admin lists other than users.
const (
	AdminPageDefault = 20
	AdminPageMax     = 100
)

// SessionState filters a user's sessions.
type SessionState string

const (
	SessionsAll    SessionState = "all"
	SessionsActive SessionState = "active"
	SessionsEnded  SessionState = "ended"
)

// AdminCursor marks a position in an admin list ordered by (At, ID)
// descending: the last item of a page. Clients see it only encoded.
type AdminCursor struct {
	At time.Time
	ID string
}

type adminCursorJSON struct {
	T time.Time `json:"t"`
	I string    `json:"i"`
}

// Encode returns the cursor as an opaque URL-safe string.
func (c AdminCursor) Encode() string {
	b, _ := json.Marshal(adminCursorJSON{T: c.At, I: c.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeAdminCursor reads a cursor made by Encode; anything else is a
// validation error naming the cursor parameter.
func DecodeAdminCursor(s string) (*AdminCursor, error) {
	bad := Invalid(FieldError{"query.cursor", "invalid", "cursor is not one this server returned"})
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	var c adminCursorJSON
	if err := json.Unmarshal(b, &c); err != nil || c.T.IsZero() || c.I == "" || len(c.I) > 64 {
		return nil, bad
	}
	return &AdminCursor{At: c.T, ID: c.I}, nil
}

// AdminPage is the page size and position of an admin list.
type AdminPage struct {
	// Limit is the page size, 1 to AdminPageMax; zero means
	// AdminPageDefault.
	Limit int
	// Cursor is the encoded cursor a client sent back; Normalize decodes
	// it into After.
	Cursor string
	After  *AdminCursor
}

// Normalize checks the page and decodes its cursor.
func (p AdminPage) Normalize() (AdminPage, []FieldError) {
	var bad []FieldError
	switch {
	case p.Limit == 0:
		p.Limit = AdminPageDefault
	case p.Limit < 1 || p.Limit > AdminPageMax:
		bad = append(bad, FieldError{"query.limit", "out_of_range", "limit must be between 1 and 100"})
	}
	if p.Cursor != "" {
		after, err := DecodeAdminCursor(p.Cursor)
		if err != nil {
			bad = append(bad, err.(*Error).Fields...)
		}
		p.After = after
	}
	return p, bad
}

// SessionQuery is an admin's listing of one user's sessions, newest login
// first.
type SessionQuery struct {
	State SessionState // "" means all
	Page  AdminPage
}

// Normalize checks the query.
func (q SessionQuery) Normalize() (SessionQuery, error) {
	var bad []FieldError
	switch q.State {
	case "":
		q.State = SessionsAll
	case SessionsAll, SessionsActive, SessionsEnded:
	default:
		bad = append(bad, FieldError{"query.state", "invalid_value", "state must be all, active or ended"})
	}
	var more []FieldError
	q.Page, more = q.Page.Normalize()
	bad = append(bad, more...)
	if len(bad) > 0 {
		return SessionQuery{}, Invalid(bad...)
	}
	return q, nil
}

// AuditAction names what an admin did.
type AuditAction string

const (
	AuditUserDisable       AuditAction = "user.disable"
	AuditUserEnable        AuditAction = "user.enable"
	AuditUserSessionEnd    AuditAction = "user.session.end"
	AuditUserSessionsEnd   AuditAction = "user.sessions.end"
	AuditUserAdminGrant    AuditAction = "user.admin.grant"
	AuditUserAdminRevoke   AuditAction = "user.admin.revoke"
	AuditModerationResolve AuditAction = "moderation.resolve"
	AuditJobRetry          AuditAction = "job.retry"
	AuditJobCancel         AuditAction = "job.cancel"
)

// AuditTargetKind is the kind of thing an admin action was done to.
type AuditTargetKind string

const (
	AuditTargetUser       AuditTargetKind = "user"
	AuditTargetSession    AuditTargetKind = "session"
	AuditTargetModeration AuditTargetKind = "moderation_item"
	AuditTargetJob        AuditTargetKind = "job"
)

// Valid reports whether k is a known target kind.
func (k AuditTargetKind) Valid() bool {
	switch k {
	case AuditTargetUser, AuditTargetSession, AuditTargetModeration, AuditTargetJob:
		return true
	}
	return false
}

// AuditEntry is one line of the audit log: who did what to which target,
// when and from where. Details never hold a secret.
type AuditEntry struct {
	ID         string // chosen by the store
	At         time.Time
	Actor      UserID // empty for an operator's command
	Action     AuditAction
	TargetKind AuditTargetKind
	TargetID   string
	Details    map[string]any
	Address    string
	RequestID  string
}

// NewAuditEntry returns the entry of action by actor on a target at at.
func NewAuditEntry(actor Actor, at time.Time, action AuditAction, kind AuditTargetKind, target string, details map[string]any) AuditEntry {
	if details == nil {
		details = map[string]any{}
	}
	return AuditEntry{
		At: at, Actor: actor.User, Action: action, TargetKind: kind, TargetID: target,
		Details: details, Address: actor.Address, RequestID: actor.RequestID,
	}
}

// AuditQuery is an admin's reading of the audit log, newest first. Empty
// filters match everything.
type AuditQuery struct {
	Actor      UserID
	TargetKind AuditTargetKind
	TargetID   string
	Action     AuditAction
	Page       AdminPage
}

// Normalize checks the query.
func (q AuditQuery) Normalize() (AuditQuery, error) {
	var bad []FieldError
	if q.TargetKind != "" && !q.TargetKind.Valid() {
		bad = append(bad, FieldError{"query.target_kind", "invalid_value", "target_kind must be user, session, moderation_item or job"})
	}
	if len(q.TargetID) > 64 || hasControl(q.TargetID) {
		bad = append(bad, FieldError{"query.target_id", "invalid", "target_id must be at most 64 characters"})
	}
	if len(q.Action) > 64 || strings.Trim(string(q.Action), "abcdefghijklmnopqrstuvwxyz_.") != "" {
		bad = append(bad, FieldError{"query.action", "invalid", "action must be at most 64 of a-z, _ and ."})
	}
	var more []FieldError
	q.Page, more = q.Page.Normalize()
	bad = append(bad, more...)
	if len(bad) > 0 {
		return AuditQuery{}, Invalid(bad...)
	}
	return q, nil
}
