package domain_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/domain"
)

// fieldCodes returns err's field errors as field → code.
func fieldCodes(t *testing.T, err error) map[string]string {
	t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.CodeInvalid {
		t.Fatalf("error %v is not a validation error", err)
	}
	m := map[string]string{}
	for _, f := range de.Fields {
		m[f.Field] = f.Code
	}
	return m
}

func TestDraftIsTrimmedAndDefaultsToNormalPriorityAndNoDueTime(t *testing.T) {
	f, err := domain.TodoDraft{Title: "  Buy milk \t", Notes: "  two litres\n"}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	want := domain.TodoFields{Title: "Buy milk", Notes: "  two litres\n", Priority: domain.PriorityNormal, Tags: []string{}}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("got %+v, want %+v", f, want)
	}
}

func TestDraftBreakingTaskRulesListsEveryField(t *testing.T) {
	for _, tc := range []struct {
		name  string
		draft domain.TodoDraft
		want  map[string]string
	}{
		{"blank title", domain.TodoDraft{Title: "   "}, map[string]string{"title": "required"}},
		{"title of 201 characters", domain.TodoDraft{Title: strings.Repeat("界", 201)}, map[string]string{"title": "too_long"}},
		{"title with a newline", domain.TodoDraft{Title: "a\nb"}, map[string]string{"title": "invalid_characters"}},
		{"notes of 10001 characters", domain.TodoDraft{Title: "t", Notes: strings.Repeat("x", 10_001)}, map[string]string{"notes": "too_long"}},
		{"notes with a bell", domain.TodoDraft{Title: "t", Notes: "ding\a"}, map[string]string{"notes": "invalid_characters"}},
		{"unknown priority", domain.TodoDraft{Title: "t", Priority: "urgent"}, map[string]string{"priority": "invalid_value"}},
		{"due time without offset", domain.TodoDraft{Title: "t", DueAt: "2026-03-01T18:00:00"}, map[string]string{"due_at": "invalid_time_zone"}},
		{"due time not a time", domain.TodoDraft{Title: "t", DueAt: "tomorrow"}, map[string]string{"due_at": "invalid_format"}},
		{"blank tag", domain.TodoDraft{Title: "t", Tags: []string{"ok", "  "}}, map[string]string{"tags": "required"}},
		{"tag of 33 characters", domain.TodoDraft{Title: "t", Tags: []string{strings.Repeat("a", 33)}}, map[string]string{"tags": "too_long"}},
		{"21 distinct tags", domain.TodoDraft{Title: "t", Tags: distinctTags(21)}, map[string]string{"tags": "too_many"}},
		{"everything at once", domain.TodoDraft{Title: "", Priority: "x", DueAt: "x"},
			map[string]string{"title": "required", "priority": "invalid_value", "due_at": "invalid_format"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.draft.Normalize()
			if got := fieldCodes(t, err); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("field errors %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDraftAtTheLimitsIsAccepted(t *testing.T) {
	_, err := domain.TodoDraft{
		Title: strings.Repeat("界", 200), Notes: strings.Repeat("x", 10_000),
		Tags: append(distinctTags(19), strings.Repeat("é", 32)), DueAt: "9999-12-31T23:59:59.999999+14:00",
	}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
}

func distinctTags(n int) []string {
	tags := make([]string, n)
	for i := range tags {
		tags[i] = "tag" + strings.Repeat("x", i)
	}
	return tags
}

func TestTagsAreNormalisedAndDuplicatesMerged(t *testing.T) {
	decomposed := "cafe\u0301" // e + combining acute: NFC makes it é
	f, err := domain.TodoDraft{Title: "t", Tags: []string{"  Home  Office ", "home office", "Café", decomposed, "工作"}}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"home office", "café", "工作"}
	if !reflect.DeepEqual(f.Tags, want) {
		t.Errorf("tags %q, want %q", f.Tags, want)
	}
	// 25 spellings of 20 tags are 20 tags.
	tags := append(distinctTags(20), "TAG", "Tagx", " tagxx", "TAGXXX", "tag")
	if f, err := (domain.TodoDraft{Title: "t", Tags: tags}).Normalize(); err != nil || len(f.Tags) != 20 {
		t.Errorf("got %d tags, %v; want 20 merged tags", len(f.Tags), err)
	}
}

func TestDueTimeKeepsItsOffset(t *testing.T) {
	for _, tc := range []struct {
		in, out string
	}{
		{"2026-03-01T18:00:00+08:00", "2026-03-01T18:00:00+08:00"},
		{"2026-03-01T18:00:00.5-09:30", "2026-03-01T18:00:00.5-09:30"},
		{"2026-03-01T18:00:00+05:45", "2026-03-01T18:00:00+05:45"},
		{"2026-03-01T10:00:00Z", "2026-03-01T10:00:00Z"},
		{"2026-03-01T10:00:00+00:00", "2026-03-01T10:00:00Z"},
		{"2026-03-01T10:00:00.123456789+14:00", "2026-03-01T10:00:00.123456+14:00"}, // kept to microseconds
	} {
		due, ferr := domain.ParseDueTime("due_at", tc.in)
		if ferr != nil {
			t.Errorf("%s: %v", tc.in, ferr)
			continue
		}
		if got := due.Format(time.RFC3339Nano); got != tc.out {
			t.Errorf("%s reads back as %s, want %s", tc.in, got, tc.out)
		}
	}
}

func TestDueTimeWithABadOffsetOrYearIsRefused(t *testing.T) {
	for _, tc := range []struct {
		in, code string
	}{
		{"2026-03-01T18:00:00+25:00", "invalid_time_zone"},
		{"2026-03-01T18:00:00+08:61", "invalid_time_zone"},
		{"2026-03-01T18:00:00+14:15", "invalid_time_zone"},
		{"2026-03-01T18:00:00-12:15", "invalid_time_zone"},
		{"2026-03-01T18:00:00+08:07", "invalid_time_zone"},
		{"2026-03-01T18:00:00", "invalid_time_zone"},
		{"2026-02-30T18:00:00Z", "invalid_format"},
		{"2026-03-01 18:00:00Z", "invalid_format"},
		{"2026-03-01", "invalid_format"},
		{"1899-12-31T23:59:59Z", "out_of_range"},
		{"0000-01-01T00:00:00Z", "out_of_range"},
	} {
		_, ferr := domain.ParseDueTime("due_at", tc.in)
		if ferr == nil || ferr.Code != tc.code || ferr.Field != "due_at" {
			t.Errorf("%s: got %+v, want code %s", tc.in, ferr, tc.code)
		}
	}
}

func TestNewTaskDoneFromTheStartIsCompletedNow(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.FixedZone("", 8*3600))
	open := domain.NewTodo("u", domain.TodoFields{Title: "a", Priority: domain.PriorityLow}, now)
	done := domain.NewTodo("u", domain.TodoFields{Title: "b", Priority: domain.PriorityLow, Done: true}, now)
	if open.CompletedAt != nil || open.Version != 1 || open.Tags == nil {
		t.Errorf("open task: %+v", open)
	}
	if done.CompletedAt == nil || !done.CompletedAt.Equal(now) || done.CompletedAt.Location() != time.UTC {
		t.Errorf("done task completed at %v, want %v in UTC", done.CompletedAt, now)
	}
}

func TestPatchApplyMergesAndMovesTheVersionOn(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	due := t0.Add(24 * time.Hour)
	base := domain.Todo{ID: "id", Title: "old", Notes: "n", DueAt: &due, Priority: domain.PriorityNormal, Tags: []string{"a"}, Version: 4}

	c := mustChange(t, domain.TodoPatch{Title: ptr(" new "), Tags: &[]string{"B", "b"}})
	got := c.Apply(base, t0)
	if got.Title != "new" || got.Notes != "n" || got.DueAt != &due || got.Priority != domain.PriorityNormal ||
		!reflect.DeepEqual(got.Tags, []string{"b"}) || got.Version != 5 {
		t.Errorf("merge patch gave %+v", got)
	}

	cleared := mustChange(t, domain.TodoPatch{ClearDueAt: true, Notes: ptr("")}).Apply(base, t0)
	if cleared.DueAt != nil || cleared.Notes != "" {
		t.Errorf("clearing gave due %v notes %q", cleared.DueAt, cleared.Notes)
	}
	if cleared := mustChange(t, domain.TodoPatch{Tags: &[]string{}}).Apply(base, t0); len(cleared.Tags) != 0 || cleared.Tags == nil {
		t.Errorf("empty tags gave %#v", cleared.Tags)
	}
}

func TestMarkingDoneSetsTheCompletionTimeAndReopeningClearsIt(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	task := domain.Todo{Title: "t", Priority: domain.PriorityHigh, Version: 1}

	done := mustChange(t, domain.TodoPatch{Done: ptr(true)}).Apply(task, t0)
	if !done.Done || done.CompletedAt == nil || !done.CompletedAt.Equal(t0) {
		t.Fatalf("marked done: %+v", done)
	}
	// Done again later: still completed when first marked.
	again := mustChange(t, domain.TodoPatch{Done: ptr(true)}).Apply(done, t0.Add(time.Hour))
	if !again.CompletedAt.Equal(t0) || again.Version != 3 {
		t.Errorf("done twice: completed %v, version %d", again.CompletedAt, again.Version)
	}
	reopened := mustChange(t, domain.TodoPatch{Done: ptr(false)}).Apply(again, t0.Add(2*time.Hour))
	if reopened.Done || reopened.CompletedAt != nil {
		t.Errorf("reopened: %+v", reopened)
	}
}

func TestPatchBreakingTaskRulesNamesEachField(t *testing.T) {
	for _, tc := range []struct {
		name  string
		patch domain.TodoPatch
		want  map[string]string
	}{
		{"empty", domain.TodoPatch{}, map[string]string{"body": "empty_patch"}},
		{"blank title", domain.TodoPatch{Title: ptr(" ")}, map[string]string{"title": "required"}},
		{"due set and cleared", domain.TodoPatch{DueAt: ptr("2026-03-01T00:00:00Z"), ClearDueAt: true}, map[string]string{"due_at": "invalid"}},
		{"bad zone", domain.TodoPatch{DueAt: ptr("2026-03-01T00:00:00+15:00")}, map[string]string{"due_at": "invalid_time_zone"}},
		{"bad priority and tags", domain.TodoPatch{Priority: ptr("meh"), Tags: &[]string{""}},
			map[string]string{"priority": "invalid_value", "tags": "required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.patch.Normalize()
			if got := fieldCodes(t, err); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("field errors %v, want %v", got, tc.want)
			}
		})
	}
}

func TestIfMatchHoldsForAListedVersionOrAnyAndForNoPrecondition(t *testing.T) {
	for _, tc := range []struct {
		name    string
		match   *domain.VersionMatch
		version int
		ok      bool
	}{
		{"no precondition", nil, 7, true},
		{"any", &domain.VersionMatch{Any: true}, 7, true},
		{"current", &domain.VersionMatch{Versions: []int{7}}, 7, true},
		{"one of several", &domain.VersionMatch{Versions: []int{3, 7}}, 7, true},
		{"stale", &domain.VersionMatch{Versions: []int{6}}, 7, false},
		{"nothing usable", &domain.VersionMatch{}, 7, false},
	} {
		err := tc.match.Check(tc.version)
		if ok := err == nil; ok != tc.ok || (!ok && domain.ErrorCode(err) != domain.CodePreconditionFailed) {
			t.Errorf("%s: got %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestPriorityRanksOrderByImportance(t *testing.T) {
	for rank, p := range []domain.Priority{domain.PriorityLow, domain.PriorityNormal, domain.PriorityHigh} {
		if p.Rank() != rank {
			t.Errorf("%s has rank %d, want %d", p, p.Rank(), rank)
		}
		if back, ok := domain.PriorityOfRank(rank); !ok || back != p {
			t.Errorf("rank %d is %q", rank, back)
		}
	}
	if _, ok := domain.PriorityOfRank(3); ok {
		t.Error("rank 3 is a priority")
	}
}

func TestIdempotencyKeyIsOneTo255SafeASCIICharacters(t *testing.T) {
	for _, ok := range []string{"a", "3f0c6d8e-6a8b-4a59-9d3c-2f1f8f7e2b10", "order:42.retry_1", strings.Repeat("k", 255)} {
		if err := domain.CheckIdempotencyKey(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "has space", "ключ", "semi;colon", strings.Repeat("k", 256)} {
		if got := fieldCodes(t, domain.CheckIdempotencyKey(bad)); got["idempotency_key"] != "invalid_format" {
			t.Errorf("%q: field errors %v", bad, got)
		}
	}
}

func mustChange(t *testing.T, p domain.TodoPatch) domain.TodoChange {
	t.Helper()
	c, err := p.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ptr[T any](v T) *T { return &v }
