package httpapi

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"
	swaggerfiles "github.com/swaggo/files/v2"
	"go.yaml.in/yaml/v3"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/domain"
)

// docsFS holds the Swagger UI page and its start script; the Swagger UI
// assets themselves come from swaggo/files, all compiled into the binary.
//
//go:embed docs/index.html docs/init.js
var docsFS embed.FS

// registerDocs serves the API reference, outside the spec's paths:
//
//	GET /docs               Swagger UI
//	GET /docs/assets/{file} Swagger UI's scripts and styles
//	GET /openapi.json       the embedded spec
//	GET /openapi.yaml       the same spec as YAML
func registerDocs(e *gin.Engine) {
	specJSON, err := api.GetSpecJSON()
	if err != nil {
		panic(fmt.Sprintf("httpapi: embedded spec: %v", err))
	}
	specYAML, err := jsonToYAML(specJSON)
	if err != nil {
		panic(fmt.Sprintf("httpapi: embedded spec as YAML: %v", err))
	}
	// Both files are embedded above, so reading them cannot fail.
	page, _ := docsFS.ReadFile("docs/index.html")
	script, _ := docsFS.ReadFile("docs/init.js")

	e.GET("/openapi.json", func(c *gin.Context) { c.Data(http.StatusOK, "application/json", specJSON) })
	e.GET("/openapi.yaml", func(c *gin.Context) { c.Data(http.StatusOK, "application/yaml", specYAML) })
	e.GET("/docs", func(c *gin.Context) { c.Data(http.StatusOK, "text/html; charset=utf-8", page) })
	e.GET("/docs/init.js", func(c *gin.Context) { c.Data(http.StatusOK, "text/javascript; charset=utf-8", script) })
	e.GET("/docs/assets/*file", serveAsset)
}

// serveAsset serves one file of Swagger UI's distribution. Directories
// and missing files are a not_found problem, not a listing or a text 404.
func serveAsset(c *gin.Context) {
	name := strings.TrimPrefix(path.Clean(c.Param("file")), "/")
	if info, err := fs.Stat(swaggerfiles.FS, name); err != nil || info.IsDir() || name == "index.html" {
		// The distribution's own index.html loads the Petstore demo.
		problemFor(c.Request.Context(), domain.Errorf(domain.CodeNotFound, "There is nothing at this path.")).write(c.Writer)
		c.Abort()
		return
	}
	// The assets change only with the binary.
	c.Header("Cache-Control", "public, max-age=86400")
	http.ServeFileFS(c.Writer, c.Request, swaggerfiles.FS, name)
}

// topLevelOrder is the customary order of an OpenAPI document's keys; the
// embedded JSON has them sorted alphabetically.
var topLevelOrder = []string{"openapi", "info", "servers", "tags", "security", "paths", "components"}

// jsonToYAML re-encodes the embedded JSON spec as block-style YAML,
// keeping its content exactly (strings that look like numbers stay
// quoted).
func jsonToYAML(specJSON []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(specJSON, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("the spec is not a JSON object")
	}
	blockStyle(&doc)
	reorder(doc.Content[0], topLevelOrder)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// blockStyle clears the JSON (flow, double-quoted) styles so the encoder
// picks plain YAML, quoting only where a plain scalar would change type.
func blockStyle(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// reorder moves the given keys of mapping m to its front, in order.
func reorder(m *yaml.Node, keys []string) {
	var front, rest []*yaml.Node
	for _, k := range keys {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == k {
				front = append(front, m.Content[i], m.Content[i+1])
			}
		}
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if !containsKey(front, m.Content[i].Value) {
			rest = append(rest, m.Content[i], m.Content[i+1])
		}
	}
	m.Content = append(front, rest...)
}

func containsKey(pairs []*yaml.Node, key string) bool {
	for i := 0; i < len(pairs); i += 2 {
		if pairs[i].Value == key {
			return true
		}
	}
	return false
}
