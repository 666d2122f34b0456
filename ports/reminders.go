package ports

import (
	"context"
	"time"

	"github.com/miniback/miniback/domain"
)

// ReminderStore is the reminder worker's side of the task reminders (the
// task writes schedule them: TodoStore). A send is claimed and finished
// in two transactions, with the call to WeChat between them, so that no
// transaction stays open across it and a retry can tell that an earlier
// attempt may have sent.
type ReminderStore interface {
	// ClaimReminder, in one transaction, locks the task's reminder and,
	// when it is still the one job j was inserted for (scheduled, at j.At,
	// job j.JobID), takes one of the user's grants of its template and
	// marks it sending with j.Attempt; it returns the task, the user's
	// openid and the route (ClaimSend). Otherwise it changes what the
	// outcome says and returns it: ClaimStale (the task was deleted, done,
	// moved: nothing to do), ClaimNoGrant (no grant left: now
	// no_subscription), ClaimUnknown (an earlier attempt of this job
	// marked it sending and never finished: it may have sent, so it is
	// now failed with domain.ReasonOutcomeUnknown), ClaimNoUser (no
	// identity in the app: failed).
	ClaimReminder(ctx context.Context, j ReminderJob) (ReminderClaim, error)
	// FinishReminder records the outcome of a claimed send (the reminder
	// must still be sending for j.JobID; otherwise it changes nothing).
	FinishReminder(ctx context.Context, j ReminderJob, f ReminderFinish) error
}

// ReminderJob is one run of a reminder's job.
type ReminderJob struct {
	Todo    domain.TodoID
	At      time.Time // the remind time the job was inserted for
	JobID   int64
	Attempt int
	Now     time.Time
}

// ClaimOutcome is what ClaimReminder found.
type ClaimOutcome int

const (
	ClaimSend ClaimOutcome = iota
	ClaimStale
	ClaimNoGrant
	ClaimUnknown
	ClaimNoUser
)

// ReminderClaim is a claimed send.
type ReminderClaim struct {
	Outcome ClaimOutcome
	Todo    domain.Todo
	OpenID  domain.OpenID
	Route   domain.ReminderRoute
}

// GrantFate is what a finished send does with the grant its claim took.
type GrantFate int

const (
	GrantSpent    GrantFate = iota // the message went, or may have
	GrantReturned                  // WeChat certainly did not send it
	GrantsCleared                  // WeChat says none is left (43101): none is
)

// ReminderFinish is the outcome of a send: State sent (MsgID, SentAt),
// failed (Reason), or scheduled again (a retry will follow).
type ReminderFinish struct {
	State  domain.ReminderState
	MsgID  string
	Reason string
	SentAt time.Time
	Grant  GrantFate
}
