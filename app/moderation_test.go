package app_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
)

// fakeChecker answers text checks by marker ("risky", "review") and
// records each call; err, when set, is every call's failure.
type fakeChecker struct {
	texts  []domain.TextCheck
	media  []domain.MediaCheck
	err    error
	traces int
}

func (f *fakeChecker) CheckText(_ context.Context, c domain.TextCheck) (domain.TextVerdict, error) {
	f.texts = append(f.texts, c)
	if f.err != nil {
		return domain.TextVerdict{}, f.err
	}
	switch {
	case strings.Contains(c.Content, "risky"):
		return domain.TextVerdict{Suggest: domain.SuggestRisky, Label: 20001, TraceID: "t-risky"}, nil
	case strings.Contains(c.Content, "review"):
		return domain.TextVerdict{Suggest: domain.SuggestReview, Label: 10001, TraceID: "t-review"}, nil
	}
	return domain.TextVerdict{Suggest: domain.SuggestPass, Label: 100, TraceID: "t-pass"}, nil
}

func (f *fakeChecker) CheckMedia(_ context.Context, c domain.MediaCheck) (string, error) {
	f.media = append(f.media, c)
	if f.err != nil {
		return "", f.err
	}
	f.traces++
	return "trace-1", nil
}

// fakeModeration is an in-memory ModerationStore; a call it was not set up
// for panics (openid nil).
type fakeModeration struct {
	openid  func(ctx context.Context, user domain.UserID, app domain.AppID) (domain.AppID, domain.OpenID, bool, error)
	flags   []domain.ModerationItem
	checks  []domain.ModerationItem
	blocked map[string]bool
}

func (f *fakeModeration) WeChatOpenID(ctx context.Context, user domain.UserID, app domain.AppID) (domain.AppID, domain.OpenID, bool, error) {
	return f.openid(ctx, user, app)
}
func (f *fakeModeration) Flag(_ context.Context, it domain.ModerationItem) error {
	f.flags = append(f.flags, it)
	return nil
}
func (f *fakeModeration) AddMediaCheck(_ context.Context, it domain.ModerationItem) error {
	f.checks = append(f.checks, it)
	return nil
}
func (f *fakeModeration) UpdateMediaCheck(_ context.Context, app domain.AppID, trace string, fn func(domain.ModerationItem) (domain.ModerationItem, error)) (domain.ModerationItem, error) {
	for i, c := range f.checks {
		if c.App == app && c.TraceID == trace {
			next, err := fn(c)
			if err != nil {
				return domain.ModerationItem{}, err
			}
			f.checks[i] = next
			if f.blocked == nil {
				f.blocked = map[string]bool{}
			}
			f.blocked[next.SubjectID] = next.BlocksUpload()
			return next, nil
		}
	}
	return domain.ModerationItem{}, &domain.Error{Code: domain.CodeNotFound}
}
func (f *fakeModeration) UpdateModerationItem(context.Context, domain.ModerationID, func(domain.ModerationItem) (domain.ModerationItem, error)) (domain.ModerationItem, error) {
	panic("unexpected UpdateModerationItem")
}
func (f *fakeModeration) ListModeration(context.Context, domain.ModerationQuery, int) ([]domain.ModerationItem, error) {
	panic("unexpected ListModeration")
}

// aliceIn answers alice's openid in the app asked (or app-a for none).
func aliceIn(_ context.Context, _ domain.UserID, app domain.AppID) (domain.AppID, domain.OpenID, bool, error) {
	if app == "" {
		app = "app-a"
	}
	return app, "o-alice", true, nil
}

func moderationWith(checker *fakeChecker, store *fakeModeration, policy domain.ContentFailurePolicy, fields ...domain.ContentField) (*app.Moderation, *bytes.Buffer) {
	var logs bytes.Buffer
	return &app.Moderation{
		Checker: checker, Store: store, Clock: fixedClock{tNow},
		Storage: fakeStorage{download: func(_ context.Context, key string, _ time.Time) (string, error) {
			return "https://files.example.com/" + key + "?sig=1", nil
		}},
		Policy: domain.ContentChecks{Fields: fields, OnFailure: policy},
		Log:    slog.New(slog.NewJSONHandler(&logs, nil)),
	}, &logs
}

func TestScreenTextVerdicts(t *testing.T) {
	busy := &domain.Error{Code: domain.CodeWeChatBusy, Message: "busy"}
	for _, c := range []struct {
		name      string
		policy    domain.ContentFailurePolicy
		checkErr  error
		nickname  string
		bio       string
		wantCode  domain.Code // "" for success
		wantField []string    // field errors
		wantFlags []string    // field:verdict:reason
		wantCalls int
	}{
		{"pass stores, flags nothing", domain.ContentAccept, nil, "Alice", "hi", "", nil, nil, 2},
		{"risky refuses naming the field", domain.ContentAccept, nil, "risky", "hi", domain.CodeContentRisky, []string{"nickname"}, nil, 2},
		{"both risky are both named", domain.ContentAccept, nil, "risky", "risky", domain.CodeContentRisky, []string{"nickname", "bio"}, nil, 2},
		{"review is flagged", domain.ContentAccept, nil, "Alice", "review me", "", nil, []string{"bio:review:"}, 2},
		{"blank text is not sent", domain.ContentAccept, nil, "Alice", "  ", "", nil, nil, 1},
		{"failure, accept: flagged unchecked", domain.ContentAccept, busy, "Alice", "", "", nil, []string{"nickname:unchecked:wechat_busy"}, 1},
		{"failure, refuse: 503", domain.ContentRefuse, busy, "Alice", "", domain.CodeContentCheckUnavailable, nil, nil, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			checker := &fakeChecker{err: c.checkErr}
			store := &fakeModeration{openid: aliceIn}
			m, _ := moderationWith(checker, store, c.policy, domain.FieldNickname, domain.FieldBio)
			s, err := m.ScreenText(context.Background(), "alice", "app-a", domain.SubjectProfile,
				app.TextInput{Field: domain.FieldNickname, Text: c.nickname}, app.TextInput{Field: domain.FieldBio, Text: c.bio})
			if c.wantCode != "" {
				var de *domain.Error
				if !errors.As(err, &de) || de.Code != c.wantCode {
					t.Fatalf("err %v, want %s", err, c.wantCode)
				}
				var fields []string
				for _, f := range de.Fields {
					fields = append(fields, f.Field)
				}
				if strings.Join(fields, ",") != strings.Join(c.wantField, ",") {
					t.Errorf("fields %v, want %v", fields, c.wantField)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if len(checker.texts) != c.wantCalls {
				t.Errorf("%d checks, want %d", len(checker.texts), c.wantCalls)
			}
			for _, tc := range checker.texts {
				if tc.App != "app-a" || tc.OpenID != "o-alice" || tc.Scene != domain.SceneProfile {
					t.Errorf("check %+v: want alice's openid in app-a, scene 1", tc)
				}
			}
			if err := s.Record(context.Background(), "alice"); err != nil {
				t.Fatal(err)
			}
			var flags []string
			for _, f := range store.flags {
				flags = append(flags, string(f.Field)+":"+f.Verdict+":"+f.Reason)
				if f.SubjectID != "alice" || f.Subject != domain.SubjectProfile || f.Status != domain.ModerationOpen || f.User != "alice" {
					t.Errorf("flag %+v", f)
				}
			}
			if strings.Join(flags, ",") != strings.Join(c.wantFlags, ",") {
				t.Errorf("flags %v, want %v", flags, c.wantFlags)
			}
		})
	}
}

func TestScreenTextWithoutAWeChatIdentityFlagsWithoutCalling(t *testing.T) {
	checker := &fakeChecker{}
	store := &fakeModeration{openid: func(context.Context, domain.UserID, domain.AppID) (domain.AppID, domain.OpenID, bool, error) {
		return "", "", false, nil
	}}
	m, _ := moderationWith(checker, store, domain.ContentRefuse, domain.FieldTodoTitle)
	s, err := m.ScreenText(context.Background(), "carol", "", domain.SubjectTodo, app.TextInput{Field: domain.FieldTodoTitle, Text: "risky"})
	if err != nil || len(checker.texts) != 0 {
		t.Fatalf("err %v, %d checks; want acceptance without a call", err, len(checker.texts))
	}
	if err := s.Record(context.Background(), "todo-1"); err != nil {
		t.Fatal(err)
	}
	if len(store.flags) != 1 || store.flags[0].Reason != domain.ReasonNoWeChatIdentity || store.flags[0].SubjectID != "todo-1" {
		t.Errorf("flags %+v", store.flags)
	}
}

func TestScreenTextChecksLongTextInPiecesWithTheTaskScene(t *testing.T) {
	checker := &fakeChecker{}
	m, _ := moderationWith(checker, &fakeModeration{openid: aliceIn}, domain.ContentAccept, domain.FieldTodoNotes)
	notes := strings.Repeat("字", domain.ContentMaxRunes*2) + "risky"
	_, err := m.ScreenText(context.Background(), "alice", "", domain.SubjectTodo, app.TextInput{Field: domain.FieldTodoNotes, Text: notes})
	if domain.ErrorCode(err) != domain.CodeContentRisky || len(checker.texts) != 3 {
		t.Fatalf("err %v after %d checks, want content_risky after 3", err, len(checker.texts))
	}
	if checker.texts[0].Scene != domain.SceneSocialLog {
		t.Errorf("scene %d, want social log", checker.texts[0].Scene)
	}
}

// With checks off, the hot paths touch neither WeChat nor the database:
// the fakes panic on any call.
func TestChecksOffCostNothing(t *testing.T) {
	var off *app.Moderation
	if off.On(domain.FieldNickname) {
		t.Fatal("a nil Moderation checks")
	}
	m, _ := moderationWith(&fakeChecker{}, &fakeModeration{}, domain.ContentAccept) // no field
	s, err := m.ScreenText(context.Background(), "alice", "app-a", domain.SubjectProfile, app.TextInput{Field: domain.FieldNickname, Text: "risky"})
	if err != nil || s.Flagged() {
		t.Fatalf("%v %v", s, err)
	}
	uc := app.Profiles{Users: fakeUsers{update: func(_ context.Context, _ domain.UserID, fn func(domain.User) (domain.User, error)) (domain.User, error) {
		return fn(domain.User{ID: "alice"})
	}}, Moderation: m}
	if u, err := uc.Update(context.Background(), "alice", "app-a", domain.ProfilePatch{Nickname: strp("risky")}); err != nil || u.Nickname != "risky" {
		t.Fatalf("%+v %v", u, err)
	}
	var nilModeration *app.Moderation
	nilModeration.CheckUpload(context.Background(), "app-a", domain.Upload{Purpose: domain.PurposeAvatar, ContentType: "image/png"})
}

func TestCheckUploadSubmitsImagesAndRecordsThePendingCheck(t *testing.T) {
	checker := &fakeChecker{}
	store := &fakeModeration{openid: aliceIn}
	m, logs := moderationWith(checker, store, domain.ContentAccept, domain.FieldAvatar)
	avatar := domain.Upload{ID: "up-1", Owner: "alice", Purpose: domain.PurposeAvatar, ContentType: "image/png", Key: "avatar/up-1"}
	m.CheckUpload(context.Background(), "app-a", avatar)
	m.CheckUpload(context.Background(), "app-a", domain.Upload{ID: "up-2", Owner: "alice", Purpose: domain.PurposeAttachment, ContentType: "image/png"})
	if len(checker.media) != 1 || checker.media[0].URL != "https://files.example.com/avatar/up-1?sig=1" || checker.media[0].OpenID != "o-alice" {
		t.Fatalf("media checks %+v: want the avatar alone, by URL", checker.media)
	}
	if len(store.checks) != 1 || store.checks[0].TraceID != "trace-1" || store.checks[0].Status != domain.ModerationPending || store.checks[0].SubjectID != "up-1" {
		t.Fatalf("recorded %+v", store.checks)
	}

	if err := m.ApplyMediaVerdict(context.Background(), "app-a", "trace-1", "risky", 20002); err != nil {
		t.Fatal(err)
	}
	if !store.blocked["up-1"] || store.checks[0].Status != domain.ModerationOpen || store.checks[0].Label != 20002 {
		t.Errorf("after risky: %+v, blocked %v", store.checks[0], store.blocked)
	}
	if err := m.ApplyMediaVerdict(context.Background(), "app-b", "trace-1", "pass", 100); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "unknown trace_id") || !store.blocked["up-1"] {
		t.Errorf("a verdict for another app's trace was not ignored and logged")
	}
	if err := m.ApplyMediaVerdict(context.Background(), "app-a", "trace-1", "maybe", 1); domain.ErrorCode(err) != domain.CodeInvalid {
		t.Errorf("unknown suggestion: %v", err)
	}
}

func TestCheckUploadFlagsWhatWeChatRefuses(t *testing.T) {
	checker := &fakeChecker{err: &domain.Error{Code: domain.CodeWeChatUnreachable}}
	store := &fakeModeration{openid: aliceIn}
	m, _ := moderationWith(checker, store, domain.ContentRefuse, domain.FieldAvatar)
	m.CheckUpload(context.Background(), "app-a", domain.Upload{ID: "up-1", Owner: "alice", Purpose: domain.PurposeAvatar, ContentType: "image/png"})
	if len(store.checks) != 1 || store.checks[0].Verdict != domain.VerdictUnchecked || store.checks[0].Status != domain.ModerationOpen ||
		store.checks[0].Reason != string(domain.CodeWeChatUnreachable) {
		t.Errorf("recorded %+v", store.checks)
	}
}
