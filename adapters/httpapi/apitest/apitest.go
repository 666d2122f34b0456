// Package apitest drives miniback's HTTP API in tests and checks every
// response against /openapi.yaml (the spec embedded in package api) with
// kin-openapi: the status must be one the operation declares, declared
// headers must match their schemas, and the body must match the schema of
// its status and content type. Responses to requests the spec does not
// describe (404, 405, /docs) are checked too: an error status must carry an
// application/problem+json body that matches the Problem schema. Every
// problem document must also agree with its response (status, request id,
// type URI). A mismatch fails the test, naming the request and showing the
// response.
//
// A body an operation declares as image/png, image/jpeg, image/gif or
// image/webp must be one: its bytes are sniffed.
//
// A HEAD request is checked as the GET it mirrors, less the body (the spec
// declares no HEAD operations, and kin-openapi skips HEAD responses): its
// status must be one the GET declares, its declared headers must match,
// its Content-Type must be one the GET's status declares, and it must have
// no body.
//
// With MINIBACK_OPERATIONS_LOG set, each conforming answer to a spec
// operation appends its operationId to that file, for the operation
// coverage check.
//
// New serves a handler in-process; NewRemote talks HTTP to a running
// server, for end-to-end tests of the built binary. Both check alike.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/miniback/miniback/adapters/httpapi/api"
)

// ProblemTypeBase prefixes a problem's code to make its "type" URI.
const ProblemTypeBase = "https://miniback.dev/problems/"

// Client sends requests and checks their responses against the spec.
type Client struct {
	t       testing.TB
	handler http.Handler // in-process; nil for a remote client
	base    *url.URL     // remote only
	http    *http.Client // remote only
	spec    *spec
}

// New returns a Client that serves requests with h in-process.
func New(t testing.TB, h http.Handler) *Client {
	t.Helper()
	return &Client{t: t, handler: h, spec: loadSpec(t)}
}

// NewRemote returns a Client that sends requests to the server at baseURL
// (e.g. "http://127.0.0.1:8080"). It follows no redirects, so every
// response is checked as the server sent it.
func NewRemote(t testing.TB, baseURL string) *Client {
	t.Helper()
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		t.Fatalf("apitest: base URL %q is not an http(s) URL", baseURL)
		return nil
	}
	hc := &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Client{t: t, base: u, http: hc, spec: loadSpec(t)}
}

// Response is a response whose status, headers and body have been checked.
type Response struct {
	Status int
	Header http.Header
	Body   []byte

	t   testing.TB
	req string // "METHOD /path", for messages
}

// Do sends req and checks the response. req's URL may be a bare path
// ("/v1/me"); a remote client resolves it against its base URL.
func (c *Client) Do(req *http.Request) *Response {
	c.t.Helper()
	// The route is found from the path the caller wrote, whatever the
	// base URL's host and prefix.
	routed := req.Clone(req.Context())
	routed.Body = http.NoBody // Clone shares the body; routing needs none
	head := req.Method == http.MethodHead
	if head {
		routed.Method = http.MethodGet // checked as the GET's answer
	}
	if routed.Method == http.MethodPost && strings.EqualFold(strings.TrimSpace(routed.Header.Get("X-HTTP-Method-Override")), http.MethodPatch) {
		routed.Method = http.MethodPatch // as the server takes it
	}
	status, header, body, err := c.send(req)
	if err != nil {
		c.t.Fatalf("apitest: %s %s: %v", req.Method, req.URL.Path, err)
		return nil
	}
	res := &Response{Status: status, Header: header, Body: body, t: c.t, req: req.Method + " " + req.URL.Path}
	msgs, operationID := c.spec.check(routed, res, head)
	for _, msg := range msgs {
		c.t.Errorf("apitest: %s: response does not conform to openapi.yaml: %s\n%s", res.req, msg, res)
	}
	// A HEAD's body went unchecked, so it does not count as a test of
	// the operation.
	if len(msgs) == 0 && operationID != "" && !head {
		recordOperation(c.t, operationID)
	}
	return res
}

// JSON sends a request with body encoded as JSON (nil sends none; a string
// or []byte is sent verbatim, for malformed bodies) and Content-Type
// application/json. Each header is "Name: value" and replaces any default;
// an empty value removes the header, so "Content-Type:" sends a body
// without one.
func (c *Client) JSON(method, path string, body any, headers ...string) *Response {
	c.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	case json.RawMessage:
		r = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			c.t.Fatalf("apitest: encode %T: %v", body, err)
			return nil
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, path, r)
	if err != nil {
		c.t.Fatalf("apitest: build %s %s: %v", method, path, err)
		return nil
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			c.t.Fatalf("apitest: header %q is not \"Name: value\"", h)
			return nil
		}
		if value = strings.TrimSpace(value); value == "" {
			req.Header.Del(name)
		} else {
			req.Header.Set(name, value)
		}
	}
	return c.Do(req)
}

// Get sends a GET request with the given "Name: value" headers.
func (c *Client) Get(path string, headers ...string) *Response {
	c.t.Helper()
	return c.JSON(http.MethodGet, path, nil, headers...)
}

// Head sends a HEAD request with the given "Name: value" headers.
func (c *Client) Head(path string, headers ...string) *Response {
	c.t.Helper()
	return c.JSON(http.MethodHead, path, nil, headers...)
}

// send performs the request in-process or over HTTP.
func (c *Client) send(req *http.Request) (int, http.Header, []byte, error) {
	if c.handler != nil {
		if req.RemoteAddr == "" {
			req.RemoteAddr = "192.0.2.1:1234" // as httptest.NewRequest
		}
		rec := httptest.NewRecorder()
		c.handler.ServeHTTP(rec, req)
		res := rec.Result()
		body, err := io.ReadAll(res.Body)
		return res.StatusCode, res.Header, body, err
	}
	out := req.Clone(req.Context())
	if req.URL.Host == "" {
		u := *c.base
		u.Path = strings.TrimSuffix(c.base.Path, "/") + req.URL.Path
		u.RawPath = ""
		u.RawQuery = req.URL.RawQuery
		out.URL = &u
		out.Host = ""
	}
	out.RequestURI = ""
	res, err := c.http.Do(out)
	if err != nil {
		return 0, nil, nil, err
	}
	defer func() { _ = res.Body.Close() }()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, body, err
}

// Decode unmarshals the body into v, failing the test if it cannot.
func (r *Response) Decode(v any) {
	r.t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		r.t.Fatalf("apitest: %s: decode body into %T: %v\n%s", r.req, v, err, r)
	}
}

// Problem returns the body as a problem document, failing the test if the
// response is not application/problem+json.
func (r *Response) Problem() api.Problem {
	r.t.Helper()
	var p api.Problem
	if !isProblem(r.Header) {
		r.t.Fatalf("apitest: %s: want an application/problem+json response\n%s", r.req, r)
		return p
	}
	r.Decode(&p)
	return p
}

// String shows the response for failure messages; long bodies are cut.
func (r *Response) String() string {
	body := string(r.Body)
	if len(body) > 2000 {
		body = body[:2000] + "…"
	}
	return fmt.Sprintf("HTTP %d %s\nContent-Type: %s\n%s", r.Status, http.StatusText(r.Status), r.Header.Get("Content-Type"), body)
}

// spec is the loaded spec with its router, shared by every Client.
type spec struct {
	router  routers.Router
	problem *openapi3.Schema
}

var (
	specOnce sync.Once
	specVal  *spec
	specErr  error
)

func loadSpec(t testing.TB) *spec {
	t.Helper()
	specOnce.Do(func() {
		doc, err := api.GetSpec()
		if err != nil {
			specErr = fmt.Errorf("load embedded spec: %w", err)
			return
		}
		// Match routes by path alone: the servers name the development
		// listener, not the server under test.
		doc.Servers = nil
		router, err := legacy.NewRouter(doc)
		if err != nil {
			specErr = fmt.Errorf("build router: %w", err)
			return
		}
		ref := doc.Components.Schemas["Problem"]
		if ref == nil || ref.Value == nil {
			specErr = fmt.Errorf("the spec has no Problem schema")
			return
		}
		specVal = &spec{router: router, problem: ref.Value}
	})
	if specErr != nil {
		t.Fatalf("apitest: %v", specErr)
	}
	return specVal
}

// uuidFormat checks format: uuid, which kin-openapi leaves unchecked by
// default.
var uuidFormat = openapi3.WithStringFormatValidator("uuid",
	openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562))

// responseOptions make kin-openapi fail on undeclared statuses and report
// every schema violation at once.
var responseOptions = &openapi3filter.Options{
	IncludeResponseStatus:   true,
	MultiError:              true,
	AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
	SchemaValidationOptions: []openapi3.SchemaValidationOption{uuidFormat},
}

// headResponseOptions check the status and headers of an answer to HEAD
// (req is then the GET it mirrors), not its body.
var headResponseOptions = func() *openapi3filter.Options {
	o := *responseOptions
	o.ExcludeResponseBody = true
	return &o
}()

// check returns what is wrong with res as an answer to req, and the
// operationId of the spec operation req was routed to ("" for none). With
// head, res answered a HEAD and req is the GET it mirrors.
func (s *spec) check(req *http.Request, res *Response, head bool) ([]string, string) {
	var msgs []string
	operationID := ""
	options := responseOptions
	if head {
		options = headResponseOptions
		if len(res.Body) > 0 {
			msgs = append(msgs, fmt.Sprintf("a HEAD response has a body (%d bytes)", len(res.Body)))
		}
	}
	route, params, err := s.router.FindRoute(req)
	if err == nil {
		operationID = route.Operation.OperationID
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{
				Request: req, PathParams: params, Route: route, Options: options,
			},
			Status:  res.Status,
			Header:  res.Header,
			Options: options,
		}
		in.SetBodyBytes(res.Body)
		if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
			msgs = append(msgs, err.Error())
		}
		if head {
			msgs = append(msgs, checkContentType(route, res)...)
		} else {
			msgs = append(msgs, checkImage(route, res)...)
		}
	}
	switch {
	case isProblem(res.Header) && head:
		// No body to check.
	case isProblem(res.Header):
		msgs = append(msgs, s.checkProblem(res)...)
	case res.Status >= 400:
		msgs = append(msgs, fmt.Sprintf("an error status must have an application/problem+json body, not %q", res.Header.Get("Content-Type")))
	}
	return msgs, operationID
}

// checkContentType checks that a body-less answer names a media type its
// status declares, as ValidateResponse does when it has the body.
func checkContentType(route *routers.Route, res *Response) []string {
	ref := route.Operation.Responses.Status(res.Status)
	if ref == nil || ref.Value == nil || len(ref.Value.Content) == 0 {
		return nil
	}
	mediaType, _, err := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if err != nil || ref.Value.Content.Get(mediaType) == nil {
		return []string{fmt.Sprintf("Content-Type %q is not one status %d declares", res.Header.Get("Content-Type"), res.Status)}
	}
	return nil
}

// sniffedImages are the image types whose bytes http.DetectContentType
// recognises.
var sniffedImages = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// checkImage checks that a body the operation declares as an image type
// (by name, not through a range such as */*, which serves stored files as
// their uploader labelled them) is one: kin-openapi takes a binary body as
// it is, so a JPEG sent as image/png (or an error page sent as an image)
// would otherwise pass.
func checkImage(route *routers.Route, res *Response) []string {
	mediaType, _, err := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if err != nil || !sniffedImages[mediaType] || res.Status < 200 || res.Status > 299 {
		return nil
	}
	ref := route.Operation.Responses.Status(res.Status)
	if ref == nil || ref.Value == nil || ref.Value.Content[mediaType] == nil {
		return nil
	}
	if got := http.DetectContentType(res.Body); got != mediaType {
		return []string{fmt.Sprintf("the body is labelled %s but its bytes are %s", mediaType, got)}
	}
	return nil
}

// OperationsLogEnv names the environment variable that, when set, holds a
// file to which every Client appends the operationId of each response it
// checked and found conforming, one per line. The operation coverage
// check (sdk/scripts/coverage.mjs) reads it with the SDK tests' record.
const OperationsLogEnv = "MINIBACK_OPERATIONS_LOG"

var operationsLogMu sync.Mutex

func recordOperation(t testing.TB, operationID string) {
	path := os.Getenv(OperationsLogEnv)
	if path == "" {
		return
	}
	operationsLogMu.Lock()
	defer operationsLogMu.Unlock()
	// Test binaries of several packages append at once; O_APPEND keeps
	// each short line whole.
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err == nil {
		_, err = f.WriteString(operationID + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		t.Errorf("apitest: record operation in %s=%s: %v", OperationsLogEnv, path, err)
	}
}

// checkProblem checks a problem document against the Problem schema, which
// covers paths outside the spec, and against its own response.
func (s *spec) checkProblem(res *Response) []string {
	var value any
	if err := json.Unmarshal(res.Body, &value); err != nil {
		return []string{fmt.Sprintf("problem body is not JSON: %v", err)}
	}
	if err := s.problem.VisitJSON(value, openapi3.MultiErrors(), openapi3.VisitAsResponse(), uuidFormat); err != nil {
		return []string{fmt.Sprintf("problem body does not match the Problem schema: %v", err)}
	}
	var p api.Problem
	if err := json.Unmarshal(res.Body, &p); err != nil {
		return []string{fmt.Sprintf("problem body does not decode: %v", err)}
	}
	var msgs []string
	if res.Status < 400 {
		msgs = append(msgs, fmt.Sprintf("a problem document comes with status %d, not an error", res.Status))
	}
	if p.Status != res.Status {
		msgs = append(msgs, fmt.Sprintf("problem status %d differs from the HTTP status %d", p.Status, res.Status))
	}
	if p.Type != ProblemTypeBase+p.Code {
		msgs = append(msgs, fmt.Sprintf("problem type %q is not %q", p.Type, ProblemTypeBase+p.Code))
	}
	if id := res.Header.Get("X-Request-ID"); p.RequestId == nil || *p.RequestId != id {
		msgs = append(msgs, fmt.Sprintf("problem request_id does not echo the X-Request-ID header %q", id))
	}
	return msgs
}

func isProblem(h http.Header) bool {
	mediaType, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	return err == nil && mediaType == "application/problem+json"
}
