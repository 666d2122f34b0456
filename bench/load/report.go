package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// machineInfo says where and how the numbers were taken.
type machineInfo struct {
	when      time.Time
	cpus      int
	cpuModel  string
	kernel    string
	goVersion string
	pgVersion string
	pgSource  string
	pgConfig  string // durability and memory settings
	wrk       string
	loadStart string
	settings  string
}

func describeMachine(ctx context.Context, h *harness) machineInfo {
	m := machineInfo{when: time.Now(), cpus: runtime.NumCPU(), pgSource: h.db.source, loadStart: loadAverage()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpuModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.CommandContext(ctx, goTool(), "env", "GOVERSION").Output(); err == nil {
		m.goVersion = strings.TrimSpace(string(out))
	}
	// wrk -v prints its version with the usage, and exits 1.
	out, _ := exec.CommandContext(ctx, h.wrk, "-v").CombinedOutput()
	m.wrk, _, _ = strings.Cut(string(out), "\n")
	m.wrk = strings.TrimSpace(strings.Split(m.wrk, "Copyright")[0])
	var settings []string
	_ = h.db.pool.QueryRow(ctx, "SHOW server_version").Scan(&m.pgVersion)
	for _, name := range []string{"synchronous_commit", "fsync", "shared_buffers", "max_connections"} {
		var v string
		if err := h.db.pool.QueryRow(ctx, "SHOW "+name).Scan(&v); err == nil {
			settings = append(settings, name+"="+v)
		}
	}
	m.pgConfig = strings.Join(settings, ", ")
	o := h.opts
	m.settings = fmt.Sprintf("wrk -t%d -c%d, %s per run, %d round(s) of miniback then probe per route, %s warm-up; %d users × %d tasks + 1 user × %d tasks",
		o.threads, o.connections, o.duration, o.rounds, o.warmup, o.users, o.tasks, o.bigTasks)
	return m
}

// loadAverage is /proc/loadavg's 1, 5 and 15 minute averages: other work
// on the machine shows there.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func (m machineInfo) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Machine\n\n")
	fmt.Fprintf(&b, "- date: %s\n", m.when.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "- CPUs (nproc): %d — %s; Linux %s\n", m.cpus, m.cpuModel, m.kernel)
	fmt.Fprintf(&b, "- Go: %s; %s\n", m.goVersion, m.wrk)
	fmt.Fprintf(&b, "- PostgreSQL %s from %s (%s)\n", m.pgVersion, m.pgSource, m.pgConfig)
	fmt.Fprintf(&b, "- load average at start (1 5 15 min): %s\n", m.loadStart)
	fmt.Fprintf(&b, "- settings: %s\n\n", m.settings)
	return b.String()
}

// side sums up one server's runs of a route.
type side struct {
	runs     int
	rps      float64 // mean
	p50, p99 time.Duration
	non2xx   int64
	sockErr  int64
	rssKB    int64 // after the last run
	hwmKB    int64 // peak over the process's life
	allocs   float64
}

func (r *routeResult) side(name string) side {
	var s side
	for _, run := range r.runs {
		if run.server != name {
			continue
		}
		s.runs++
		s.rps += run.rps
		s.p50 += run.p50
		s.p99 += run.p99
		s.non2xx += run.non2xx
		s.sockErr += run.sockErr
		s.allocs += run.allocsPerReq
		s.rssKB, s.hwmKB = run.rssKB, max(s.hwmKB, run.hwmKB)
	}
	if s.runs > 0 {
		n := float64(s.runs)
		s.rps /= n
		s.p50 /= time.Duration(s.runs)
		s.p99 /= time.Duration(s.runs)
		s.allocs /= n
	}
	return s
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func memory(rss, hwm int64) string {
	return fmt.Sprintf("%.0f (peak %.0f)", float64(rss)/1024, float64(hwm)/1024)
}

func ratio(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// text is the route's table: every run, then the ratio.
func (r *routeResult) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n", r.route.name)
	fmt.Fprintf(&b, "| round | server | req/s | p50 | p99 | non-2xx | socket errors | RSS MiB (peak) | allocs/req |\n")
	fmt.Fprintf(&b, "|---:|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, run := range r.runs {
		fmt.Fprintf(&b, "| %d | %s | %.0f | %s | %s | %d | %d | %s | %.1f |\n", run.round, run.server, run.rps,
			ms(run.p50), ms(run.p99), run.non2xx, run.sockErr, memory(run.rssKB, run.hwmKB), run.allocsPerReq)
	}
	m, p := r.side("miniback"), r.side("probe")
	fmt.Fprintf(&b, "\nminiback/probe: **%s** the requests per second (%.0f vs %.0f), p50 %s vs %s, p99 %s vs %s, %.1f vs %.1f allocs/req.\n\n",
		ratio(m.rps, p.rps), m.rps, p.rps, ms(m.p50), ms(p.p50), ms(m.p99), ms(p.p99), m.allocs, p.allocs)
	if r.profile != nil {
		fmt.Fprintf(&b, "Profiles (%d s, miniback at %.0f req/s meanwhile): %s, %s\n\n", r.profile.seconds, r.profile.run.rps, r.profile.cpuPath, r.profile.allocsPath)
		fmt.Fprintf(&b, "```\n%s```\n\n```\n%s```\n\n", head(r.profile.cpuTop, 32), head(r.profile.allocsTop, 32))
	}
	return b.String()
}

func head(s string, lines int) string {
	l := strings.SplitAfter(s, "\n")
	if len(l) > lines {
		l = l[:lines]
	}
	return strings.Join(l, "")
}

// report is the whole measurement.
type report struct {
	opts      options
	machine   machineInfo
	routes    []*routeResult
	loadAfter string
	elapsed   time.Duration
}

// summary is one row per route: each server's means and the ratio.
func (rep *report) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Summary\n\n")
	fmt.Fprintf(&b, "Means over %d run(s) of %s per server; errors are summed. Load average at the end: %s. Took %s.\n\n",
		rep.opts.rounds, rep.opts.duration, rep.loadAfter, rep.elapsed.Round(time.Second))
	fmt.Fprintf(&b, "| route | miniback req/s | probe req/s | ratio | miniback p50 / p99 | probe p50 / p99 | non-2xx m / p | miniback RSS MiB (peak) | allocs/req m / p |\n")
	fmt.Fprintf(&b, "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rep.routes {
		m, p := r.side("miniback"), r.side("probe")
		errs := fmt.Sprintf("%d / %d", m.non2xx, p.non2xx)
		if m.sockErr+p.sockErr > 0 {
			errs += fmt.Sprintf(" (+%d / %d socket)", m.sockErr, p.sockErr)
		}
		fmt.Fprintf(&b, "| %s | %.0f | %.0f | **%s** | %s / %s | %s / %s | %s | %s | %.1f / %.1f |\n",
			r.route.name, m.rps, p.rps, ratio(m.rps, p.rps), ms(m.p50), ms(m.p99), ms(p.p50), ms(p.p99),
			errs, memory(m.rssKB, m.hwmKB), m.allocs, p.allocs)
	}
	b.WriteString("\n")
	return b.String()
}

func (rep *report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# miniback vs the limit probe\n\n")
	fmt.Fprintf(&b, "Written by `go run ./bench/load` (bench/README.md says how to read it).\n\n")
	b.WriteString(rep.machine.text())
	b.WriteString(rep.summary())
	fmt.Fprintf(&b, "## Runs\n\n")
	for _, r := range rep.routes {
		b.WriteString(r.text())
	}
	return b.String()
}
