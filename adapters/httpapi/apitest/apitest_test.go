package apitest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/miniback/miniback/adapters/httpapi/apitest"
)

const validUser = `{"id":"6f1c2a52-8d4e-4a8e-9b8a-3f1f0c1d2e3f","nickname":"Alice","avatar_url":"","bio":"","role":"user","created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}`

// fixed answers every request with one status, content type and body.
func fixed(status int, contentType, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-ID", "req-1")
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
}

func problemBody(status int, code string) string {
	return fmt.Sprintf(`{"type":"https://miniback.dev/problems/%s","title":"t","status":%d,"code":%q,"request_id":"req-1"}`, code, status, code)
}

// recorder is a testing.TB that records failures instead of failing, so a
// test can assert that the helper fails a test when it should.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) { r.record(fmt.Sprintf(format, args...)) }

func (r *recorder) Error(args ...any) { r.record(fmt.Sprint(args...)) }

func (r *recorder) Fatalf(format string, args ...any) {
	r.record(fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) {
	r.record(fmt.Sprint(args...))
	runtime.Goexit()
}

func (r *recorder) FailNow() { runtime.Goexit() }

func (r *recorder) record(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, msg)
}

// failures runs f with a recorder on its own goroutine (Fatalf ends it) and
// returns the failure messages.
func failures(t *testing.T, f func(tb testing.TB)) []string {
	rec := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(rec)
	}()
	<-done
	return rec.msgs
}

func TestConformingResponsePasses(t *testing.T) {
	msgs := failures(t, func(tb testing.TB) {
		apitest.New(tb, fixed(http.StatusOK, "application/json", validUser)).Get("/v1/me")
	})
	if len(msgs) != 0 {
		t.Fatalf("a conforming response failed the test: %q", msgs)
	}
}

func TestHeadIsCheckedAsItsGetWithoutTheBody(t *testing.T) {
	msgs := failures(t, func(tb testing.TB) {
		c := apitest.New(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodHead {
				tb.Errorf("sent %s, want HEAD", r.Method)
			}
			if r.Header.Get("Authorization") == "" {
				fixed(http.StatusUnauthorized, "application/problem+json", "").ServeHTTP(w, r)
				return
			}
			fixed(http.StatusOK, "application/json", "").ServeHTTP(w, r)
		}))
		c.Head("/v1/me", "Authorization: Bearer x")
		c.Head("/v1/me")
	})
	if len(msgs) != 0 {
		t.Fatalf("conforming HEAD answers failed the test: %q", msgs)
	}
}

func TestNonConformingResponsesFail(t *testing.T) {
	for _, tc := range []struct {
		name    string
		method  string
		path    string
		handler http.Handler
		want    string // in a failure message
	}{
		{"user missing a required field", "GET", "/v1/me",
			fixed(http.StatusOK, "application/json", strings.Replace(validUser, `"nickname":"Alice",`, "", 1)), `"nickname" is missing`},
		{"user with an unknown field", "GET", "/v1/me",
			fixed(http.StatusOK, "application/json", strings.Replace(validUser, `"bio":""`, `"bio":"","is_admin":true`, 1)), `"is_admin" is unsupported`},
		{"user id not a uuid", "GET", "/v1/me",
			fixed(http.StatusOK, "application/json", strings.Replace(validUser, `6f1c2a52-8d4e-4a8e-9b8a-3f1f0c1d2e3f`, `42`, 1)), `uuid`},
		{"undeclared status", "GET", "/v1/me",
			fixed(http.StatusTeapot, "application/problem+json", problemBody(http.StatusTeapot, "teapot")), "status is not supported"},
		{"wrong content type", "GET", "/v1/me",
			fixed(http.StatusOK, "text/plain", validUser), "Content-Type"},
		{"declared error as plain JSON", "GET", "/v1/me",
			fixed(http.StatusNotFound, "application/json", problemBody(http.StatusNotFound, "not_found")), "Content-Type"},
		{"problem missing its code", "GET", "/v1/me",
			fixed(http.StatusNotFound, "application/problem+json", `{"type":"x","title":"t","status":404,"request_id":"req-1"}`), `"code" is missing`},
		{"problem status differs from the HTTP status", "GET", "/v1/me",
			fixed(http.StatusNotFound, "application/problem+json", problemBody(http.StatusUnauthorized, "token_missing")), "differs from the HTTP status"},
		{"path outside the spec answered with text", "GET", "/nowhere",
			fixed(http.StatusNotFound, "text/plain", "404 page not found"), "must have an application/problem+json body"},
		{"path outside the spec with a bad problem", "GET", "/nowhere",
			fixed(http.StatusNotFound, "application/problem+json", `{"status":"404"}`), "Problem schema"},
		{"HEAD answered with a body", "HEAD", "/v1/me",
			fixed(http.StatusOK, "application/json", validUser), "a HEAD response has a body"},
		{"HEAD with a status the GET does not declare", "HEAD", "/v1/me",
			fixed(http.StatusTeapot, "application/problem+json", ""), "status is not supported"},
		{"HEAD with a content type the GET does not declare", "HEAD", "/v1/me",
			fixed(http.StatusOK, "text/plain", ""), "Content-Type"},
		{"HEAD error without the problem content type", "HEAD", "/nowhere",
			fixed(http.StatusNotFound, "text/plain", ""), "must have an application/problem+json body"},
		{"a JPEG labelled as a PNG", "POST", "/v1/wxacode",
			fixed(http.StatusOK, "image/png", "\xff\xd8\xff\xe0\x00\x10JFIF\x00"), "labelled image/png but its bytes are image/jpeg"},
		{"an error page labelled as an image", "POST", "/v1/wxacode",
			fixed(http.StatusOK, "image/jpeg", "<html>oops</html>"), "labelled image/jpeg"},
		{"an image type the operation does not declare", "POST", "/v1/wxacode",
			fixed(http.StatusOK, "image/gif", "GIF89a"), "image/gif"},
		{"problem without the request id", "PUT", "/v1/me",
			fixed(http.StatusMethodNotAllowed, "application/problem+json", strings.Replace(problemBody(405, "method_not_allowed"), `,"request_id":"req-1"`, "", 1)), "request_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msgs := failures(t, func(tb testing.TB) {
				apitest.New(tb, tc.handler).JSON(tc.method, tc.path, nil)
			})
			if len(msgs) == 0 {
				t.Fatalf("the helper let a non-conforming response pass")
			}
			if all := strings.Join(msgs, "\n"); !strings.Contains(all, tc.want) {
				t.Fatalf("failure does not mention %q:\n%s", tc.want, all)
			}
		})
	}
}

func TestImagesThatAreWhatTheySayPass(t *testing.T) {
	for ct, body := range map[string]string{"image/png": "\x89PNG\r\n\x1a\n\x00", "image/jpeg": "\xff\xd8\xff\xdb\x00"} {
		msgs := failures(t, func(tb testing.TB) {
			apitest.New(tb, fixed(http.StatusOK, ct, body)).JSON("POST", "/v1/wxacode", nil)
		})
		if len(msgs) != 0 {
			t.Errorf("%s: %q", ct, msgs)
		}
	}
}

func TestRemoteClientChecksResponsesToo(t *testing.T) {
	srv := httptest.NewServer(fixed(http.StatusTeapot, "application/problem+json", problemBody(http.StatusTeapot, "teapot")))
	defer srv.Close()
	msgs := failures(t, func(tb testing.TB) {
		res := apitest.NewRemote(tb, srv.URL).Get("/v1/me")
		if res.Status != http.StatusTeapot {
			tb.Errorf("status %d, want 418", res.Status)
		}
	})
	if !strings.Contains(strings.Join(msgs, "\n"), "status is not supported") {
		t.Fatalf("the remote client let an undeclared status pass: %q", msgs)
	}
}

func TestJSONSendsBodyAndHeaders(t *testing.T) {
	var gotCT, gotAuth, gotBody string
	login := `{"access_token":"t","token_type":"Bearer","expires_in":900,"refresh_token":"mbr_r","refresh_expires_in":60,"is_new_user":true,"user":` + validUser + `}`
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotCT, gotAuth = r.Header.Get("Content-Type"), r.Header.Get("Authorization")
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		fixed(http.StatusOK, "application/json", login).ServeHTTP(w, r)
	})
	c := apitest.New(t, h)

	c.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-alice"}, "Authorization: Bearer x")
	if gotBody != `{"code":"dev-alice"}` || gotAuth != "Bearer x" || gotCT != "application/json" {
		t.Errorf("encoded body: got body %q, auth %q, content type %q", gotBody, gotAuth, gotCT)
	}
	c.JSON("POST", "/v1/auth/wechat", `{"code":`, "Content-Type: text/plain")
	if gotBody != `{"code":` || gotCT != "text/plain" {
		t.Errorf("raw body: got body %q, content type %q", gotBody, gotCT)
	}
	c.JSON("POST", "/v1/auth/wechat", []byte(`{}`), "Content-Type:")
	if gotBody != `{}` || gotCT != "" {
		t.Errorf("no content type: got body %q, content type %q", gotBody, gotCT)
	}
}

// GET /v1/local-storage declares */*: it serves files as their uploader
// labelled them, which is not the server's claim to check.
func TestFilesServedAsAnyTypeAreNotSniffed(t *testing.T) {
	msgs := failures(t, func(tb testing.TB) {
		apitest.New(tb, fixed(http.StatusOK, "image/png", "not really a png")).Get("/v1/local-storage?key=a&expires=1&signature=s")
	})
	if len(msgs) != 0 {
		t.Errorf("%q", msgs)
	}
}
