package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/miniback/miniback/domain"
)

func TestValidText(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		ok   bool
	}{
		{"empty", "", true},
		{"ASCII", "buy milk", true},
		{"accents and CJK", "été 买牛奶", true},
		{"emoji", "😀", true},
		{"replacement character", "\ufffd", true},
		{"tab and newline", "a\tb\nc", true},
		{"NUL", "a\x00b", false},
		{"invalid byte", "a\xffb", false},
		{"truncated sequence", "\xc3", false},
		{"overlong encoding", "\xc0\xaf", false},
		{"encoded surrogate", "\xed\xa0\x80", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := validText(tc.in); got != tc.ok {
				t.Errorf("validText(%q) = %v, want %v", tc.in, got, tc.ok)
			}
		})
	}
}

func TestCheckJSONNamesEveryStringThatIsNotText(t *testing.T) {
	for _, tc := range []struct {
		name  string
		body  string
		want  []string // "field code"
		shape bool
	}{
		{"plain", `{"a":"x","b":[1,true,null,-2.5e3,{"c":"d"}]}`, nil, false},
		{"escapes", `{"a":"\"\\\/\b\f\n\r\t\u00e9"}`, nil, false},
		{"surrogate pair", `{"a":"\ud83d\ude00","b":"\uD83D\uDE00"}`, nil, false},
		{"replacement character", `{"a":"\ufffd","b":"` + "\ufffd" + `"}`, nil, false},
		{"white space", " {\n \"a\" : [ \"x\" , 1 ] \t}\r\n", nil, false},
		{"NUL escape", `{"a":"x\u0000"}`, []string{"body.a invalid_text"}, false},
		{"lone high surrogate", `{"a":"\ud800"}`, []string{"body.a invalid_text"}, false},
		{"lone high surrogate at the end", `{"a":"x\uDBFF"}`, []string{"body.a invalid_text"}, false},
		{"high surrogate before a non-surrogate", `{"a":"\ud800\u0041"}`, []string{"body.a invalid_text"}, false},
		{"high surrogate before an escape", `{"a":"\ud800\n"}`, []string{"body.a invalid_text"}, false},
		{"two high surrogates", `{"a":"\ud800\ud800"}`, []string{"body.a invalid_text"}, false},
		{"lone low surrogate", `{"a":"\udc00"}`, []string{"body.a invalid_text"}, false},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", []string{"body.a invalid_text"}, false},
		{"encoded surrogate", "{\"a\":\"\xed\xa0\x80\"}", []string{"body.a invalid_text"}, false},
		{"in an array", `{"a":["x","\u0000",["\u0000"]]}`, []string{"body.a.1 invalid_text", "body.a.2.0 invalid_text"}, false},
		{"nested", `{"a":{"b":{"c":"\u0000"}},"d":"\u0000"}`, []string{"body.a.b.c invalid_text", "body.d invalid_text"}, false},
		{"escaped key on the path", `{"\u0061\"":{"b":"\u0000"}}`, []string{`body.a".b invalid_text`}, false},
		{"bad key names its object", `{"a":{"\u0000":{"b":"\u0000"}}}`, []string{"body.a invalid_text"}, false},
		{"bad key at the top", "{\"\xff\":1}", []string{"body invalid_text"}, false},
		{"top-level string", `"\u0000"`, []string{"body invalid_text"}, false},
		{"32 levels", strings.Repeat("[", 32) + strings.Repeat("]", 32), nil, false},
		{"33 levels", strings.Repeat("[", 33) + strings.Repeat("]", 33), []string{"body too_complex"}, true},
		{"1000 values", "[" + strings.TrimSuffix(strings.Repeat("0,", 999), ",") + "]", nil, false},
		{"1001 values", "[" + strings.TrimSuffix(strings.Repeat("0,", 1000), ",") + "]", []string{"body too_complex"}, true},
		{"text errors before the limit are kept", `["\u0000",` + strings.TrimSuffix(strings.Repeat("0,", 1000), ",") + "]",
			[]string{"body.0 invalid_text", "body too_complex"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !json.Valid([]byte(tc.body)) {
				t.Fatalf("test body is not JSON: %s", tc.body)
			}
			fs := newFieldErrors(context.Background())
			shape := fs.checkJSON([]byte(tc.body))
			var got []string
			for _, f := range fs.list {
				got = append(got, f.Field+" "+f.Code)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || shape != tc.shape {
				t.Errorf("got %v (shape broken %v), want %v (%v)", got, shape, tc.want, tc.shape)
			}
		})
	}
}

func TestFieldErrorsAreCappedWithoutRepeats(t *testing.T) {
	fs := newFieldErrors(context.Background())
	for i := range 3 * maxFieldErrors {
		fs.add(fmt.Sprintf("body.f%d", i/2), "invalid", "f is invalid") // each twice
	}
	if len(fs.list) != maxFieldErrors || !fs.truncated {
		t.Fatalf("%d errors (truncated %v), want %d, truncated", len(fs.list), fs.truncated, maxFieldErrors)
	}
	seen := map[string]bool{}
	for _, f := range fs.list {
		if seen[f.Field] {
			t.Errorf("%s listed twice", f.Field)
		}
		seen[f.Field] = true
	}
	var de *domain.Error
	if err := fs.err(); !errors.As(err, &de) || !strings.Contains(de.Message, "than the 50 listed") || len(de.Fields) != maxFieldErrors {
		t.Errorf("err() = %v, want the cut said", err)
	}
}

// objectSchema is an object that knows one property, "code".
func objectSchema() *openapi3.Schema {
	no := false
	return &openapi3.Schema{
		Type:                 &openapi3.Types{openapi3.TypeObject},
		Properties:           openapi3.Schemas{"code": openapi3.NewSchemaRef("", openapi3.NewStringSchema())},
		AdditionalProperties: openapi3.AdditionalProperties{Has: &no},
	}
}

func TestUnknownKeysOfAnObjectAreListedOnceEach(t *testing.T) {
	value := map[string]any{"code": "x", "b": 1, "a": 2, "c": 3}
	err := objectSchema().VisitJSON(value, openapi3.MultiErrors())
	if me, ok := err.(openapi3.MultiError); !ok || len(me) != 3 {
		t.Fatalf("want one validator error per unknown key, got %v", err)
	}
	fs := newFieldErrors(context.Background())
	fs.collect(err)
	var got []string
	for _, f := range fs.list {
		got = append(got, f.Field+" "+f.Code)
	}
	if want := "[body.a unknown_field body.b unknown_field body.c unknown_field]"; fmt.Sprint(got) != want {
		t.Errorf("got %v, want %s", got, want)
	}
}

// canceled returns a context that is already done.
func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func TestScanStopsWhenTheClientIsGone(t *testing.T) {
	body := []byte("[" + strings.TrimSuffix(strings.Repeat("0,", 999), ",") + "]")
	fs := newFieldErrors(canceled())
	s := &jsonScan{data: body, fs: fs}
	s.value(0)
	if s.values >= 1000 || !fs.canceled {
		t.Errorf("scanned %d values of 1000 (canceled %v) for a client that is gone", s.values, fs.canceled)
	}
}

func TestCollectStopsWhenTheClientIsGone(t *testing.T) {
	// The same error many times: the list never fills, so only the
	// context can stop the walk.
	one := objectSchema().VisitJSON(map[string]any{"code": 1}, openapi3.MultiErrors()).(openapi3.MultiError)[0]
	err := make(openapi3.MultiError, 10_000)
	for i := range err {
		err[i] = one
	}
	fs := newFieldErrors(canceled())
	fs.collect(err)
	if fs.steps > 512 {
		t.Errorf("%d steps of 10,000 for a client that is gone", fs.steps)
	}
	var de *domain.Error
	if err := fs.err(); !errors.As(err, &de) || len(de.Fields) != 0 || !strings.Contains(de.Message, "abandoned") {
		t.Errorf("err() = %v, want the request abandoned", err)
	}
}

func TestAbandonedRequestIsAnsweredWithoutFieldErrors(t *testing.T) {
	e := validatorEngine(t)
	req := httptest.NewRequestWithContext(canceled(), "POST", "/v1/auth/wechat", strings.NewReader(`{"code":"","x":1}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "abandoned") || strings.Contains(rec.Body.String(), `"errors"`) {
		t.Errorf("want a 400 saying the request was abandoned, got %d %s", rec.Code, rec.Body)
	}
}

// FuzzCheckJSON: on any valid JSON the scanner does not panic, and when it
// finds no text to refuse, every string and key the body decodes to is
// valid text.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{`{"a":"b"}`, `["\u0000"]`, `"\ud800\udc00"`, `{"\ud800":1}`, "[\"\xff\"]", `[[[1,{"a":[]}]]]`, ` 1 `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !json.Valid(body) {
			return
		}
		fs := newFieldErrors(context.Background())
		if shape := fs.checkJSON(body); shape {
			return
		}
		for _, e := range fs.list {
			if e.Code == codeInvalidText {
				return
			}
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		var walk func(any)
		walk = func(v any) {
			switch v := v.(type) {
			case string:
				if !validText(v) {
					t.Fatalf("%q decodes to %q, which is not text", body, v)
				}
			case []any:
				for _, x := range v {
					walk(x)
				}
			case map[string]any:
				for k, x := range v {
					walk(k)
					walk(x)
				}
			}
		}
		walk(v)
	})
}
