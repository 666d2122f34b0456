package httpapi_test

import (
	"fmt"
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

// hasFieldError reports whether p lists field with code.
func hasFieldError(p api.Problem, field, code string) bool {
	if p.Errors != nil {
		for _, f := range *p.Errors {
			if f.Field == field && f.Code == code {
				return true
			}
		}
	}
	return false
}

// maxFieldErrors is the cap on a problem's field errors (openapi.yaml,
// Problem.errors).
const maxFieldErrors = 50

// keysBody is a WeChat login body with n unknown keys, or as many as fit
// in limit bytes when n is 0.
func keysBody(n, limit int) string {
	var b strings.Builder
	b.WriteString(`{"code":"dev-alice"`)
	for i := 0; n == 0 || i < n; i++ {
		k := fmt.Sprintf(`,"k%07d":0`, i)
		if n == 0 && b.Len()+len(k)+1 > limit {
			break
		}
		b.WriteString(k)
	}
	b.WriteString("}")
	return b.String()
}

func TestBodyOfUnknownKeysFillingTheLimitGetsABoundedAnswer(t *testing.T) {
	e := newEnv(t)
	body := keysBody(0, 1<<20)
	res := e.api.JSON("POST", "/v1/auth/wechat", body)
	if res.Status != http.StatusBadRequest || res.Problem().Code != string(domain.CodeInvalid) {
		t.Fatalf("want 400 validation_failed\n%.2000s", res)
	}
	got := fieldCodes(res.Problem())
	if n := len(*res.Problem().Errors); n > maxFieldErrors {
		t.Errorf("%d field errors, want at most %d", n, maxFieldErrors)
	}
	if got["body"] != "too_complex" {
		t.Errorf("want body too_complex, got %v", got)
	}
	if e.sim.Simulator().Calls() != 0 {
		t.Error("the body reached WeChat")
	}
}

func TestFieldErrorsAreCappedAndTheCutSaid(t *testing.T) {
	e := newEnv(t)
	// 998 unknown keys: with the body and code, 1,000 values, the most a
	// body may hold, so the schema validator lists them.
	res := e.api.JSON("POST", "/v1/auth/wechat", keysBody(998, 0))
	if res.Status != http.StatusBadRequest {
		t.Fatalf("want 400\n%.2000s", res)
	}
	p := res.Problem()
	if p.Errors == nil || len(*p.Errors) != maxFieldErrors {
		t.Fatalf("want exactly %d field errors\n%.2000s", maxFieldErrors, res)
	}
	for _, f := range *p.Errors {
		if f.Code != "unknown_field" || !strings.HasPrefix(f.Field, "body.k") {
			t.Errorf("field error %+v, want an unknown body.k… field", f)
		}
	}
	if p.Detail == nil || !strings.Contains(*p.Detail, fmt.Sprintf("than the %d listed", maxFieldErrors)) {
		t.Errorf("detail %v does not say the list was cut", p.Detail)
	}

	// Under the cap, every unknown key is listed and nothing is said cut.
	res = e.api.JSON("POST", "/v1/auth/wechat", keysBody(3, 0))
	p = res.Problem()
	if p.Errors == nil || len(*p.Errors) != 3 || p.Detail == nil || strings.Contains(*p.Detail, "listed") {
		t.Errorf("3 unknown keys: want 3 field errors and no cut\n%s", res)
	}
}

func TestBodyShapeLimits(t *testing.T) {
	e := newEnv(t)
	nested := func(depth int) string {
		// The body object is one level; n holds depth-1 more.
		return `{"code":"dev-alice","n":` + strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1) + `}`
	}
	values := func(n int) string {
		// The body, code and a, then n-3 items in a.
		return `{"code":"dev-alice","a":[` + strings.TrimSuffix(strings.Repeat("0,", n-3), ",") + `]}`
	}
	for _, tc := range []struct {
		name, body, code string
	}{
		{"32 levels", nested(32), "unknown_field"},
		{"33 levels", nested(33), "too_complex"},
		{"10,000 levels", nested(10000), "too_complex"},
		{"1,000 values", values(1000), "unknown_field"},
		{"1,001 values", values(1001), "too_complex"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.apiFor(t).JSON("POST", "/v1/auth/wechat", tc.body)
			if res.Status != http.StatusBadRequest || res.Problem().Code != string(domain.CodeInvalid) {
				t.Fatalf("want 400 validation_failed\n%.2000s", res)
			}
			got := fieldCodes(res.Problem())
			field := "body"
			if tc.code == "unknown_field" {
				field = map[bool]string{true: "body.n", false: "body.a"}[strings.Contains(tc.body, `"n"`)]
			}
			if got[field] != tc.code || len(got) != 1 {
				t.Errorf("want only %s %s, got %v", field, tc.code, got)
			}
		})
	}
}

// TestTextThatNoStoreTakesIsRefusedAtTheEdge sends, to every kind of
// input, text PostgreSQL refuses (NUL, invalid UTF-8, UTF-8-encoded and
// escaped lone surrogates): each is a 400 naming the field, never a 500.
func TestTextThatNoStoreTakesIsRefusedAtTheEdge(t *testing.T) {
	e := newEnv(t)
	alice := bearer(e.login(t, "dev-alice").AccessToken)
	root := bearer(e.admin(t, "dev-root").AccessToken)
	for _, tc := range []struct {
		name, method, path, body, header, field string
	}{
		{"login with NUL", "POST", "/v1/auth/login", `{"login":"a\u0000b","password":"correct horse"}`, "", "body.login"},
		{"password with invalid UTF-8", "POST", "/v1/auth/login", "{\"login\":\"alice\",\"password\":\"a\xffb\"}", "", "body.password"},
		{"WeChat code with a lone surrogate", "POST", "/v1/auth/wechat", `{"code":"\ud800"}`, "", "body.code"},
		{"WeChat code with a lone low surrogate", "POST", "/v1/auth/wechat", `{"code":"x\udc00"}`, "", "body.code"},
		{"WeChat code with a high surrogate before a letter", "POST", "/v1/auth/wechat", `{"code":"\ud800\u0041"}`, "", "body.code"},
		{"WeChat code with an encoded surrogate", "POST", "/v1/auth/wechat", "{\"code\":\"\xed\xa0\x80\"}", "", "body.code"},
		{"key with NUL", "POST", "/v1/auth/wechat", `{"code":"dev-alice","a\u0000":1}`, "", "body"},
		{"bio with NUL", "PATCH", "/v1/me", `{"bio":"a\u0000b"}`, alice, "body.bio"},
		{"tag item with NUL", "POST", "/v1/todos", `{"title":"x","tags":["ok","a\u0000"]}`, alice, "body.tags.1"},
		{"query q with NUL", "GET", "/v1/todos?q=a%00b", "", alice, "query.q"},
		{"query tag with NUL", "GET", "/v1/todos?tag=a%00b", "", alice, "query.tag"},
		{"query q not UTF-8", "GET", "/v1/todos?q=%FF%FE", "", alice, "query.q"},
		{"query q an encoded surrogate", "GET", "/v1/todos?q=%ED%A0%80", "", alice, "query.q"},
		{"query not declared", "GET", "/v1/todos?x=%00", "", alice, "query.x"},
		{"admin query not UTF-8", "GET", "/v1/admin/users?q=%FF", "", root, "query.q"},
		{"path parameter with NUL", "GET", "/v1/todos/%00", "", alice, "path.id"},
		{"header parameter not UTF-8", "POST", "/v1/todos", `{"title":"x"}`, alice + "\nIdempotency-Key: k\xff", "header.Idempotency-Key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			var headers []string
			if tc.header != "" {
				headers = strings.Split(tc.header, "\n")
			}
			res := e.apiFor(t).JSON(tc.method, tc.path, body, headers...)
			if res.Status != http.StatusBadRequest || res.Problem().Code != string(domain.CodeInvalid) {
				t.Fatalf("want 400 validation_failed\n%s", res)
			}
			// A parameter with a format also breaks it: both are listed.
			if !hasFieldError(res.Problem(), tc.field, "invalid_text") {
				t.Errorf("want %s invalid_text\n%s", tc.field, res)
			}
		})
	}
	if e.sim.Simulator().Calls() != 2 {
		t.Errorf("WeChat was called %d times, want 2 (the two logins of the test)", e.sim.Simulator().Calls())
	}
}

func TestTextWithPairedSurrogatesAndReplacementCharacterIsAccepted(t *testing.T) {
	e := newEnv(t)
	alice := bearer(e.login(t, "dev-alice").AccessToken)
	res := e.api.JSON("PATCH", "/v1/me", `{"bio":"\ud83d\ude00 \ufffd \u00e9t\u00e9 `+"\uFFFD 😀"+`"}`, alice)
	if res.Status != http.StatusOK {
		t.Fatalf("want 200\n%s", res)
	}
	var u user
	res.Decode(&u)
	if want := "😀 \ufffd été \ufffd 😀"; u.Bio != want {
		t.Errorf("bio %q, want %q", u.Bio, want)
	}
	res = e.api.Get("/v1/todos?q=%C3%A9t%C3%A9", alice)
	if res.Status != http.StatusOK {
		t.Errorf("q=été: want 200\n%s", res)
	}
}
