package domain

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// Page sizes of the admin user list.
const (
	UserPageDefault   = 20
	UserPageMax       = 100
	UserSearchMaxRune = 64
)

// UserQuery is an admin's search of the users: newest first, a page at a
// time. Add a criterion here, check it in Normalize, and give it to the
// store's query.
type UserQuery struct {
	// Search matches part of the nickname, case-insensitively, or a whole
	// user id. Empty matches everyone.
	Search string
	// Role, when set, keeps only users with that role.
	Role Role
	// App, when set, keeps only users with a WeChat identity in that
	// mini-program.
	App AppID
	// Limit is the page size, 1 to UserPageMax; zero means UserPageDefault.
	Limit int
	// Cursor is the encoded cursor a client sent back (UserCursor.Encode);
	// Normalize decodes it into After.
	Cursor string
	// After continues a listing after the last user of a previous page.
	After *UserCursor
}

// Normalize trims the search, applies the default page size, and checks
// every criterion, naming each bad query parameter.
func (q UserQuery) Normalize() (UserQuery, error) {
	var bad []FieldError
	q.Search = strings.TrimSpace(q.Search)
	if utf8.RuneCountInString(q.Search) > UserSearchMaxRune || hasControl(q.Search) {
		bad = append(bad, FieldError{"query.q", "invalid", "q must be at most 64 characters without control characters"})
	}
	if len(q.App) > 64 || hasControl(string(q.App)) {
		bad = append(bad, FieldError{"query.app_id", "invalid", "app_id must be at most 64 characters without control characters"})
	}
	if q.Role != "" && !q.Role.Valid() {
		bad = append(bad, FieldError{"query.role", "invalid_value", "role must be user or admin"})
	}
	switch {
	case q.Limit == 0:
		q.Limit = UserPageDefault
	case q.Limit < 1 || q.Limit > UserPageMax:
		bad = append(bad, FieldError{"query.limit", "out_of_range", "limit must be between 1 and 100"})
	}
	if q.Cursor != "" {
		after, err := DecodeUserCursor(q.Cursor)
		if err != nil {
			bad = append(bad, err.(*Error).Fields...)
		}
		q.After = after
	}
	if len(bad) > 0 {
		return UserQuery{}, Invalid(bad...)
	}
	return q, nil
}

// UserCursor marks a position in the user list: the last user of a page.
// Clients see it only encoded, as an opaque string.
type UserCursor struct {
	CreatedAt time.Time
	ID        UserID
}

type cursorJSON struct {
	T time.Time `json:"t"`
	I UserID    `json:"i"`
}

// Encode returns the cursor as an opaque URL-safe string.
func (c UserCursor) Encode() string {
	// Marshalling a time and a string cannot fail.
	b, _ := json.Marshal(cursorJSON{T: c.CreatedAt, I: c.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeUserCursor reads a cursor made by Encode. Anything else is a
// validation error (*Error) naming the cursor parameter.
func DecodeUserCursor(s string) (*UserCursor, error) {
	bad := Invalid(FieldError{"query.cursor", "invalid", "cursor is not one this server returned"})
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	var c cursorJSON
	if err := json.Unmarshal(b, &c); err != nil || c.T.IsZero() || c.I == "" {
		return nil, bad
	}
	return &UserCursor{CreatedAt: c.T, ID: c.I}, nil
}

// UserPage is one page of a user listing. Next is nil on the last page.
type UserPage struct {
	Users []User
	Next  *UserCursor
}
