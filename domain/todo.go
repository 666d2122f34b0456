package domain

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// TodoID identifies a task. It is a UUID in canonical text form, chosen by
// the store.
type TodoID string

// Priority is how important a task is.
type Priority string

const (
	PriorityLow    Priority = "low"
	PriorityNormal Priority = "normal"
	PriorityHigh   Priority = "high"
)

// priorities lists the priorities from least to most important; a
// priority's index is its rank.
var priorities = []Priority{PriorityLow, PriorityNormal, PriorityHigh}

// Rank orders priorities: low 0, normal 1, high 2; -1 for an unknown one.
func (p Priority) Rank() int { return slices.Index(priorities, p) }

// PriorityOfRank is the priority with rank r.
func PriorityOfRank(r int) (Priority, bool) {
	if r < 0 || r >= len(priorities) {
		return "", false
	}
	return priorities[r], true
}

// Todo is a task as its owner sees it.
type Todo struct {
	ID    TodoID
	Owner UserID
	Title string
	Notes string
	// DueAt is nil when the task has no due time. Its location is the fixed
	// UTC offset the client gave, so it reads back as it was written.
	DueAt    *time.Time
	Priority Priority
	Done     bool
	// CompletedAt is set while Done is true: when the task was marked done.
	CompletedAt *time.Time
	Tags        []string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// Version starts at 1 and increments on every change; it is the
	// task's entity tag for optimistic concurrency.
	Version int
	// ReminderLead is how many minutes before DueAt the owner wants a
	// reminder; nil for none.
	ReminderLead *int
	// Reminder is the reminder's state, the store's (read-only); nil when
	// there is nothing to remind.
	Reminder *Reminder
	// RemindVia is set by the use-case on a write that sets a lead: the
	// route of the reminder (domain.ReminderRoute). Not read back.
	RemindVia *ReminderRoute
}

// Task limits. The spec documents them; these are the truth.
const (
	TitleMaxRunes  = 200
	NotesMaxRunes  = 10_000
	TagsMax        = 20
	TagMaxRunes    = 32
	SearchMaxRunes = 200
	// Due-time offsets: every offset in use on Earth, in 15-minute steps.
	DueOffsetMin  = -12 * 60 * 60
	DueOffsetMax  = 14 * 60 * 60
	DueOffsetStep = 15 * 60
	DueYearMin    = 1900
	DueYearMax    = 9999
)

// TodoFields are a task's editable fields, checked and normalised.
type TodoFields struct {
	Title        string
	Notes        string
	DueAt        *time.Time
	Priority     Priority
	Done         bool
	Tags         []string
	ReminderLead *int
}

// TodoDraft is a new task as a client describes it: raw, unchecked.
type TodoDraft struct {
	Title    string
	Notes    string
	DueAt    string // RFC 3339; "" for none
	Priority string // "" for normal
	Done     bool
	Tags     []string
	// ReminderLead is minutes before DueAt; nil for no reminder.
	ReminderLead *int
}

// Normalize checks the draft against the task rules, returning every broken
// rule at once, and gives the fields in their normal form.
func (d TodoDraft) Normalize() (TodoFields, error) {
	var bad []FieldError
	f := TodoFields{Done: d.Done, Priority: PriorityNormal}
	f.Title, bad = normalizeTitle(d.Title, bad)
	f.Notes, bad = normalizeNotes(d.Notes, bad)
	if d.DueAt != "" {
		due, err := ParseDueTime("due_at", d.DueAt)
		if err != nil {
			bad = append(bad, *err)
		} else {
			f.DueAt = &due
		}
	}
	if d.Priority != "" {
		f.Priority, bad = checkPriority(d.Priority, bad)
	}
	f.Tags, bad = normalizeTags(d.Tags, bad)
	if d.ReminderLead != nil {
		if err := CheckReminderLead(*d.ReminderLead); err != nil {
			bad = append(bad, *err)
		}
		lead := *d.ReminderLead
		f.ReminderLead = &lead
	}
	if len(bad) > 0 {
		return TodoFields{}, Invalid(bad...)
	}
	return f, nil
}

// NewTodo returns the task the fields describe, for owner, as of now. The
// store fills in the id and the timestamps it keeps.
func NewTodo(owner UserID, f TodoFields, now time.Time) Todo {
	t := Todo{
		Owner: owner, Title: f.Title, Notes: f.Notes, DueAt: f.DueAt, Priority: f.Priority,
		Done: f.Done, Tags: f.Tags, Version: 1, ReminderLead: f.ReminderLead,
	}
	if t.Tags == nil {
		t.Tags = []string{}
	}
	if f.Done {
		done := now.UTC()
		t.CompletedAt = &done
	}
	return t
}

// TodoPatch is a merge patch of a task as a client sends it: a nil field
// keeps its value.
type TodoPatch struct {
	Title *string
	// Notes: "" clears them.
	Notes *string
	// DueAt is RFC 3339; ClearDueAt removes the due time instead.
	DueAt      *string
	ClearDueAt bool
	Priority   *string
	Done       *bool
	// Tags replaces the whole list when non-nil; an empty list clears it.
	Tags *[]string
	// ReminderLead sets the reminder's lead in minutes;
	// ClearReminderLead removes the reminder instead.
	ReminderLead      *int
	ClearReminderLead bool
}

// TodoChange is a checked, normalised TodoPatch.
type TodoChange struct {
	Title      *string
	Notes      *string
	DueAt      *time.Time
	ClearDueAt bool
	Priority   *Priority
	Done       *bool
	Tags       *[]string
	// ReminderLead and ClearReminderLead: see TodoPatch.
	ReminderLead      *int
	ClearReminderLead bool
}

// Normalize checks the patch against the task rules, returning every broken
// rule at once.
func (p TodoPatch) Normalize() (TodoChange, error) {
	var bad []FieldError
	var c TodoChange
	if p.Title != nil {
		var t string
		t, bad = normalizeTitle(*p.Title, bad)
		c.Title = &t
	}
	if p.Notes != nil {
		var n string
		n, bad = normalizeNotes(*p.Notes, bad)
		c.Notes = &n
	}
	switch {
	case p.ClearDueAt && p.DueAt != nil:
		bad = append(bad, FieldError{"due_at", "invalid", "due_at cannot be both set and cleared"})
	case p.ClearDueAt:
		c.ClearDueAt = true
	case p.DueAt != nil:
		due, err := ParseDueTime("due_at", *p.DueAt)
		if err != nil {
			bad = append(bad, *err)
		} else {
			c.DueAt = &due
		}
	}
	if p.Priority != nil {
		var pr Priority
		pr, bad = checkPriority(*p.Priority, bad)
		c.Priority = &pr
	}
	c.Done = p.Done
	if p.Tags != nil {
		var tags []string
		tags, bad = normalizeTags(*p.Tags, bad)
		c.Tags = &tags
	}
	switch {
	case p.ClearReminderLead && p.ReminderLead != nil:
		bad = append(bad, FieldError{"reminder_lead_minutes", "invalid", "reminder_lead_minutes cannot be both set and cleared"})
	case p.ClearReminderLead:
		c.ClearReminderLead = true
	case p.ReminderLead != nil:
		if err := CheckReminderLead(*p.ReminderLead); err != nil {
			bad = append(bad, *err)
		}
		lead := *p.ReminderLead
		c.ReminderLead = &lead
	}
	if p.Title == nil && p.Notes == nil && p.DueAt == nil && !p.ClearDueAt && p.Priority == nil && p.Done == nil && p.Tags == nil &&
		p.ReminderLead == nil && !p.ClearReminderLead {
		bad = append(bad, FieldError{"body", "empty_patch", "the patch must set at least one field"})
	}
	if len(bad) > 0 {
		return TodoChange{}, Invalid(bad...)
	}
	return c, nil
}

// Apply returns t with the change made as of now: marking a task done sets
// its completion time, reopening it clears it, and the version moves on.
func (c TodoChange) Apply(t Todo, now time.Time) Todo {
	if c.Title != nil {
		t.Title = *c.Title
	}
	if c.Notes != nil {
		t.Notes = *c.Notes
	}
	if c.ClearDueAt {
		t.DueAt = nil
	} else if c.DueAt != nil {
		due := *c.DueAt
		t.DueAt = &due
	}
	if c.Priority != nil {
		t.Priority = *c.Priority
	}
	if c.Done != nil && *c.Done != t.Done {
		t.Done = *c.Done
		t.CompletedAt = nil
		if t.Done {
			done := now.UTC()
			t.CompletedAt = &done
		}
	}
	if c.Tags != nil {
		t.Tags = slices.Clone(*c.Tags)
	}
	if c.ClearReminderLead {
		t.ReminderLead = nil
	} else if c.ReminderLead != nil {
		lead := *c.ReminderLead
		t.ReminderLead = &lead
	}
	t.Version++
	return t
}

// VersionMatch is the If-Match precondition of a write: the write happens
// only when the task's version is one of Versions, or, with Any, whatever
// it is. A nil *VersionMatch is no precondition.
type VersionMatch struct {
	Any      bool
	Versions []int
}

// Check answers CodePreconditionFailed when version does not satisfy m.
func (m *VersionMatch) Check(version int) error {
	if m == nil || m.Any || slices.Contains(m.Versions, version) {
		return nil
	}
	return Errorf(CodePreconditionFailed, "The task has changed since you read it (it is at version %d); read it again and retry.", version)
}

// ParseDueTime reads an RFC 3339 time with its UTC offset and checks it
// against the due-time rules: an offset in use on Earth (-12:00 to +14:00,
// in 15-minute steps) and a year from 1900 to 9999. The time keeps its
// offset, to microseconds (what the store keeps). field names the input in
// the error.
func ParseDueTime(field, s string) (time.Time, *FieldError) {
	badZone := &FieldError{field, "invalid_time_zone", field + " must have a UTC offset from -12:00 to +14:00 in steps of 15 minutes"}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		// A time that reads with its offset replaced by Z has a bad (or
		// no) offset rather than a bad shape.
		local := strings.TrimRight(s, "Zz")
		if i := strings.LastIndexAny(local, "+-"); i > len("2006-01-02") {
			local = local[:i]
		}
		if _, err := time.Parse(time.RFC3339Nano, local+"Z"); err == nil {
			return time.Time{}, badZone
		}
		return time.Time{}, &FieldError{field, "invalid_format", field + " must be an RFC 3339 date-time with a UTC offset, like 2026-03-01T18:00:00+08:00"}
	}
	_, offset := t.Zone()
	if offset < DueOffsetMin || offset > DueOffsetMax || offset%DueOffsetStep != 0 {
		return time.Time{}, badZone
	}
	if y := t.UTC().Year(); y < DueYearMin || y > DueYearMax {
		return time.Time{}, &FieldError{field, "out_of_range", field + " must be in the years 1900 to 9999"}
	}
	return t.Truncate(time.Microsecond).In(time.FixedZone("", offset)), nil
}

// NormalizeTag puts a tag in its normal form: NFC, trimmed, inner runs of
// white space collapsed to one space, lower case. "" means it is blank.
func NormalizeTag(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(norm.NFC.String(s)), " "))
}

func normalizeTitle(s string, bad []FieldError) (string, []FieldError) {
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		bad = append(bad, FieldError{"title", "required", "title must not be blank"})
	case utf8.RuneCountInString(t) > TitleMaxRunes:
		bad = append(bad, FieldError{"title", "too_long", "title must be at most 200 characters"})
	case hasControl(t):
		bad = append(bad, FieldError{"title", "invalid_characters", "title must not contain control characters"})
	}
	return t, bad
}

func normalizeNotes(s string, bad []FieldError) (string, []FieldError) {
	switch {
	case utf8.RuneCountInString(s) > NotesMaxRunes:
		bad = append(bad, FieldError{"notes", "too_long", "notes must be at most 10000 characters"})
	case !utf8.ValidString(s) || hasControlExceptLayout(s):
		bad = append(bad, FieldError{"notes", "invalid_characters", "notes must not contain control characters other than tab and line breaks"})
	}
	return s, bad
}

func checkPriority(s string, bad []FieldError) (Priority, []FieldError) {
	p := Priority(s)
	if p.Rank() < 0 {
		bad = append(bad, FieldError{"priority", "invalid_value", "priority must be low, normal or high"})
	}
	return p, bad
}

// normalizeTags normalises each tag and merges duplicates, keeping the
// first occurrence's place.
func normalizeTags(in []string, bad []FieldError) ([]string, []FieldError) {
	out := make([]string, 0, len(in))
	for _, raw := range in {
		t := NormalizeTag(raw)
		switch {
		case t == "":
			return nil, append(bad, FieldError{"tags", "required", "a tag must not be blank"})
		case utf8.RuneCountInString(t) > TagMaxRunes:
			return nil, append(bad, FieldError{"tags", "too_long", "each tag must be at most 32 characters"})
		case hasControl(t):
			return nil, append(bad, FieldError{"tags", "invalid_characters", "tags must not contain control characters"})
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) > TagsMax {
		bad = append(bad, FieldError{"tags", "too_many", "a task has at most 20 tags"})
	}
	return out, bad
}

// hasControlExceptLayout reports control characters other than tab, line
// feed and carriage return.
func hasControlExceptLayout(s string) bool {
	for _, r := range s {
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f {
			return true
		}
	}
	return false
}

// Idempotency keys make a create safe to retry.
const (
	// IdempotencyKeyTTL is how long a key is remembered after its first
	// use; after that the same key creates anew.
	IdempotencyKeyTTL      = 24 * time.Hour
	IdempotencyKeyMaxBytes = 255
)

// CheckIdempotencyKey checks a client's key: 1 to 255 ASCII letters,
// digits, '-', '_', '.' or ':'.
func CheckIdempotencyKey(k string) error {
	ok := k != "" && len(k) <= IdempotencyKeyMaxBytes
	for i := 0; ok && i < len(k); i++ {
		c := k[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.:", c) >= 0
	}
	if !ok {
		return Invalid(FieldError{"idempotency_key", "invalid_format", "Idempotency-Key must be 1 to 255 letters, digits, '-', '_', '.' or ':'"})
	}
	return nil
}
