package main

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// route is one measured operation: how to make the data file its wrk runs
// read (load.lua says what each mode's lines are).
type route struct {
	key  string // -routes name
	name string // as the tables show it
	mode string // static, idem, patch, refresh
	// lines returns the data file's lines for server s; static routes are
	// built once per server, the others before every run (their tasks'
	// versions and their tokens change).
	lines func(ctx context.Context, h *harness, s *server) ([]string, error)
}

// line is a static data line: method, path, body and headers, tab-separated.
func line(method, path, body string, headers ...string) string {
	return strings.Join(append([]string{method, path, body}, headers...), "\t")
}

const jsonHeader = "Content-Type: application/json"

// createBody is a task as a client creates it: a due time with its offset,
// a priority, tags and notes.
const createBody = `{"title":"Buy oat milk","notes":"Two litres, the barista one","due_at":"2031-09-01T18:00:00+08:00","priority":"high","tags":["home","errands"]}`

// perUser makes one GET line per user.
func perUser(path func(i int) string) func(context.Context, *harness, *server) ([]string, error) {
	return func(_ context.Context, h *harness, s *server) ([]string, error) {
		out := make([]string, len(h.users))
		for i, u := range h.users {
			out[i] = line("GET", path(i), "", s.authHeader(u))
		}
		return out, nil
	}
}

// cursorPage makes one GET line per user, each with the second-page
// cursor s gave that user for list.
func cursorPage(list string) func(context.Context, *harness, *server) ([]string, error) {
	return func(_ context.Context, h *harness, s *server) ([]string, error) {
		cs := h.cursors[s.name][list]
		out := make([]string, len(h.users))
		for i, u := range h.users {
			q := "cursor=" + url.QueryEscape(cs[i])
			if list != "" {
				q = list + "&" + q
			}
			out[i] = line("GET", "/v1/todos?"+q, "", s.authHeader(u))
		}
		return out, nil
	}
}

var allRoutes = []*route{
	{key: "me", name: "GET /v1/me", mode: "static",
		lines: perUser(func(int) string { return "/v1/me" })},
	{key: "todos", name: "GET /v1/todos (first page)", mode: "static",
		lines: perUser(func(int) string { return "/v1/todos" })},
	{key: "todos-cursor", name: "GET /v1/todos (cursor page)", mode: "static",
		lines: cursorPage(listDefault)},
	{key: "todos-due", name: "GET /v1/todos?sort=due_at&done=false (first page)", mode: "static",
		lines: perUser(func(int) string { return "/v1/todos?" + listDue })},
	{key: "todos-due-cursor", name: "GET /v1/todos?sort=due_at&done=false (cursor page)", mode: "static",
		lines: cursorPage(listDue)},
	{key: "big-due-cursor", name: "GET /v1/todos?sort=due_at&done=false (the 20,000-task user, cursor 5,000 in)", mode: "static",
		lines: func(_ context.Context, h *harness, s *server) ([]string, error) {
			return []string{line("GET", "/v1/todos?"+listDue+"&cursor="+url.QueryEscape(h.cursors[s.name]["big"][0]), "", s.authHeader(h.big))}, nil
		}},
	{key: "todo", name: "GET /v1/todos/{id}", mode: "static",
		lines: func(_ context.Context, h *harness, s *server) ([]string, error) {
			byID := userIndex(h)
			out := make([]string, len(h.getTasks))
			for i, t := range h.getTasks {
				out[i] = line("GET", "/v1/todos/"+t.id.String(), "", s.authHeader(byID[t.owner]))
			}
			return out, nil
		}},
	{key: "create", name: "POST /v1/todos", mode: "static",
		lines: func(_ context.Context, h *harness, s *server) ([]string, error) {
			out := make([]string, len(h.users))
			for i, u := range h.users {
				out[i] = line("POST", "/v1/todos", createBody, jsonHeader, s.authHeader(u))
			}
			return out, nil
		}},
	{key: "create-idem", name: "POST /v1/todos with Idempotency-Key", mode: "idem",
		lines: func(_ context.Context, h *harness, s *server) ([]string, error) {
			out := make([]string, len(h.users))
			for i, u := range h.users {
				out[i] = line("POST", "/v1/todos", createBody, jsonHeader, s.authHeader(u))
			}
			return out, nil
		}},
	{key: "patch", name: "PATCH /v1/todos/{id} with If-Match", mode: "patch",
		lines: func(ctx context.Context, h *harness, s *server) ([]string, error) {
			tasks, err := currentVersions(ctx, h.db.pool, h.patchIDs)
			if err != nil {
				return nil, err
			}
			byID := userIndex(h)
			out := make([]string, len(tasks))
			for i, t := range tasks {
				out[i] = strings.Join([]string{t.id.String(), strconv.Itoa(t.version), s.authHeader(byID[t.owner])}, "\t")
			}
			return out, nil
		}},
	{key: "login", name: "POST /v1/auth/wechat", mode: "static",
		lines: func(_ context.Context, h *harness, _ *server) ([]string, error) {
			out := make([]string, len(h.users))
			for i, u := range h.users {
				out[i] = line("POST", "/v1/auth/wechat", `{"code":"`+u.code+`"}`, jsonHeader)
			}
			return out, nil
		}},
	{key: "refresh", name: "POST /v1/auth/refresh", mode: "refresh",
		lines: func(ctx context.Context, h *harness, _ *server) ([]string, error) {
			ids := make([]uuid.UUID, len(h.users))
			for i, u := range h.users {
				ids[i] = u.id
			}
			// Sixteen chains per connection: a lost token (an error)
			// never starves a connection.
			return mintRefreshTokens(ctx, h.db.pool, ids, 16*h.opts.connections)
		}},
}

func routeByKey(k string) *route {
	for _, r := range allRoutes {
		if r.key == k {
			return r
		}
	}
	return nil
}

func userIndex(h *harness) map[uuid.UUID]*benchUser {
	m := make(map[uuid.UUID]*benchUser, len(h.users))
	for _, u := range h.users {
		m[u.id] = u
	}
	return m
}

// lines returns the data lines of r for s, building static ones once.
func (h *harness) lines(ctx context.Context, r *route, s *server) ([]string, error) {
	key := r.key + "/" + s.name
	if r.mode == "static" || r.mode == "idem" {
		if l, ok := h.static[key]; ok {
			return l, nil
		}
	}
	l, err := r.lines(ctx, h, s)
	if err != nil {
		return nil, err
	}
	for _, x := range l {
		if strings.ContainsAny(x, "\n") {
			return nil, fmt.Errorf("%s: a data line holds a newline", r.key)
		}
	}
	if h.static == nil {
		h.static = map[string][]string{}
	}
	if r.mode == "static" || r.mode == "idem" {
		h.static[key] = l
	}
	return l, nil
}
