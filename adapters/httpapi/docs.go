package httpapi

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"
	swaggerfiles "github.com/swaggo/files/v2"
	"go.yaml.in/yaml/v3"

	"github.com/miniback/miniback"
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
//	GET /openapi.yaml       openapi.yaml, byte for byte
//	GET /openapi.json       the same document as JSON
func registerDocs(e *gin.Engine) {
	specYAML := miniback.OpenAPIYAML
	specJSON, err := yamlToJSON(specYAML)
	if err != nil {
		panic(fmt.Sprintf("httpapi: openapi.yaml as JSON: %v", err))
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

// yamlToJSON re-encodes the YAML spec as JSON for clients that want JSON.
// Mapping keys come out sorted; the content is the same document.
func yamlToJSON(specYAML []byte) ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(specYAML, &doc); err != nil {
		return nil, err
	}
	return json.Marshal(doc)
}
