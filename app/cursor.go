package app

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/miniback/miniback/domain"
)

// CursorSecretMinBytes is the shortest secret a CursorCodec accepts.
const CursorSecretMinBytes = 32

// CursorCodec turns page positions into opaque cursors and back. A cursor
// is base64url(JSON position) "." base64url(HMAC-SHA256). The MAC also
// covers the owner and the list's filters and sort, which the cursor does
// not carry: a cursor only reads back for the same user with the same
// request, so a forged, damaged or re-targeted cursor is refused, never
// misread.
type CursorCodec struct {
	key []byte
}

// NewCursorCodec returns a codec keyed with secret (at least 32 bytes).
func NewCursorCodec(secret []byte) (CursorCodec, error) {
	if len(secret) < CursorSecretMinBytes {
		return CursorCodec{}, errors.New("the cursor secret must be at least 32 bytes")
	}
	return CursorCodec{key: bytes.Clone(secret)}, nil
}

// cursorPayload is what a cursor says, in as few bytes as is readable.
type cursorPayload struct {
	V       int    `json:"v"`
	Sort    string `json:"s"`
	Undated bool   `json:"u,omitempty"`
	DueAt   int64  `json:"d,omitempty"` // µs since the epoch
	Prio    int    `json:"p,omitempty"` // priority rank
	Created int64  `json:"c"`           // µs since the epoch
	ID      string `json:"i"`
}

const cursorVersion = 1

// Encode returns the cursor of position p in the list req of owner.
func (c CursorCodec) Encode(owner domain.UserID, req domain.TodoListRequest, p domain.TodoPosition) string {
	payload := cursorPayload{
		V: cursorVersion, Sort: req.Sort.String(), Undated: p.Undated,
		Created: p.CreatedAt.UnixMicro(), ID: string(p.ID),
	}
	if req.Sort.Field == domain.SortByDueAt && !p.Undated {
		payload.DueAt = p.DueAt.UnixMicro()
	}
	if req.Sort.Field == domain.SortByPriority {
		payload.Prio = p.Priority.Rank()
	}
	data, _ := json.Marshal(payload) // cannot fail: ints, strings and a bool
	return base64.RawURLEncoding.EncodeToString(data) + "." + base64.RawURLEncoding.EncodeToString(c.mac(owner, req, data))
}

// Decode reads back a cursor made by Encode for the same owner and the same
// filters and sort, or answers CodeInvalidCursor.
func (c CursorCodec) Decode(owner domain.UserID, req domain.TodoListRequest, cursor string) (domain.TodoPosition, error) {
	enc, sig, ok := strings.Cut(cursor, ".")
	data, err1 := base64.RawURLEncoding.DecodeString(enc)
	mac, err2 := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err1 != nil || err2 != nil || !hmac.Equal(mac, c.mac(owner, req, data)) {
		return domain.TodoPosition{}, errInvalidCursor()
	}
	var p cursorPayload
	if err := json.Unmarshal(data, &p); err != nil || p.V != cursorVersion || p.Sort != req.Sort.String() {
		return domain.TodoPosition{}, errInvalidCursor()
	}
	if p.ID == "" {
		return domain.TodoPosition{}, errInvalidCursor()
	}
	pos := domain.TodoPosition{Undated: p.Undated, CreatedAt: time.UnixMicro(p.Created).UTC(), ID: domain.TodoID(p.ID)}
	switch req.Sort.Field {
	case domain.SortByDueAt:
		if !p.Undated {
			pos.DueAt = time.UnixMicro(p.DueAt).UTC()
		}
	case domain.SortByPriority:
		if pos.Priority, ok = domain.PriorityOfRank(p.Prio); !ok {
			return domain.TodoPosition{}, errInvalidCursor()
		}
	}
	return pos, nil
}

// mac binds a payload to its owner and to the request's filters and sort.
func (c CursorCodec) mac(owner domain.UserID, req domain.TodoListRequest, payload []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte("miniback todo cursor v1\x00"))
	m.Write([]byte(owner))
	m.Write([]byte{0})
	m.Write(listScope(req))
	m.Write([]byte{0})
	m.Write(payload)
	return m.Sum(nil)
}

// listScope is a canonical form of what a cursor must be used with: the
// sort and every filter (instants of due times, whatever their offsets).
func listScope(req domain.TodoListRequest) []byte {
	f := req.Filter
	scope := struct {
		Sort      string `json:"s"`
		Done      *bool  `json:"d"`
		DueAfter  *int64 `json:"a"`
		DueBefore *int64 `json:"b"`
		Tag       string `json:"t"`
		Text      string `json:"q"`
	}{Sort: req.Sort.String(), Done: f.Done, Tag: f.Tag, Text: f.Text}
	if f.DueAfter != nil {
		us := f.DueAfter.UnixMicro()
		scope.DueAfter = &us
	}
	if f.DueBefore != nil {
		us := f.DueBefore.UnixMicro()
		scope.DueBefore = &us
	}
	data, _ := json.Marshal(scope) // cannot fail
	return data
}

func errInvalidCursor() error {
	return &domain.Error{
		Code:    domain.CodeInvalidCursor,
		Message: "The cursor is invalid, or was made for other filters, another sort or another user; start again from the first page.",
		Fields:  []domain.FieldError{{Field: "cursor", Code: "invalid_cursor", Message: "cursor is not one this list gave out"}},
	}
}
