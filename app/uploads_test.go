package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
)

var tNow = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

func uploadsWith(store fakeUploadStore, storage fakeStorage) app.Uploads {
	return app.Uploads{
		Store: store, Storage: storage, Clock: fixedClock{tNow}, Rules: domain.DefaultUploadRules(),
		TicketTTL: 15 * time.Minute, PendingTTL: 24 * time.Hour, DownloadTTL: time.Hour,
		NewID: func() domain.UploadID { return "11111111-2222-4333-8444-555555555555" },
	}
}

func pending(owner domain.UserID) domain.Upload {
	return domain.NewUpload("u-1", owner, domain.UploadRequest{Purpose: "avatar", ContentType: "image/png", Size: 100}, tNow.Add(-time.Hour), 24*time.Hour)
}

func TestCreateSignsTheServerChosenKeyThenRecordsThePendingUpload(t *testing.T) {
	var steps []string
	uc := uploadsWith(fakeUploadStore{create: func(_ context.Context, u domain.Upload) error {
		steps = append(steps, "create")
		if u.Owner != "alice" || u.Status != domain.UploadPending || !u.ExpiresAt.Equal(tNow.Add(24*time.Hour)) {
			t.Errorf("recorded %+v", u)
		}
		return nil
	}}, fakeStorage{presign: func(_ context.Context, spec domain.ObjectSpec, expires time.Time) (domain.UploadTicket, error) {
		steps = append(steps, "presign")
		want := domain.ObjectSpec{Key: "avatar/11111111-2222-4333-8444-555555555555.png", ContentType: "image/png", Size: 100}
		if spec != want || !expires.Equal(tNow.Add(15*time.Minute)) {
			t.Errorf("presigned %+v until %v", spec, expires)
		}
		return domain.UploadTicket{URL: "https://bucket.example.com/"}, nil
	}})
	tk, err := uc.Create(context.Background(), "alice", domain.UploadRequest{Purpose: "avatar", ContentType: "image/PNG", Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	if tk.Ticket.URL != "https://bucket.example.com/" || tk.Upload.ID != "11111111-2222-4333-8444-555555555555" {
		t.Errorf("ticket %+v", tk)
	}
	if len(steps) != 2 || steps[0] != "presign" {
		t.Errorf("steps %v; presign must come first so that a failure leaves nothing", steps)
	}
}

func TestCreateChecksTheRulesBeforeAnyPort(t *testing.T) {
	uc := uploadsWith(fakeUploadStore{}, fakeStorage{}) // a port call would panic
	_, err := uc.Create(context.Background(), "alice", domain.UploadRequest{Purpose: "avatar", ContentType: "image/png", Size: 6 << 20})
	if codeOf(err) != domain.CodeInvalid {
		t.Fatalf("err = %v", err)
	}
}

// lockedStore runs fn on u as the store's UpdateUpload would.
func lockedStore(u domain.Upload, saved *domain.Upload) fakeUploadStore {
	return fakeUploadStore{update: func(_ context.Context, id domain.UploadID, fn func(domain.Upload) (domain.Upload, error)) (domain.Upload, error) {
		next, err := fn(u)
		if err != nil {
			return domain.Upload{}, err
		}
		if saved != nil {
			*saved = next
		}
		return next, nil
	}}
}

func TestCompleteOutcomes(t *testing.T) {
	ready := pending("alice").Verify(domain.ObjectInfo{Size: 100, ContentType: "image/png"}, tNow.Add(-time.Minute))
	rejected := pending("alice").Verify(domain.ObjectInfo{Size: 1, ContentType: "image/png"}, tNow.Add(-time.Minute))
	late := pending("alice")
	late.ExpiresAt = tNow
	storageDown := &domain.Error{Code: domain.CodeUnavailable, Message: "down"}
	tests := []struct {
		name      string
		upload    domain.Upload
		stat      func(context.Context, string) (domain.ObjectInfo, error) // nil: must not be called
		wantCode  domain.Code                                              // "" means success
		wantSaved domain.UploadStatus
		deletes   bool
	}{
		{name: "someone else's upload is not found, and the storage is not asked",
			upload: pending("bob"), wantCode: domain.CodeNotFound},
		{name: "a matching object makes it ready",
			upload: pending("alice"), stat: statOf(100, "image/png"), wantSaved: domain.UploadReady},
		{name: "no object yet keeps it pending",
			upload: pending("alice"), stat: func(context.Context, string) (domain.ObjectInfo, error) {
				return domain.ObjectInfo{}, domain.Errorf(domain.CodeNotFound, "no such key")
			}, wantCode: domain.CodeUploadNotReceived},
		{name: "a storage failure passes through",
			upload: pending("alice"), stat: func(context.Context, string) (domain.ObjectInfo, error) { return domain.ObjectInfo{}, storageDown },
			wantCode: domain.CodeUnavailable},
		{name: "a size mismatch rejects it and deletes the object",
			upload: pending("alice"), stat: statOf(101, "image/png"), wantCode: domain.CodeUploadSizeMismatch, wantSaved: domain.UploadRejected, deletes: true},
		{name: "a type mismatch rejects it and deletes the object",
			upload: pending("alice"), stat: statOf(100, "text/html"), wantCode: domain.CodeUploadTypeMismatch, wantSaved: domain.UploadRejected, deletes: true},
		{name: "a ready upload is answered again without asking the storage",
			upload: ready, wantSaved: domain.UploadReady},
		{name: "a rejected upload answers its rejection again",
			upload: rejected, wantCode: domain.CodeUploadSizeMismatch, wantSaved: domain.UploadRejected, deletes: true},
		{name: "past the deadline it is expired",
			upload: late, wantCode: domain.CodeUploadExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var saved domain.Upload
			deleted := false
			uc := uploadsWith(lockedStore(tt.upload, &saved), fakeStorage{
				stat: tt.stat,
				del: func(_ context.Context, key string) error {
					deleted = key == tt.upload.Key
					return nil
				},
				download: func(context.Context, string, time.Time) (string, error) { return "https://dl.example.com/x", nil },
			})
			v, err := uc.Complete(context.Background(), "alice", "", "u-1")
			if tt.wantCode == "" {
				if err != nil || v.DownloadURL == "" || !v.DownloadExpiresAt.Equal(tNow.Add(time.Hour)) {
					t.Fatalf("Complete = %+v, %v", v, err)
				}
			} else if codeOf(err) != tt.wantCode {
				t.Fatalf("err = %v, want %s", err, tt.wantCode)
			}
			if saved.Status != tt.wantSaved {
				t.Errorf("saved status %q, want %q", saved.Status, tt.wantSaved)
			}
			if deleted != tt.deletes {
				t.Errorf("object deleted: %v, want %v", deleted, tt.deletes)
			}
		})
	}
}

func statOf(size int64, ct string) func(context.Context, string) (domain.ObjectInfo, error) {
	return func(context.Context, string) (domain.ObjectInfo, error) {
		return domain.ObjectInfo{Size: size, ContentType: ct}, nil
	}
}

func TestCleanOnceWorksThroughEveryFullBatch(t *testing.T) {
	batches := []int{3, 3, 1}
	calls := 0
	uc := app.UploadCleaner{Batch: 3, Clock: fixedClock{tNow}, Store: fakeUploadStore{
		deleteExpired: func(_ context.Context, at time.Time, limit int, _ func(context.Context, domain.Upload) error) (int, error) {
			if !at.Equal(tNow) || limit != 3 {
				t.Errorf("claimed at %v, %d", at, limit)
			}
			n := batches[calls]
			calls++
			return n, nil
		}}}
	n, err := uc.CleanOnce(context.Background())
	if n != 7 || err != nil || calls != 3 {
		t.Errorf("CleanOnce = %d, %v after %d batches", n, err, calls)
	}
}

func TestCleanerRemovesTheObjectOfEachClaimedUpload(t *testing.T) {
	var removed []string
	uc := app.UploadCleaner{Clock: fixedClock{tNow},
		Storage: fakeStorage{del: func(_ context.Context, key string) error {
			removed = append(removed, key)
			return nil
		}},
		Store: fakeUploadStore{deleteExpired: func(ctx context.Context, _ time.Time, _ int, remove func(context.Context, domain.Upload) error) (int, error) {
			return 1, remove(ctx, domain.Upload{Key: "avatar/x.png"})
		}}}
	if _, err := uc.CleanOnce(context.Background()); err != nil || len(removed) != 1 || removed[0] != "avatar/x.png" {
		t.Errorf("removed %v, %v", removed, err)
	}
}

func TestProfilesUpdateSetsTheAvatarLinkOfAReadyAvatarUpload(t *testing.T) {
	up := pending("alice").Verify(domain.ObjectInfo{Size: 100, ContentType: "image/png"}, tNow)
	uploads := uploadsWith(fakeUploadStore{get: func(context.Context, domain.UploadID) (domain.Upload, error) { return up, nil }}, fakeStorage{})
	uc := app.Profiles{Uploads: &uploads, Links: fakeLinks{},
		Users: fakeUsers{update: func(_ context.Context, _ domain.UserID, fn func(domain.User) (domain.User, error)) (domain.User, error) {
			return fn(domain.User{ID: "alice"})
		}}}
	id := up.ID
	got, err := uc.Update(context.Background(), "alice", "", domain.ProfilePatch{AvatarUploadID: &id})
	if err != nil || got.AvatarURL != "https://api.example.com/v1/avatars/u-1" {
		t.Fatalf("Update = %+v, %v", got, err)
	}
	if _, err := uc.Update(context.Background(), "bob", "", domain.ProfilePatch{AvatarUploadID: &id}); codeOf(err) != domain.CodeNotFound {
		t.Errorf("bob using alice's upload: %v", err)
	}
	notWired := app.Profiles{Users: fakeUsers{}}
	if _, err := notWired.Update(context.Background(), "alice", "", domain.ProfilePatch{AvatarUploadID: &id}); err == nil || errors.As(err, new(*domain.Error)) {
		t.Errorf("unwired uploads must fail as internal: %v", err)
	}
}
