package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
)

// written is what a response's Visit method wrote, or its error.
type written struct {
	status int
	header http.Header
	body   string
	failed bool
}

func visitResponse(f func(http.ResponseWriter) error) written {
	rec := httptest.NewRecorder()
	err := f(rec)
	return written{status: rec.Code, header: rec.Header(), body: rec.Body.String(), failed: err != nil}
}

// The answers as the generated strict server wrote them, from the wire
// values the handlers made before they encoded by hand.

func generatedUser(u domain.User, update bool) written {
	user, err := toAPIUser(u)
	if err != nil {
		return written{status: http.StatusOK, header: http.Header{}, failed: true}
	}
	if update {
		return visitResponse(api.UpdateMe200JSONResponse(user).VisitUpdateMeResponse)
	}
	return visitResponse(api.GetMe200JSONResponse(user).VisitGetMeResponse)
}

func generatedTodo(t domain.Todo, update bool) written {
	body, err := toAPITodo(t)
	if err != nil {
		return written{status: http.StatusOK, header: http.Header{}, failed: true}
	}
	tag := etag(t.Version)
	if update {
		return visitResponse(api.UpdateTodo200JSONResponse{Body: body, Headers: api.UpdateTodo200ResponseHeaders{ETag: &tag}}.VisitUpdateTodoResponse)
	}
	return visitResponse(api.GetTodo200JSONResponse{Body: body, Headers: api.GetTodo200ResponseHeaders{ETag: &tag}}.VisitGetTodoResponse)
}

// generatedCreatedTodo is the 201 of POST /v1/todos as CreateTodo made it
// for the generated strict server.
func generatedCreatedTodo(t domain.Todo, replayed bool) written {
	body, err := toAPITodo(t)
	if err != nil {
		return written{status: http.StatusOK, header: http.Header{}, failed: true}
	}
	headers := api.CreateTodo201ResponseHeaders{ETag: ptr(etag(t.Version)), Location: ptr("/v1/todos/" + body.Id.String())}
	if replayed {
		headers.IdempotentReplayed = ptr("true")
	}
	return visitResponse(api.CreateTodo201JSONResponse{Body: body, Headers: headers}.VisitCreateTodoResponse)
}

func generatedTodoPage(page app.TodoPage) written {
	out := api.TodoPage{Items: make([]api.Todo, 0, len(page.Items))}
	for _, t := range page.Items {
		item, err := toAPITodo(t)
		if err != nil {
			return written{status: http.StatusOK, header: http.Header{}, failed: true}
		}
		out.Items = append(out.Items, item)
	}
	if page.NextCursor != "" {
		out.NextCursor.Set(page.NextCursor)
	} else {
		out.NextCursor.SetNull()
	}
	return visitResponse(api.ListTodos200JSONResponse(out).VisitListTodosResponse)
}

// compareEncodings fails when a hand-encoded answer differs from the
// generated one in status, headers, body or failure.
func compareEncodings(t *testing.T, u domain.User, td domain.Todo, page app.TodoPage) {
	t.Helper()
	check := func(what string, got, want written) {
		t.Helper()
		if want.failed {
			// Nothing is written when encoding fails.
			if !got.failed || got.body != "" || len(got.header) != 0 {
				t.Fatalf("%s: the generated encoding fails, the hand encoding wrote %+v", what, got)
			}
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\nhand      %+v\ngenerated %+v", what, got, want)
		}
	}
	check(fmt.Sprintf("GET /v1/me %#v", u), visitResponse((*userResponse)(&u).VisitGetMeResponse), generatedUser(u, false))
	check(fmt.Sprintf("PATCH /v1/me %#v", u), visitResponse((*userResponse)(&u).VisitUpdateMeResponse), generatedUser(u, true))
	if user, err := toAPIUser(u); err == nil {
		check(fmt.Sprintf("POST /v1/me/phone %#v", u), visitResponse((*userResponse)(&u).VisitBindMyPhoneResponse),
			visitResponse(api.BindMyPhone200JSONResponse(user).VisitBindMyPhoneResponse))
		check(fmt.Sprintf("DELETE /v1/me/phone %#v", u), visitResponse((*userResponse)(&u).VisitUnbindMyPhoneResponse),
			visitResponse(api.UnbindMyPhone200JSONResponse(user).VisitUnbindMyPhoneResponse))
	}
	check(fmt.Sprintf("GET /v1/todos/{id} %#v", td), visitResponse((*todoResponse)(&td).VisitGetTodoResponse), generatedTodo(td, false))
	check(fmt.Sprintf("PATCH /v1/todos/{id} %#v", td), visitResponse((*todoResponse)(&td).VisitUpdateTodoResponse), generatedTodo(td, true))
	for _, replayed := range []bool{false, true} {
		check(fmt.Sprintf("POST /v1/todos (replayed %t) %#v", replayed, td),
			visitResponse((&createdTodoResponse{todo: td, replayed: replayed}).VisitCreateTodoResponse), generatedCreatedTodo(td, replayed))
	}
	check(fmt.Sprintf("GET /v1/todos %#v", page), visitResponse((*todoPageResponse)(&page).VisitListTodosResponse), generatedTodoPage(page))
}

// Pieces of hostile text: what JSON escapes, what encoding/json escapes
// for HTML and JavaScript, and invalid UTF-8 of every kind.
var textPieces = []string{
	"a", "Buy milk", " ", "\"", "\\", "/", "<", ">", "&", "'", "\x00", "\x01", "\x08", "\x09", "\x0a", "\x0c", "\x0d", "\x1f", "\x7f",
	"\u2028", "\u2029", "\u2027", "\u202a", "中文", "😀", "\ufffd", "é", "e\u0301",
	"\xff", "\xc0", "\x80", "\xe4\xb8", "\xf0\x9f\x98", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80",
}

func randomText(rng *rand.Rand) string {
	var b strings.Builder
	for range rng.IntN(8) {
		b.WriteString(textPieces[rng.IntN(len(textPieces))])
	}
	return b.String()
}

// randomTime covers every way a time encodes: years past what RFC 3339
// holds (the encoding fails), sub-second digits of each length, offsets of
// each sign, odd minutes and past 24 hours (which fails too).
func randomTime(rng *rand.Rand) time.Time {
	year := []int{-1, 0, 1, 1969, 1970, 2026, 9999, 10000}[rng.IntN(8)]
	t := time.Date(year, time.Month(1+rng.IntN(12)), 1+rng.IntN(31), rng.IntN(24), rng.IntN(60), rng.IntN(60), 0, time.UTC)
	t = t.Add(time.Duration([]int64{0, 1, 10, 120, 1_000, 123_456, 1_000_000, 999_999_999}[rng.IntN(8)]))
	switch rng.IntN(6) {
	case 0:
		return t
	case 1:
		return t.In(time.FixedZone("", 8*3600))
	case 2:
		return t.In(time.FixedZone("X", -(12*3600 + 45*60)))
	case 3:
		return t.In(time.FixedZone("", 14*3600))
	case 4:
		return t.In(time.FixedZone("", 24*3600+60)) // no RFC 3339 offset
	}
	return t.In(time.FixedZone("", 5*3600+45*60+30)) // seconds in the offset
}

func randomID(rng *rand.Rand) string {
	id := uuid.UUID{}
	for i := range id {
		id[i] = byte(rng.Uint32())
	}
	switch rng.IntN(8) {
	case 0:
		return strings.ToUpper(id.String())
	case 1:
		return "urn:uuid:" + id.String()
	case 2:
		return "{" + id.String() + "}"
	case 3:
		return "not a uuid"
	}
	return id.String()
}

func randomUser(rng *rand.Rand) domain.User {
	return domain.User{
		ID: domain.UserID(randomID(rng)), Nickname: randomText(rng), AvatarURL: randomText(rng), Bio: randomText(rng),
		Role: domain.Role(randomText(rng)), CreatedAt: randomTime(rng), UpdatedAt: randomTime(rng),
		Username: domain.Username(randomText(rng)), Email: domain.Email(randomText(rng)), HasPassword: rng.IntN(2) == 0,
		Phone: randomPhone(rng),
	}
}

// randomPhone is nil half the time; its text is hostile like the rest
// (the store only holds digits, the encoders must not rely on it).
func randomPhone(rng *rand.Rand) *domain.UserPhone {
	if rng.IntN(2) == 0 {
		return nil
	}
	return &domain.UserPhone{
		PhoneNumber: domain.PhoneNumber{CountryCode: randomText(rng), PureNumber: randomText(rng), Number: randomText(rng)},
		AppID:       domain.AppID(randomText(rng)), BoundAt: randomTime(rng),
	}
}

func randomTodo(rng *rand.Rand) domain.Todo {
	t := domain.Todo{
		ID: domain.TodoID(randomID(rng)), Title: randomText(rng), Notes: randomText(rng), Priority: domain.Priority(randomText(rng)),
		Done: rng.IntN(2) == 0, CreatedAt: randomTime(rng), UpdatedAt: randomTime(rng), Version: rng.IntN(1 << 20),
	}
	if rng.IntN(2) == 0 {
		due := randomTime(rng)
		t.DueAt = &due
	}
	if rng.IntN(2) == 0 {
		c := randomTime(rng)
		t.CompletedAt = &c
	}
	switch rng.IntN(3) {
	case 0: // nil
	case 1:
		t.Tags = []string{}
	default:
		for range 1 + rng.IntN(3) {
			t.Tags = append(t.Tags, randomText(rng))
		}
	}
	if rng.IntN(2) == 0 {
		lead := rng.IntN(domain.ReminderLeadMax + 1)
		t.ReminderLead = &lead
	}
	if rng.IntN(2) == 0 {
		r := &domain.Reminder{State: domain.ReminderState(randomText(rng)), At: randomTime(rng)}
		if rng.IntN(2) == 0 {
			r.MsgID = randomText(rng)
		}
		if rng.IntN(2) == 0 {
			r.Reason = randomText(rng)
		}
		if rng.IntN(2) == 0 {
			sent := randomTime(rng)
			r.SentAt = &sent
		}
		t.Reminder = r
	}
	return t
}

// TestHandEncodingWritesWhatEncodingJSONWrote compares, over many random
// profiles, tasks and pages, every answer encoded by hand with the one the
// generated strict server wrote with encoding/json: byte for byte, headers
// and status included, and failing where it failed.
func TestHandEncodingWritesWhatEncodingJSONWrote(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20_000 {
		page := app.TodoPage{}
		for range rng.IntN(4) {
			page.Items = append(page.Items, randomTodo(rng))
		}
		if rng.IntN(2) == 0 {
			page.NextCursor = randomText(rng)
		}
		compareEncodings(t, randomUser(rng), randomTodo(rng), page)
	}
}

// TestJSONStringIsEncodingJSONs compares appendJSONString with
// json.Marshal on each piece of hostile text and on their pairs.
func TestJSONStringIsEncodingJSONs(t *testing.T) {
	for _, a := range textPieces {
		for _, b := range append([]string{""}, textPieces...) {
			s := a + b + a
			want, _ := json.Marshal(s)
			if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
				t.Errorf("%q: got %s, want %s", s, got, want)
			}
		}
	}
}

// FuzzJSONString compares appendJSONString with json.Marshal.
func FuzzJSONString(f *testing.F) {
	for _, s := range textPieces {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendJSONString([]byte("x"), s); !bytes.Equal(got[1:], want) {
			t.Fatalf("%q: got %s, want %s", s, got[1:], want)
		}
	})
}

// FuzzHandEncoding compares the hand-encoded answers with the generated
// ones for arbitrary text and times.
func FuzzHandEncoding(f *testing.F) {
	f.Add("Buy milk", "<b>&</b>", "home", "next", int64(1_772_359_200), int64(123_456_789), 8*3600, uint8(0xff))
	f.Add("\u2028\xff", "", "", "", int64(-62_135_596_801), int64(0), -3600, uint8(0))
	f.Fuzz(func(t *testing.T, title, notes, tag, cursor string, sec, nsec int64, offset int, flags uint8) {
		at := time.Unix(sec, nsec).In(time.FixedZone("", offset%(100*3600)))
		td := domain.Todo{ID: "0f8e5a1c-2b7d-4e9f-8a6b-000000000000", Title: title, Notes: notes, Priority: domain.Priority(tag),
			Done: flags&1 != 0, CreatedAt: at, UpdatedAt: at.UTC(), Version: int(sec)}
		if flags&2 != 0 {
			td.DueAt = &at
		}
		if flags&4 != 0 {
			td.CompletedAt = &at
		}
		if flags&8 != 0 {
			td.Tags = []string{tag, title}
		}
		u := domain.User{ID: "3f8e5a1c-2b7d-4e9f-8a6b-1c2d3e4f5a6b", Nickname: title, AvatarURL: notes, Bio: tag, Role: domain.Role(cursor),
			CreatedAt: at, UpdatedAt: at, Username: domain.Username(title), Email: domain.Email(notes), HasPassword: flags&16 != 0}
		if flags&64 != 0 {
			u.Phone = &domain.UserPhone{PhoneNumber: domain.PhoneNumber{CountryCode: tag, PureNumber: title, Number: notes}, BoundAt: at}
		}
		page := app.TodoPage{Items: []domain.Todo{td, td}}
		if flags&32 != 0 {
			page.NextCursor = cursor
		}
		compareEncodings(t, u, td, page)
	})
}

// BenchmarkTodoPageEncoding writes a page of 20 tasks as the generated
// strict server did (encoding/json over the wire values toAPITodo makes)
// and by hand.
func BenchmarkTodoPageEncoding(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	at := time.Date(2026, 3, 1, 9, 30, 15, 123456000, time.UTC)
	page := app.TodoPage{NextCursor: "eyJ2IjoxLCJrIjoiYyJ9.c2lnbmF0dXJl"}
	for i := range 20 {
		t := domain.Todo{ID: domain.TodoID(uuid.New().String()), Title: fmt.Sprintf("Buy milk & bread <%d>", i), Priority: "normal",
			Tags: []string{"home", "errands"}, CreatedAt: at, UpdatedAt: at, Version: 1 + rng.IntN(3)}
		if i%2 == 0 {
			due := at.In(time.FixedZone("", 8*3600))
			t.DueAt, t.Notes = &due, "Two litres.\nAsk for a bag."
		}
		page.Items = append(page.Items, t)
	}
	b.Run("encoding/json, generated", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if w := generatedTodoPage(page); w.failed {
				b.Fatal("failed")
			}
		}
	})
	b.Run("by hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if w := visitResponse((*todoPageResponse)(&page).VisitListTodosResponse); w.failed {
				b.Fatal("failed")
			}
		}
	})
}
