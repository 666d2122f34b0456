package httpapi

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"
)

// twoValidators serves every operation without a request body twice: under
// /new with validate (the operations' parameter plans), under /old with
// validateRequest (the whole validator, as every request went before the
// plans). The handler behind both answers 204 with the query the generated
// wrapper would bind.
type twoValidators struct {
	e   *gin.Engine
	ops operations
}

func newTwoValidators(tb testing.TB) twoValidators {
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
	bound := func(c *gin.Context) {
		c.Header("X-Bound-Query", c.Request.URL.Query().Encode())
		c.Status(http.StatusNoContent)
	}
	for _, op := range ops {
		if op.plan == nil {
			continue
		}
		path := ginPath(op.Path)
		e.Handle(op.Method, "/new"+path, func(c *gin.Context) { h.validateAt(c, path, false) }, bound)
		e.Handle(op.Method, "/old"+path, func(c *gin.Context) { h.validateAt(c, path, true) }, bound)
	}
	return twoValidators{e: e, ops: ops}
}

// validateAt runs validate (or validateRequest when whole) as if gin had
// matched the operation's own pattern.
func (h *handler) validateAt(c *gin.Context, pattern string, whole bool) {
	op := h.ops[c.Request.Method+" "+specPath(pattern)]
	if whole {
		h.validateRequest(c, op)
		return
	}
	if strings.Count(c.Request.URL.RawQuery, "&") < maxPlannedQueryPairs {
		h.validateParams(c, op)
		return
	}
	h.validateRequest(c, op)
}

// ginPath turns the spec's path ("/v1/users/{id}") into gin's
// ("/v1/users/:id").
func ginPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			parts[i] = ":" + s[1:len(s)-1]
		}
	}
	return strings.Join(parts, "/")
}

// answer is what a client and the handler see of a request.
type answer struct {
	status int
	body   string
	bound  string
}

// serve sends a request for path (decoded, as gin matches it) with the
// raw query.
func (tv twoValidators) serve(method, path, rawQuery string, header http.Header) answer {
	req := httptest.NewRequest(method, "/", nil)
	req.URL.Path, req.URL.RawQuery = path, rawQuery
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	tv.e.ServeHTTP(rec, req)
	return answer{rec.Code, rec.Body.String(), rec.Header().Get("X-Bound-Query")}
}

// compare serves a request to an operation both ways and fails when the
// answers differ in any way: status, body (the problem and its field
// errors), or the query the handler would bind.
func (tv twoValidators) compare(t *testing.T, method, path, rawQuery string, header http.Header) answer {
	t.Helper()
	old := tv.serve(method, "/old"+path, rawQuery, header)
	got := tv.serve(method, "/new"+path, rawQuery, header)
	if !reflect.DeepEqual(got, old) {
		t.Fatalf("%s %s?%s %v: the parameter plan answers\n%+v\nthe whole validator\n%+v", method, path, rawQuery, header, got, old)
	}
	return got
}

// candidates are values for a parameter of the spec: valid ones, values at
// and past each bound, of the wrong type, empty, escaped and not text.
func candidates(p *openapi3.Parameter) []string {
	vals := []string{"", "x", "%00", "%FF", "a%20b", "a+b", "true", "false", "1", "0", "-1", "1.5", "1e2", "999999999999999999999",
		"0f8e5a1c-2b7d-4e9f-8a6b-000000000000", "0F8E5A1C-2B7D-4E9F-8A6B-000000000000", "0f8e5a1c-2b7d-0e9f-8a6b-000000000000",
		"00000000-0000-0000-0000-000000000000", "2026-03-01T18:00:00%2B08:00", "2026-03-01T18:00:00Z", "2026-02-30T18:00:00Z", "2026-03-01",
		"%E4%B8%AD%E6%96%87", "%ED%A0%80", "T", "FALSE", "%3B", "a;b"}
	s := p.Schema.Value
	for _, e := range s.Enum {
		vals = append(vals, fmt.Sprint(e), strings.ToUpper(fmt.Sprint(e)))
	}
	for _, b := range []*float64{s.Min, s.Max} {
		if b != nil {
			vals = append(vals, fmt.Sprint(*b-1), fmt.Sprint(*b), fmt.Sprint(*b+1), fmt.Sprint(*b)+".0", "+"+fmt.Sprint(*b), "0"+fmt.Sprint(*b))
		}
	}
	for _, n := range []uint64{s.MinLength, s.MinLength + 1} {
		vals = append(vals, strings.Repeat("m", int(n)), strings.Repeat("%E4%B8%AD", int(n)))
	}
	if s.MaxLength != nil {
		n := int(*s.MaxLength)
		vals = append(vals, strings.Repeat("m", n), strings.Repeat("m", n+1), strings.Repeat("%E4%B8%AD", n), strings.Repeat("%E4%B8%AD", n+1),
			strings.Repeat("%F0%9F%98%80", n), strings.Repeat("%F0%9F%98%80", n+1))
	}
	if s.Default != nil {
		vals = append(vals, fmt.Sprint(s.Default))
	}
	return vals
}

var headerCandidates = []string{"", `"v1"`, `W/"v2"`, `*`, `"v1", "v2"`, ` "v3" `, `v1`, `"v1`, `"a b"`, "\x7f", strings.Repeat(`"v1",`, 200) + `"v2"`}

// TestParamPlansAnswerAsTheWholeValidator sends every operation without a
// request body many requests, valid and not, each through its parameter
// plan and through the whole validator, and requires the same answer: the
// same refusals with the same field errors, and the same parameters bound
// (defaults included) when accepted.
func TestParamPlansAnswerAsTheWholeValidator(t *testing.T) {
	tv := newTwoValidators(t)
	rng := rand.New(rand.NewPCG(1, 2))
	planned, accepted, refused := 0, 0, 0
	for _, op := range tv.ops {
		if op.plan == nil {
			continue
		}
		planned++
		var query, path, header []*openapi3.Parameter
		for _, r := range op.plan.params {
			switch r.p.In {
			case openapi3.ParameterInQuery:
				query = append(query, r.p)
			case openapi3.ParameterInPath:
				path = append(path, r.p)
			case openapi3.ParameterInHeader:
				header = append(header, r.p)
			}
		}
		for i := range 400 {
			target := op.Path
			for _, p := range path {
				v := "0f8e5a1c-2b7d-4e9f-8a6b-000000000000"
				if i%3 == 0 {
					cs := candidates(p)
					if u, err := url.PathUnescape(cs[rng.IntN(len(cs))]); err == nil && !strings.Contains(u, "/") {
						v = u
					}
				}
				target = strings.Replace(target, "{"+p.Name+"}", v, 1)
			}
			var pairs []string
			for _, p := range query {
				cs := candidates(p)
				for range rng.IntN(3) { // absent, once or twice
					pairs = append(pairs, p.Name+"="+cs[rng.IntN(len(cs))])
				}
				if rng.IntN(8) == 0 {
					pairs = append(pairs, p.Name) // no '='
				}
			}
			if rng.IntN(4) == 0 {
				pairs = append(pairs, "unknown=%FF", "", "x=1")
			}
			rng.Shuffle(len(pairs), func(i, j int) { pairs[i], pairs[j] = pairs[j], pairs[i] })
			h := http.Header{}
			for _, p := range header {
				for range rng.IntN(3) {
					h.Add(p.Name, headerCandidates[rng.IntN(len(headerCandidates))])
				}
			}
			a := tv.compare(t, op.Method, target, strings.Join(pairs, "&"), h)
			if a.status < 300 {
				accepted++
			} else {
				refused++
			}
		}
	}
	if planned < 5 || accepted < 500 || refused < 500 {
		t.Fatalf("%d operations planned, %d requests accepted, %d refused: too few to compare", planned, accepted, refused)
	}
}

// TestParamPlanAddsTheDefaultsTheValidatorAdds pins the defaults of GET
// /v1/todos: the handler binds them when the client leaves them out.
func TestParamPlanAddsTheDefaultsTheValidatorAdds(t *testing.T) {
	tv := newTwoValidators(t)
	for _, q := range []string{"", "q=milk", "limit=5", "sort=due_at&done=false"} {
		a := tv.compare(t, http.MethodGet, "/v1/todos", q, nil)
		bound, err := url.ParseQuery(a.bound)
		if err != nil || a.status != http.StatusNoContent {
			t.Fatalf("?%s: %+v", q, a)
		}
		given, _ := url.ParseQuery(q)
		for name, def := range map[string]string{"limit": "20", "sort": "-created_at"} {
			want := []string{def}
			if given.Has(name) {
				want = given[name]
			}
			if !slices.Equal(bound[name], want) {
				t.Errorf("?%s: %s bound as %q, want %q", q, name, bound[name], want)
			}
		}
	}
}

// TestLongQueriesGoToTheWholeValidator: a query of more pairs than a plan
// reads is the validator's, which sees none of them past url.ParseQuery's
// limit.
func TestLongQueriesGoToTheWholeValidator(t *testing.T) {
	tv := newTwoValidators(t)
	for _, n := range []int{maxPlannedQueryPairs - 1, maxPlannedQueryPairs, 10_001} {
		q := strings.Repeat("x=1&", n) + "limit=500"
		tv.compare(t, http.MethodGet, "/v1/todos", q, nil)
	}
}

// FuzzParamPlansAnswerAsTheWholeValidator compares the two ways on GET
// /v1/todos (query parameters of every kind) and GET /v1/todos/{id} (a
// path and a header parameter) with arbitrary input.
func FuzzParamPlansAnswerAsTheWholeValidator(f *testing.F) {
	f.Add("limit=20&sort=due_at&done=true&q=milk", "0f8e5a1c-2b7d-4e9f-8a6b-000000000000", `"v1"`)
	f.Add("limit=0&limit=1&tag=&due_after=2026-03-01T18:00:00Z", "x", `W/"v2", *`)
	f.Add("cursor=%FF&q=a+b", "\x00", "")
	tv := newTwoValidators(f)
	f.Fuzz(func(t *testing.T, query, id, inm string) {
		if id == "" || strings.Contains(id, "/") {
			return
		}
		tv.compare(t, http.MethodGet, "/v1/todos", query, nil)
		h := http.Header{}
		if inm != "" {
			h.Set("If-None-Match", inm)
		}
		tv.compare(t, http.MethodGet, "/v1/todos/"+id, query, h)
	})
}

// BenchmarkParamValidation validates GET requests without a body through
// the whole validator and through their operations' parameter plans.
func BenchmarkParamValidation(b *testing.B) {
	tv := newTwoValidators(b)
	for _, bc := range []struct{ name, path, query string }{
		{"GET /v1/me", "/v1/me", ""},
		{"GET /v1/todos", "/v1/todos", ""},
		{"GET /v1/todos?sort=due_at&done=false", "/v1/todos", "sort=due_at&done=false"},
		{"GET /v1/todos/{id}", "/v1/todos/0f8e5a1c-2b7d-4e9f-8a6b-000000000000", ""},
	} {
		for _, way := range []string{"old", "new"} {
			name := map[string]string{"old": "whole validator", "new": "plan"}[way]
			b.Run(bc.name+"/"+name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if a := tv.serve(http.MethodGet, "/"+way+bc.path, bc.query, nil); a.status != http.StatusNoContent {
						b.Fatalf("%+v", a)
					}
				}
			})
		}
	}
}
