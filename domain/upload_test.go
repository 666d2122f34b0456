package domain_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/domain"
)

// uploadFieldCodes lists err's field errors as "field:code".
func uploadFieldCodes(err error) []string {
	var e *domain.Error
	if !errors.As(err, &e) {
		return nil
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field+":"+f.Code)
	}
	return out
}

func TestUploadRulesCheck(t *testing.T) {
	rules := domain.DefaultUploadRules()
	tests := []struct {
		name string
		req  domain.UploadRequest
		want []string // "field:code"; nil means accepted
		out  domain.UploadRequest
	}{
		{name: "a JPEG avatar within the limit is accepted",
			req: domain.UploadRequest{Purpose: "avatar", ContentType: "image/jpeg", Size: 5 << 20, FileName: "me.jpg"},
			out: domain.UploadRequest{Purpose: "avatar", ContentType: "image/jpeg", Size: 5 << 20, FileName: "me.jpg"}},
		{name: "the content type is normalised",
			req: domain.UploadRequest{Purpose: "attachment", ContentType: " Text/Plain; charset=UTF-8 ", Size: 1},
			out: domain.UploadRequest{Purpose: "attachment", ContentType: "text/plain", Size: 1}},
		{name: "the file name keeps its last element only",
			req: domain.UploadRequest{Purpose: "attachment", ContentType: "application/pdf", Size: 1, FileName: `C:\Users\me\..\报告.pdf`},
			out: domain.UploadRequest{Purpose: "attachment", ContentType: "application/pdf", Size: 1, FileName: "报告.pdf"}},
		{name: "control characters leave the file name",
			req: domain.UploadRequest{Purpose: "attachment", ContentType: "application/pdf", Size: 1, FileName: "a\x00b\n.pdf"},
			out: domain.UploadRequest{Purpose: "attachment", ContentType: "application/pdf", Size: 1, FileName: "ab.pdf"}},
		{name: "a file name of dots is dropped",
			req: domain.UploadRequest{Purpose: "attachment", ContentType: "application/pdf", Size: 1, FileName: "../.."},
			out: domain.UploadRequest{Purpose: "attachment", ContentType: "application/pdf", Size: 1}},
		{name: "an avatar one byte over the limit is refused",
			req:  domain.UploadRequest{Purpose: "avatar", ContentType: "image/png", Size: 5<<20 + 1},
			want: []string{"size:too_large"}},
		{name: "an attachment may be larger than an avatar",
			req: domain.UploadRequest{Purpose: "attachment", ContentType: "video/mp4", Size: 20 << 20},
			out: domain.UploadRequest{Purpose: "attachment", ContentType: "video/mp4", Size: 20 << 20}},
		{name: "a type the purpose does not allow is refused",
			req:  domain.UploadRequest{Purpose: "avatar", ContentType: "image/gif", Size: 1},
			want: []string{"content_type:not_allowed"}},
		{name: "HTML is never allowed",
			req:  domain.UploadRequest{Purpose: "attachment", ContentType: "text/html", Size: 1},
			want: []string{"content_type:not_allowed"}},
		{name: "a type that is not a media type is refused",
			req:  domain.UploadRequest{Purpose: "attachment", ContentType: "png", Size: 1},
			want: []string{"content_type:invalid_format"}},
		{name: "a wildcard is not a concrete type",
			req:  domain.UploadRequest{Purpose: "attachment", ContentType: "image/*", Size: 1},
			want: []string{"content_type:invalid_format"}},
		{name: "an empty file is refused",
			req:  domain.UploadRequest{Purpose: "attachment", ContentType: "text/plain", Size: 0},
			want: []string{"size:out_of_range"}},
		{name: "an unknown purpose is refused and its limits are not guessed",
			req:  domain.UploadRequest{Purpose: "banner", ContentType: "image/png", Size: 1 << 40},
			want: []string{"purpose:invalid_value"}},
		{name: "a long file name is refused",
			req:  domain.UploadRequest{Purpose: "attachment", ContentType: "text/plain", Size: 1, FileName: strings.Repeat("a", 256)},
			want: []string{"file_name:too_long"}},
		{name: "every broken rule is reported at once",
			req:  domain.UploadRequest{Purpose: "avatar", ContentType: "application/pdf", Size: -1},
			want: []string{"content_type:not_allowed", "size:out_of_range"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rules.Check(tt.req)
			if tt.want == nil {
				if err != nil || got != tt.out {
					t.Fatalf("Check = %+v, %v; want %+v", got, err, tt.out)
				}
				return
			}
			if domain.ErrorCode(err) != domain.CodeInvalid || fmt.Sprint(uploadFieldCodes(err)) != fmt.Sprint(tt.want) {
				t.Fatalf("err = %v %v; want %v", err, uploadFieldCodes(err), tt.want)
			}
		})
	}
}

func TestObjectKeyComesFromThePurposeTheIDAndTheType(t *testing.T) {
	tests := []struct {
		purpose domain.UploadPurpose
		ct      string
		want    string
	}{
		{"avatar", "image/jpeg", "avatar/0f0f.jpg"},
		{"attachment", "application/pdf", "attachment/0f0f.pdf"},
		{"attachment", "application/x-unknown", "attachment/0f0f"},
	}
	for _, tt := range tests {
		if got := domain.ObjectKey(tt.purpose, "0f0f", tt.ct); got != tt.want {
			t.Errorf("ObjectKey(%s, %s) = %s, want %s", tt.purpose, tt.ct, got, tt.want)
		}
	}
}

func TestVerifyDecidesFromWhatTheStorageHolds(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	u := domain.NewUpload("id", "owner", domain.UploadRequest{Purpose: "avatar", ContentType: "image/png", Size: 100}, now, time.Hour)
	tests := []struct {
		name   string
		got    domain.ObjectInfo
		status domain.UploadStatus
		reason domain.Code
	}{
		{"the promised size and type make it ready", domain.ObjectInfo{Size: 100, ContentType: "image/png"}, domain.UploadReady, ""},
		{"type parameters and case do not matter", domain.ObjectInfo{Size: 100, ContentType: "IMAGE/PNG; q=1"}, domain.UploadReady, ""},
		{"a byte more rejects it", domain.ObjectInfo{Size: 101, ContentType: "image/png"}, domain.UploadRejected, domain.CodeUploadSizeMismatch},
		{"a byte less rejects it", domain.ObjectInfo{Size: 99, ContentType: "image/png"}, domain.UploadRejected, domain.CodeUploadSizeMismatch},
		{"another type rejects it", domain.ObjectInfo{Size: 100, ContentType: "image/jpeg"}, domain.UploadRejected, domain.CodeUploadTypeMismatch},
		{"no type rejects it", domain.ObjectInfo{Size: 100}, domain.UploadRejected, domain.CodeUploadTypeMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := u.Verify(tt.got, now.Add(time.Minute))
			if v.Status != tt.status || v.RejectReason != tt.reason {
				t.Fatalf("Verify = %s %s; want %s %s", v.Status, v.RejectReason, tt.status, tt.reason)
			}
			if (v.Status == domain.UploadReady) != !v.CompletedAt.IsZero() {
				t.Errorf("completed_at %v with status %s", v.CompletedAt, v.Status)
			}
			if v.Status == domain.UploadRejected && v.Rejection().Code != tt.reason {
				t.Errorf("rejection code %s", v.Rejection().Code)
			}
		})
	}
}

func TestUsableNeedsAReadyUploadOfThePurpose(t *testing.T) {
	u := domain.Upload{Purpose: domain.PurposeAvatar, Status: domain.UploadPending}
	if got := domain.ErrorCode(u.Usable(domain.PurposeAvatar)); got != domain.CodeUploadNotReady {
		t.Errorf("pending: %s", got)
	}
	u.Status = domain.UploadRejected
	if got := domain.ErrorCode(u.Usable(domain.PurposeAvatar)); got != domain.CodeUploadNotReady {
		t.Errorf("rejected: %s", got)
	}
	u.Status = domain.UploadReady
	if err := u.Usable(domain.PurposeAvatar); err != nil {
		t.Errorf("ready avatar: %v", err)
	}
	if got := domain.ErrorCode(u.Usable(domain.PurposeAttachment)); got != domain.CodeUploadWrongPurpose {
		t.Errorf("avatar as attachment: %s", got)
	}
}

func TestProfilePatchWithAnAvatarUpload(t *testing.T) {
	id := domain.UploadID("0d2c6a4e-3a4b-4c5d-8e9f-0a1b2c3d4e5f")
	p, err := domain.ProfilePatch{AvatarUploadID: &id}.Normalize(domain.AvatarURLRules{})
	if err != nil || p.AvatarUploadID == nil || *p.AvatarUploadID != id {
		t.Fatalf("Normalize = %+v, %v", p, err)
	}
	_, err = domain.ProfilePatch{AvatarUploadID: &id, AvatarURL: strp("https://x.example.com/a.png")}.Normalize(domain.AvatarURLRules{})
	if got := fmt.Sprint(uploadFieldCodes(err)); got != "[avatar_upload_id:conflicting_fields]" {
		t.Errorf("both avatar fields: %s", got)
	}
}
