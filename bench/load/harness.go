package main

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

//go:embed load.lua
var loadLua []byte

// harness holds what a measurement needs: the servers, the seeded users
// and the per-server request data.
type harness struct {
	opts    options
	root    string // repository
	work    string // temporary files
	wrk     string
	db      *database
	servers []*server // miniback, probe: the A B order of every round
	machine machineInfo

	users []*benchUser // the 1,000 with 100 tasks each
	big   *benchUser   // the one with 20,000
	// cursors[server][list] is one next-page cursor per user of users
	// (or one of big), as that server made them.
	cursors  map[string]map[string][]string
	patchIDs []uuid.UUID // tasks the PATCH runs edit
	getTasks []patchTask // tasks the GET-by-id runs read
	static   map[string][]string
	runs     int // wrk runs so far, for unique idempotency keys
}

// benchUser is a seeded user, logged in through miniback.
type benchUser struct {
	code   string // the simulator code: dev-u0001
	id     uuid.UUID
	access string // miniback access token (24 h)
}

type loginResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	User         struct {
		ID uuid.UUID `json:"id"`
	} `json:"user"`
}

// parallel runs f(i) for i in [0, n) on a few workers and returns the
// first error.
func parallel(n, workers int, f func(i int) error) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		next = make(chan int)
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		mu.Lock()
		failed := len(errs) > 0
		mu.Unlock()
		if failed {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}

func (h *harness) miniback() *server { return h.servers[0] }

// login logs code in through miniback's POST /v1/auth/wechat.
func (h *harness) login(ctx context.Context, code string) (*benchUser, error) {
	body, _ := json.Marshal(map[string]string{"code": code})
	var lr loginResponse
	if err := call(ctx, "POST", h.miniback().base+"/v1/auth/wechat", "", body, 200, &lr); err != nil {
		return nil, fmt.Errorf("login %s: %w", code, err)
	}
	return &benchUser{code: code, id: lr.User.ID, access: lr.AccessToken}, nil
}

// seed creates the users through miniback, bulk-inserts their tasks, and
// asks each server for the cursors the cursor-page runs send.
func (h *harness) seed(ctx context.Context) error {
	o := h.opts
	start := time.Now()
	h.users = make([]*benchUser, o.users)
	err := parallel(o.users, 8, func(i int) error {
		u, err := h.login(ctx, fmt.Sprintf("dev-u%04d", i+1))
		h.users[i] = u
		return err
	})
	if err != nil {
		return err
	}
	if h.big, err = h.login(ctx, "dev-big"); err != nil {
		return err
	}
	ids := make([]uuid.UUID, len(h.users))
	for i, u := range h.users {
		ids[i] = u.id
	}
	if err := seedTasks(ctx, h.db.pool, ids, o.tasks); err != nil {
		return err
	}
	if err := seedTasks(ctx, h.db.pool, []uuid.UUID{h.big.id}, o.bigTasks); err != nil {
		return err
	}
	// Statistics and a visibility map, as a database in use has them.
	if _, err := h.db.pool.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return fmt.Errorf("vacuum analyze: %w", err)
	}
	logf("seeded %d users × %d tasks and one user × %d tasks in %s", o.users, o.tasks, o.bigTasks, time.Since(start).Round(time.Millisecond))

	if h.patchIDs, err = pickPatchTasks(ctx, h.db.pool, ids, min(8*o.connections, o.users*o.tasks)); err != nil {
		return err
	}
	if h.getTasks, err = someTasks(ctx, h.db.pool, ids, 2); err != nil {
		return err
	}
	return h.collectCursors(ctx)
}

// The lists whose second pages the cursor runs read.
const (
	listDefault = ""
	listDue     = "sort=due_at&done=false"
)

// collectCursors asks each server for each user's second-page cursor of
// both lists, and for a cursor 5,000 tasks into the big user's due list.
// Cursors are the server's own (miniback's are signed and bound to the
// user and the list), so each server gets its own.
func (h *harness) collectCursors(ctx context.Context) error {
	start := time.Now()
	h.cursors = map[string]map[string][]string{}
	for _, s := range h.servers {
		m := map[string][]string{}
		for _, list := range []string{listDefault, listDue} {
			cs := make([]string, len(h.users))
			err := parallel(len(h.users), 8, func(i int) error {
				c, err := nextCursor(ctx, s, s.authHeader(h.users[i]), list, "", 20)
				cs[i] = c
				return err
			})
			if err != nil {
				return err
			}
			m[list] = cs
		}
		// 5,000 tasks in; a quarter of the tasks are done, so a small
		// -big walks less far.
		c := ""
		for range min(50, h.opts.bigTasks*3/4/100-1) {
			var err error
			if c, err = nextCursor(ctx, s, s.authHeader(h.big), listDue, c, 100); err != nil {
				return err
			}
		}
		m["big"] = []string{c}
		h.cursors[s.name] = m
	}
	logf("collected next-page cursors in %s", time.Since(start).Round(time.Millisecond))
	return nil
}

// nextCursor reads one page of a list and returns its next_cursor.
func nextCursor(ctx context.Context, s *server, auth, list, cursor string, limit int) (string, error) {
	q := url.Values{}
	if list != "" {
		v, err := url.ParseQuery(list)
		if err != nil {
			return "", err
		}
		q = v
	}
	q.Set("limit", strconv.Itoa(limit))
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var page struct {
		Items      []json.RawMessage `json:"items"`
		NextCursor *string           `json:"next_cursor"`
	}
	if err := call(ctx, "GET", s.base+"/v1/todos?"+q.Encode(), auth, nil, 200, &page); err != nil {
		return "", err
	}
	if page.NextCursor == nil || len(page.Items) != limit {
		return "", fmt.Errorf("%s: list %q has no next page after %d items", s.name, list, len(page.Items))
	}
	return *page.NextCursor, nil
}

// runResult is one wrk run of one route on one server.
type runResult struct {
	server       string
	round        int // 0 for a profiling run
	requests     int64
	seconds      float64
	rps          float64
	p50, p99     time.Duration
	non2xx       int64 // status >= 400 (no route answers 3xx)
	sockErr      int64 // connect, read, write errors and timeouts
	rssKB, hwmKB int64
	allocsPerReq float64
}

// routeResult is every run of one route.
type routeResult struct {
	route   *route
	runs    []runResult
	profile *profileResult
}

// measure runs one route: a warm-up on each server, then the rounds of
// miniback-then-probe, then (with -profile) a profiled miniback run.
func (h *harness) measure(ctx context.Context, r *route) (*routeResult, error) {
	logf("%s: %d × (miniback, probe) × %s", r.name, h.opts.rounds, h.opts.duration)
	res := &routeResult{route: r}
	if h.opts.warmup > 0 {
		for _, s := range h.servers {
			if _, err := h.runOnce(ctx, r, s, h.opts.warmup); err != nil {
				return nil, fmt.Errorf("warm-up on %s: %w", s.name, err)
			}
		}
	}
	for round := 1; round <= h.opts.rounds; round++ {
		for _, s := range h.servers {
			if err := pause(ctx, time.Second); err != nil {
				return nil, err
			}
			run, err := h.runMeasured(ctx, r, s, h.opts.duration)
			if err != nil {
				return nil, fmt.Errorf("%s round %d: %w", s.name, round, err)
			}
			run.round = round
			res.runs = append(res.runs, run)
		}
	}
	if h.opts.profileDir != "" {
		p, err := h.profile(ctx, r)
		if err != nil {
			return nil, fmt.Errorf("profile: %w", err)
		}
		res.profile = p
	}
	return res, nil
}

func pause(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// runMeasured is runOnce with the server's allocations and memory around
// it.
func (h *harness) runMeasured(ctx context.Context, r *route, s *server, d time.Duration) (runResult, error) {
	before, err := s.memStats(ctx)
	if err != nil {
		return runResult{}, err
	}
	run, err := h.runOnce(ctx, r, s, d)
	if err != nil {
		return runResult{}, err
	}
	after, err := s.memStats(ctx)
	if err != nil {
		return runResult{}, err
	}
	if run.requests > 0 {
		run.allocsPerReq = float64(after.Mallocs-before.Mallocs) / float64(run.requests)
	}
	run.rssKB, run.hwmKB = procMemory(s.pid())
	return run, nil
}

// runOnce writes the route's data for s and runs wrk on it for d.
func (h *harness) runOnce(ctx context.Context, r *route, s *server, d time.Duration) (runResult, error) {
	lines, err := h.lines(ctx, r, s)
	if err != nil {
		return runResult{}, err
	}
	h.runs++
	data := filepath.Join(h.work, fmt.Sprintf("%s-%s-%d.tsv", r.key, s.name, h.runs))
	if err := os.WriteFile(data, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		return runResult{}, err
	}
	script := filepath.Join(h.work, "load.lua")
	if err := os.WriteFile(script, loadLua, 0o644); err != nil {
		return runResult{}, err
	}
	prefix := fmt.Sprintf("bench%d-%d", time.Now().Unix(), h.runs)
	args := []string{
		"-t", strconv.Itoa(h.opts.threads), "-c", strconv.Itoa(h.opts.connections),
		"-d", strconv.Itoa(int(d.Round(time.Second)/time.Second)) + "s", "--timeout", "5s",
		"-s", script, s.base, "--", data, r.mode, prefix, strconv.Itoa(h.opts.threads),
	}
	cmd := exec.CommandContext(ctx, h.wrk, args...)
	cmd.Dir = h.work
	out, err := cmd.CombinedOutput()
	if err != nil {
		return runResult{}, fmt.Errorf("wrk %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	run, err := parseWrk(string(out))
	if err != nil {
		return runResult{}, fmt.Errorf("wrk on %s: %w\n%s", s.name, err, out)
	}
	run.server = s.name
	if run.requests == 0 {
		return runResult{}, fmt.Errorf("wrk on %s completed no request:\n%s\n%s log:\n%s", s.name, out, s.name, tail(s.logPath))
	}
	return run, nil
}

// parseWrk reads the BENCH line load.lua's done() prints.
func parseWrk(out string) (runResult, error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "BENCH ")
		if !ok {
			continue
		}
		v := map[string]int64{}
		for _, f := range strings.Fields(rest) {
			k, val, _ := strings.Cut(f, "=")
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				return runResult{}, fmt.Errorf("BENCH field %q: %w", f, err)
			}
			v[k] = n
		}
		for _, k := range []string{"requests", "duration_us", "p50_us", "p99_us", "status"} {
			if _, ok := v[k]; !ok {
				return runResult{}, fmt.Errorf("BENCH line lacks %s", k)
			}
		}
		r := runResult{
			requests: v["requests"], seconds: float64(v["duration_us"]) / 1e6,
			p50: time.Duration(v["p50_us"]) * time.Microsecond, p99: time.Duration(v["p99_us"]) * time.Microsecond,
			non2xx: v["status"], sockErr: v["connect"] + v["read"] + v["write"] + v["timeout"],
		}
		if r.seconds > 0 {
			r.rps = float64(r.requests) / r.seconds
		}
		return r, nil
	}
	return runResult{}, errors.New("no BENCH line in wrk's output")
}
