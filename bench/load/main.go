// Command load measures miniback against the limit probe (bench/probe) on
// the same PostgreSQL database and data, route by route:
//
//	go run ./bench/load [-d 10s] [-c 64] [-t 2] [-routes me,todos,...] [-profile DIR]
//	go tool task bench:load -- -d 3s
//
// It gets a PostgreSQL server the way the tests do (TEST_DATABASE_URL, else
// a private cluster of the local binaries), creates a fresh database,
// builds and starts miniback (WeChat simulator, debug listener on) and the
// probe on it, seeds 1,000 users with 100 tasks each plus one user with
// 20,000 (users log in through miniback, so their sessions and tokens are
// real), then drives each route with wrk on both servers in turn:
// miniback, probe, miniback, probe. It prints, and writes to
// bench/out/results.md, a table per route: requests per second, p50 and
// p99 latency, errors, RSS and allocations per request, and the ratio
// miniback/probe. bench/README.md says how to read them.
//
// Every flag has an environment variable: BENCH_DURATION, BENCH_CONNECTIONS,
// BENCH_THREADS, BENCH_ROUTES, BENCH_ROUNDS, BENCH_PROFILE, BENCH_OUT.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are the harness's settings.
type options struct {
	duration    time.Duration
	connections int
	threads     int
	rounds      int
	warmup      time.Duration
	routes      []string
	profileDir  string
	out         string
	users       int
	tasks       int
	bigTasks    int
	keepWork    bool
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func parseOptions(args []string) (options, error) {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	var o options
	var routes string
	d, err := time.ParseDuration(envOr("BENCH_DURATION", "10s"))
	if err != nil {
		return o, fmt.Errorf("BENCH_DURATION: %w", err)
	}
	atoi := func(name, def string) int {
		n, e := strconv.Atoi(envOr(name, def))
		if e != nil {
			err = errors.Join(err, fmt.Errorf("%s: %w", name, e))
		}
		return n
	}
	fs.DurationVar(&o.duration, "d", d, "duration of each measured run (env BENCH_DURATION); -d 3s is the smoke mode")
	fs.IntVar(&o.connections, "c", atoi("BENCH_CONNECTIONS", "64"), "open connections (env BENCH_CONNECTIONS)")
	fs.IntVar(&o.threads, "t", atoi("BENCH_THREADS", "2"), "wrk threads (env BENCH_THREADS)")
	fs.IntVar(&o.rounds, "rounds", atoi("BENCH_ROUNDS", "2"), "rounds of miniback-then-probe per route (env BENCH_ROUNDS)")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured run before a route's first round, on each server")
	fs.StringVar(&routes, "routes", envOr("BENCH_ROUTES", "all"), "comma-separated route keys, or all (env BENCH_ROUTES); -list shows them")
	fs.StringVar(&o.profileDir, "profile", os.Getenv("BENCH_PROFILE"), "capture miniback CPU and allocation profiles per route into this directory, e.g. bench/out/profiles (env BENCH_PROFILE)")
	fs.StringVar(&o.out, "out", envOr("BENCH_OUT", "bench/out/results.md"), "markdown report (env BENCH_OUT)")
	fs.IntVar(&o.users, "users", 1000, "users seeded")
	fs.IntVar(&o.tasks, "tasks", 100, "tasks per seeded user")
	fs.IntVar(&o.bigTasks, "big", 20000, "tasks of the one big user")
	fs.BoolVar(&o.keepWork, "keep", false, "keep the work directory (logs, data files) afterwards")
	list := fs.Bool("list", false, "list the routes and exit")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if err != nil {
		return o, err
	}
	if *list {
		for _, r := range allRoutes {
			fmt.Printf("%-18s %s\n", r.key, r.name)
		}
		os.Exit(0)
	}
	if o.duration < time.Second || o.connections < 1 || o.threads < 1 || o.threads > o.connections || o.rounds < 1 {
		return o, errors.New("want -d >= 1s, -c >= 1, 1 <= -t <= -c and -rounds >= 1")
	}
	if o.users < 2 || o.tasks < 45 || o.bigTasks < 6000 {
		return o, errors.New("want -users >= 2, -tasks >= 45 (cursor pages need two pages of open tasks) and -big >= 6000")
	}
	if routes == "all" || routes == "" {
		for _, r := range allRoutes {
			o.routes = append(o.routes, r.key)
		}
	} else {
		for _, k := range strings.Split(routes, ",") {
			k = strings.TrimSpace(k)
			if routeByKey(k) == nil {
				return o, fmt.Errorf("unknown route %q (go run ./bench/load -list)", k)
			}
			o.routes = append(o.routes, k)
		}
	}
	return o, nil
}

func main() {
	o, err := parseOptions(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// run is the whole measurement: set up, seed, measure, report, clean up.
func run(ctx context.Context, o options) (err error) {
	wrkPath, err := findWrk()
	if err != nil {
		return err
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "miniback-bench-")
	if err != nil {
		return err
	}
	var cleanups []func() error
	defer func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			err = errors.Join(err, cleanups[i]())
		}
		if err != nil || o.keepWork {
			fmt.Fprintf(os.Stderr, "load: logs and data files kept in %s\n", work)
			return
		}
		_ = os.RemoveAll(work)
	}()

	h := &harness{opts: o, root: root, work: work, wrk: wrkPath}
	started := time.Now()
	logf("building miniback and the probe")
	if err := h.build(ctx); err != nil {
		return err
	}
	logf("getting PostgreSQL")
	db, err := openDatabase(ctx, work)
	if err != nil {
		return err
	}
	cleanups = append(cleanups, db.close)
	h.db = db
	logf("database %s on %s", db.name, db.source)

	mb, err := h.startMiniback(ctx)
	if err != nil {
		return err
	}
	cleanups = append(cleanups, mb.stop)
	pr, err := h.startProbe(ctx)
	if err != nil {
		return err
	}
	cleanups = append(cleanups, pr.stop)
	h.servers = []*server{mb, pr}

	if err := h.seed(ctx); err != nil {
		return err
	}
	h.machine = describeMachine(ctx, h)
	fmt.Print(h.machine.text())

	rep := &report{opts: o, machine: h.machine}
	for _, key := range o.routes {
		r := routeByKey(key)
		res, err := h.measure(ctx, r)
		if err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
		rep.routes = append(rep.routes, res)
		fmt.Print(res.text())
	}
	rep.loadAfter = loadAverage()
	rep.elapsed = time.Since(started)
	fmt.Print(rep.summary())
	out := o.out
	if !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(out, []byte(rep.markdown()), 0o644); err != nil {
		return err
	}
	logf("wrote %s", out)
	return nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "load: "+format+"\n", args...)
}
