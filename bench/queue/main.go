// Command queue measures the durable job queue (adapters/jobs, river) on
// a local PostgreSQL: how many no-op jobs per second one process works,
// and the delay between a job's scheduled_at and the start of its work.
//
//	go run ./bench/queue                      # 20000 jobs, 20 workers
//	go run ./bench/queue -n 50000 -workers 50 -rate 500 -d 20s
//
// Two phases, on a database of its own (created, migrated, dropped):
//
//  1. Backlog: N jobs inserted at once (InsertMany), then the queue
//     starts; jobs/second = N / time until the last one completed.
//  2. Steady: jobs inserted one by one at -rate per second for -d, each
//     scheduled -ahead in the future (like a reminder due later); the
//     delay is work start − scheduled_at, reported at p50/p99/max.
//
// The figures depend on the machine and on what else runs on it.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/miniback/miniback/adapters/jobs"
	"github.com/miniback/miniback/adapters/postgres"
)

type noopArgs struct {
	N int `json:"n"`
}

func (noopArgs) Kind() string { return "bench_noop" }

type noopWorker struct {
	river.WorkerDefaults[noopArgs]
	done   *atomic.Int64
	mu     *sync.Mutex
	delays *[]time.Duration
}

func (w *noopWorker) Work(_ context.Context, job *river.Job[noopArgs]) error {
	d := time.Since(job.ScheduledAt)
	w.mu.Lock()
	*w.delays = append(*w.delays, d)
	w.mu.Unlock()
	w.done.Add(1)
	return nil
}

func main() {
	dbURL := flag.String("db", envOr("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), "PostgreSQL server (a database of its own is created on it)")
	n := flag.Int("n", 20000, "jobs of the backlog phase")
	workers := flag.Int("workers", 20, "jobs worked at once (MINIBACK_JOBS_WORKERS)")
	poll := flag.Duration("poll", time.Second, "fetch poll interval (MINIBACK_JOBS_POLL_INTERVAL)")
	rate := flag.Int("rate", 200, "jobs per second inserted in the steady phase")
	dur := flag.Duration("d", 15*time.Second, "length of the steady phase (0 skips it)")
	ahead := flag.Duration("ahead", 2*time.Second, "how far in the future the steady phase schedules each job")
	flag.Parse()
	if err := run(*dbURL, *n, *workers, *poll, *rate, *dur, *ahead); err != nil {
		log.Fatal(err)
	}
}

func run(serverURL string, n, workers int, poll time.Duration, rate int, dur, ahead time.Duration) error {
	ctx := context.Background()
	name := fmt.Sprintf("miniback_queuebench_%d", rand.Uint32())
	admin, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	defer func() { _, _ = admin.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)") }()
	u, err := url.Parse(serverURL)
	if err != nil {
		return err
	}
	u.Path = "/" + name
	db, err := postgres.Open(ctx, u.String())
	if err != nil {
		return err
	}
	defer db.Close()
	if err := postgres.Migrate(ctx, db); err != nil {
		return err
	}

	var done atomic.Int64
	var mu sync.Mutex
	var delays []time.Duration
	reg := jobs.NewWorkers()
	river.AddWorker(reg, &noopWorker{done: &done, mu: &mu, delays: &delays})
	q, err := jobs.New(db.Pool(), reg, jobs.Config{Workers: workers, FetchPollInterval: poll})
	if err != nil {
		return err
	}
	fmt.Printf("queue bench: river on %s, %d workers, poll %s\n", u.Redacted(), workers, poll)

	// Phase 1: backlog.
	params := make([]river.InsertManyParams, n)
	for i := range params {
		params[i] = river.InsertManyParams{Args: noopArgs{N: i}}
	}
	t0 := time.Now()
	for chunk := range slices.Chunk(params, 5000) {
		if _, err := q.Client().InsertManyFast(ctx, chunk); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
	}
	fmt.Printf("backlog: inserted %d jobs in %s (%.0f inserts/s, batched)\n", n, time.Since(t0).Round(time.Millisecond), float64(n)/time.Since(t0).Seconds())
	start := time.Now()
	if err := q.Start(ctx); err != nil {
		return err
	}
	defer func() {
		stop, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = q.Stop(stop)
	}()
	for done.Load() < int64(n) {
		time.Sleep(10 * time.Millisecond)
	}
	el := time.Since(start)
	fmt.Printf("backlog: worked %d jobs in %s: %.0f jobs/s\n", n, el.Round(time.Millisecond), float64(n)/el.Seconds())

	if dur <= 0 || rate <= 0 {
		return nil
	}
	// Phase 2: steady rate of single inserts, each scheduled ahead.
	mu.Lock()
	delays = delays[:0]
	mu.Unlock()
	done.Store(0)
	total := int(dur.Seconds() * float64(rate))
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	t0 = time.Now()
	for i := range total {
		<-tick.C
		if _, err := q.Client().Insert(ctx, noopArgs{N: i}, &river.InsertOpts{ScheduledAt: time.Now().Add(ahead)}); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
	}
	inserted := time.Since(t0)
	deadline := time.Now().Add(ahead + 30*time.Second)
	for done.Load() < int64(total) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	ds := slices.Clone(delays)
	mu.Unlock()
	slices.Sort(ds)
	if len(ds) == 0 {
		return fmt.Errorf("steady: no job worked")
	}
	pct := func(p float64) time.Duration {
		return ds[min(len(ds)-1, int(p*float64(len(ds))))].Round(time.Millisecond)
	}
	fmt.Printf("steady: %d jobs inserted one by one at %.0f/s, scheduled %s ahead; %d worked\n",
		total, float64(total)/inserted.Seconds(), ahead, len(ds))
	fmt.Printf("steady: delay scheduled_at → work start: p50 %s, p99 %s, max %s\n", pct(0.50), pct(0.99), ds[len(ds)-1].Round(time.Millisecond))
	return nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
