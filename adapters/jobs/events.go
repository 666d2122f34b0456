package jobs

import "github.com/riverqueue/river"

// Outcomes of a job's attempt, as OnFinished reports them.
const (
	OutcomeCompleted = "completed"
	OutcomeFailed    = "failed" // retried later, or discarded after its last attempt
	OutcomeCancelled = "cancelled"
)

// OnFinished calls fn for each attempt this process's workers finish,
// with the job's kind and the outcome, from one goroutine, until the
// queue stops (the metrics' counters). Call it before Start. An
// insert-only queue finishes nothing: fn is never called.
func (q *Queue) OnFinished(fn func(kind, outcome string)) {
	if !q.working {
		return
	}
	ch, _ := q.client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	go func() {
		// River closes ch when the client stops.
		for ev := range ch {
			if ev == nil || ev.Job == nil {
				continue
			}
			switch ev.Kind {
			case river.EventKindJobCompleted:
				fn(ev.Job.Kind, OutcomeCompleted)
			case river.EventKindJobFailed:
				fn(ev.Job.Kind, OutcomeFailed)
			case river.EventKindJobCancelled:
				fn(ev.Job.Kind, OutcomeCancelled)
			}
		}
	}()
}
