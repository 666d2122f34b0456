package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/domain"
)

func TestNewPhoneNumber(t *testing.T) {
	tests := []struct {
		name              string
		cc, pure, full    string
		want              domain.PhoneNumber
		wantErr           bool
		errMustNotContain string
	}{
		{name: "mainland China", cc: "86", pure: "13800138000", full: "13800138000",
			want: domain.PhoneNumber{CountryCode: "86", PureNumber: "13800138000", Number: "13800138000"}},
		{name: "a leading plus on the country code is dropped", cc: "+1", pure: "2025550123", full: "+1 2025550123",
			want: domain.PhoneNumber{CountryCode: "1", PureNumber: "2025550123", Number: "+1 2025550123"}},
		{name: "surrounding spaces are trimmed", cc: " 852 ", pure: " 51234567 ", full: " +852 51234567 ",
			want: domain.PhoneNumber{CountryCode: "852", PureNumber: "51234567", Number: "+852 51234567"}},
		{name: "empty country code", cc: "", pure: "13800138000", full: "13800138000", wantErr: true},
		{name: "country code of 5 digits", cc: "12345", pure: "1", full: "1", wantErr: true},
		{name: "country code with letters", cc: "8a", pure: "1", full: "1", wantErr: true},
		{name: "empty pure number", cc: "86", pure: "", full: "x", wantErr: true},
		{name: "pure number with a hyphen", cc: "86", pure: "138-0013-8000", full: "13800138000", wantErr: true,
			errMustNotContain: "138-0013-8000"},
		{name: "pure number of 21 digits", cc: "86", pure: strings.Repeat("1", 21), full: "1", wantErr: true},
		{name: "empty full number", cc: "86", pure: "13800138000", full: " ", wantErr: true},
		{name: "full number over 32 bytes", cc: "86", pure: "1", full: strings.Repeat("1", 33), wantErr: true},
		{name: "full number with a control character", cc: "86", pure: "1", full: "138\n00", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := domain.NewPhoneNumber(tt.cc, tt.pure, tt.full)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got %+v, want an error", got)
				}
				if tt.errMustNotContain != "" && strings.Contains(err.Error(), tt.errMustNotContain) {
					t.Fatalf("the error %q repeats the number", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestWeChatPhoneBindTo(t *testing.T) {
	now := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	p := domain.WeChatPhone{
		PhoneNumber:    domain.PhoneNumber{CountryCode: "86", PureNumber: "13800138000", Number: "13800138000"},
		WatermarkAppID: "wxa",
	}
	tests := []struct {
		name     string
		app      domain.AppID
		wantCode domain.Code // "" means bound
	}{
		{name: "the session's own mini-program binds", app: "wxa"},
		{name: "another mini-program's number is refused", app: "wxb", wantCode: domain.CodePhoneAppMismatch},
		{name: "a session of no mini-program is refused", app: "", wantCode: domain.CodePhoneAppMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.BindTo(tt.app, now)
			if tt.wantCode != "" {
				if domain.ErrorCode(err) != tt.wantCode {
					t.Fatalf("err %v, want %s", err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := domain.UserPhone{PhoneNumber: p.PhoneNumber, AppID: tt.app, BoundAt: now}
			if got != want {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestNormalizePhoneCode(t *testing.T) {
	tests := []struct {
		name      string
		code      string
		want      string
		wantField string // "field:code"; "" means valid
	}{
		{name: "WeChat's 64 hex characters", code: strings.Repeat("e3", 32), want: strings.Repeat("e3", 32)},
		{name: "trimmed", code: "  phone-13800138000\t", want: "phone-13800138000"},
		{name: "blank", code: "  ", wantField: "code:required"},
		{name: "over 128 bytes", code: strings.Repeat("a", 129), wantField: "code:too_long"},
		{name: "a control character", code: "ab\x01cd", wantField: "code:invalid_characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := domain.NormalizePhoneCode(tt.code)
			if tt.wantField == "" {
				if err != nil || got != tt.want {
					t.Fatalf("got %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			e, ok := err.(*domain.Error)
			if !ok || len(e.Fields) != 1 || e.Fields[0].Field+":"+e.Fields[0].Code != tt.wantField {
				t.Fatalf("err %v, want field error %s", err, tt.wantField)
			}
		})
	}
}

func TestPhoneSearchDigits(t *testing.T) {
	tests := []struct {
		search, want string
	}{
		{"13800138000", "13800138000"},
		{"+86 138-0013-8000", "8613800138000"},
		{" (202) 555.0123 ", "2025550123"},
		{"8000", "8000"},
		{"800", ""},                   // too short to be a number
		{"alice", ""},                 // a nickname
		{"138abc", ""},                // mixed
		{"++86138", ""},               // one plus only
		{strings.Repeat("1", 25), ""}, // longer than any number
		{"", ""},
	}
	for _, tt := range tests {
		if got := domain.PhoneSearchDigits(tt.search); got != tt.want {
			t.Errorf("PhoneSearchDigits(%q) = %q, want %q", tt.search, got, tt.want)
		}
	}
}
