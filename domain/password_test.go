package domain_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/miniback/miniback/domain"
)

func TestParseUsername(t *testing.T) {
	for _, tc := range []struct {
		in, want, code string
	}{
		{"alice", "alice", ""},
		{"  Alice.Smith_2-x ", "alice.smith_2-x", ""},
		{"abc", "abc", ""},
		{strings.Repeat("a", 32), strings.Repeat("a", 32), ""},
		{"7up", "7up", ""},
		{"", "", "required"},
		{"   ", "", "required"},
		{"ab", "", "too_short"},
		{strings.Repeat("a", 33), "", "too_long"},
		{"_alice", "", "invalid_format"},
		{".alice", "", "invalid_format"},
		{"alice@example.com", "", "invalid_characters"},
		{"al ice", "", "invalid_characters"},
		{"小明小明", "", "invalid_format"},
		{"ålice", "", "invalid_format"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, fe := domain.ParseUsername("username", tc.in)
			code := ""
			if fe != nil {
				code = fe.Code
				if fe.Field != "username" || fe.Message == "" {
					t.Errorf("field error %+v", fe)
				}
			}
			if string(got) != tc.want || code != tc.code {
				t.Errorf("ParseUsername(%q) = %q, %q; want %q, %q", tc.in, got, code, tc.want, tc.code)
			}
		})
	}
}

func TestParseUsernameRefusesEveryNonASCIIName(t *testing.T) {
	for _, in := range []string{"小明小明小明", "aliceé", "alice\u200b"} {
		if _, fe := domain.ParseUsername("username", in); fe == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestParseEmail(t *testing.T) {
	for _, tc := range []struct {
		in, want, code string
	}{
		{"alice@example.com", "alice@example.com", ""},
		{"  Alice.Smith+tag@Example.COM\t", "alice.smith+tag@example.com", ""},
		{"a@b.cn", "a@b.cn", ""},
		{"", "", "required"},
		{"alice", "", "invalid_email"},
		{"alice@localhost", "", "invalid_email"},
		{"alice@example.com.", "", "invalid_email"},
		{"Alice <alice@example.com>", "", "invalid_email"},
		{"<alice@example.com>", "", "invalid_email"},
		{"alice@@example.com", "", "invalid_email"},
		{`"a@b"@example.com`, "", "invalid_email"},
		{"alice@[192.0.2.1]", "", "invalid_email"},
		{"a b@example.com", "", "invalid_email"},
		{strings.Repeat("a", 65) + "@example.com", "", "invalid_email"},
		{"a@" + strings.Repeat("b", 250) + ".com", "", "too_long"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, fe := domain.ParseEmail("email", tc.in)
			code := ""
			if fe != nil {
				code = fe.Code
			}
			if string(got) != tc.want || code != tc.code {
				t.Errorf("ParseEmail(%q) = %q, %q; want %q, %q", tc.in, got, code, tc.want, tc.code)
			}
		})
	}
}

func TestParseLoginNameTellsEmailsFromUsernames(t *testing.T) {
	for in, want := range map[string]domain.LoginName{
		" Alice ":            {Value: "alice"},
		"Alice@Example.com ": {Value: "alice@example.com", IsEmail: true},
		"no such user!":      {Value: "no such user!"},
	} {
		if got := domain.ParseLoginName(in); got != want {
			t.Errorf("ParseLoginName(%q) = %+v, want %+v", in, got, want)
		}
	}
}

func TestCheckNewPassword(t *testing.T) {
	for _, tc := range []struct {
		name     string
		password domain.Password
		code     string
	}{
		{"eight characters are enough", "xk4#pq9!", ""},
		{"CJK characters count as one each", "我的密码不是常见的", ""},
		{"spaces are allowed", "correct horse battery staple", ""},
		{"128 characters fit", domain.Password(strings.Repeat("长", 128)), ""},
		{"empty", "", "required"},
		{"seven characters are too short", "xk4#pq9", "too_short"},
		{"seven CJK characters are too short", "我的密码不常见", "too_short"},
		{"129 characters are too long", domain.Password(strings.Repeat("x", 129)), "too_long"},
		{"a common password", "password", "too_common"},
		{"a common password in other case", "PassWord1", "too_common"},
		{"a common password typed full-width", "ｐａｓｓｗｏｒｄ", "too_common"},
		{"a common digit run", "12345678", "too_common"},
		{"the username", "Alice2024", "same_as_username"},
		{"the email", "ALICE@example.com", "same_as_email"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fe := domain.CheckNewPassword("password", tc.password, "alice2024", "alice@example.com")
			code := ""
			if fe != nil {
				code = fe.Code
				if fe.Field != "password" || fe.Message == "" {
					t.Errorf("field error %+v", fe)
				}
				// ("password" itself is a word of the messages.)
				if tc.password != "" && tc.password != "password" && strings.Contains(fe.Message, tc.password.Reveal()) {
					t.Errorf("the message quotes the password: %q", fe.Message)
				}
			}
			if code != tc.code {
				t.Errorf("CheckNewPassword = %q, want %q", code, tc.code)
			}
		})
	}
}

func TestTheCommonPasswordListIsShippedWhole(t *testing.T) {
	if n := domain.CommonPasswordCount(); n < 10000 {
		t.Errorf("the common-password list holds %d passwords, want at least 10,000", n)
	}
}

func TestPasswordsAndHashesNeverPrint(t *testing.T) {
	p := domain.Password("hunter2-secret")
	h := domain.PasswordHash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA")
	c := domain.PasswordCredential{UserID: "u", Username: "alice", Hash: h}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "password", p, "hash", h, "credential", c)
	for _, s := range []string{fmt.Sprintf("%v %+v %#v %s %v %+v %#v", p, p, p, h, c, c, c), logged.String()} {
		if strings.Contains(s, "hunter2") || strings.Contains(s, "argon2id") {
			t.Errorf("a secret printed: %s", s)
		}
	}
	if p.Reveal() != "hunter2-secret" || h.Reveal() != string(h) {
		t.Error("Reveal must return the raw values")
	}
}
