package domain_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/domain"
)

func TestListRequestDefaultsToTwentyNewestFirst(t *testing.T) {
	r, err := domain.TodoListParams{}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	if r.Limit != 20 || r.Sort != (domain.TodoSort{Field: domain.SortByCreatedAt, Desc: true}) || r.Filter != (domain.TodoFilter{}) {
		t.Errorf("defaults: %+v", r)
	}
}

func TestListRequestNormalisesItsFilters(t *testing.T) {
	done := false
	r, err := domain.TodoListParams{
		Limit: ptr(100), Sort: "-priority", Done: &done, Tag: ptr("  Home  Office "), Text: "  milk ",
		DueAfter: "2026-03-01T00:00:00+08:00", DueBefore: "2026-03-02T00:00:00+08:00",
	}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	if r.Limit != 100 || r.Sort.String() != "-priority" || r.Filter.Tag != "home office" || r.Filter.Text != "milk" ||
		r.Filter.Done == nil || *r.Filter.Done || !r.Filter.DueAfter.Equal(time.Date(2026, 2, 28, 16, 0, 0, 0, time.UTC)) ||
		!r.Filter.Dated() {
		t.Errorf("got %+v", r)
	}
}

func TestListRequestBreakingRulesNamesEachParameter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params domain.TodoListParams
		want   map[string]string
	}{
		{"limit 0", domain.TodoListParams{Limit: ptr(0)}, map[string]string{"limit": "out_of_range"}},
		{"limit 101", domain.TodoListParams{Limit: ptr(101)}, map[string]string{"limit": "out_of_range"}},
		{"unknown sort", domain.TodoListParams{Sort: "title"}, map[string]string{"sort": "invalid_value"}},
		{"bad zone", domain.TodoListParams{DueBefore: "2026-03-01T00:00:00+24:00"}, map[string]string{"due_before": "invalid_time_zone"}},
		{"empty range", domain.TodoListParams{DueAfter: "2026-03-02T00:00:00Z", DueBefore: "2026-03-01T00:00:00Z"}, map[string]string{"due_after": "invalid_range"}},
		{"blank tag", domain.TodoListParams{Tag: ptr(" ")}, map[string]string{"tag": "required"}},
		{"long search", domain.TodoListParams{Text: strings.Repeat("q", 201)}, map[string]string{"q": "too_long"}},
		{"long cursor", domain.TodoListParams{Cursor: strings.Repeat("c", 513)}, map[string]string{"cursor": "too_long"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.params.Normalize()
			if got := fieldCodes(t, err); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("field errors %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSortNamesReadBackAndUnknownOnesAreRefused(t *testing.T) {
	for _, s := range []string{"created_at", "-created_at", "due_at", "-due_at", "priority", "-priority"} {
		got, ok := domain.ParseTodoSort(s)
		if !ok || got.String() != s {
			t.Errorf("%s: %+v %v", s, got, ok)
		}
	}
	for _, s := range []string{"", "-", "title", "--due_at", "due_at-"} {
		if _, ok := domain.ParseTodoSort(s); ok {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestPositionHoldsTheSortKeyOfTheTask(t *testing.T) {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	due := created.Add(time.Hour)
	dated := domain.Todo{ID: "a", CreatedAt: created, DueAt: &due, Priority: domain.PriorityHigh}
	undated := domain.Todo{ID: "b", CreatedAt: created, Priority: domain.PriorityLow}
	for _, tc := range []struct {
		sort domain.TodoSort
		task domain.Todo
		want domain.TodoPosition
	}{
		{domain.TodoSort{Field: domain.SortByCreatedAt}, dated, domain.TodoPosition{CreatedAt: created, ID: "a"}},
		{domain.TodoSort{Field: domain.SortByDueAt}, dated, domain.TodoPosition{DueAt: due, CreatedAt: created, ID: "a"}},
		{domain.TodoSort{Field: domain.SortByDueAt, Desc: true}, undated, domain.TodoPosition{Undated: true, CreatedAt: created, ID: "b"}},
		{domain.TodoSort{Field: domain.SortByPriority}, dated, domain.TodoPosition{Priority: domain.PriorityHigh, CreatedAt: created, ID: "a"}},
	} {
		if got := tc.sort.PositionOf(tc.task); got != tc.want {
			t.Errorf("%s of %s: %+v, want %+v", tc.sort, tc.task.ID, got, tc.want)
		}
	}
}
