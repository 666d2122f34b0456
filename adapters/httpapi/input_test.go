package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/domain"
)

// fieldCodes returns a problem's field errors as field → code.
func fieldCodes(p api.Problem) map[string]string {
	m := map[string]string{}
	if p.Errors != nil {
		for _, f := range *p.Errors {
			m[f.Field] = f.Code
		}
	}
	return m
}

func TestMalformedJSONIsRefused(t *testing.T) {
	e := newEnv(t)
	for name, body := range map[string]string{
		"truncated":        `{"code":`,
		"trailing garbage": `{"code":"dev-alice"} {}`,
		"not JSON":         `code=dev-alice`,
	} {
		t.Run(name, func(t *testing.T) {
			res := e.apiFor(t).JSON("POST", "/v1/auth/wechat", body)
			if res.Status != http.StatusBadRequest || res.Problem().Code != string(domain.CodeMalformedJSON) {
				t.Fatalf("want 400 malformed_json\n%s", res)
			}
		})
	}
}

func TestLoginBodyBreakingTheSchemaNamesTheField(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name  string
		body  string
		field string
		code  string
	}{
		{"missing code", `{}`, "body.code", "required"},
		{"empty code", `{"code":""}`, "body.code", "required"},
		{"code not a string", `{"code":42}`, "body.code", "invalid_type"},
		{"code too long", `{"code":"` + strings.Repeat("x", 129) + `"}`, "body.code", "too_long"},
		{"unknown field", `{"code":"dev-alice","openid":"o123"}`, "body.openid", "unknown_field"},
		{"body not an object", `["dev-alice"]`, "body", "invalid_type"},
		{"no body", ``, "body", "required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.apiFor(t).JSON("POST", "/v1/auth/wechat", tc.body)
			if res.Status != http.StatusBadRequest {
				t.Fatalf("want 400\n%s", res)
			}
			p := res.Problem()
			if p.Code != string(domain.CodeInvalid) || fieldCodes(p)[tc.field] != tc.code {
				t.Errorf("want validation_failed with %s %s, got %s %v", tc.field, tc.code, p.Code, fieldCodes(p))
			}
		})
	}
}

func TestEveryBadFieldIsListed(t *testing.T) {
	e := newEnv(t)
	res := e.api.JSON("POST", "/v1/auth/wechat", `{"code":"","appid":7,"role":"admin","id":"x"}`)
	if res.Status != http.StatusBadRequest {
		t.Fatalf("want 400\n%s", res)
	}
	want := map[string]string{"body.code": "required", "body.appid": "invalid_type", "body.role": "unknown_field", "body.id": "unknown_field"}
	got := fieldCodes(res.Problem())
	for f, c := range want {
		if got[f] != c {
			t.Errorf("%s: code %q, want %q (all: %v)", f, got[f], c, got)
		}
	}
	if e.sim.Simulator().Calls() != 0 {
		t.Error("an invalid login reached WeChat")
	}
}

func TestOversizedBodyIsRefused(t *testing.T) {
	const limit = 2048
	e := newEnv(t, withMaxBody(limit))
	big := `{"code":"` + strings.Repeat("x", limit) + `"}`

	t.Run("declared length", func(t *testing.T) {
		res := e.apiFor(t).JSON("POST", "/v1/auth/wechat", big)
		if res.Status != http.StatusRequestEntityTooLarge || res.Problem().Code != string(domain.CodeBodyTooLarge) {
			t.Fatalf("want 413 body_too_large\n%s", res)
		}
	})
	t.Run("chunked", func(t *testing.T) {
		// No Content-Length: the limit is hit while reading.
		req, err := http.NewRequest("POST", "/v1/auth/wechat", io.NopCloser(strings.NewReader(big)))
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = -1
		req.Header.Set("Content-Type", "application/json")
		res := e.apiFor(t).Do(req)
		if res.Status != http.StatusRequestEntityTooLarge || res.Problem().Code != string(domain.CodeBodyTooLarge) {
			t.Fatalf("want 413 body_too_large\n%s", res)
		}
	})
	t.Run("within the limit", func(t *testing.T) {
		res := e.apiFor(t).JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-alice"})
		if res.Status != http.StatusOK {
			t.Fatalf("want 200\n%s", res)
		}
	})
}

func TestWrongContentTypeIsRefused(t *testing.T) {
	e := newEnv(t)
	for name, ct := range map[string]string{
		"text":        "text/plain",
		"form":        "application/x-www-form-urlencoded",
		"JSON latin1": "application/json; charset=latin1",
		"none":        "",
		"not a type":  "json",
	} {
		t.Run(name, func(t *testing.T) {
			res := e.apiFor(t).JSON("POST", "/v1/auth/wechat", `{"code":"dev-alice"}`, "Content-Type: "+ct)
			if res.Status != http.StatusUnsupportedMediaType || res.Problem().Code != string(domain.CodeUnsupportedMediaType) {
				t.Fatalf("want 415 unsupported_media_type\n%s", res)
			}
		})
	}
	res := e.api.JSON("POST", "/v1/auth/wechat", `{"code":"dev-alice"}`, "Content-Type: application/json; charset=UTF-8")
	if res.Status != http.StatusOK {
		t.Fatalf("application/json; charset=UTF-8: want 200\n%s", res)
	}
}
