package httpapi

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/miniback/miniback/domain"
)

// consoleFS holds the admin console's build (console/, `go tool task
// console:build`): index.html and its content-hashed assets. all: keeps
// file names that start with _ or . (a bundler may make some).
//
//go:embed all:console
var consoleFS embed.FS

// consoleCSP is the console's Content-Security-Policy: every script and
// style is a file from this server (the build inlines none), the API is
// the only place it talks to, and no other site may frame it.
const consoleCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// registerConsole serves the admin console, outside the spec's paths like
// /docs. The console calls the API's admin operations with the signed-in
// admin's token, like any client.
//
//	GET /console                 the page (no-cache: a new binary's page is seen at once)
//	GET /console/                the same page
//	GET /console/assets/{file}   its scripts and styles, named by content (cached for a year)
func registerConsole(e *gin.Engine) {
	assets, err := fs.Sub(consoleFS, "console")
	if err != nil {
		panic("httpapi: the console build is not embedded: " + err.Error())
	}
	page, err := fs.ReadFile(assets, "index.html")
	if err != nil {
		panic("httpapi: the console build has no index.html: run go tool task console:build")
	}
	sum := sha256.Sum256(page)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`

	servePage := func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", consoleCSP)
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", etag)
		http.ServeContent(c.Writer, c.Request, "index.html", time.Time{}, bytes.NewReader(page))
	}
	e.GET("/console", servePage)
	e.GET("/console/*file", func(c *gin.Context) {
		file := c.Param("file")
		if file == "/" || file == "/index.html" {
			servePage(c)
			return
		}
		name := strings.TrimPrefix(path.Clean(file), "/")
		info, err := fs.Stat(assets, name)
		if !strings.HasPrefix(name, "assets/") || err != nil || info.IsDir() {
			problemFor(c.Request.Context(), domain.Errorf(domain.CodeNotFound, "There is nothing at this path.")).write(c.Writer)
			c.Abort()
			return
		}
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", consoleCSP)
		// An asset's name changes with its content: it never goes stale.
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		http.ServeFileFS(c.Writer, c.Request, assets, name)
	})
}
