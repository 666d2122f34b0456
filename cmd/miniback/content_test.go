package main

import (
	"bytes"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/domain"
)

func TestLoadConfigContentChecksDefaultToNicknameBioAvatarAndAccept(t *testing.T) {
	cfg, err := LoadConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := cfg.ContentChecks()
	if err != nil {
		t.Fatal(err)
	}
	want := []domain.ContentField{domain.FieldNickname, domain.FieldBio, domain.FieldAvatar}
	if !slices.Equal(cc.Fields, want) || cc.OnFailure != domain.ContentAccept {
		t.Errorf("default checks %v, on failure %q; want %v, accept", cc.Fields, cc.OnFailure, want)
	}
	if cfg.ContentMediaURLTTL != 24*time.Hour {
		t.Errorf("media URL TTL %s, want 24h", cfg.ContentMediaURLTTL)
	}
}

func TestLoadConfigReadsContentCheckSettings(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     []string
		fields  []domain.ContentField
		failure domain.ContentFailurePolicy
	}{
		{"none checks nothing", []string{"MINIBACK_CONTENT_CHECK=none"}, []domain.ContentField{}, domain.ContentAccept},
		{"off is none", []string{"MINIBACK_CONTENT_CHECK=OFF"}, []domain.ContentField{}, domain.ContentAccept},
		{"all checks every field", []string{"MINIBACK_CONTENT_CHECK=all"}, domain.ContentFields, domain.ContentAccept},
		{"a list, in its order, once each, any case", []string{"MINIBACK_CONTENT_CHECK= bio, Nickname,bio,todo_title"},
			[]domain.ContentField{domain.FieldBio, domain.FieldNickname, domain.FieldTodoTitle}, domain.ContentAccept},
		{"blank is the default", []string{"MINIBACK_CONTENT_CHECK=  "}, domain.DefaultContentFields, domain.ContentAccept},
		{"refuse", []string{"MINIBACK_CONTENT_CHECK_FAILURE=refuse"}, domain.DefaultContentFields, domain.ContentRefuse},
		{"refuse in capitals, spaced", []string{"MINIBACK_CONTENT_CHECK_FAILURE= REFUSE "}, domain.DefaultContentFields, domain.ContentRefuse},
		{"accept", []string{"MINIBACK_CONTENT_CHECK=nickname", "MINIBACK_CONTENT_CHECK_FAILURE=accept"},
			[]domain.ContentField{domain.FieldNickname}, domain.ContentAccept},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := LoadConfig(tc.env)
			if err != nil {
				t.Fatal(err)
			}
			cc, err := cfg.ContentChecks()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cc.Fields, tc.fields) || cc.OnFailure != tc.failure {
				t.Errorf("checks %v, on failure %q; want %v, %q", cc.Fields, cc.OnFailure, tc.fields, tc.failure)
			}
		})
	}
}

func TestLoadConfigRefusesBadContentCheckSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		want []string
	}{
		{"unknown field", []string{"MINIBACK_CONTENT_CHECK=nickname,email"},
			[]string{`MINIBACK_CONTENT_CHECK: unknown content field "email" (known: nickname, bio,`}},
		{"no field", []string{"MINIBACK_CONTENT_CHECK=,"}, []string{"MINIBACK_CONTENT_CHECK: no content field"}},
		{"unknown policy", []string{"MINIBACK_CONTENT_CHECK_FAILURE=reject"},
			[]string{`MINIBACK_CONTENT_CHECK_FAILURE must be accept or refuse, not "reject"`}},
		{"media URL TTL too short", []string{"MINIBACK_CONTENT_MEDIA_URL_TTL=5m"}, []string{"MINIBACK_CONTENT_MEDIA_URL_TTL must be between 10m and 168h"}},
		{"both settings bad: both named", []string{"MINIBACK_CONTENT_CHECK=nickname,email", "MINIBACK_CONTENT_CHECK_FAILURE=reject"},
			[]string{`MINIBACK_CONTENT_CHECK: unknown content field "email"`, `MINIBACK_CONTENT_CHECK_FAILURE must be accept or refuse, not "reject"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(tc.env)
			if err == nil {
				t.Fatalf("loaded; want an error saying %q", tc.want)
			}
			for _, w := range tc.want {
				// Each problem is a line of its own in the message.
				if !strings.Contains(err.Error(), "\n  "+w) {
					t.Errorf("err = %v\nwant a line %q", err, w)
				}
			}
		})
	}
}

func TestContentChecksNamesBothBadSettings(t *testing.T) {
	cfg := Config{ContentCheck: "nickname,email", ContentCheckFailure: "reject"}
	_, err := cfg.ContentChecks()
	if err == nil || !strings.Contains(err.Error(), "MINIBACK_CONTENT_CHECK:") || !strings.Contains(err.Error(), "MINIBACK_CONTENT_CHECK_FAILURE") {
		t.Fatalf("err = %v, want both MINIBACK_CONTENT_CHECK and MINIBACK_CONTENT_CHECK_FAILURE named", err)
	}
}

func TestContentChecksStartUpLogSaysWhatIsCheckedAndWhatToConfigure(t *testing.T) {
	for _, tc := range []struct {
		name  string
		env   []string
		want  []string // substrings of log lines, in order
		never string   // a line that must not appear
	}{
		{"the default: text and avatars, images by push", nil, []string{
			`"msg":"content security: WeChat checks user content (msgSecCheck, mediaCheckAsync)","fields":"nickname,bio,avatar","on_failure":"accept"`,
			`"msg":"content security: image verdicts arrive by message push (wxa_media_check); configure the push URL`,
		}, ""},
		{"text only, refusing unchecked text", []string{"MINIBACK_CONTENT_CHECK=nickname,bio", "MINIBACK_CONTENT_CHECK_FAILURE=refuse"}, []string{
			`"fields":"nickname,bio","on_failure":"refuse"`,
		}, "image verdicts"},
		{"none", []string{"MINIBACK_CONTENT_CHECK=none"}, []string{
			`"msg":"content security: off (MINIBACK_CONTENT_CHECK=none)"`,
		}, "WeChat checks user content"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := LoadConfig(tc.env)
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			m := &Main{Config: cfg, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
			cc := m.contentChecks()
			if want, _ := cfg.ContentChecks(); !slices.Equal(cc.Fields, want.Fields) || cc.OnFailure != want.OnFailure {
				t.Errorf("contentChecks() = %+v, want %+v", cc, want)
			}
			out := logs.String()
			for _, w := range tc.want {
				i := strings.Index(out, w)
				if i < 0 {
					t.Fatalf("log lacks %q:\n%s", w, out)
				}
				out = out[i+len(w):]
			}
			if tc.never != "" && strings.Contains(logs.String(), tc.never) {
				t.Errorf("log says %q:\n%s", tc.never, logs.String())
			}
		})
	}
}
