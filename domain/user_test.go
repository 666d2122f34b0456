package domain_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/miniback/miniback/domain"
)

func strp(s string) *string { return &s }

func TestProfilePatchNormalize(t *testing.T) {
	tests := []struct {
		name       string
		patch      domain.ProfilePatch
		avatar     domain.AvatarURLRules
		wantFields []string // "field:code" of each broken rule; nil means valid
		check      func(t *testing.T, p domain.ProfilePatch)
	}{
		{name: "nickname is trimmed", patch: domain.ProfilePatch{Nickname: strp("  小明 ")},
			check: func(t *testing.T, p domain.ProfilePatch) {
				if *p.Nickname != "小明" {
					t.Errorf("nickname %q", *p.Nickname)
				}
			}},
		{name: "nickname of 64 CJK characters fits", patch: domain.ProfilePatch{Nickname: strp(strings.Repeat("字", 64))}},
		{name: "nickname of 65 characters is too long", patch: domain.ProfilePatch{Nickname: strp(strings.Repeat("a", 65))}, wantFields: []string{"nickname:too_long"}},
		{name: "blank nickname is refused", patch: domain.ProfilePatch{Nickname: strp(" \t ")}, wantFields: []string{"nickname:required"}},
		{name: "control characters in nickname are refused", patch: domain.ProfilePatch{Nickname: strp("a\x00b")}, wantFields: []string{"nickname:invalid_characters"}},
		{name: "bio may be cleared", patch: domain.ProfilePatch{Bio: strp("")}},
		{name: "bio of 501 characters is too long", patch: domain.ProfilePatch{Bio: strp(strings.Repeat("é", 501))}, wantFields: []string{"bio:too_long"}},
		{name: "https avatar is accepted", patch: domain.ProfilePatch{AvatarURL: strp("https://cdn.example.com/a.png")}},
		{name: "avatar may be cleared", patch: domain.ProfilePatch{AvatarURL: strp("")}},
		{name: "http avatar is refused", patch: domain.ProfilePatch{AvatarURL: strp("http://cdn.example.com/a.png")}, wantFields: []string{"avatar_url:invalid_url"}},
		{name: "javascript avatar is refused", patch: domain.ProfilePatch{AvatarURL: strp("javascript:alert(1)")}, wantFields: []string{"avatar_url:invalid_url"}},
		{name: "avatar with credentials is refused", patch: domain.ProfilePatch{AvatarURL: strp("https://u:p@cdn.example.com/a.png")}, wantFields: []string{"avatar_url:invalid_url"}},
		{name: "avatar over 1024 bytes is refused", patch: domain.ProfilePatch{AvatarURL: strp("https://x.example.com/" + strings.Repeat("a", 1010))}, wantFields: []string{"avatar_url:too_long"}},
		{name: "an avatar link the server issued is accepted whatever its scheme",
			patch: domain.ProfilePatch{AvatarURL: strp("http://localhost:8080/v1/avatars/a")}, avatar: devLinks},
		{name: "the current avatar is accepted back unchanged",
			patch: domain.ProfilePatch{AvatarURL: strp(" http://old.example.com/a.png ")}, avatar: domain.AvatarURLRules{Current: "http://old.example.com/a.png"}},
		{name: "another http avatar is refused whatever the server issued",
			patch:  domain.ProfilePatch{AvatarURL: strp("http://cdn.example.com/a.png")},
			avatar: domain.AvatarURLRules{Current: "http://old.example.com/a.png", Issued: devLinks.Issued}, wantFields: []string{"avatar_url:invalid_url"}},
		{name: "empty patch is refused", patch: domain.ProfilePatch{}, wantFields: []string{"body:empty_patch"}},
		{name: "every broken rule is reported at once",
			patch:      domain.ProfilePatch{Nickname: strp(""), Bio: strp(strings.Repeat("b", 600)), AvatarURL: strp("ftp://x")},
			wantFields: []string{"nickname:required", "bio:too_long", "avatar_url:invalid_url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.patch.Normalize(tt.avatar)
			if tt.wantFields == nil {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if tt.check != nil {
					tt.check(t, got)
				}
				return
			}
			if domain.ErrorCode(err) != domain.CodeInvalid {
				t.Fatalf("err = %v, want validation_failed", err)
			}
			var fields []string
			for _, f := range err.(*domain.Error).Fields {
				fields = append(fields, f.Field+":"+f.Code)
			}
			if strings.Join(fields, ",") != strings.Join(tt.wantFields, ",") {
				t.Errorf("fields %v, want %v", fields, tt.wantFields)
			}
		})
	}
}

// devLinks recognises the avatar links of a development server.
var devLinks = domain.AvatarURLRules{Issued: func(url string) bool { return url == "http://localhost:8080/v1/avatars/a" }}

func TestProfilePatchApplyChangesOnlySetFields(t *testing.T) {
	u := domain.User{ID: "u", Nickname: "a", AvatarURL: "https://x/a", Bio: "b"}
	got := domain.ProfilePatch{Bio: strp("new")}.Apply(u)
	if got.Nickname != "a" || got.AvatarURL != "https://x/a" || got.Bio != "new" || got.ID != "u" {
		t.Errorf("got %+v", got)
	}
}

func TestSessionKeyNeverPrints(t *testing.T) {
	id := domain.WeChatIdentity{OpenID: "o", SessionKey: "c2Vzc2lvbi1rZXk="}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("login", "identity", id, "key", id.SessionKey)
	for _, s := range []string{fmt.Sprint(id), fmt.Sprintf("%v %+v %#v %s", id, id, id, id.SessionKey), logged.String()} {
		if strings.Contains(s, "c2Vzc2lvbi1rZXk=") {
			t.Errorf("session key printed: %s", s)
		}
	}
	if id.SessionKey.Reveal() != "c2Vzc2lvbi1rZXk=" {
		t.Error("Reveal must return the raw key")
	}
}

func TestErrorCodeAndMessageHideUnclassifiedErrors(t *testing.T) {
	classified := fmt.Errorf("wrapped: %w", &domain.Error{Code: domain.CodeNotFound, Message: "No such user.", Err: fmt.Errorf("sql: secret detail")})
	if domain.ErrorCode(classified) != domain.CodeNotFound || domain.ErrorMessage(classified) != "No such user." {
		t.Errorf("classified: %s / %s", domain.ErrorCode(classified), domain.ErrorMessage(classified))
	}
	raw := fmt.Errorf("dial tcp 10.0.0.1:5432: connection refused")
	if domain.ErrorCode(raw) != domain.CodeInternal || strings.Contains(domain.ErrorMessage(raw), "10.0.0.1") {
		t.Errorf("raw: %s / %s", domain.ErrorCode(raw), domain.ErrorMessage(raw))
	}
}
