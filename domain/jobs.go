package domain

import "time"

// The job queue's problem codes.
const (
	CodeJobNotFound     Code = "job_not_found"     // no job has that id (or it was removed after its retention)
	CodeJobNotRetryable Code = "job_not_retryable" // the job is running, waiting or completed: nothing to retry
)

// JobState is a job's state in the queue.
type JobState string

// The states of a job.
const (
	JobAvailable JobState = "available" // due, waiting for a worker
	JobScheduled JobState = "scheduled" // due later
	JobPending   JobState = "pending"   // held back (not yet releasable)
	JobRunning   JobState = "running"
	JobRetryable JobState = "retryable" // failed; another attempt is scheduled
	JobCompleted JobState = "completed"
	JobCancelled JobState = "cancelled"
	JobDiscarded JobState = "discarded" // failed its last attempt
)

// Retryable reports whether an administrator may run a job in state s
// again now: one that failed, was cancelled or waits for its time. A job
// that runs, waits for a worker already or completed is not.
func (s JobState) Retryable() bool {
	switch s {
	case JobDiscarded, JobCancelled, JobRetryable, JobScheduled:
		return true
	}
	return false
}

// Job is one job of the queue, as an administrator sees it.
type Job struct {
	ID          int64
	Kind        string
	Queue       string
	State       JobState
	Attempt     int
	MaxAttempts int
	ScheduledAt time.Time
	CreatedAt   time.Time
	FinalizedAt *time.Time
	// LastError is the error of its last failed attempt ("" if none).
	LastError string
}

// JobCount is how many jobs of a kind are in a state.
type JobCount struct {
	Kind  string
	State JobState
	Count int
}

// JobFailure is one error a job's attempt returned.
type JobFailure struct {
	JobID   int64
	Kind    string
	Attempt int
	Error   string
	At      time.Time
}

// JobStats is the queue at a glance.
type JobStats struct {
	CheckedAt time.Time
	// ByKind counts the jobs by kind and state, sorted by kind then state.
	ByKind []JobCount
	// Depth is the jobs due now that no worker has started.
	Depth int
	// Errors are the last errors, newest first.
	Errors []JobFailure
}

// ByState sums ByKind per state.
func (s JobStats) ByState() map[JobState]int {
	out := make(map[JobState]int)
	for _, c := range s.ByKind {
		out[c.State] += c.Count
	}
	return out
}
