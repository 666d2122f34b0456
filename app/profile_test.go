package app_test

import (
	"context"
	"testing"

	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
)

func strp(s string) *string { return &s }

func TestProfilesUpdateAppliesTheNormalisedPatchInsideTheStoreTransaction(t *testing.T) {
	before := domain.User{ID: "u-1", Nickname: "old", Bio: "keep me"}
	uc := app.Profiles{Users: fakeUsers{update: func(_ context.Context, id domain.UserID, fn func(domain.User) (domain.User, error)) (domain.User, error) {
		if id != "u-1" {
			t.Errorf("updated user %q, want the caller", id)
		}
		return fn(before)
	}}}
	got, err := uc.Update(context.Background(), "u-1", "", domain.ProfilePatch{Nickname: strp("  Alice  ")})
	if err != nil {
		t.Fatal(err)
	}
	if got.Nickname != "Alice" || got.Bio != "keep me" {
		t.Errorf("got %+v, want trimmed nickname and untouched bio", got)
	}
}

func TestProfilesUpdateRejectsABadPatchBeforeTouchingTheStore(t *testing.T) {
	uc := app.Profiles{Users: fakeUsers{}} // a store call would panic
	_, err := uc.Update(context.Background(), "u-1", "", domain.ProfilePatch{Nickname: strp("   ")})
	if codeOf(err) != domain.CodeInvalid {
		t.Fatalf("err = %v, want validation_failed", err)
	}
}

func TestProfilesGetPassesNotFoundThrough(t *testing.T) {
	uc := app.Profiles{Users: fakeUsers{get: func(context.Context, domain.UserID) (domain.User, error) {
		return domain.User{}, domain.Errorf(domain.CodeNotFound, "no such user")
	}}}
	_, err := uc.Get(context.Background(), "gone")
	if codeOf(err) != domain.CodeNotFound {
		t.Fatalf("err = %v, want not_found", err)
	}
}

func TestProfilesUpdateAcceptsTheCurrentAvatarURLBack(t *testing.T) {
	const current = "http://old-host.example.com/a.png"
	stored := domain.User{ID: "u-1", AvatarURL: current}
	uc := app.Profiles{Links: fakeLinks{}, Users: fakeUsers{
		get: func(context.Context, domain.UserID) (domain.User, error) { return stored, nil },
		update: func(_ context.Context, _ domain.UserID, fn func(domain.User) (domain.User, error)) (domain.User, error) {
			return fn(stored)
		}}}
	if got, err := uc.Update(context.Background(), "u-1", "", domain.ProfilePatch{AvatarURL: strp(current)}); err != nil || got.AvatarURL != current {
		t.Fatalf("sending back the current avatar_url: %+v, %v", got, err)
	}
	if _, err := uc.Update(context.Background(), "u-1", "", domain.ProfilePatch{AvatarURL: strp("http://other.example.com/a.png")}); codeOf(err) != domain.CodeInvalid {
		t.Errorf("another http avatar_url: %v, want validation_failed", err)
	}
}
