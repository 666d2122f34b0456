package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
)

// The most frequent answers (a profile, a task, a page of tasks) are
// encoded here by hand rather than by the generated strict server, whose
// Visit methods run encoding/json's reflection over the wire types and a
// fresh buffer for every answer; for a page of tasks that was a sixth of
// the request's CPU. The response types below implement the operations'
// response interfaces and write, from the domain values, exactly the bytes
// json.NewEncoder(w).Encode wrote for the wire value toAPIUser or
// toAPITodo made (encode_test.go compares them over many values), into a
// pooled buffer.

// jsonContentType is shared by every answer, as gin's renderers share
// theirs: a header value is replaced, never modified in place.
var jsonContentType = []string{"application/json"}

// jsonBuffers pools the buffers answers are encoded into.
var jsonBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, 4096)
	return &b
}}

// maxPooledJSON is the largest buffer put back in the pool: a rare large
// answer should not keep its memory for good.
const maxPooledJSON = 64 << 10

// writeJSON answers status with the JSON appendBody writes and a newline
// (as json.Encoder ends each value), with an ETag when etag is not empty.
// Nothing is written when appendBody fails.
func writeJSON(w http.ResponseWriter, status int, etag string, appendBody func([]byte) ([]byte, error)) error {
	return writeJSONWith(w, status, etag, nil, appendBody)
}

// writeJSONWith is writeJSON with more headers: setHeaders, when not nil,
// sets them once the body is encoded, so nothing is set on failure.
func writeJSONWith(w http.ResponseWriter, status int, etag string, setHeaders func(http.Header), appendBody func([]byte) ([]byte, error)) error {
	bp := jsonBuffers.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledJSON {
			jsonBuffers.Put(bp)
		}
	}()
	b, err := appendBody((*bp)[:0])
	if err != nil {
		return err
	}
	b = append(b, '\n')
	*bp = b
	h := w.Header()
	h["Content-Type"] = jsonContentType
	if etag != "" {
		h.Set("ETag", etag)
	}
	if setHeaders != nil {
		setHeaders(h)
	}
	w.WriteHeader(status)
	_, err = w.Write(b)
	return err
}

// userResponse is a 200 with the caller's profile (api.User).
type userResponse domain.User

func (r *userResponse) VisitGetMeResponse(w http.ResponseWriter) error    { return r.write(w) }
func (r *userResponse) VisitUpdateMeResponse(w http.ResponseWriter) error { return r.write(w) }

func (r *userResponse) write(w http.ResponseWriter) error {
	return writeJSON(w, http.StatusOK, "", func(b []byte) ([]byte, error) { return appendUser(b, (*domain.User)(r)) })
}

// todoResponse is a 200 with a task (api.Todo) and its ETag.
type todoResponse domain.Todo

func (r *todoResponse) VisitGetTodoResponse(w http.ResponseWriter) error    { return r.write(w) }
func (r *todoResponse) VisitUpdateTodoResponse(w http.ResponseWriter) error { return r.write(w) }

func (r *todoResponse) write(w http.ResponseWriter) error {
	return writeJSON(w, http.StatusOK, etag(r.Version), func(b []byte) ([]byte, error) { return appendTodo(b, (*domain.Todo)(r)) })
}

// createdTodoResponse is a 201 with the created task (api.Todo), its
// ETag, its Location, and Idempotent-Replayed: true when the task is an
// earlier request's, replayed for its idempotency key.
type createdTodoResponse struct {
	todo     domain.Todo
	replayed bool
}

// replayedValue is the shared value of Idempotent-Replayed (a header value
// is replaced, never modified in place).
var replayedValue = []string{"true"}

func (r *createdTodoResponse) VisitCreateTodoResponse(w http.ResponseWriter) error {
	var id uuid.UUID // set by appendTodo, which parses the id first
	return writeJSONWith(w, http.StatusCreated, etag(r.todo.Version), func(h http.Header) {
		var loc [len("/v1/todos/") + 36]byte
		h["Location"] = []string{string(appendUUID(append(loc[:0], "/v1/todos/"...), id))}
		if r.replayed {
			h["Idempotent-Replayed"] = replayedValue
		}
	}, func(b []byte) ([]byte, error) {
		var err error
		if id, err = uuid.Parse(string(r.todo.ID)); err != nil {
			return b, fmt.Errorf("todo id %q is not a UUID: %w", r.todo.ID, err)
		}
		return appendTodo(b, &r.todo)
	})
}

// todoPageResponse is a 200 with a page of tasks (api.TodoPage).
type todoPageResponse app.TodoPage

func (r *todoPageResponse) VisitListTodosResponse(w http.ResponseWriter) error {
	return writeJSON(w, http.StatusOK, "", func(b []byte) ([]byte, error) {
		b = append(b, `{"items":[`...)
		for i := range r.Items {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendTodo(b, &r.Items[i]); err != nil {
				return b, err
			}
		}
		b = append(b, `],"next_cursor":`...)
		if r.NextCursor == "" {
			b = append(b, "null"...)
		} else {
			b = appendJSONString(b, r.NextCursor)
		}
		return append(b, '}'), nil
	})
}

// appendUser appends u as toAPIUser maps it to api.User.
func appendUser(b []byte, u *domain.User) ([]byte, error) {
	id, err := uuid.Parse(string(u.ID))
	if err != nil {
		return b, fmt.Errorf("user id %q is not a UUID: %w", u.ID, err)
	}
	b = append(b, `{"avatar_url":`...)
	b = appendJSONString(b, u.AvatarURL)
	b = append(b, `,"bio":`...)
	b = appendJSONString(b, u.Bio)
	b = append(b, `,"created_at":`...)
	if b, err = appendJSONTime(b, u.CreatedAt); err != nil {
		return b, err
	}
	if u.HasPassword { // the login names, never the hash
		b = append(b, `,"email":`...)
		b = appendJSONString(b, string(u.Email))
	}
	b = append(b, `,"has_password":`...)
	b = strconv.AppendBool(b, u.HasPassword)
	b = append(b, `,"id":`...)
	b = appendJSONUUID(b, id)
	b = append(b, `,"nickname":`...)
	b = appendJSONString(b, u.Nickname)
	if u.Phone != nil {
		b = append(b, `,"phone":`...)
		if b, err = appendPhone(b, u.Phone); err != nil {
			return b, err
		}
	}
	b = append(b, `,"role":`...)
	b = appendJSONString(b, string(u.Role))
	b = append(b, `,"updated_at":`...)
	if b, err = appendJSONTime(b, u.UpdatedAt); err != nil {
		return b, err
	}
	if u.HasPassword {
		b = append(b, `,"username":`...)
		b = appendJSONString(b, string(u.Username))
	}
	return append(b, '}'), nil
}

// appendTodo appends t as toAPITodo maps it to api.Todo: the due time in
// the offset it was given, the other times in UTC as stored.
func appendTodo(b []byte, t *domain.Todo) ([]byte, error) {
	id, err := uuid.Parse(string(t.ID))
	if err != nil {
		return b, fmt.Errorf("todo id %q is not a UUID: %w", t.ID, err)
	}
	b = append(b, `{"completed_at":`...)
	if t.CompletedAt == nil {
		b = append(b, "null"...)
	} else if b, err = appendJSONTime(b, *t.CompletedAt); err != nil {
		return b, err
	}
	b = append(b, `,"created_at":`...)
	if b, err = appendJSONTime(b, t.CreatedAt); err != nil {
		return b, err
	}
	b = append(b, `,"done":`...)
	b = strconv.AppendBool(b, t.Done)
	b = append(b, `,"due_at":`...)
	if t.DueAt == nil {
		b = append(b, "null"...)
	} else {
		// A string in the wire type, formatted without the strict
		// check of a time's own encoding; its characters need no escape.
		b = append(b, '"')
		b = t.DueAt.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	b = append(b, `,"id":`...)
	b = appendJSONUUID(b, id)
	b = append(b, `,"notes":`...)
	b = appendJSONString(b, t.Notes)
	b = append(b, `,"priority":`...)
	b = appendJSONString(b, string(t.Priority))
	if r := t.Reminder; r != nil {
		if b, err = appendReminder(b, r); err != nil {
			return b, err
		}
	}
	if t.ReminderLead != nil {
		b = append(b, `,"reminder_lead_minutes":`...)
		b = strconv.AppendInt(b, int64(*t.ReminderLead), 10)
	}
	b = append(b, `,"tags":[`...)
	for i, tag := range t.Tags {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, tag)
	}
	b = append(b, `],"title":`...)
	b = appendJSONString(b, t.Title)
	b = append(b, `,"updated_at":`...)
	if b, err = appendJSONTime(b, t.UpdatedAt); err != nil {
		return b, err
	}
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, int64(t.Version), 10)
	return append(b, '}'), nil
}

// appendReminder appends a task's reminder member, as api.Reminder
// encodes it (members in its field order, empty ones left out).
func appendReminder(b []byte, r *domain.Reminder) ([]byte, error) {
	var err error
	b = append(b, `,"reminder":{`...)
	if r.MsgID != "" {
		b = append(b, `"msgid":`...)
		b = appendJSONString(b, r.MsgID)
		b = append(b, ',')
	}
	if r.Reason != "" {
		b = append(b, `"reason":`...)
		b = appendJSONString(b, r.Reason)
		b = append(b, ',')
	}
	b = append(b, `"remind_at":`...)
	if b, err = appendJSONTime(b, r.At); err != nil {
		return b, err
	}
	if r.SentAt != nil {
		b = append(b, `,"sent_at":`...)
		if b, err = appendJSONTime(b, *r.SentAt); err != nil {
			return b, err
		}
	}
	b = append(b, `,"state":`...)
	b = appendJSONString(b, string(r.State))
	return append(b, '}'), nil
}

// appendJSONTime appends t as time.Time's MarshalJSON writes it, failing
// where it fails: a year outside 0 to 9999, an offset of 24 hours or more.
func appendJSONTime(b []byte, t time.Time) ([]byte, error) {
	b = append(b, '"')
	out, err := t.AppendText(b) // MarshalJSON's text, and its checks
	if err != nil {
		return b, fmt.Errorf("encode time: %w", err)
	}
	return append(out, '"'), nil
}

// appendJSONUUID appends id as its MarshalText writes it, quoted.
func appendJSONUUID(b []byte, id uuid.UUID) []byte {
	b = append(b, '"')
	return append(appendUUID(b, id), '"')
}

// appendUUID appends id as its String method writes it.
func appendUUID(b []byte, id uuid.UUID) []byte {
	const digits = "0123456789abcdef"
	for i, c := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, digits[c>>4], digits[c&0xF])
	}
	return b
}

// appendJSONString appends s as a JSON string exactly as encoding/json
// writes it by default (HTML escaping on): ", \ and the control
// characters escaped, the short forms for \b \f \n \r \t; <, > and & as
// \u003c, \u003e, \u0026; U+2028 and U+2029 escaped; each byte of
// invalid UTF-8 as \ufffd.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
