package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/gin-gonic/gin"
)

// validatorEngine serves a few operations with only the body limit and the
// validation middleware in front of a handler that answers 204, so a
// benchmark measures what validation costs (authentication is left out:
// POST /v1/auth/wechat needs none, and the others are measured as if the
// caller had a token).
func validatorEngine(tb testing.TB) *gin.Engine {
	tb.Helper()
	ops, err := loadOperations()
	if err != nil {
		tb.Fatal(err)
	}
	h := &handler{log: slog.New(slog.DiscardHandler), ops: ops}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.Use(h.limitBody(defaultMaxBodyBytes, defaultMaxUploadBytes))
	ok := func(c *gin.Context) { c.Status(http.StatusNoContent) }
	e.POST("/v1/auth/wechat", h.validate, ok)
	e.POST("/v1/todos", h.validate, ok)
	e.GET("/v1/todos", h.validate, ok)
	e.PATCH("/v1/me", h.validate, ok)
	return e
}

// fill writes items produced by item(i) between open and close, as many
// as fit in limit bytes (or n items when n > 0).
func fill(open, close string, limit, n int, item func(i int) string) []byte {
	var b bytes.Buffer
	b.WriteString(open)
	for i := 0; n <= 0 || i < n; i++ {
		s := item(i)
		if n <= 0 && b.Len()+len(s)+1+len(close) > limit {
			break
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s)
	}
	b.WriteString(close)
	return b.Bytes()
}

// unknownKeys is a WeChat login body with n unknown keys (n <= 0: as many
// as fit in the 1 MiB body limit).
func unknownKeys(n int) []byte {
	return fill(`{"code":"dev-alice",`, `}`, defaultMaxBodyBytes, n, func(i int) string { return fmt.Sprintf(`"k%d":0`, i) })
}

// badItems is a task whose tags are n numbers (n <= 0: as many as fit in
// the body limit), each a field error of its own.
func badItems(n int) []byte {
	return fill(`{"title":"x","tags":[`, `]}`, defaultMaxBodyBytes, n, func(int) string { return "1" })
}

// hostileBodies are bodies a client can send to make validation expensive
// (those to POST /v1/auth/wechat need no token), each with the status it
// must get.
func hostileBodies() []struct {
	name, method, path string
	body               []byte
	status             int
} {
	deep := func(depth int) []byte {
		return []byte(`{"code":"x","n":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`)
	}
	type hostile = struct {
		name, method, path string
		body               []byte
		status             int
	}
	return []hostile{
		{"unknown keys 250", "POST", "/v1/auth/wechat", unknownKeys(250), 400},
		{"unknown keys 1000", "POST", "/v1/auth/wechat", unknownKeys(1000), 400},
		{"unknown keys 2000", "POST", "/v1/auth/wechat", unknownKeys(2000), 400},
		{"unknown keys 20000", "POST", "/v1/auth/wechat", unknownKeys(20000), 400},
		{"unknown keys 1MiB", "POST", "/v1/auth/wechat", unknownKeys(0), 400},
		// Just under the shape limits, filling the body limit.
		{"unknown keys with long values 1MiB", "POST", "/v1/auth/wechat",
			fill(`{"code":"dev-alice",`, `}`, defaultMaxBodyBytes, maxJSONValues-2, func(i int) string {
				return fmt.Sprintf(`"k%d":"%s"`, i, strings.Repeat("x", defaultMaxBodyBytes/maxJSONValues-16))
			}), 400},
		// encoding/json refuses nesting deeper than 10,000.
		{"nesting 9990", "POST", "/v1/auth/wechat", deep(9990), 400},
		{"nesting 1MiB", "POST", "/v1/auth/wechat", deep(defaultMaxBodyBytes/2 - 20), 400},
		{"nested in a field 9990", "POST", "/v1/auth/wechat",
			[]byte(`{"code":` + strings.Repeat("[", 9990) + strings.Repeat("]", 9990) + `}`), 400},
		{"bad array items 2000", "POST", "/v1/todos", badItems(2000), 400},
		{"bad array items 20000", "POST", "/v1/todos", badItems(20000), 400},
		{"bad array items 1MiB", "POST", "/v1/todos", badItems(0), 400},
		{"bad fields 1MiB", "POST", "/v1/todos",
			fill(`{"title":"","priority":"urgent","done":"yes","due_at":"soon","notes":7,`, `}`, defaultMaxBodyBytes, 0,
				func(i int) string { return fmt.Sprintf(`"k%d":{"a":[%d]}`, i, i) }), 400},
		{"objects in an array 1MiB", "POST", "/v1/todos",
			fill(`{"title":"x","tags":[`, `]}`, defaultMaxBodyBytes, 0, func(i int) string { return fmt.Sprintf(`{"k%d":0}`, i) }), 400},
	}
}

// BenchmarkValidateHostileBody measures the validation middleware on the
// bodies of hostileBodies, each answered 400. Its cost must grow no faster
// than the body.
func BenchmarkValidateHostileBody(b *testing.B) {
	e := validatorEngine(b)
	for _, tc := range hostileBodies() {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.body)))
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(tc.method, tc.path, bytes.NewReader(tc.body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)
				if rec.Code != tc.status {
					b.Fatalf("status %d, want %d: %.300s", rec.Code, tc.status, rec.Body)
				}
			}
		})
	}
}

// BenchmarkKinOpenAPIHostileBody measures openapi3filter.ValidateRequest
// alone on the bodies of hostileBodies that are valid JSON: what the
// validation middleware cannot make cheaper by itself.
func BenchmarkKinOpenAPIHostileBody(b *testing.B) {
	ops, err := loadOperations()
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range hostileBodies() {
		if !json.Valid(tc.body) {
			continue
		}
		route := ops[tc.method+" "+tc.path].Route
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.body)))
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(tc.method, tc.path, bytes.NewReader(tc.body))
				req.Header.Set("Content-Type", "application/json")
				in := &openapi3filter.RequestValidationInput{Request: req, Route: route, Options: &validationOptions}
				if openapi3filter.ValidateRequest(req.Context(), in) == nil {
					b.Fatal("the body passed validation")
				}
			}
		})
	}
}
