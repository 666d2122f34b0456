package main

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/miniback/miniback/adapters/httpapi"
)

// deadlines are the per-route deadlines of the configuration.
func (c Config) deadlines() httpapi.Deadlines {
	return httpapi.Deadlines{Body: c.ReadTimeout, Answer: c.WriteTimeout, File: c.UploadTimeout}
}

// longestUpload is the longest a request may last: a file to the
// local-disk storage, its answer, and the time to write the answer.
func (c Config) longestUpload() time.Duration {
	return c.UploadTimeout + c.WriteTimeout + httpapi.AnswerGrace
}

// readHeaderTimeout bounds how long a request's headers may take to
// arrive, on every route.
const readHeaderTimeout = 10 * time.Second

// newHTTPServer returns the API's http.Server. Each route gets its own
// deadlines (httpapi.WithDeadlines): a JSON body MINIBACK_READ_TIMEOUT to
// arrive and its request MINIBACK_WRITE_TIMEOUT to be answered, a file to
// or from the local-disk storage MINIBACK_UPLOAD_TIMEOUT. The server-wide
// timeouts are only a backstop at the longest of them; with S3 files never
// come here.
//
// The handler gets the same deadlines (Deps.Deadlines) as its requests'
// context deadline: past it a request stops waiting and answers 503.
func newHTTPServer(cfg Config, handler http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           httpapi.WithDeadlines(handler, cfg.deadlines()),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       cfg.UploadTimeout,
		WriteTimeout:      cfg.longestUpload(),
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
