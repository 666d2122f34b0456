package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"
	"github.com/oapi-codegen/runtime"

	"github.com/miniback/miniback/adapters/httpapi/api"
)

// boundBodies makes, for each operation with a JSON body, the value the
// generated strict handler binds the body into.
var boundBodies = map[string]func() any{
	"loginWithWeChat":      func() any { return new(api.LoginWithWeChatJSONRequestBody) },
	"registerWithPassword": func() any { return new(api.RegisterWithPasswordJSONRequestBody) },
	"loginWithPassword":    func() any { return new(api.LoginWithPasswordJSONRequestBody) },
	"refreshTokens":        func() any { return new(api.RefreshTokensJSONRequestBody) },
	"createConsoleSession": func() any { return new(api.CreateConsoleSessionJSONRequestBody) },
	"updateMe":             func() any { return new(api.UpdateMeJSONRequestBody) },
	"resolveModeration":    func() any { return new(api.ResolveModerationJSONRequestBody) },
	"setMyPassword":        func() any { return new(api.SetMyPasswordJSONRequestBody) },
	"bindMyWeChat":         func() any { return new(api.BindMyWeChatJSONRequestBody) },
	"bindMyPhone":          func() any { return new(api.BindMyPhoneJSONRequestBody) },
	"decryptWeChatData":    func() any { return new(api.DecryptWeChatDataJSONRequestBody) },
	"createTodo":           func() any { return new(api.CreateTodoJSONRequestBody) },
	"updateTodo":           func() any { return new(api.UpdateTodoJSONRequestBody) },
	"attachToTodo":         func() any { return new(api.AttachToTodoJSONRequestBody) },
	"createUpload":         func() any { return new(api.CreateUploadJSONRequestBody) },
	"recordMySubscription": func() any { return new(api.RecordMySubscriptionJSONRequestBody) },
}

// twoBodyValidators serves every operation with a body plan twice: under
// /new with validate, under /old with the whole validator (validateRequest
// of the operation without its plan). The handler behind both binds the
// body as the generated strict handler does (the validator's value when it
// left one, else the body itself) and answers 204 with what it bound.
type twoBodyValidators struct {
	e   *gin.Engine
	ops operations
}

func newTwoBodyValidators(tb testing.TB) twoBodyValidators {
	tb.Helper()
	ops, err := loadOperations()
	if err != nil {
		tb.Fatal(err)
	}
	h := &handler{log: slog.New(slog.DiscardHandler), ops: ops}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.RedirectTrailingSlash, e.RedirectFixedPath = false, false
	e.Use(h.limitBody(defaultMaxBodyBytes, defaultMaxUploadBytes))
	for _, op := range ops {
		if op.body == nil {
			continue
		}
		var mk func() any
		for id, f := range boundBodies {
			if strings.EqualFold(id, op.Operation.OperationID) {
				mk = f
			}
		}
		if mk == nil {
			tb.Fatalf("no bound body type for %s", op.Operation.OperationID)
		}
		bind := func(c *gin.Context) {
			v := mk()
			var err error
			if vb, ok := c.Request.Body.(interface{ ValidatedValue() any }); !ok || runtime.BindJSONValue(vb.ValidatedValue(), v) != nil {
				err = c.ShouldBindJSON(v)
			}
			if err != nil {
				c.Header("X-Bound-Body", "error: "+err.Error())
			} else {
				b, _ := json.Marshal(v)
				c.Header("X-Bound-Body", string(b))
			}
			c.Status(http.StatusNoContent)
		}
		path := ginPath(op.Path)
		whole := *op
		whole.body = nil
		// validate sends an operation with a body to validateRequest.
		e.Handle(op.Method, "/new"+path, func(c *gin.Context) { h.validateRequest(c, op) }, bind)
		e.Handle(op.Method, "/old"+path, func(c *gin.Context) { h.validateRequest(c, &whole) }, bind)
	}
	return twoBodyValidators{e: e, ops: ops}
}

func (tv twoBodyValidators) serve(method, path, contentType string, body []byte) answer {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	tv.e.ServeHTTP(rec, req)
	return answer{rec.Code, rec.Body.String(), rec.Header().Get("X-Bound-Body")}
}

// compare sends body both ways and fails when the answers differ: status,
// problem (field errors included), or what the handler bound.
func (tv twoBodyValidators) compare(t *testing.T, method, path, contentType string, body []byte) answer {
	t.Helper()
	old := tv.serve(method, "/old"+path, contentType, body)
	got := tv.serve(method, "/new"+path, contentType, body)
	if !reflect.DeepEqual(got, old) {
		t.Fatalf("%s %s %q: the body plan answers\n%+v\nthe whole validator\n%+v", method, path, body, got, old)
	}
	return got
}

// jsonCandidates are values for a property of schema s, as JSON text:
// valid ones, values at and past each bound, of other types, null, and
// text written with escapes.
func jsonCandidates(s *openapi3.Schema) []string {
	vals := []string{`null`, `true`, `false`, `0`, `1`, `-1`, `1.0`, `1e2`, `-0`, `""`, `"x"`, `[]`, `{}`, `["x"]`, `"\u0000"`, `"\ud800"`,
		`"\ufffd"`, `"a\nb"`, `"\u00e9t\u00e9"`, `"中文"`, `"😀"`, `"\"q\""`, `12345678901234567890`, `9007199254740993`, `123456789012345`,
		`1234567890123456`, `"2026-03-01T18:00:00+08:00"`, `"2026-03-01T18:00:00Z"`, `"2026-02-30T18:00:00Z"`, `"2026-03-01"`,
		`"0f8e5a1c-2b7d-4e9f-8a6b-000000000000"`, `"0F8E5A1C-2B7D-4E9F-8A6B-000000000000"`, `"0f8e5a1c-2b7d-0e9f-8a6b-000000000000"`,
		`"https://example.com/a.png"`, `"alice@example.com"`}
	str := func(unit string, n int) string { return `"` + strings.Repeat(unit, n) + `"` }
	for _, e := range s.Enum {
		vals = append(vals, fmt.Sprintf("%q", e), strings.ToUpper(fmt.Sprintf("%q", e)))
	}
	for _, b := range []*float64{s.Min, s.Max} {
		if b != nil {
			vals = append(vals, fmt.Sprint(*b-1), fmt.Sprint(*b), fmt.Sprint(*b+1), fmt.Sprint(*b)+".0", fmt.Sprint(*b)+"e0", fmt.Sprintf("%q", fmt.Sprint(*b)))
		}
	}
	for _, n := range []uint64{s.MinLength, s.MinLength + 1} {
		if n > 0 {
			vals = append(vals, str("m", int(n)-1))
		}
		vals = append(vals, str("m", int(n)), str("中", int(n)), str(`\u4e2d`, int(n)))
	}
	if s.MaxLength != nil {
		n := int(*s.MaxLength)
		for _, unit := range []string{"m", "中", "😀", `\u00e9`, `\ud83d\ude00`} {
			vals = append(vals, str(unit, n), str(unit, n+1))
		}
	}
	if s.Items != nil && s.Items.Value != nil {
		items := jsonCandidates(s.Items.Value)
		vals = append(vals, `["home","errands"]`, `["home","home"]`, `[null]`, `[1]`, `[""]`, `["a",]`)
		if s.MaxItems != nil {
			for _, n := range []int{int(*s.MaxItems), int(*s.MaxItems) + 1} {
				xs := make([]string, n)
				for i := range xs {
					xs[i] = fmt.Sprintf(`"t%d"`, i)
				}
				vals = append(vals, "["+strings.Join(xs, ",")+"]")
			}
		}
		for i := 0; i < len(items); i += 3 {
			vals = append(vals, "["+items[i]+"]", `["ok",`+items[i]+`]`)
		}
	}
	return vals
}

// randomBody builds a body for schema s: each property left out, or given
// one of its candidates (most often a valid-looking one), with sometimes an
// unknown, repeated, escaped or differently cased key, and odd spacing.
func randomBody(rng *rand.Rand, s *openapi3.Schema, valid map[string]string) []byte {
	var members []string
	sp := func() string { return []string{"", "", " ", "\n\t", "  "}[rng.IntN(5)] }
	for _, name := range sortedKeys(s.Properties) {
		p := s.Properties[name].Value
		switch k := rng.IntN(10); {
		case k < 2 && !slices.Contains(s.Required, name):
			continue
		case k < 1:
			continue
		case k < 6:
			members = append(members, fmt.Sprintf("%q:%s%s", name, sp(), valid[name]))
		default:
			cs := jsonCandidates(p)
			members = append(members, fmt.Sprintf("%q%s:%s", name, sp(), cs[rng.IntN(len(cs))]))
		}
		if rng.IntN(30) == 0 {
			members = append(members, fmt.Sprintf("%q:%s", name, valid[name])) // repeated
		}
	}
	switch rng.IntN(25) {
	case 0:
		members = append(members, `"unknown":1`)
	case 1:
		members = append(members, `"\u0074itle":"x"`)
	case 2:
		members = append(members, `"Title":"x"`, `"TITLE":"y"`)
	case 3:
		members = append(members, `"":null`)
	}
	rng.Shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
	return []byte(sp() + "{" + sp() + strings.Join(members, ","+sp()) + sp() + "}" + sp())
}

// validValues are values each property of the spec's bodies accepts.
func validValues(s *openapi3.Schema) map[string]string {
	out := map[string]string{}
	for name, ref := range s.Properties {
		p := ref.Value
		var v string
		switch {
		case len(p.Enum) > 0:
			v = fmt.Sprintf("%q", p.Enum[0])
		case p.Type.Is(openapi3.TypeBoolean):
			v = "true"
		case p.Type.Is(openapi3.TypeInteger):
			v = "48213"
		case p.Type.Is(openapi3.TypeArray):
			v = `["home","errands"]`
		case p.Format == "date-time":
			v = `"2026-03-01T18:00:00+08:00"`
		case p.Format == "uuid":
			v = `"0f8e5a1c-2b7d-4e9f-8a6b-000000000000"`
		default:
			v = `"secret horse battery"`
		}
		out[name] = v
	}
	return out
}

// TestBodyPlansAnswerAsTheWholeValidator sends every operation with a body
// plan many bodies, valid and not, each through its plan and through the
// whole validator, and requires the same answer: the same refusals with
// the same field errors, and the same value bound by the handler when
// accepted.
func TestBodyPlansAnswerAsTheWholeValidator(t *testing.T) {
	tv := newTwoBodyValidators(t)
	rng := rand.New(rand.NewPCG(3, 4))
	planned, accepted, refused := 0, 0, 0
	for _, key := range sortedKeys(tv.ops) {
		op := tv.ops[key]
		if op.body == nil {
			continue
		}
		planned++
		path := strings.ReplaceAll(op.Path, "{id}", "0f8e5a1c-2b7d-4e9f-8a6b-000000000000")
		s := op.Operation.RequestBody.Value.Content.Get("application/json").Schema.Value
		valid := validValues(s)
		for _, body := range []string{``, `null`, `[]`, `"x"`, `1`, `{}`, `{} {}`, `{"title":"x"}x`, ` { } `, `{"a":1,}`} {
			tv.compare(t, op.Method, path, "application/json", []byte(body))
		}
		for i := range 1500 {
			body := randomBody(rng, s, valid)
			ct := "application/json"
			switch i % 50 {
			case 1:
				ct = "application/json; charset=utf-8"
			case 2:
				ct = "text/plain"
			case 3:
				ct = ""
			}
			a := tv.compare(t, op.Method, path, ct, body)
			if a.status < 300 {
				accepted++
			} else {
				refused++
			}
		}
	}
	if planned < 8 || accepted < 2000 || refused < 2000 {
		t.Fatalf("%d operations planned, %d bodies accepted, %d refused: too few to compare", planned, accepted, refused)
	}
}

// TestBodyPlanAcceptsTheCommonBodies pins that the bodies clients send
// every day are judged by the plan, not left to the validator.
func TestBodyPlanAcceptsTheCommonBodies(t *testing.T) {
	ops, err := loadOperations()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ op, body string }{
		{"POST /v1/todos", `{"title":"Buy milk","notes":"2 L\n","due_at":"2026-03-01T18:00:00+08:00","priority":"high","done":false,"tags":["home","errands"]}`},
		{"POST /v1/todos", `{"title":"中文 😀","due_at":null}`},
		{"PATCH /v1/todos/{id}", `{"done":true}`},
		{"PATCH /v1/todos/{id}", `{"notes":null,"tags":[]}`},
		{"POST /v1/auth/wechat", `{"code":"dev-alice"}`},
		{"POST /v1/uploads", `{"purpose":"avatar","content_type":"image/jpeg","size":48213}`},
	} {
		op := ops[tc.op]
		if op == nil || op.body == nil {
			t.Fatalf("%s: no body plan", tc.op)
		}
		if !op.body.accepts([]byte(tc.body)) {
			t.Errorf("%s %s: left to the validator", tc.op, tc.body)
		}
	}
}

// TestBodyPlanLeavesUnusualBodiesToTheValidator pins the bodies the plan
// does not judge, whatever the validator makes of them: those the handler
// could decode otherwise than the validator (repeated or escaped keys,
// integers not written plainly or past a float64's exact range), and text
// the edge checks refuse.
func TestBodyPlanLeavesUnusualBodiesToTheValidator(t *testing.T) {
	ops, err := loadOperations()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ op, body string }{
		{"POST /v1/todos", `{"title":"a","title":"b"}`},
		{"POST /v1/todos", `{"\u0074itle":"a"}`},
		{"POST /v1/todos", `{"Title":"a"}`},
		{"POST /v1/todos", `{"title":"a\u0000"}`},
		{"POST /v1/todos", `{"title":"\ud800"}`},
		{"POST /v1/todos", `{"title":"a","tags":[null]}`},
		{"POST /v1/todos", `{"title":null}`},
		{"POST /v1/uploads", `{"purpose":"avatar","content_type":"image/jpeg","size":1e2}`},
		{"POST /v1/uploads", `{"purpose":"avatar","content_type":"image/jpeg","size":100.0}`},
		{"POST /v1/uploads", `{"purpose":"avatar","content_type":"image/jpeg","size":1234567890123456}`},
		{"POST /v1/uploads", `{"purpose":"avatar","content_type":"image/jpeg","size":-0}`},
		{"POST /v1/uploads", `{"purpose":"avatar","content_type":"image/jpeg","size":0}`},
	} {
		if ops[tc.op].body.accepts([]byte(tc.body)) {
			t.Errorf("%s %s: judged by the plan", tc.op, tc.body)
		}
	}
}

// FuzzBodyPlansAnswerAsTheWholeValidator compares the two ways on POST
// /v1/todos and POST /v1/uploads with arbitrary bodies.
func FuzzBodyPlansAnswerAsTheWholeValidator(f *testing.F) {
	f.Add([]byte(`{"title":"Buy milk","tags":["a","b"],"due_at":null,"priority":"low","done":true}`))
	f.Add([]byte(`{"purpose":"avatar","content_type":"image/png","size":1}`))
	f.Add([]byte(`{"title":"\u00e9","title":"x"}`))
	f.Add([]byte(`{"size":1e2,"purpose":"attachment","content_type":"a"}`))
	tv := newTwoBodyValidators(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		tv.compare(t, http.MethodPost, "/v1/todos", "application/json", body)
		tv.compare(t, http.MethodPost, "/v1/uploads", "application/json", body)
	})
}

// BenchmarkBodyValidation validates common JSON bodies through the whole
// validator and through their operations' body plans.
func BenchmarkBodyValidation(b *testing.B) {
	tv := newTwoBodyValidators(b)
	for _, bc := range []struct{ name, method, path, body string }{
		{"POST /v1/todos", http.MethodPost, "/v1/todos", `{"title":"Buy milk","notes":"2 litres","priority":"high","tags":["home","errands"]}`},
		{"PATCH /v1/todos/{id}", http.MethodPatch, "/v1/todos/0f8e5a1c-2b7d-4e9f-8a6b-000000000000", `{"done":true}`},
		{"POST /v1/auth/wechat", http.MethodPost, "/v1/auth/wechat", `{"code":"dev-alice"}`},
	} {
		for _, way := range []string{"old", "new"} {
			name := map[string]string{"old": "whole validator", "new": "plan"}[way]
			body := []byte(bc.body)
			b.Run(bc.name+"/"+name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if a := tv.serve(bc.method, "/"+way+bc.path, "application/json", body); a.status != http.StatusNoContent {
						b.Fatalf("%+v", a)
					}
				}
			})
		}
	}
}
