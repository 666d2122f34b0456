package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// profileResult is a route's miniback profiles, taken during a run of
// their own (after the measured rounds, so profiling never slows a
// measured run).
type profileResult struct {
	seconds             int
	cpuPath, allocsPath string
	cpuTop, allocsTop   string // heads of go tool pprof -top
	run                 runResult
}

// profile loads miniback with r for a few seconds more than the profile
// window while it takes a CPU profile and an allocation profile (the
// allocations made during the window: ?seconds= asks for a delta) from the
// debug listener.
func (h *harness) profile(ctx context.Context, r *route) (*profileResult, error) {
	dir := h.opts.profileDir
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(h.root, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	secs := min(max(int(h.opts.duration/time.Second), 5), 10)
	p := &profileResult{
		seconds:    secs,
		cpuPath:    filepath.Join(dir, r.key+".cpu.pprof"),
		allocsPath: filepath.Join(dir, r.key+".allocs.pprof"),
	}
	mb := h.miniback()
	if err := pause(ctx, time.Second); err != nil {
		return nil, err
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		run, err := h.runOnce(ctx, r, mb, time.Duration(secs+2)*time.Second)
		if err != nil {
			fail(err)
		}
		p.run = run
	}()
	if err := pause(ctx, time.Second); err != nil { // let the load settle
		return nil, err
	}
	for _, f := range []struct{ url, path string }{
		{mb.debug + "/debug/pprof/profile?seconds=" + strconv.Itoa(secs), p.cpuPath},
		{mb.debug + "/debug/pprof/allocs?seconds=" + strconv.Itoa(secs), p.allocsPath},
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := download(ctx, f.url, f.path); err != nil {
				fail(err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	bin := filepath.Join(h.work, "miniback")
	var err error
	if p.cpuTop, err = pprofTop(ctx, bin, p.cpuPath); err != nil {
		return nil, err
	}
	if p.allocsTop, err = pprofTop(ctx, bin, p.allocsPath, "-sample_index=alloc_objects"); err != nil {
		return nil, err
	}
	for path, top := range map[string]string{p.cpuPath: p.cpuTop, p.allocsPath: p.allocsTop} {
		if err := os.WriteFile(strings.TrimSuffix(path, ".pprof")+".top.txt", []byte(top), 0o644); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func download(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		return fmt.Errorf("GET %s: %d %s", url, res.StatusCode, b)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// pprofTop is the head of go tool pprof -top for a profile.
func pprofTop(ctx context.Context, bin, path string, extra ...string) (string, error) {
	args := append([]string{"tool", "pprof", "-top", "-nodecount=25"}, extra...)
	args = append(args, bin, path)
	out, err := exec.CommandContext(ctx, goTool(), args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}
