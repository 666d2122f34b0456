package httpapi

import (
	"net/http"
	"time"
)

// Deadlines bound how long a request may hold its connection, per route.
// A whole-server http.Server ReadTimeout long enough for a file over a
// slow network would let a client trickle a small JSON body for as long;
// these give each route the time its body needs. Given to the handler
// (Deps.Deadlines), the answer's bound is also the deadline of the
// request's context, which every call to the database, WeChat or the
// storage is made with: a request past it stops waiting and answers 503.
type Deadlines struct {
	// Body bounds how long a request body may take to arrive, from the
	// end of its headers (every route but the file routes).
	Body time.Duration
	// Answer bounds how long a request may take from the end of its
	// headers to the end of its answer (every route but the file routes).
	// It must leave time for the body and for the slowest work a route
	// waits on (a WeChat call, a turn of the password hasher).
	Answer time.Duration
	// File bounds how long a file may take to arrive at or leave the
	// local-disk storage (the /v1/local-storage routes); the answer to an
	// upload then gets Answer more.
	File time.Duration
}

// AnswerGrace is how long past its deadline a request's answer may take
// to be written: the operation's context ends at the deadline, and the
// problem document saying so (a 503) must still get out.
const AnswerGrace = 5 * time.Second

// limits returns how long r's body may take to arrive and how long r may
// take to be answered, by its route's class: a file to or from the
// local-disk storage, or any other request (the API's JSON operations,
// the probes, the docs). Every route is in one of the two.
func (d Deadlines) limits(r *http.Request) (read, answer time.Duration) {
	read, answer = d.Body, d.Answer
	if isFileRoute(r) {
		read, answer = d.File, d.File
		if answer > 0 && r.Method != http.MethodGet {
			answer += d.Answer
		}
	}
	return read, answer
}

// WithDeadlines sets the read and write deadlines of each request's
// connection from d before next serves it; a zero duration sets none. The
// write deadline is the answer's deadline plus AnswerGrace, so that a
// request whose context ends at its deadline (Deps.Deadlines) can still
// say so.
//
// A body that misses its read deadline fails to read with an i/o timeout,
// which the handler answers with a 400 problem (the body could not be
// read) while it can still write; the server then closes the connection,
// since the rest of the body can no longer be read.
//
// The read deadline is set only on requests that have a body: for one
// without, the server already watches the connection for the client going
// away, and a deadline would end that watch by cancelling the request.
func WithDeadlines(next http.Handler, d Deadlines) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		read, write := d.limits(r)
		now := time.Now()
		rc := connDeadlines(w)
		// Errors mean a ResponseWriter without deadlines (a test
		// recorder), where there is no connection to hold.
		if read > 0 && r.Body != nil && r.Body != http.NoBody {
			_ = rc.SetReadDeadline(now.Add(read))
		}
		if write > 0 {
			_ = rc.SetWriteDeadline(now.Add(write + AnswerGrace))
		}
		next.ServeHTTP(w, r)
	})
}

// isFileRoute reports whether r carries a file to or from the local-disk
// storage. The API's paths are exact (no trailing-slash redirects), so the
// path alone decides, as the router will.
func isFileRoute(r *http.Request) bool {
	if r.URL.Path != localStoragePath {
		return false
	}
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodGet, http.MethodHead:
		return true
	}
	return false
}

// deadliner is what http.ResponseController asks of a ResponseWriter to
// set its connection's deadlines; net/http's own writer has both.
type deadliner interface {
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
}

// connDeadlines returns w itself when it sets deadlines (the server's
// writer: no allocation on the hot path), else an http.ResponseController,
// which finds them through Unwrap or says it cannot.
func connDeadlines(w http.ResponseWriter) deadliner {
	if d, ok := w.(deadliner); ok {
		return d
	}
	return http.NewResponseController(w)
}
