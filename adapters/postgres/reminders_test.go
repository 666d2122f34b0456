package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// memJobs stands in for the job queue here (adapters/jobs runs the same
// scheduling on river): it remembers which jobs are live.
type memJobs struct {
	mu   sync.Mutex
	next int64
	live map[int64]time.Time
}

func (j *memJobs) InsertReminder(_ context.Context, _ pgx.Tx, _ domain.TodoID, at time.Time) (int64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.next++
	if j.live == nil {
		j.live = map[int64]time.Time{}
	}
	j.live[j.next] = at
	return j.next, nil
}

func (j *memJobs) CancelReminder(_ context.Context, _ pgx.Tx, id int64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	delete(j.live, id)
	return nil
}

func (j *memJobs) liveAt() []time.Time {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []time.Time
	for _, at := range j.live {
		out = append(out, at)
	}
	return out
}

type pinnedClock struct{ t time.Time }

func (c pinnedClock) Now() time.Time { return c.t }

var route = &domain.ReminderRoute{App: "wxapp", TemplateID: "T1"}

func reminderStore(t *testing.T) (*postgres.DB, *postgres.TodoStore, *memJobs, time.Time) {
	db := pgtest.NewDB(t)
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	s := postgres.NewTodoStore(db)
	jobs := &memJobs{}
	s.ScheduleReminders(jobs, pinnedClock{now})
	return db, s, jobs, now
}

func grant(t *testing.T, db *postgres.DB, user domain.UserID, n int) {
	t.Helper()
	for range n {
		record(t, postgres.NewSubscriptionStore(db), ports.SubscriptionChoice{User: user, Result: domain.SubscribeAccept,
			Source: ports.SubscriptionFromClient, At: time.Now()})
	}
}

func lead(m int) *int { return &m }

func TestATaskWithoutAGrantSaysNoSubscriptionAndInsertsNoJob(t *testing.T) {
	db, s, jobs, _ := reminderStore(t)
	owner := newTaskOwner(t, db, "alice")
	td, err := s.CreateTodo(context.Background(), domain.Todo{Owner: owner, Title: "Pay rent", Priority: domain.PriorityNormal,
		DueAt: at("2026-03-02T18:00:00+08:00"), ReminderLead: lead(30), RemindVia: route})
	if err != nil {
		t.Fatal(err)
	}
	if td.Reminder == nil || td.Reminder.State != domain.ReminderNoSubscription || len(jobs.liveAt()) != 0 {
		t.Fatalf("reminder %+v, jobs %v", td.Reminder, jobs.liveAt())
	}
	if !td.Reminder.At.Equal(at("2026-03-02T17:30:00+08:00").UTC()) {
		t.Fatalf("remind at %v", td.Reminder.At)
	}
	got, err := s.GetTodo(context.Background(), owner, td.ID)
	if err != nil || got.Reminder == nil || got.Reminder.State != domain.ReminderNoSubscription || *got.ReminderLead != 30 {
		t.Fatalf("read back %+v %v", got, err)
	}
}

func TestChangingTheDueTimeTwiceLeavesOneJobAtTheNewTime(t *testing.T) {
	db, s, jobs, _ := reminderStore(t)
	owner := newTaskOwner(t, db, "alice")
	grant(t, db, owner, 1)
	td := createTodo(t, s, domain.Todo{Owner: owner, Title: "Pay rent", DueAt: at("2026-03-02T18:00:00+08:00"), ReminderLead: lead(0), RemindVia: route})
	if td.Reminder == nil || td.Reminder.State != domain.ReminderScheduled {
		t.Fatalf("reminder %+v", td.Reminder)
	}
	for _, due := range []string{"2026-03-03T18:00:00+08:00", "2026-03-04T08:00:00+08:00"} {
		var err error
		td, err = s.UpdateTodo(context.Background(), owner, td.ID, func(cur domain.Todo) (domain.Todo, error) {
			cur.DueAt, cur.Version = at(due), cur.Version+1
			return cur, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	live := jobs.liveAt()
	if len(live) != 1 || !live[0].Equal(at("2026-03-04T08:00:00+08:00").UTC()) || td.Reminder.State != domain.ReminderScheduled {
		t.Fatalf("live jobs %v, reminder %+v", live, td.Reminder)
	}
	// A write that leaves the time alone keeps the job.
	td, err := s.UpdateTodo(context.Background(), owner, td.ID, func(cur domain.Todo) (domain.Todo, error) {
		cur.Title, cur.Version = "Pay the rent", cur.Version+1
		return cur, nil
	})
	if err != nil || len(jobs.liveAt()) != 1 || td.Reminder.State != domain.ReminderScheduled {
		t.Fatalf("%v: live %v, reminder %+v", err, jobs.liveAt(), td.Reminder)
	}
}

func TestCompletingOrDeletingATaskCancelsItsJob(t *testing.T) {
	db, s, jobs, _ := reminderStore(t)
	owner := newTaskOwner(t, db, "alice")
	grant(t, db, owner, 2)
	a := createTodo(t, s, domain.Todo{Owner: owner, Title: "A", DueAt: at("2026-03-02T18:00:00+08:00"), ReminderLead: lead(10), RemindVia: route})
	b := createTodo(t, s, domain.Todo{Owner: owner, Title: "B", DueAt: at("2026-03-02T18:00:00+08:00"), ReminderLead: lead(10), RemindVia: route})
	if len(jobs.liveAt()) != 2 {
		t.Fatalf("live %v", jobs.liveAt())
	}
	done, err := s.UpdateTodo(context.Background(), owner, a.ID, func(cur domain.Todo) (domain.Todo, error) {
		return domain.TodoChange{Done: new(true)}.Apply(cur, time.Now()), nil
	})
	if err != nil || done.Reminder.State != domain.ReminderCancelled || done.Reminder.Reason != domain.ReasonTaskDone {
		t.Fatalf("%v %+v", err, done.Reminder)
	}
	if err := s.DeleteTodo(context.Background(), owner, b.ID, func(domain.Todo) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if len(jobs.liveAt()) != 0 {
		t.Fatalf("live %v", jobs.liveAt())
	}
}

func TestAClaimTakesOneGrantAndAnotherAttemptOfTheSameJobNeverSendsAgain(t *testing.T) {
	db, s, _, now := reminderStore(t)
	owner := newTaskOwner(t, db, "alice")
	grant(t, db, owner, 2)
	td := createTodo(t, s, domain.Todo{Owner: owner, Title: "A", DueAt: at("2026-03-02T18:00:00+08:00"), ReminderLead: lead(10), RemindVia: route})
	rs := postgres.NewReminderStore(db)
	job := ports.ReminderJob{Todo: td.ID, At: td.Reminder.At, JobID: 1, Attempt: 1, Now: now}
	claim, err := rs.ClaimReminder(context.Background(), job)
	if err != nil || claim.Outcome != ports.ClaimSend || claim.OpenID != "open-alice" || claim.Todo.Title != "A" {
		t.Fatalf("%v %+v", err, claim)
	}
	// The first attempt died between the send and its finish.
	job.Attempt = 2
	again, err := rs.ClaimReminder(context.Background(), job)
	if err != nil || again.Outcome != ports.ClaimUnknown {
		t.Fatalf("%v %+v", err, again)
	}
	got, _ := s.GetTodo(context.Background(), owner, td.ID)
	if got.Reminder.State != domain.ReminderFailed || got.Reminder.Reason != domain.ReasonOutcomeUnknown {
		t.Fatalf("%+v", got.Reminder)
	}
	subs, _ := postgres.NewSubscriptionStore(db).List(context.Background(), owner, "wxapp")
	if len(subs) != 1 || subs[0].Remaining != 1 {
		t.Fatalf("grants %+v: want one taken", subs)
	}
}

func TestAClaimForADeletedOrMovedTaskSendsNothing(t *testing.T) {
	db, s, _, now := reminderStore(t)
	owner := newTaskOwner(t, db, "alice")
	grant(t, db, owner, 2)
	td := createTodo(t, s, domain.Todo{Owner: owner, Title: "A", DueAt: at("2026-03-02T18:00:00+08:00"), ReminderLead: lead(10), RemindVia: route})
	rs := postgres.NewReminderStore(db)
	old := ports.ReminderJob{Todo: td.ID, At: td.Reminder.At, JobID: 1, Attempt: 1, Now: now}
	if _, err := s.UpdateTodo(context.Background(), owner, td.ID, func(cur domain.Todo) (domain.Todo, error) {
		cur.DueAt, cur.Version = at("2026-03-05T18:00:00+08:00"), cur.Version+1
		return cur, nil
	}); err != nil {
		t.Fatal(err)
	}
	if c, err := rs.ClaimReminder(context.Background(), old); err != nil || c.Outcome != ports.ClaimStale {
		t.Fatalf("moved: %v %+v", err, c)
	}
	if err := s.DeleteTodo(context.Background(), owner, td.ID, func(domain.Todo) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if c, err := rs.ClaimReminder(context.Background(), old); err != nil || c.Outcome != ports.ClaimStale {
		t.Fatalf("deleted: %v %+v", err, c)
	}
	subs, _ := postgres.NewSubscriptionStore(db).List(context.Background(), owner, "wxapp")
	if subs[0].Remaining != 2 {
		t.Fatalf("grants %+v: none taken", subs)
	}
}
