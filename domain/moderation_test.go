package domain_test

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/miniback/miniback/domain"
)

func TestParseContentFields(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []domain.ContentField
		bad  bool
	}{
		{"nickname,bio", []domain.ContentField{domain.FieldNickname, domain.FieldBio}, false},
		{" Nickname , todo_title,nickname ", []domain.ContentField{domain.FieldNickname, domain.FieldTodoTitle}, false},
		{"none", []domain.ContentField{}, false},
		{"OFF", []domain.ContentField{}, false},
		{"all", domain.ContentFields, false},
		{"nickname,avatars", nil, true},
		{",", nil, true},
	} {
		got, err := domain.ParseContentFields(c.in)
		if (err != nil) != c.bad || (!c.bad && !slices.Equal(got, c.want)) {
			t.Errorf("ParseContentFields(%q) = %v, %v; want %v (error %v)", c.in, got, err, c.want, c.bad)
		}
	}
}

func TestContentFieldScenesAndParams(t *testing.T) {
	for _, c := range []struct {
		f     domain.ContentField
		scene int
		param string
	}{
		{domain.FieldNickname, domain.SceneProfile, "nickname"},
		{domain.FieldBio, domain.SceneProfile, "bio"},
		{domain.FieldAvatar, domain.SceneProfile, "avatar_upload_id"},
		{domain.FieldTodoTitle, domain.SceneSocialLog, "title"},
		{domain.FieldTodoNotes, domain.SceneSocialLog, "notes"},
		{domain.FieldAttachment, domain.SceneSocialLog, "upload_id"},
	} {
		if c.f.Scene() != c.scene || c.f.Param() != c.param {
			t.Errorf("%s: scene %d, param %q; want %d, %q", c.f, c.f.Scene(), c.f.Param(), c.scene, c.param)
		}
	}
}

func TestSplitContentKeepsRunesWhole(t *testing.T) {
	for _, c := range []struct {
		in     string
		max    int
		pieces int
	}{
		{"", 3, 0},
		{"abc", 3, 1},
		{"abcd", 3, 2},
		{strings.Repeat("字", 7), 3, 3},
		{strings.Repeat("a", 2*domain.ContentMaxRunes+1), domain.ContentMaxRunes, 3},
	} {
		got := domain.SplitContent(c.in, c.max)
		if len(got) != c.pieces || strings.Join(got, "") != c.in {
			t.Errorf("SplitContent(%d runes, %d): %d pieces, want %d that rejoin", utf8.RuneCountInString(c.in), c.max, len(got), c.pieces)
		}
		for _, p := range got {
			if !utf8.ValidString(p) || utf8.RuneCountInString(p) > c.max {
				t.Errorf("piece %q is not valid or too long", p)
			}
		}
	}
}

func TestCombineVerdictsTakesTheWorst(t *testing.T) {
	pass := domain.TextVerdict{Suggest: domain.SuggestPass, Label: 100, TraceID: "a"}
	review := domain.TextVerdict{Suggest: domain.SuggestReview, Label: 10001, TraceID: "b"}
	risky := domain.TextVerdict{Suggest: domain.SuggestRisky, Label: 20001, TraceID: "c"}
	for _, c := range []struct {
		in   []domain.TextVerdict
		want domain.TextVerdict
	}{
		{[]domain.TextVerdict{pass}, pass},
		{[]domain.TextVerdict{pass, review, pass}, review},
		{[]domain.TextVerdict{review, risky, review}, risky},
		{[]domain.TextVerdict{risky, pass}, risky},
	} {
		if got := domain.CombineVerdicts(c.in); got != c.want {
			t.Errorf("CombineVerdicts(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestErrContentRiskyNamesEachField(t *testing.T) {
	err := domain.ErrContentRisky(domain.FieldNickname, domain.FieldTodoNotes)
	if err.Code != domain.CodeContentRisky || len(err.Fields) != 2 || err.Fields[0].Field != "nickname" ||
		err.Fields[1].Field != "notes" || err.Fields[1].Code != "content_risky" {
		t.Errorf("%+v", err)
	}
}

func TestMediaVerdicts(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	pending := domain.ModerationItem{Subject: domain.SubjectUpload, Verdict: domain.VerdictPending, Status: domain.ModerationPending}
	for _, c := range []struct {
		name        string
		item        domain.ModerationItem
		suggest     domain.Suggest
		wantVerdict string
		wantStatus  domain.ModerationStatus
		wantReason  string
		changed     bool
		blocks      bool
	}{
		{"pass clears", pending, domain.SuggestPass, "pass", domain.ModerationCleared, "", true, false},
		{"review flags", pending, domain.SuggestReview, "review", domain.ModerationOpen, "", true, false},
		{"risky flags and blocks", pending, domain.SuggestRisky, "risky", domain.ModerationOpen, "", true, true},
		{"an error flags unchecked", pending, "", domain.VerdictUnchecked, domain.ModerationOpen, domain.ReasonCheckFailed, true, false},
		{"a second verdict changes nothing", domain.ModerationItem{Subject: domain.SubjectUpload, Verdict: "pass", Status: domain.ModerationCleared},
			domain.SuggestRisky, "pass", domain.ModerationCleared, "", false, false},
		{"an admin's earlier decision stands", domain.ModerationItem{Subject: domain.SubjectUpload, Verdict: domain.VerdictPending, Status: domain.ModerationApproved},
			domain.SuggestRisky, "risky", domain.ModerationApproved, "", true, false},
	} {
		got, changed, err := c.item.WithMediaVerdict(c.suggest, 7, now)
		if err != nil || changed != c.changed || got.Verdict != c.wantVerdict || got.Status != c.wantStatus ||
			got.Reason != c.wantReason || got.BlocksUpload() != c.blocks {
			t.Errorf("%s: %+v changed %v err %v", c.name, got, changed, err)
		}
	}
	if _, _, err := pending.WithMediaVerdict("maybe", 0, now); domain.ErrorCode(err) != domain.CodeInvalid {
		t.Errorf("unknown suggestion: %v", err)
	}
}

func TestResolveDecidesAndUnblocks(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	risky := domain.ModerationItem{Subject: domain.SubjectUpload, Verdict: "risky", Status: domain.ModerationOpen}
	approved, err := risky.Resolve(domain.ActionApprove, now)
	if err != nil || approved.Status != domain.ModerationApproved || approved.BlocksUpload() || !approved.UpdatedAt.Equal(now) {
		t.Errorf("approve: %+v %v", approved, err)
	}
	removed, err := approved.Resolve(domain.ActionRemove, now)
	if err != nil || removed.Status != domain.ModerationRemoved || !removed.BlocksUpload() {
		t.Errorf("remove: %+v %v", removed, err)
	}
	again, _ := removed.Resolve(domain.ActionRemove, now.Add(time.Hour))
	if again != removed {
		t.Errorf("deciding again changed the item: %+v", again)
	}
	text := domain.ModerationItem{Subject: domain.SubjectProfile, Verdict: "review", Status: domain.ModerationOpen}
	if r, _ := text.Resolve(domain.ActionRemove, now); r.BlocksUpload() {
		t.Errorf("a text item blocks an upload")
	}
	if _, err := risky.Resolve("delete", now); domain.ErrorCode(err) != domain.CodeInvalid {
		t.Errorf("unknown action: %v", err)
	}
}

func TestModerationQueryNormalize(t *testing.T) {
	q, err := domain.ModerationQuery{}.Normalize()
	if err != nil || q.Status != domain.ModerationOpen || q.Limit != domain.ModerationPageDefault {
		t.Errorf("defaults: %+v %v", q, err)
	}
	c := domain.ModerationCursor{CreatedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), ID: "0d2c6a4e-3a4b-4c5d-8e9f-0a1b2c3d4e5f"}
	q, err = domain.ModerationQuery{Status: domain.ModerationPending, Limit: 5, Cursor: c.Encode()}.Normalize()
	if err != nil || q.After == nil || *q.After != c {
		t.Errorf("cursor round trip: %+v %v", q, err)
	}
	_, err = domain.ModerationQuery{Status: "nope", Limit: 101, Cursor: "!!"}.Normalize()
	if got := uploadFieldCodes(err); !slices.Equal(got, []string{"query.status:invalid_value", "query.limit:out_of_range", "query.cursor:invalid"}) {
		t.Errorf("bad query: %v", got)
	}
}
