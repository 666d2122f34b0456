package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/miniback/miniback"
	"github.com/miniback/miniback/domain"
)

func TestHealthzAnswersOK(t *testing.T) {
	e := newEnv(t)
	res := e.api.Get("/healthz")
	if res.Status != http.StatusOK || strings.TrimSpace(string(res.Body)) != `{"status":"ok"}` {
		t.Fatalf(`want 200 {"status":"ok"}`+"\n%s", res)
	}
}

func TestReadyzAnswersOKWhenTheDatabaseAnswers(t *testing.T) {
	e := newEnv(t) // Ready is the test database's Ping
	res := e.api.Get("/readyz")
	if res.Status != http.StatusOK || strings.TrimSpace(string(res.Body)) != `{"status":"ok"}` {
		t.Fatalf(`want 200 {"status":"ok"}`+"\n%s", res)
	}
}

func TestReadyzIsUnavailableWhenReadyFails(t *testing.T) {
	var deadlineSet bool
	e := newEnv(t, withReady(func(ctx context.Context) error {
		_, deadlineSet = ctx.Deadline()
		return errors.New("dial tcp 10.0.0.7:5432: connect: connection refused")
	}))
	res := e.api.Get("/readyz")
	if res.Status != http.StatusServiceUnavailable || res.Problem().Code != string(domain.CodeUnavailable) {
		t.Fatalf("want 503 unavailable\n%s", res)
	}
	if res.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if strings.Contains(string(res.Body), "10.0.0.7") {
		t.Errorf("the 503 shows its cause:\n%s", res)
	}
	if !deadlineSet {
		t.Error("Ready ran without a deadline")
	}
}

func TestReadyzIsUnavailableWhenTheDatabaseIsClosed(t *testing.T) {
	e := newEnv(t)
	e.db.Close()
	if res := e.api.Get("/readyz"); res.Status != http.StatusServiceUnavailable {
		t.Fatalf("want 503\n%s", res)
	}
}

func TestDocsServeSwaggerUIFromTheBinary(t *testing.T) {
	e := newEnv(t)
	page := e.api.Get("/docs")
	if page.Status != http.StatusOK || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(page.Body), `id="swagger-ui"`) {
		t.Fatalf("want the Swagger UI page\n%s", page)
	}
	for _, asset := range []string{"/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css", "/docs/init.js"} {
		if !strings.Contains(string(page.Body), asset) {
			t.Errorf("the page does not load %s", asset)
		}
		if res := e.api.Get(asset); res.Status != http.StatusOK || len(res.Body) == 0 {
			t.Errorf("GET %s: want 200 with a body, got %d", asset, res.Status)
		}
	}
	if init := e.api.Get("/docs/init.js"); !strings.Contains(string(init.Body), `"/openapi.json"`) {
		t.Errorf("init.js does not load /openapi.json:\n%s", init.Body)
	}
	for _, path := range []string{"/docs/assets/", "/docs/assets/index.html", "/docs/assets/nope.js", "/docs/assets/../../openapi.json"} {
		if res := e.api.Get(path); res.Status != http.StatusNotFound {
			t.Errorf("GET %s: want 404\n%s", path, res)
		}
	}
}

func TestOpenAPIServesTheEmbeddedSpec(t *testing.T) {
	e := newEnv(t)
	var fromJSON, fromYAML map[string]any

	res := e.api.Get("/openapi.json")
	if res.Status != http.StatusOK || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("want 200 application/json\n%s", res)
	}
	if err := json.Unmarshal(res.Body, &fromJSON); err != nil {
		t.Fatal(err)
	}
	paths, _ := fromJSON["paths"].(map[string]any)
	for _, p := range []string{"/v1/auth/wechat", "/v1/me", "/healthz", "/readyz"} {
		if paths[p] == nil {
			t.Errorf("/openapi.json lacks path %s", p)
		}
	}

	res = e.api.Get("/openapi.yaml")
	if res.Status != http.StatusOK || res.Header.Get("Content-Type") != "application/yaml" {
		t.Fatalf("want 200 application/yaml\n%s", res)
	}
	if !bytes.Equal(res.Body, miniback.OpenAPIYAML) {
		t.Errorf("/openapi.yaml is not openapi.yaml byte for byte:\n%.200s", res.Body)
	}
	// oapi-codegen's embedded copy capitalises operationIds; the served
	// contract must keep the names clients generate code from.
	if !bytes.Contains(res.Body, []byte("operationId: getMe\n")) || bytes.Contains(res.Body, []byte("operationId: GetMe")) {
		t.Error("/openapi.yaml does not carry the repository's operationIds")
	}
	if err := yaml.Unmarshal(res.Body, &fromYAML); err != nil {
		t.Fatal(err)
	}
	// Same document: compare through JSON, where YAML's and JSON's
	// number types agree.
	a, _ := json.Marshal(fromJSON)
	b, err := json.Marshal(fromYAML)
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Error("/openapi.yaml and /openapi.json differ")
	}
}
