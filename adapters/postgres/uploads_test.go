package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/domain"
)

var uploadT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newUpload records a pending upload of a new user's, expiring at
// uploadT0+ttl.
func newUpload(t *testing.T, s *postgres.UploadStore, owner domain.UserID, ttl time.Duration) domain.Upload {
	t.Helper()
	id := domain.UploadID(uuid.NewString())
	u := domain.NewUpload(id, owner, domain.UploadRequest{
		Purpose: domain.PurposeAttachment, ContentType: "text/plain", Size: 10, FileName: "a.txt",
	}, uploadT0, ttl)
	if err := s.CreateUpload(context.Background(), u); err != nil {
		t.Fatalf("CreateUpload: %v", err)
	}
	return u
}

func owner(t *testing.T, db *postgres.DB) domain.UserID {
	t.Helper()
	u, _ := upsert(t, postgres.NewUserStore(db), identity("wxapp", uuid.NewString(), "", "k"))
	return u.ID
}

func TestUploadStoreKeepsWhatItIsGiven(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewUploadStore(db)
	ctx := context.Background()
	u := newUpload(t, s, owner(t, db), time.Hour)

	got, err := s.GetUpload(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got != u {
		t.Fatalf("GetUpload = %+v\nwant %+v", got, u)
	}
	_, err = s.GetUpload(ctx, domain.UploadID(uuid.NewString()))
	wantCode(t, err, domain.CodeNotFound)
	_, err = s.GetUpload(ctx, "not-a-uuid")
	wantCode(t, err, domain.CodeNotFound)
	wantCode(t, s.CreateUpload(ctx, u), domain.CodeConflict)
}

func TestUpdateUploadSavesTheVerdictAndRollsBackOnError(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewUploadStore(db)
	ctx := context.Background()
	u := newUpload(t, s, owner(t, db), time.Hour)

	refused := errors.New("refused")
	if _, err := s.UpdateUpload(ctx, u.ID, func(u domain.Upload) (domain.Upload, error) {
		u.Status = domain.UploadReady
		return u, refused
	}); !errors.Is(err, refused) {
		t.Fatalf("error from fn: %v", err)
	}
	if got, _ := s.GetUpload(ctx, u.ID); got.Status != domain.UploadPending {
		t.Fatalf("rolled back update saved: %+v", got)
	}

	ready, err := s.UpdateUpload(ctx, u.ID, func(u domain.Upload) (domain.Upload, error) {
		return u.Verify(domain.ObjectInfo{Size: 10, ContentType: "text/plain; charset=utf-8"}, uploadT0.Add(time.Minute)), nil
	})
	if err != nil || ready.Status != domain.UploadReady {
		t.Fatalf("UpdateUpload = %+v, %v", ready, err)
	}
	if got, _ := s.GetUpload(ctx, u.ID); got != ready {
		t.Fatalf("stored %+v\nwant %+v", got, ready)
	}
	_, err = s.UpdateUpload(ctx, domain.UploadID(uuid.NewString()), func(u domain.Upload) (domain.Upload, error) { return u, nil })
	wantCode(t, err, domain.CodeNotFound)
}

// TestDeleteExpiredUploadsSkipsWhatAnotherCleanerHolds proves the claim
// with FOR UPDATE SKIP LOCKED: while one cleaner is still removing the
// objects of its batch, a second one gets only the other expired uploads,
// and no upload is removed twice.
func TestDeleteExpiredUploadsSkipsWhatAnotherCleanerHolds(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewUploadStore(db)
	ctx := context.Background()
	who := owner(t, db)
	expired := map[domain.UploadID]bool{}
	for range 4 {
		expired[newUpload(t, s, who, time.Minute).ID] = true
	}
	fresh := newUpload(t, s, who, 2*time.Hour)
	ready := newUpload(t, s, who, time.Minute)
	if _, err := s.UpdateUpload(ctx, ready.ID, func(u domain.Upload) (domain.Upload, error) {
		return u.Verify(domain.ObjectInfo{Size: 10, ContentType: "text/plain"}, uploadT0), nil
	}); err != nil {
		t.Fatal(err)
	}
	now := uploadT0.Add(time.Hour)

	var mu sync.Mutex
	removed := map[domain.UploadID]int{}
	record := func(u domain.Upload) {
		mu.Lock()
		removed[u.ID]++
		mu.Unlock()
	}
	firstHolds := make(chan struct{})
	release := make(chan struct{})
	firstDone := make(chan int)
	go func() {
		calls := 0
		n, err := s.DeleteExpiredUploads(ctx, now, 2, func(_ context.Context, u domain.Upload) error {
			record(u)
			if calls++; calls == 1 {
				close(firstHolds)
				<-release
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
		firstDone <- n
	}()
	<-firstHolds
	second, err := s.DeleteExpiredUploads(ctx, now, 10, func(_ context.Context, u domain.Upload) error {
		record(u)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	close(release)
	first := <-firstDone
	if first != 2 || second != 2 {
		t.Errorf("cleaners deleted %d and %d, want 2 and 2", first, second)
	}
	for id := range expired {
		if removed[id] != 1 {
			t.Errorf("upload %s removed %d times", id, removed[id])
		}
		_, err := s.GetUpload(ctx, id)
		wantCode(t, err, domain.CodeNotFound)
	}
	for _, id := range []domain.UploadID{fresh.ID, ready.ID} {
		if removed[id] != 0 {
			t.Errorf("upload %s should not have been cleaned", id)
		}
		if _, err := s.GetUpload(ctx, id); err != nil {
			t.Errorf("upload %s is gone: %v", id, err)
		}
	}
}

func TestDeleteExpiredUploadsKeepsTheRowWhenTheObjectStays(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewUploadStore(db)
	ctx := context.Background()
	u := newUpload(t, s, owner(t, db), time.Minute)
	storageDown := errors.New("storage down")
	n, err := s.DeleteExpiredUploads(ctx, uploadT0.Add(time.Hour), 10, func(context.Context, domain.Upload) error { return storageDown })
	if n != 0 || !errors.Is(err, storageDown) {
		t.Fatalf("got %d, %v", n, err)
	}
	if _, err := s.GetUpload(ctx, u.ID); err != nil {
		t.Fatalf("the row went although its object stayed: %v", err)
	}
}

// TestCleanerSkipsAnUploadBeingCompleted: a completion holds the row, so
// the cleaner leaves it alone rather than deleting an object being checked.
func TestCleanerSkipsAnUploadBeingCompleted(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewUploadStore(db)
	ctx := context.Background()
	u := newUpload(t, s, owner(t, db), time.Minute)
	holding := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error)
	go func() {
		_, err := s.UpdateUpload(ctx, u.ID, func(u domain.Upload) (domain.Upload, error) {
			close(holding)
			<-release
			return u, nil
		})
		done <- err
	}()
	<-holding
	n, err := s.DeleteExpiredUploads(ctx, uploadT0.Add(time.Hour), 10, func(context.Context, domain.Upload) error {
		t.Error("the cleaner claimed an upload being completed")
		return nil
	})
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n != 0 || err != nil {
		t.Errorf("cleaner: %d, %v", n, err)
	}
}

func TestUploadsOfADeletedAccountAreClaimedAtOnce(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewUploadStore(db)
	ctx := context.Background()
	who := owner(t, db)
	u := newUpload(t, s, who, 24*time.Hour)
	if _, err := s.UpdateUpload(ctx, u.ID, func(u domain.Upload) (domain.Upload, error) {
		return u.Verify(domain.ObjectInfo{Size: 10, ContentType: "text/plain"}, uploadT0), nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, "DELETE FROM users WHERE id = $1", string(who)); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetUpload(ctx, u.ID)
	if err != nil || got.Owner != "" {
		t.Fatalf("upload of a deleted account: %+v, %v", got, err)
	}
	var removed []string
	n, err := s.DeleteExpiredUploads(ctx, uploadT0, 10, func(_ context.Context, u domain.Upload) error {
		removed = append(removed, u.Key)
		return nil
	})
	if n != 1 || err != nil || len(removed) != 1 || removed[0] != u.Key {
		t.Fatalf("cleaner: %d, %v, %v", n, err, removed)
	}
}
