package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/domain"
)

// A user deleted between a request's token check and its write makes the
// write's foreign key fail. For a session or an upload that is the
// caller's account gone (401 session_revoked, which those operations
// declare), never an unclassified 500. (A task's store answers its own
// "user does not exist" 404: TestCreateTodoForAMissingUserIsNotFound.)
func TestWritesForADeletedUserAnswerAccountGone(t *testing.T) {
	db := pgtest.NewDB(t)
	ctx := context.Background()
	users := postgres.NewUserStore(db)
	gone := newUser(t, users, "gone-"+uuid.NewString()).ID
	if _, err := users.DeleteUser(ctx, gone, time.Now()); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}

	sessions := postgres.NewSessionStore(db)
	_, err := sessions.CreateSession(ctx, policy.Start(gone, "wxapp", "WeChat/8.0", t0), newToken(t).Hash())
	wantAccountGone(t, "CreateSession", err)

	uploads := postgres.NewUploadStore(db)
	u := domain.NewUpload(domain.UploadID(uuid.NewString()), gone, domain.UploadRequest{
		Purpose: domain.PurposeAttachment, ContentType: "text/plain", Size: 10, FileName: "a.txt",
	}, uploadT0, time.Hour)
	wantAccountGone(t, "CreateUpload", uploads.CreateUpload(ctx, u))

}

func wantAccountGone(t *testing.T, what string, err error) {
	t.Helper()
	if code := domain.ErrorCode(err); code != domain.CodeSessionRevoked {
		t.Errorf("%s for a deleted user: code %q (%v), want %q", what, code, err, domain.CodeSessionRevoked)
	}
}
