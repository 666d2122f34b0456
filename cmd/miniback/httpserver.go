package main

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/miniback/miniback/adapters/httpapi"
)

// readHeaderTimeout bounds how long a request's headers may take to
// arrive, on every route.
const readHeaderTimeout = 10 * time.Second

// newHTTPServer returns the API's http.Server. Each route gets its own
// deadlines (httpapi.WithDeadlines): a JSON body MINIBACK_READ_TIMEOUT to
// arrive and its request MINIBACK_WRITE_TIMEOUT to be answered, a file to
// or from the local-disk storage MINIBACK_UPLOAD_TIMEOUT. The server-wide
// timeouts are only a backstop at the longest of them; with S3 files never
// come here.
func newHTTPServer(cfg Config, handler http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler: httpapi.WithDeadlines(handler, httpapi.Deadlines{
			Body: cfg.ReadTimeout, Answer: cfg.WriteTimeout, File: cfg.UploadTimeout,
		}),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       cfg.UploadTimeout,
		WriteTimeout:      cfg.UploadTimeout + cfg.WriteTimeout,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
