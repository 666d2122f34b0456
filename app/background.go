package app

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Background runs work beside the requests, each piece in its own
// goroutine, until Stop.
type Background struct {
	log  *slog.Logger
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup
}

// NewBackground returns a Background that logs to log (nil discards).
// Its work runs on a context of its own, ended only by Stop: a request's
// or a signal's context must not end it before the server has drained.
func NewBackground(log *slog.Logger) *Background {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, stop := context.WithCancel(context.Background())
	return &Background{log: log, ctx: ctx, stop: stop}
}

// Task is work repeated in the background.
type Task struct {
	// Name names the task in the log: a failed run logs "<Name> failed".
	Name string
	// Every is the time between runs.
	Every time.Duration
	// AtStart runs the task once as it starts, not only after the first
	// interval.
	AtStart bool
	// Wake, when not nil, runs the task at once whenever it delivers.
	Wake <-chan struct{}
	// Run does the work once. A failure is logged and the task runs
	// again at its next turn.
	Run func(ctx context.Context) error
}

// Repeat runs t until Stop.
func (b *Background) Repeat(t Task) {
	b.Go(func(ctx context.Context) {
		repeat(ctx, t, func(err error) { b.log.Warn(t.Name+" failed", "error", err.Error()) })
	})
}

// Go runs fn until Stop, which cancels its context and waits for it to
// return.
func (b *Background) Go(fn func(ctx context.Context)) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		fn(b.ctx)
	}()
}

// Stop cancels the work and waits until all of it has returned.
func (b *Background) Stop() {
	b.stop()
	b.wg.Wait()
}

// repeat runs t every t.Every, and on t.Wake, until ctx ends. A failed run
// is reported to onError unless ctx has ended (stopping makes runs fail).
func repeat(ctx context.Context, t Task, onError func(error)) {
	run := func() {
		if err := t.Run(ctx); err != nil && ctx.Err() == nil {
			onError(err)
		}
	}
	tick := time.NewTicker(t.Every)
	defer tick.Stop()
	if t.AtStart {
		run()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-t.Wake: // a nil channel never delivers
		}
		run()
	}
}

// StartBackground starts the instance's background work, logging to log:
// what every replica needs for itself (StartReplicaBackground) and the
// deployment's maintenance (Maintenance) as loops of its own. Every
// instance runs all of it: the purges are idempotent and the upload store
// hands each expired upload to one instance. A deployment with the job
// queue runs StartReplicaBackground instead and the maintenance as the
// queue's periodic jobs, once per deployment. Stop the returned
// Background to end it.
func (a *App) StartBackground(log *slog.Logger) *Background {
	b := a.StartReplicaBackground(log)
	for _, t := range a.Maintenance(b.log) {
		b.Repeat(t)
	}
	return b
}

// StartReplicaBackground starts the background work each instance needs
// for itself, logging to log: reading the revocation feed (and listening
// for new revocations), which the token check of this instance consults.
func (a *App) StartReplicaBackground(log *slog.Logger) *Background {
	b := NewBackground(log)
	s := a.schedule
	if s.RevocationPoll > 0 {
		// A failed read keeps the previous set.
		b.Repeat(Task{Name: "revocation feed read", Every: s.RevocationPoll, Wake: a.Revocations.wake, Run: a.Revocations.Refresh})
	}
	if a.listener != nil {
		b.Go(func(ctx context.Context) {
			a.listener.ListenRevocations(ctx, a.Revocations.Wake, func(err error) {
				b.log.Warn("revocation listener failed; polling continues", "error", err.Error())
			})
		})
	}
	return b
}

// Maintenance is the deployment's clean-up, one task per kind of expired
// data: long-ended sessions and old revocations, expired idempotency keys,
// expired uploads, pushed messages past their retention; each repeated at
// its Schedule interval (a zero interval leaves it out). Each is
// idempotent, so two instances running one at once do no harm, only
// double work. Their results are logged to log.
func (a *App) Maintenance(log *slog.Logger) []Task {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := a.schedule
	var tasks []Task
	if a.purger != nil && s.SessionPurge > 0 {
		tasks = append(tasks, Task{Name: "purge of ended sessions", Every: s.SessionPurge, Run: func(ctx context.Context) error {
			sessions, revocations, err := a.purger.Purge(ctx, a.clock.Now())
			if err != nil {
				return err
			}
			log.Info("purged ended sessions and old revocations", "sessions", sessions, "revocations", revocations)
			return nil
		}})
	}
	if s.IdempotencyPurge > 0 {
		tasks = append(tasks, Task{Name: "purge of expired idempotency keys", Every: s.IdempotencyPurge, Run: func(ctx context.Context) error {
			n, err := a.Todos.ForgetExpiredIdempotencyKeys(ctx)
			if n > 0 {
				log.Info("purged expired idempotency keys", "deleted", n)
			}
			return err
		}})
	}
	if s.UploadClean > 0 {
		// At start too: a restart must not postpone the first pass by a
		// whole interval.
		tasks = append(tasks, Task{Name: "upload cleaner", Every: s.UploadClean, AtStart: true, Run: func(ctx context.Context) error {
			n, err := a.UploadCleaner.CleanOnce(ctx)
			if n > 0 {
				log.Info("upload cleaner deleted expired uploads", "deleted", n)
			}
			return err
		}})
	}
	if s.PushPurge > 0 && a.Push.Store != nil {
		tasks = append(tasks, Task{Name: "purge of old pushed messages", Every: s.PushPurge, Run: func(ctx context.Context) error {
			n, err := a.Push.PurgeOld(ctx)
			if n > 0 {
				log.Info("purged pushed messages past their retention", "deleted", n)
			}
			return err
		}})
	}
	return tasks
}
