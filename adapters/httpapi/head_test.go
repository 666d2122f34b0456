package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/miniback/miniback/adapters/httpapi/apitest"
)

// Every HEAD goes through apitest, which checks it as the GET's answer
// without the body: status and declared headers against the spec.

func TestHeadAnswersAsItsGetWithoutTheBody(t *testing.T) {
	e := newEnv(t)
	auth := e.signIn(t, "alice")
	td := e.createTodo(t, auth, map[string]any{"title": "a"})
	for _, path := range []string{
		"/v1/me", "/v1/todos/" + td.ID, "/v1/todos?limit=1", "/v1/auth/sessions",
		"/healthz", "/readyz", "/openapi.yaml", "/openapi.json", "/.well-known/jwks.json", "/docs", "/console",
	} {
		t.Run(path, func(t *testing.T) {
			get := e.apiFor(t).Get(path, auth)
			head := e.apiFor(t).Head(path, auth)
			if get.Status != http.StatusOK || head.Status != get.Status {
				t.Fatalf("GET %d, HEAD %d: want both 200\n%s", get.Status, head.Status, head)
			}
			if len(head.Body) != 0 {
				t.Errorf("HEAD sent a %d-byte body", len(head.Body))
			}
			if got, want := head.Header.Get("Content-Length"), strconv.Itoa(len(get.Body)); got != want {
				t.Errorf("HEAD Content-Length %q, want the GET body's %s", got, want)
			}
			for _, name := range []string{"Content-Type", "ETag", "Cache-Control", "X-Content-Type-Options"} {
				if got, want := head.Header.Get(name), get.Header.Get(name); got != want {
					t.Errorf("HEAD %s %q, GET's %q", name, got, want)
				}
			}
		})
	}
	if etag := e.apiFor(t).Head("/v1/todos/"+td.ID, auth).Header.Get("ETag"); etag != `"v1"` {
		t.Errorf("HEAD of a task: ETag %q, want \"v1\"", etag)
	}
}

func TestHeadIsAuthenticatedAndValidatedLikeItsGet(t *testing.T) {
	e := newEnv(t)
	auth := e.signIn(t, "alice")
	td := e.createTodo(t, auth, map[string]any{"title": "a"})

	for name, headers := range map[string][]string{"no token": nil, "garbage": {"Authorization: Bearer garbage"}} {
		res := e.apiFor(t).Head("/v1/me", headers...)
		if res.Status != http.StatusUnauthorized || len(res.Body) != 0 {
			t.Errorf("%s: want 401 without a body\n%s", name, res)
		}
		if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") || res.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: headers %v, want the 401's problem Content-Type and WWW-Authenticate", name, res.Header)
		}
		if n, err := strconv.Atoi(res.Header.Get("Content-Length")); err != nil || n == 0 {
			t.Errorf("%s: Content-Length %q, want the problem document's length", name, res.Header.Get("Content-Length"))
		}
	}
	if res := e.apiFor(t).Head("/v1/todos/not-a-uuid", auth); res.Status != http.StatusBadRequest || len(res.Body) != 0 {
		t.Errorf("bad id: want 400 without a body\n%s", res)
	}
	if res := e.apiFor(t).Head("/v1/todos/3f8e5a1c-2b7d-4e9f-8a6b-1c2d3e4f5a6b", auth); res.Status != http.StatusNotFound || len(res.Body) != 0 {
		t.Errorf("no such task: want 404 without a body\n%s", res)
	}
	res := e.apiFor(t).Head("/v1/todos/"+td.ID, auth, `If-None-Match: "v1"`)
	if res.Status != http.StatusNotModified || res.Header.Get("ETag") != `"v1"` || res.Header.Get("Content-Length") != "" {
		t.Errorf("If-None-Match: want 304 with the ETag and no length\n%s\n%v", res, res.Header)
	}
}

func TestHeadIsAMethodOfEveryGetRouteOnly(t *testing.T) {
	e := newEnv(t)
	res := e.api.Head("/v1/auth/logout")
	if res.Status != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "POST" || len(res.Body) != 0 {
		t.Errorf("HEAD of a POST-only path: want 405, Allow: POST, no body\n%s\n%v", res, res.Header)
	}
	res = e.api.JSON("PUT", "/v1/me", nil)
	if allow := res.Header.Get("Allow"); res.Status != http.StatusMethodNotAllowed || !listed(allow, "GET") || !listed(allow, "HEAD") {
		t.Errorf("PUT /v1/me: want 405 allowing GET and HEAD, got %d, Allow %q", res.Status, allow)
	}
	if res := e.api.Head("/nowhere"); res.Status != http.StatusNotFound || len(res.Body) != 0 {
		t.Errorf("HEAD of no route: want 404 without a body\n%s", res)
	}
}

func TestTheAccessLogNamesHead(t *testing.T) {
	e := newEnv(t)
	e.api.Head("/healthz", "X-Request-ID: head-1")
	for _, line := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if m["request_id"] == "head-1" {
			if m["method"] != "HEAD" || m["route"] != "/healthz" || m["status"] != float64(200) {
				t.Errorf("access log entry %v, want method HEAD, route /healthz, status 200", m)
			}
			return
		}
	}
	t.Error("no access log entry for the HEAD")
}

func TestHeadOverARealConnection(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.handler)
	defer srv.Close()
	remote := apitest.NewRemote(t, srv.URL)
	get, head := remote.Get("/openapi.yaml"), remote.Head("/openapi.yaml")
	if head.Status != http.StatusOK || len(head.Body) != 0 || head.Header.Get("Content-Length") != strconv.Itoa(len(get.Body)) {
		t.Errorf("HEAD /openapi.yaml: status %d, %d-byte body, Content-Length %q; want 200, none, %d",
			head.Status, len(head.Body), head.Header.Get("Content-Length"), len(get.Body))
	}
	if res := remote.Head("/v1/me"); res.Status != http.StatusUnauthorized || len(res.Body) != 0 {
		t.Errorf("unauthenticated HEAD: want 401 without a body\n%s", res)
	}
}
