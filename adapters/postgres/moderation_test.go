package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/domain"
)

func TestModerationStoreFindsTheOpenIDToCheckWith(t *testing.T) {
	db := pgtest.NewDB(t)
	users := postgres.NewUserStore(db)
	s := postgres.NewModerationStore(db)
	ctx := context.Background()
	u, _ := upsert(t, users, identity("wx-a", "o-in-a", "", "k"))

	app, openid, ok, err := s.WeChatOpenID(ctx, u.ID, "wx-a")
	if err != nil || !ok || app != "wx-a" || openid != "o-in-a" {
		t.Errorf("in its app: %s %s %v %v", app, openid, ok, err)
	}
	if _, _, ok, err := s.WeChatOpenID(ctx, u.ID, "wx-b"); ok || err != nil {
		t.Errorf("in another app: %v %v, want none", ok, err)
	}
	if app, openid, ok, err := s.WeChatOpenID(ctx, u.ID, ""); !ok || err != nil || app != "wx-a" || openid != "o-in-a" {
		t.Errorf("in any app: %s %s %v %v", app, openid, ok, err)
	}
	if _, _, ok, err := s.WeChatOpenID(ctx, domain.UserID(uuid.NewString()), ""); ok || err != nil {
		t.Errorf("a user without identities: %v %v", ok, err)
	}
}

func TestFlagKeepsOneOpenItemPerField(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewModerationStore(db)
	ctx := context.Background()
	user := owner(t, db)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	flag := func(content string, at time.Time) {
		t.Helper()
		if err := s.Flag(ctx, domain.ModerationItem{
			User: user, App: "wxapp", Subject: domain.SubjectProfile, SubjectID: string(user), Field: domain.FieldBio,
			Content: content, Verdict: "review", Label: 10001, TraceID: "t-" + content, Status: domain.ModerationOpen,
			CreatedAt: at, UpdatedAt: at,
		}); err != nil {
			t.Fatal(err)
		}
	}
	flag("one", t0)
	flag("two", t0.Add(time.Minute))
	items, err := s.ListModeration(ctx, domain.ModerationQuery{Status: domain.ModerationOpen}, 10)
	if err != nil || len(items) != 1 || items[0].Content != "two" || items[0].TraceID != "t-two" ||
		!items[0].CreatedAt.Equal(t0) || !items[0].UpdatedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("items %+v %v: want the one item, refreshed", items, err)
	}
	// Once decided, a new flag is a new item.
	if _, err := s.UpdateModerationItem(ctx, items[0].ID, func(it domain.ModerationItem) (domain.ModerationItem, error) {
		return it.Resolve(domain.ActionApprove, t0.Add(2*time.Minute))
	}); err != nil {
		t.Fatal(err)
	}
	flag("three", t0.Add(3*time.Minute))
	if open, _ := s.ListModeration(ctx, domain.ModerationQuery{Status: domain.ModerationOpen}, 10); len(open) != 1 || open[0].Content != "three" {
		t.Errorf("open after a decision: %+v", open)
	}
	_, err = s.UpdateModerationItem(ctx, domain.ModerationID(uuid.NewString()), func(it domain.ModerationItem) (domain.ModerationItem, error) { return it, nil })
	wantCode(t, err, domain.CodeNotFound)
}

func TestMediaVerdictBlocksTheUploadInTheSameTransaction(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewModerationStore(db)
	uploads := postgres.NewUploadStore(db)
	ctx := context.Background()
	up := newUpload(t, uploads, owner(t, db), time.Hour)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	check := domain.ModerationItem{
		User: up.Owner, App: "wxapp", Subject: domain.SubjectUpload, SubjectID: string(up.ID), Field: domain.FieldAttachment,
		Verdict: domain.VerdictPending, TraceID: "trace-1", Status: domain.ModerationPending, CreatedAt: at, UpdatedAt: at,
	}
	if err := s.AddMediaCheck(ctx, check); err != nil {
		t.Fatal(err)
	}
	if err := s.AddMediaCheck(ctx, check); err != nil { // a second one is not recorded
		t.Fatal(err)
	}
	apply := func(app domain.AppID, suggest domain.Suggest) (domain.ModerationItem, error) {
		return s.UpdateMediaCheck(ctx, app, "trace-1", func(it domain.ModerationItem) (domain.ModerationItem, error) {
			next, _, err := it.WithMediaVerdict(suggest, 20002, at.Add(time.Minute))
			return next, err
		})
	}
	_, err := apply("other-app", domain.SuggestRisky)
	wantCode(t, err, domain.CodeNotFound)
	it, err := apply("wxapp", domain.SuggestRisky)
	if err != nil || it.Verdict != "risky" || it.Status != domain.ModerationOpen {
		t.Fatalf("%+v %v", it, err)
	}
	if got, _ := uploads.GetUpload(ctx, up.ID); !got.Blocked {
		t.Errorf("the upload is not blocked after a risky verdict")
	}
	if all, _ := s.ListModeration(ctx, domain.ModerationQuery{Status: domain.ModerationOpen}, 10); len(all) != 1 {
		t.Errorf("open items %+v, want one", all)
	}
	if _, err := s.UpdateModerationItem(ctx, it.ID, func(it domain.ModerationItem) (domain.ModerationItem, error) {
		return it.Resolve(domain.ActionApprove, at.Add(time.Hour))
	}); err != nil {
		t.Fatal(err)
	}
	if got, _ := uploads.GetUpload(ctx, up.ID); got.Blocked {
		t.Errorf("the upload is still blocked after an approval")
	}
}

func TestListModerationPagesNewestFirst(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewModerationStore(db)
	ctx := context.Background()
	user := owner(t, db)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 5 {
		at := t0.Add(time.Duration(i) * time.Minute)
		if err := s.Flag(ctx, domain.ModerationItem{
			User: user, Subject: domain.SubjectTodo, SubjectID: uuid.NewString(), Field: domain.FieldTodoTitle,
			Content: at.Format("15:04"), Verdict: "review", Status: domain.ModerationOpen, CreatedAt: at, UpdatedAt: at,
		}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	q := domain.ModerationQuery{Status: domain.ModerationOpen}
	for {
		items, err := s.ListModeration(ctx, q, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			got = append(got, it.Content)
		}
		if len(items) < 2 {
			break
		}
		last := items[len(items)-1]
		q.After = &domain.ModerationCursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	if want := "12:04 12:03 12:02 12:01 12:00"; strings.Join(got, " ") != want {
		t.Errorf("pages %v, want %s", got, want)
	}
	if items, _ := s.ListModeration(ctx, domain.ModerationQuery{Status: domain.ModerationPending}, 10); len(items) != 0 {
		t.Errorf("pending: %+v", items)
	}
}
