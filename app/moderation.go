package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// DefaultMediaURLTTL is how long the download URL WeChat fetches an image
// from works when Moderation.MediaURLTTL is zero: WeChat downloads it
// asynchronously, sometimes long after the call.
const DefaultMediaURLTTL = 24 * time.Hour

// Moderation is content security. It asks WeChat about user text before
// the text is stored (msgSecCheck) and about images once they are uploaded
// (mediaCheckAsync, whose verdict arrives later by message push), applies
// the deployment's policy to the answers, and keeps the administrators'
// list of flagged content.
//
// Text is checked with the author's openid in the caller's mini-program
// (the access token's app), or, for a session tied to none, in the one the
// author last logged in with. An author with no WeChat identity at all (a
// password-only account) cannot be checked by WeChat: the text is accepted
// and flagged for an administrator as unchecked (no_wechat_identity),
// whatever the failure policy, which is about WeChat failing.
type Moderation struct {
	Checker ports.ContentChecker
	Store   ports.ModerationStore
	Storage ports.ObjectStorage
	Clock   ports.Clock
	// Policy says which fields are checked and what happens when WeChat
	// cannot check them.
	Policy domain.ContentChecks
	// MediaURLTTL is how long the download URL given to WeChat works;
	// zero means DefaultMediaURLTTL.
	MediaURLTTL time.Duration
	// Log receives what an operator must see: checks WeChat failed,
	// verdicts for unknown checks. nil discards.
	Log *slog.Logger
	// Audit records the administrators' decisions (moderation.resolve);
	// nil records nothing.
	Audit *Audit
}

// On reports whether field is checked. A nil Moderation, or one without a
// checker, checks nothing, so the hot paths pay nothing when checks are
// off.
func (m *Moderation) On(f domain.ContentField) bool {
	return m != nil && m.Checker != nil && m.Policy.Checks(f)
}

// TextInput is one text field of a request.
type TextInput struct {
	Field domain.ContentField
	Text  string
}

// Screening is what a check of a request's texts asks to flag once the
// content is stored. The zero Screening flags nothing.
type Screening struct {
	m       *Moderation
	subject domain.ModerationSubject
	flags   []domain.ModerationItem
}

// ScreenText checks the texts of a request by user, made in app, before
// they are stored. Fields the deployment does not check, and blank texts,
// are skipped. A risky text fails with domain.ErrContentRisky naming every
// risky field; a check WeChat failed fails with
// domain.ErrContentCheckUnavailable under ContentRefuse, and is flagged
// under ContentAccept. Review verdicts are flagged: call Record once the
// content is stored.
func (m *Moderation) ScreenText(ctx context.Context, user domain.UserID, app domain.AppID, subject domain.ModerationSubject, texts ...TextInput) (Screening, error) {
	var todo []TextInput
	for _, t := range texts {
		if m.On(t.Field) && strings.TrimSpace(t.Text) != "" {
			todo = append(todo, t)
		}
	}
	if len(todo) == 0 {
		return Screening{}, nil
	}
	app, openid, ok, err := m.Store.WeChatOpenID(ctx, user, app)
	if err != nil {
		return Screening{}, fmt.Errorf("find openid: %w", err)
	}
	s := Screening{m: m, subject: subject}
	now := m.Clock.Now().Truncate(time.Microsecond)
	flag := func(t TextInput, verdict string, label int, trace, reason string) {
		s.flags = append(s.flags, domain.ModerationItem{
			User: user, App: app, Subject: subject, Field: t.Field, Content: t.Text,
			Verdict: verdict, Label: label, TraceID: trace, Reason: reason, Status: domain.ModerationOpen,
			CreatedAt: now, UpdatedAt: now,
		})
	}
	if !ok {
		for _, t := range todo {
			flag(t, domain.VerdictUnchecked, 0, "", domain.ReasonNoWeChatIdentity)
		}
		return s, nil
	}
	var risky []domain.ContentField
	for _, t := range todo {
		v, err := m.checkText(ctx, app, openid, t)
		var de *domain.Error
		switch {
		case err != nil && !errors.As(err, &de):
			// The caller gave up (or a bug): not WeChat's verdict.
			return Screening{}, fmt.Errorf("check %s: %w", t.Field, err)
		case err != nil && m.Policy.OnFailure == domain.ContentRefuse:
			m.log().Warn("content security: WeChat could not check a text; refused (MINIBACK_CONTENT_CHECK_FAILURE=refuse)",
				"field", string(t.Field), "appid", string(app), "code", string(de.Code), "error", err.Error())
			return Screening{}, domain.ErrContentCheckUnavailable(err)
		case err != nil:
			m.log().Warn("content security: WeChat could not check a text; accepted and flagged",
				"field", string(t.Field), "appid", string(app), "code", string(de.Code), "error", err.Error())
			flag(t, domain.VerdictUnchecked, 0, "", string(de.Code))
		case v.Suggest == domain.SuggestRisky:
			risky = append(risky, t.Field)
		case v.Suggest == domain.SuggestReview:
			flag(t, string(v.Suggest), v.Label, v.TraceID, "")
		}
	}
	if len(risky) > 0 {
		return Screening{}, domain.ErrContentRisky(risky...)
	}
	return s, nil
}

// checkText checks one text, in pieces WeChat accepts.
func (m *Moderation) checkText(ctx context.Context, app domain.AppID, openid domain.OpenID, t TextInput) (domain.TextVerdict, error) {
	pieces := domain.SplitContent(t.Text, domain.ContentMaxRunes)
	verdicts := make([]domain.TextVerdict, 0, len(pieces))
	for _, p := range pieces {
		v, err := m.Checker.CheckText(ctx, domain.TextCheck{App: app, OpenID: openid, Scene: t.Field.Scene(), Content: p})
		if err != nil {
			return domain.TextVerdict{}, err
		}
		if v.Suggest == domain.SuggestRisky {
			return v, nil // no need to check the rest
		}
		verdicts = append(verdicts, v)
	}
	return domain.CombineVerdicts(verdicts), nil
}

// Flagged reports whether Record will flag anything.
func (s Screening) Flagged() bool { return len(s.flags) > 0 }

// Record flags what the screening found, on the stored thing subjectID
// (the user for a profile, the task's id).
func (s Screening) Record(ctx context.Context, subjectID string) error {
	for _, f := range s.flags {
		f.SubjectID = subjectID
		if err := s.m.Store.Flag(ctx, f); err != nil {
			return fmt.Errorf("flag %s %s: %w", f.Subject, f.Field, err)
		}
	}
	return nil
}

// mediaField is the content field of an upload's purpose.
func mediaField(p domain.UploadPurpose) domain.ContentField {
	if p == domain.PurposeAvatar {
		return domain.FieldAvatar
	}
	return domain.FieldAttachment
}

// CheckUpload submits a newly ready image upload, made in app, to WeChat's
// asynchronous check when its purpose is checked, and records the check
// (pending until the verdict arrives by message push). Nothing here fails
// the upload: a check that cannot be submitted flags the image as
// unchecked, and a check that cannot even be recorded is logged.
func (m *Moderation) CheckUpload(ctx context.Context, app domain.AppID, u domain.Upload) {
	field := mediaField(u.Purpose)
	if !m.On(field) || !strings.HasPrefix(u.ContentType, "image/") {
		return
	}
	now := m.Clock.Now().Truncate(time.Microsecond)
	item := domain.ModerationItem{
		User: u.Owner, Subject: domain.SubjectUpload, SubjectID: string(u.ID), Field: field,
		Verdict: domain.VerdictPending, Status: domain.ModerationPending, CreatedAt: now, UpdatedAt: now,
	}
	traceID, reason, err := m.submitMedia(ctx, app, u, field, &item)
	switch {
	case err != nil:
		m.log().Error("content security: could not submit an image check; the image is served unchecked",
			"upload", string(u.ID), "appid", string(app), "error", err.Error())
		return
	case reason != "":
		item.Verdict, item.Status, item.Reason = domain.VerdictUnchecked, domain.ModerationOpen, reason
	default:
		item.TraceID = traceID
	}
	if err := m.Store.AddMediaCheck(ctx, item); err != nil {
		m.log().Error("content security: could not record an image check", "upload", string(u.ID),
			"appid", string(item.App), "trace_id", traceID, "error", err.Error())
	}
}

// submitMedia asks WeChat to check u. It returns the trace id, or the
// reason the image goes unchecked, or an error that leaves nothing to
// record (the caller gave up, or the database failed).
func (m *Moderation) submitMedia(ctx context.Context, app domain.AppID, u domain.Upload, field domain.ContentField, item *domain.ModerationItem) (string, string, error) {
	app, openid, ok, err := m.Store.WeChatOpenID(ctx, u.Owner, app)
	if err != nil {
		return "", "", fmt.Errorf("find openid: %w", err)
	}
	item.App = app
	if !ok {
		return "", domain.ReasonNoWeChatIdentity, nil
	}
	ttl := m.MediaURLTTL
	if ttl <= 0 {
		ttl = DefaultMediaURLTTL
	}
	url, err := m.Storage.DownloadURL(ctx, u.Key, m.Clock.Now().Add(ttl))
	if err != nil {
		return "", "", fmt.Errorf("media url: %w", err)
	}
	traceID, err := m.Checker.CheckMedia(ctx, domain.MediaCheck{App: app, OpenID: openid, Scene: field.Scene(), URL: url})
	var de *domain.Error
	switch {
	case err != nil && !errors.As(err, &de):
		return "", "", fmt.Errorf("check media: %w", err)
	case err != nil:
		m.log().Warn("content security: WeChat refused an image check; flagged as unchecked",
			"upload", string(u.ID), "appid", string(app), "code", string(de.Code), "error", err.Error())
		return "", string(de.Code), nil
	}
	return traceID, "", nil
}

// ApplyMediaVerdict applies the verdict WeChat pushed (the wxa_media_check
// event) for the image check traceID of app: suggest is result.suggest
// ("pass", "review" or "risky"; "" when the event reports an error instead
// of a result) and label result.label. A risky image stops being served
// and is flagged; a review is flagged and still served. A verdict for an
// unknown check is logged and ignored; one for a check that already has
// its verdict changes nothing, so WeChat's repeated pushes are harmless.
// The message-push receiver calls it.
func (m *Moderation) ApplyMediaVerdict(ctx context.Context, app domain.AppID, traceID string, suggest string, label int) error {
	if m == nil || m.Store == nil {
		return errNoModerationStore
	}
	if traceID == "" {
		m.log().Warn("content security: an image verdict without a trace_id; ignored", "appid", string(app))
		return nil
	}
	now := m.Clock.Now().Truncate(time.Microsecond)
	changed := false
	item, err := m.Store.UpdateMediaCheck(ctx, app, traceID, func(it domain.ModerationItem) (domain.ModerationItem, error) {
		next, c, err := it.WithMediaVerdict(domain.Suggest(suggest), label, now)
		changed = c
		return next, err
	})
	if domain.ErrorCode(err) == domain.CodeNotFound {
		m.log().Warn("content security: an image verdict for an unknown trace_id; ignored",
			"appid", string(app), "trace_id", traceID, "suggest", suggest)
		return nil
	}
	if err != nil {
		return fmt.Errorf("apply media verdict: %w", err)
	}
	if changed {
		m.log().Info("content security: image verdict", "appid", string(app), "trace_id", traceID,
			"upload", item.SubjectID, "suggest", suggest, "label", label, "blocked", item.BlocksUpload())
	}
	return nil
}

// ModerationPage is one page of the administrators' list.
type ModerationPage struct {
	Items []domain.ModerationItem
	Next  *domain.ModerationCursor
}

// List returns one page of moderation items, for administrators.
func (m *Moderation) List(ctx context.Context, actor domain.Role, q domain.ModerationQuery) (ModerationPage, error) {
	if !actor.CanAdminister() {
		return ModerationPage{}, domain.Errorf(domain.CodeForbidden, "Only administrators may see moderation items.")
	}
	if m == nil || m.Store == nil {
		return ModerationPage{}, errNoModerationStore
	}
	q, err := q.Normalize()
	if err != nil {
		return ModerationPage{}, err
	}
	items, err := m.Store.ListModeration(ctx, q, q.Limit+1)
	if err != nil {
		return ModerationPage{}, fmt.Errorf("list moderation: %w", err)
	}
	page := ModerationPage{Items: items}
	if len(items) > q.Limit {
		page.Items = items[:q.Limit]
		last := page.Items[q.Limit-1]
		page.Next = &domain.ModerationCursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	return page, nil
}

// Resolve records an administrator's decision on an item: approve serves
// a blocked image again, remove blocks it for good. The decision is
// audited (moderation.resolve) right after it commits: the moderation
// store's transaction is its own, so a crash in between loses the entry,
// and deciding again (which changes nothing) records another.
func (m *Moderation) Resolve(ctx context.Context, actor domain.Actor, id domain.ModerationID, action domain.ModerationAction) (domain.ModerationItem, error) {
	if !actor.CanAdminister() {
		return domain.ModerationItem{}, domain.Errorf(domain.CodeForbidden, "Only administrators may decide moderation items.")
	}
	if m == nil || m.Store == nil {
		return domain.ModerationItem{}, errNoModerationStore
	}
	now := m.Clock.Now().Truncate(time.Microsecond)
	item, err := m.Store.UpdateModerationItem(ctx, id, func(it domain.ModerationItem) (domain.ModerationItem, error) {
		return it.Resolve(action, now)
	})
	if err != nil {
		return domain.ModerationItem{}, fmt.Errorf("resolve moderation item: %w", err)
	}
	if m.Audit != nil && m.Audit.Log != nil {
		e := domain.NewAuditEntry(actor, now, domain.AuditModerationResolve, domain.AuditTargetModeration, string(id),
			map[string]any{"action": string(action), "user_id": string(item.User), "subject": string(item.Subject),
				"field": string(item.Field), "status": string(item.Status)})
		if err := m.Audit.Record(ctx, e); err != nil {
			return domain.ModerationItem{}, err
		}
	}
	return item, nil
}

// errNoModerationStore: the wiring gave Moderation no store (a bug).
var errNoModerationStore = errors.New("moderation: no store is wired")

func (m *Moderation) log() *slog.Logger {
	if m.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.Log
}
