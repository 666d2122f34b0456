package domain

import (
	"strings"
	"time"
	"unicode/utf8"
)

// TodoSortField is the key a task list is sorted on.
type TodoSortField string

const (
	SortByCreatedAt TodoSortField = "created_at"
	SortByDueAt     TodoSortField = "due_at"
	SortByPriority  TodoSortField = "priority"
)

// TodoSort is a list order. Ties break on the creation time (for priority)
// and then on the id, in the same direction, so the order is total. Tasks
// with no due time come last in both due orders.
type TodoSort struct {
	Field TodoSortField
	Desc  bool
}

// DefaultTodoSort is newest first.
var DefaultTodoSort = TodoSort{Field: SortByCreatedAt, Desc: true}

// ParseTodoSort reads "created_at", "-due_at" and the like.
func ParseTodoSort(s string) (TodoSort, bool) {
	desc := strings.HasPrefix(s, "-")
	f := TodoSortField(strings.TrimPrefix(s, "-"))
	switch f {
	case SortByCreatedAt, SortByDueAt, SortByPriority:
		return TodoSort{Field: f, Desc: desc}, true
	}
	return TodoSort{}, false
}

func (s TodoSort) String() string {
	if s.Desc {
		return "-" + string(s.Field)
	}
	return string(s.Field)
}

// TodoPosition is where a page ended: the sort key of its last task. The
// next page starts strictly after it.
type TodoPosition struct {
	// Undated: the task had no due time, so in a due order the walk is in
	// the tail of undated tasks, which are ordered by creation time.
	Undated   bool
	DueAt     time.Time
	Priority  Priority
	CreatedAt time.Time
	ID        TodoID
}

// PositionOf is t's position in the order s.
func (s TodoSort) PositionOf(t Todo) TodoPosition {
	p := TodoPosition{CreatedAt: t.CreatedAt, ID: t.ID}
	switch s.Field {
	case SortByDueAt:
		if t.DueAt == nil {
			p.Undated = true
		} else {
			p.DueAt = *t.DueAt
		}
	case SortByPriority:
		p.Priority = t.Priority
	}
	return p
}

// TodoFilter narrows a task list. Zero fields filter nothing.
type TodoFilter struct {
	Done      *bool
	DueAfter  *time.Time // due at or after; excludes undated tasks
	DueBefore *time.Time // due strictly before; excludes undated tasks
	Tag       string     // normalised
	Text      string     // contained in the title or the notes, ignoring case
}

// Dated reports whether the filter only lets tasks with a due time through.
func (f TodoFilter) Dated() bool { return f.DueAfter != nil || f.DueBefore != nil }

// Page sizes.
const (
	TodoPageDefault = 20
	TodoPageMax     = 100
)

// TodoListParams is a list request as a client sends it: raw, unchecked.
type TodoListParams struct {
	Limit     *int
	Cursor    string
	Sort      string // "" for DefaultTodoSort
	Done      *bool
	DueAfter  string
	DueBefore string
	Tag       *string
	Text      string
}

// TodoListRequest is a checked list request. Cursor is still the client's
// opaque string: reading it is the use-case's job.
type TodoListRequest struct {
	Filter TodoFilter
	Sort   TodoSort
	Limit  int
	Cursor string
}

// Normalize checks a list request, returning every broken rule at once.
// Field errors name the query parameter.
func (p TodoListParams) Normalize() (TodoListRequest, error) {
	var bad []FieldError
	r := TodoListRequest{Sort: DefaultTodoSort, Limit: TodoPageDefault, Cursor: p.Cursor}
	if p.Limit != nil {
		r.Limit = *p.Limit
		if r.Limit < 1 || r.Limit > TodoPageMax {
			bad = append(bad, FieldError{"limit", "out_of_range", "limit must be from 1 to 100"})
		}
	}
	if p.Sort != "" {
		s, ok := ParseTodoSort(p.Sort)
		if !ok {
			bad = append(bad, FieldError{"sort", "invalid_value", "sort must be one of created_at, due_at, priority, each optionally prefixed with -"})
		}
		r.Sort = s
	}
	r.Filter.Done = p.Done
	if p.DueAfter != "" {
		t, err := ParseDueTime("due_after", p.DueAfter)
		if err != nil {
			bad = append(bad, *err)
		} else {
			r.Filter.DueAfter = &t
		}
	}
	if p.DueBefore != "" {
		t, err := ParseDueTime("due_before", p.DueBefore)
		if err != nil {
			bad = append(bad, *err)
		} else {
			r.Filter.DueBefore = &t
		}
	}
	if a, b := r.Filter.DueAfter, r.Filter.DueBefore; a != nil && b != nil && !a.Before(*b) {
		bad = append(bad, FieldError{"due_after", "invalid_range", "due_after must be before due_before"})
	}
	if p.Tag != nil {
		r.Filter.Tag = NormalizeTag(*p.Tag)
		switch {
		case r.Filter.Tag == "":
			bad = append(bad, FieldError{"tag", "required", "tag must not be blank"})
		case utf8.RuneCountInString(r.Filter.Tag) > TagMaxRunes:
			bad = append(bad, FieldError{"tag", "too_long", "tag must be at most 32 characters"})
		}
	}
	// A blank search searches nothing out.
	r.Filter.Text = strings.TrimSpace(p.Text)
	if utf8.RuneCountInString(r.Filter.Text) > SearchMaxRunes {
		bad = append(bad, FieldError{"q", "too_long", "q must be at most 200 characters"})
	}
	if len(p.Cursor) > TodoCursorMaxBytes {
		bad = append(bad, FieldError{"cursor", "too_long", "cursor must be at most 512 characters"})
	}
	if len(bad) > 0 {
		return TodoListRequest{}, Invalid(bad...)
	}
	return r, nil
}

// TodoCursorMaxBytes bounds a page cursor.
const TodoCursorMaxBytes = 512
