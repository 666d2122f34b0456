package app_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Intervals are short so the tests run quickly; they assert only what
// eventually happens, never how soon.

// signal returns a Run that reports each call on the returned channel
// (dropping reports nobody waits for) and succeeds.
func signal() (func(context.Context) error, <-chan struct{}) {
	ran := make(chan struct{}, 1)
	return func(context.Context) error {
		select {
		case ran <- struct{}{}:
		default:
		}
		return nil
	}, ran
}

func TestBackgroundRepeatsATaskEveryInterval(t *testing.T) {
	b := app.NewBackground(nil)
	defer b.Stop()
	run, ran := signal()
	b.Repeat(app.Task{Name: "tick", Every: time.Millisecond, Run: run})
	for range 3 {
		<-ran
	}
}

func TestBackgroundRunsATaskAtStartWhenAskedRatherThanAfterTheFirstInterval(t *testing.T) {
	b := app.NewBackground(nil)
	defer b.Stop()
	run, ran := signal()
	b.Repeat(app.Task{Name: "clean", Every: time.Hour, AtStart: true, Run: run})
	<-ran // the hour never passes
}

func TestBackgroundRunsATaskWhenWoken(t *testing.T) {
	b := app.NewBackground(nil)
	defer b.Stop()
	run, ran := signal()
	wake := make(chan struct{})
	b.Repeat(app.Task{Name: "read", Every: time.Hour, Wake: wake, Run: run})
	wake <- struct{}{}
	<-ran
}

func TestBackgroundStopCancelsTheWorkAndWaitsForIt(t *testing.T) {
	b := app.NewBackground(nil)
	cancelled, release := make(chan struct{}), make(chan struct{})
	var finished atomic.Bool
	b.Go(func(ctx context.Context) {
		<-ctx.Done()
		close(cancelled)
		<-release // still busy after the cancellation
		finished.Store(true)
	})
	stopped := make(chan bool)
	go func() {
		b.Stop()
		stopped <- finished.Load()
	}()
	<-cancelled // Stop cancelled the work...
	close(release)
	if !<-stopped { // ...and returned only once it had finished
		t.Error("Stop returned before the work did")
	}
}

func TestBackgroundLogsAFailedRunAndKeepsRepeating(t *testing.T) {
	logs := &syncBuffer{}
	b := app.NewBackground(slog.New(slog.NewJSONHandler(logs, nil)))
	defer b.Stop()
	var runs atomic.Int32
	again := make(chan struct{})
	b.Repeat(app.Task{Name: "purge of things", Every: time.Millisecond, Run: func(context.Context) error {
		if runs.Add(1) == 1 {
			return errors.New("database down")
		}
		select {
		case again <- struct{}{}:
		default:
		}
		return nil
	}})
	<-again
	if l := logs.String(); !strings.Contains(l, `"msg":"purge of things failed"`) || !strings.Contains(l, "database down") {
		t.Errorf("log %q: want the failure with its error", l)
	}
}

func TestBackgroundDoesNotLogRunsThatFailBecauseItStopped(t *testing.T) {
	logs := &syncBuffer{}
	b := app.NewBackground(slog.New(slog.NewJSONHandler(logs, nil)))
	running := make(chan struct{})
	b.Repeat(app.Task{Name: "read", Every: time.Hour, AtStart: true, Run: func(ctx context.Context) error {
		close(running)
		<-ctx.Done()
		return ctx.Err()
	}})
	<-running
	b.Stop()
	if l := logs.String(); l != "" {
		t.Errorf("logged %q while stopping", l)
	}
}

// backgroundPorts are fakes for every port the background work uses; each
// reports its first call on a channel of its own.
type backgroundPorts struct {
	feedRead, purged, forgot, cleaned, listening chan struct{}
	listenerDone                                 chan struct{}
}

func newBackgroundApp(schedule app.Schedule) (*app.App, *backgroundPorts) {
	f := &backgroundPorts{
		feedRead: make(chan struct{}), purged: make(chan struct{}), forgot: make(chan struct{}),
		cleaned: make(chan struct{}), listening: make(chan struct{}), listenerDone: make(chan struct{}),
	}
	var once [4]sync.Once
	a := app.New(app.Ports{
		Clock: fixedClock{now},
		RevocationFeed: fakeFeed{since: func(_ context.Context, c ports.RevocationCursor, _ time.Time) ([]domain.Revocation, ports.RevocationCursor, error) {
			once[0].Do(func() { close(f.feedRead) })
			return nil, c, nil
		}},
		SessionPurger: fakePurger(func(context.Context, time.Time) (int64, int64, error) {
			once[1].Do(func() { close(f.purged) })
			return 2, 1, nil
		}),
		Todos: fakeTodos{forget: func(context.Context, time.Time) (int64, error) {
			once[2].Do(func() { close(f.forgot) })
			return 0, nil
		}},
		Uploads: fakeUploadStore{deleteExpired: func(context.Context, time.Time, int, func(context.Context, domain.Upload) error) (int, error) {
			once[3].Do(func() { close(f.cleaned) })
			return 0, nil
		}},
		RevocationListener: fakeListener(func(ctx context.Context, wake func(), _ func(error)) {
			close(f.listening)
			<-ctx.Done()
			close(f.listenerDone)
		}),
	}, app.Options{Schedule: schedule})
	return a, f
}

func TestStartBackgroundRunsEveryTaskUntilStopped(t *testing.T) {
	ms := time.Millisecond
	a, f := newBackgroundApp(app.Schedule{RevocationPoll: ms, SessionPurge: ms, IdempotencyPurge: ms, UploadClean: ms})
	logs := &syncBuffer{}
	b := a.StartBackground(slog.New(slog.NewJSONHandler(logs, nil)))
	<-f.feedRead
	<-f.purged
	<-f.forgot
	<-f.cleaned
	<-f.listening
	b.Stop()
	select {
	case <-f.listenerDone:
	default:
		t.Error("Stop returned while the revocation listener still ran")
	}
	if l := logs.String(); !strings.Contains(l, `"msg":"purged ended sessions and old revocations","sessions":2,"revocations":1`) {
		t.Errorf("log %q: want the session purge's counts", l)
	}
}

func TestStartBackgroundLeavesOutTasksWithoutAnInterval(t *testing.T) {
	// A task started with a zero interval would panic in time.NewTicker
	// before Stop returns.
	a := app.New(app.Ports{Clock: fixedClock{now}, RevocationFeed: fakeFeed{}, Todos: fakeTodos{}, Uploads: fakeUploadStore{},
		SessionPurger: fakePurger(nil)}, app.Options{})
	a.StartBackground(nil).Stop()
}

type fakePurger func(ctx context.Context, now time.Time) (int64, int64, error)

func (f fakePurger) Purge(ctx context.Context, now time.Time) (int64, int64, error) {
	return f(ctx, now)
}

type fakeListener func(ctx context.Context, wake func(), onError func(error))

func (f fakeListener) ListenRevocations(ctx context.Context, wake func(), onError func(error)) {
	f(ctx, wake, onError)
}

var (
	_ app.SessionPurger      = fakePurger(nil)
	_ app.RevocationListener = fakeListener(nil)
)

// syncBuffer is a log destination safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
