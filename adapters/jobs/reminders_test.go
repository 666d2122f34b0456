package jobs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/miniback/miniback/adapters/jobs"
	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/adapters/wechat"
	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

var _ postgres.ReminderJobs = jobs.Reminders{}

const (
	appID  = "wxreminders0000001"
	secret = "reminders-secret"
)

// travelClock is the injected clock of the replicas, river (Test.Time:
// its scheduler, fetches and retries) and the simulator: it runs with the
// wall clock, and a test moves it forward instead of sleeping.
type travelClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *travelClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *travelClock) NowOrNil() *time.Time {
	t := c.Now()
	return &t
}

func (c *travelClock) Travel(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// rig is a deployment: one database, the simulator, and replicas each
// with its own pool, WeChat client and river client working reminders.
type rig struct {
	t        testing.TB
	clock    *travelClock
	sim      *wechatsim.Simulator
	simURL   string
	dbURL    string
	db       *postgres.DB
	todos    *postgres.TodoStore
	inserter *river.Client[pgx.Tx]
	template domain.SubscribeTemplate
	route    *domain.ReminderRoute
}

func newRig(t testing.TB) *rig {
	t.Helper()
	r := &rig{t: t, clock: &travelClock{}}
	r.sim = wechatsim.New(wechatsim.Config{Apps: map[string]string{appID: secret}, Now: r.clock.Now})
	srv := httptest.NewServer(r.sim)
	t.Cleanup(srv.Close)
	r.simURL = srv.URL
	r.dbURL = pgtest.NewURL(t)
	r.db = r.open(8)
	r.template = domain.SubscribeTemplate{AppID: appID, Purpose: domain.SubscribePurposeReminder, ID: wechatsim.DefaultReminderTemplateID,
		Page: wechatsim.DefaultReminderPage, State: "developer", Lang: "zh_CN",
		Fields: []domain.TemplateField{{Key: "thing1", Source: "title"}, {Key: "time2", Source: "due_at"}, {Key: "thing3", Source: "notes"}}}
	r.route = &domain.ReminderRoute{App: appID, TemplateID: r.template.ID}
	var err error
	r.inserter, err = river.NewClient(riverpgxv5.New(r.db.Pool()), &river.Config{Workers: r.workers(nil), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	r.todos = postgres.NewTodoStore(r.db)
	r.todos.ScheduleReminders(jobs.Reminders{Jobs: r.inserter}, r.clock)
	return r
}

func quiet() *slog.Logger {
	if os.Getenv("REMINDER_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func (r *rig) open(conns int32) *postgres.DB {
	r.t.Helper()
	db, err := postgres.OpenWith(context.Background(), r.dbURL, postgres.Options{MaxConns: conns})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(db.Close)
	return db
}

func (r *rig) workers(uc jobs.ReminderDeliverer) *river.Workers {
	w := river.NewWorkers()
	river.AddWorker(w, &jobs.ReminderWorker{Reminders: uc, Clock: r.clock})
	return w
}

// replica starts a river client working reminders on a pool of its own,
// stopped when the test ends (or by the test).
func (r *rig) replica(name string) *river.Client[pgx.Tx] { return r.replicaWith(name, 8) }

func (r *rig) replicaWith(name string, workers int) *river.Client[pgx.Tx] {
	r.t.Helper()
	db := r.open(int32(workers) + 4)
	c, err := wechat.NewClient(wechat.Config{BaseURL: r.simURL, Apps: map[domain.AppID]string{appID: secret}, Timeout: 5 * time.Second})
	if err != nil {
		r.t.Fatal(err)
	}
	uc := app.Reminders{Store: postgres.NewReminderStore(db), Sender: c.API(wechat.NewProcessTokens(c)),
		Templates: []domain.SubscribeTemplate{r.template}, Clock: r.clock}
	client, err := river.NewClient(riverpgxv5.New(db.Pool()), &river.Config{
		ID:                name,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: workers}},
		Workers:           r.workers(uc),
		FetchCooldown:     5 * time.Millisecond,
		FetchPollInterval: 20 * time.Millisecond,
		Logger:            quiet(),
		Test:              river.TestConfig{Time: r.clock},
	})
	if err != nil {
		r.t.Fatal(err)
	}
	if err := client.Start(context.Background()); err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Stop(ctx)
	})
	return client
}

// user logs name in (the simulator then knows its openid) and gives it
// grants acceptances, in the simulator and in our subscriptions.
func (r *rig) user(name string, grants int) domain.UserID {
	r.t.Helper()
	c, err := wechat.NewClient(wechat.Config{BaseURL: r.simURL, Apps: map[domain.AppID]string{appID: secret}})
	if err != nil {
		r.t.Fatal(err)
	}
	id, err := c.Code2Session(context.Background(), appID, "dev-"+name)
	if err != nil {
		r.t.Fatal(err)
	}
	u, _, err := postgres.NewUserStore(r.db).UpsertWeChatUser(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	r.grant(u.ID, name, grants)
	return u.ID
}

func (r *rig) grant(user domain.UserID, name string, n int) {
	r.t.Helper()
	r.sim.Grant(appID, wechatsim.OpenID(appID, name), r.template.ID, n)
	subs := postgres.NewSubscriptionStore(r.db)
	for range n {
		if _, err := subs.Record(context.Background(), ports.SubscriptionChoice{User: user, App: appID, TemplateID: r.template.ID,
			Result: domain.SubscribeAccept, Source: ports.SubscriptionFromClient, At: time.Now(), SameWithin: time.Nanosecond}); err != nil {
			r.t.Fatal(err)
		}
	}
}

// grantMany gives n grants at once.
func (r *rig) grantMany(user domain.UserID, name string, n int) {
	r.t.Helper()
	r.sim.Grant(appID, wechatsim.OpenID(appID, name), r.template.ID, n)
	_, err := r.db.Pool().Exec(context.Background(), `INSERT INTO subscriptions (user_id, app_id, template_id, remaining, status, updated_at)
		VALUES ($1, $2, $3, $4, 'accept', now())`, string(user), appID, r.template.ID, n)
	if err != nil {
		r.t.Fatal(err)
	}
}

// task creates a task due in due, reminded lead minutes before.
func (r *rig) task(owner domain.UserID, title string, due time.Duration, lead int) domain.Todo {
	r.t.Helper()
	at := r.clock.Now().Add(due).In(time.FixedZone("", 8*3600))
	td, err := r.todos.CreateTodo(context.Background(), domain.Todo{Owner: owner, Title: title, Priority: domain.PriorityNormal,
		DueAt: &at, ReminderLead: &lead, RemindVia: r.route, Tags: []string{}})
	if err != nil {
		r.t.Fatal(err)
	}
	return td
}

func (r *rig) reminder(owner domain.UserID, id domain.TodoID) *domain.Reminder {
	r.t.Helper()
	td, err := r.todos.GetTodo(context.Background(), owner, id)
	if err != nil {
		r.t.Fatal(err)
	}
	return td.Reminder
}

// eventually polls cond until it holds, failing after a generous bound
// (river's scheduler runs every 5 s).
func (r *rig) eventually(what string, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			r.t.Fatalf("never: %s (jobs %v, sends %d)", what, r.jobStates(), r.sim.CallsTo(wechatsim.APISubscribeSend))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// jobStates counts the reminder jobs by state.
func (r *rig) jobStates() map[string]int {
	r.t.Helper()
	rows, err := r.db.Pool().Query(context.Background(), "SELECT state::text, count(*) FROM river_job WHERE kind = $1 GROUP BY state", jobs.ReminderKind)
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			r.t.Fatal(err)
		}
		out[s] = n
	}
	return out
}

func (r *rig) messagesFor(id domain.TodoID) []wechatsim.SubscribeDelivery {
	var out []wechatsim.SubscribeDelivery
	for _, m := range r.sim.SubscribeMessages() {
		if strings.HasSuffix(m.Page, "id="+string(id)) {
			out = append(out, m)
		}
	}
	return out
}

func TestThreeReplicasSendExactlyOneMessagePerGrant(t *testing.T) {
	r := newRig(t)
	for _, name := range []string{"a", "b", "c"} {
		r.replica(name)
	}
	alice := r.user("alice", 20)
	var tasks []domain.Todo
	for i := range 30 {
		tasks = append(tasks, r.task(alice, fmt.Sprintf("task %d", i), time.Hour+time.Duration(i)*time.Second, 30))
	}
	r.clock.Travel(45 * time.Minute)
	settled := func() (sent, none int) {
		for _, td := range tasks {
			switch r.reminder(alice, td.ID).State {
			case domain.ReminderSent:
				sent++
			case domain.ReminderNoSubscription:
				none++
			}
		}
		return sent, none
	}
	r.eventually("every reminder sent or out of grants", func() bool { s, n := settled(); return s+n == len(tasks) })
	sent, none := settled()
	msgs := r.sim.SubscribeMessages()
	if sent != 20 || none != 10 || len(msgs) != 20 {
		t.Fatalf("sent %d, no_subscription %d, delivered %d: want 20, 10, 20", sent, none, len(msgs))
	}
	msgIDs := map[int64]bool{}
	for _, td := range tasks {
		if n := len(r.messagesFor(td.ID)); n > 1 {
			t.Errorf("task %s got %d messages", td.ID, n)
		}
	}
	for _, m := range msgs {
		msgIDs[m.MsgID] = true
	}
	if len(msgIDs) != 20 {
		t.Errorf("%d distinct msgids", len(msgIDs))
	}
	if left := r.sim.Grants(appID, wechatsim.OpenID(appID, "alice"), r.template.ID); left != 0 {
		t.Errorf("simulator grants left %d", left)
	}
	subs, _ := postgres.NewSubscriptionStore(r.db).List(context.Background(), alice, appID)
	if len(subs) != 1 || subs[0].Remaining != 0 {
		t.Errorf("our grants %+v", subs)
	}
}

func TestARestartBetweenSchedulingAndSendingLosesNothing(t *testing.T) {
	r := newRig(t)
	first := r.replica("first")
	alice := r.user("alice", 1)
	td := r.task(alice, "Pay rent", time.Hour, 30)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := first.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	r.clock.Travel(31 * time.Minute)
	r.replica("second")
	r.eventually("sent after the restart", func() bool { return r.reminder(alice, td.ID).State == domain.ReminderSent })
	if n := len(r.messagesFor(td.ID)); n != 1 {
		t.Fatalf("%d messages", n)
	}
	rem := r.reminder(alice, td.ID)
	if rem.MsgID == "" || rem.SentAt == nil {
		t.Fatalf("%+v", rem)
	}
	if got := r.messagesFor(td.ID)[0]; fmt.Sprint(got.MsgID) != rem.MsgID || got.Data["thing1"] != "Pay rent" {
		t.Fatalf("delivered %+v, reminder %+v", got, rem)
	}
}

func TestWeChatBusyIsRetriedWithBackoffAndSentOnce(t *testing.T) {
	r := newRig(t)
	r.replica("a")
	alice := r.user("alice", 1)
	r.sim.InjectError(wechatsim.APISubscribeSend, appID, 45011, 1)
	r.sim.InjectError(wechatsim.APISubscribeSend, appID, -1, 1)
	td := r.task(alice, "Pay rent", time.Hour, 30)
	r.clock.Travel(31 * time.Minute)
	r.eventually("the first attempt failed", func() bool { return r.jobStates()["retryable"] == 1 })
	for r.reminder(alice, td.ID).State != domain.ReminderSent {
		r.clock.Travel(time.Minute) // through river's backoff
		r.eventually("the next attempt ran", func() bool {
			st := r.jobStates()
			return st["retryable"] == 1 || st["completed"] == 1
		})
		if r.jobStates()["completed"] == 1 {
			break
		}
	}
	r.eventually("sent", func() bool { return r.reminder(alice, td.ID).State == domain.ReminderSent })
	if n := len(r.messagesFor(td.ID)); n != 1 {
		t.Fatalf("%d messages", n)
	}
	var attempt int
	if err := r.db.Pool().QueryRow(context.Background(), "SELECT attempt FROM river_job WHERE kind = $1", jobs.ReminderKind).Scan(&attempt); err != nil || attempt != 3 {
		t.Errorf("attempts %d %v", attempt, err)
	}
	subs, _ := postgres.NewSubscriptionStore(r.db).List(context.Background(), alice, appID)
	if subs[0].Remaining != 0 {
		t.Errorf("our grants %+v: the busy attempts gave theirs back, the send took one", subs)
	}
}

func TestARefusalIsCancelledAndNeverRetried(t *testing.T) {
	r := newRig(t)
	r.replica("a")
	alice := r.user("alice", 1)
	// WeChat has no grant left for alice (she switched reminders off):
	// 43101 although we counted one.
	r.sim.Grant(appID, wechatsim.OpenID(appID, "alice"), r.template.ID, -1)
	td := r.task(alice, "Pay rent", time.Hour, 30)
	r.clock.Travel(31 * time.Minute)
	r.eventually("the job cancelled", func() bool { return r.jobStates()["cancelled"] == 1 })
	rem := r.reminder(alice, td.ID)
	if rem.State != domain.ReminderFailed || rem.Reason != string(domain.CodeSubscribeRefused) {
		t.Fatalf("%+v", rem)
	}
	r.clock.Travel(24 * time.Hour)
	// Another reminder, sent after the refused one would have been
	// retried, proves the queue moved on without it.
	bob := r.user("bob", 1)
	other := r.task(bob, "Sentinel", time.Hour, 30)
	r.clock.Travel(31 * time.Minute)
	r.eventually("the sentinel sent", func() bool { return r.reminder(bob, other.ID).State == domain.ReminderSent })
	var attempt int
	var state string
	if err := r.db.Pool().QueryRow(context.Background(), "SELECT attempt, state::text FROM river_job WHERE kind = $1 AND args->>'todo_id' = $2",
		jobs.ReminderKind, string(td.ID)).Scan(&attempt, &state); err != nil || attempt != 1 || state != "cancelled" {
		t.Errorf("the refused job: attempt %d, %s, %v: want one attempt, cancelled", attempt, state, err)
	}
	if n := len(r.messagesFor(td.ID)); n != 0 {
		t.Errorf("the refused reminder delivered %d", n)
	}
	subs, _ := postgres.NewSubscriptionStore(r.db).List(context.Background(), alice, appID)
	if subs[0].Remaining != 0 {
		t.Errorf("our grants %+v: 43101 says none is left", subs)
	}
}

func TestADueTimeChangedTwiceSendsOneReminderAtTheNewTime(t *testing.T) {
	r := newRig(t)
	r.replica("a")
	alice := r.user("alice", 3)
	td := r.task(alice, "Pay rent", time.Hour, 30)
	for _, due := range []time.Duration{2 * time.Hour, 3 * time.Hour} {
		at := r.clock.Now().Add(due).In(time.FixedZone("", 8*3600))
		var err error
		td, err = r.todos.UpdateTodo(context.Background(), alice, td.ID, func(cur domain.Todo) (domain.Todo, error) {
			cur.DueAt, cur.Version = &at, cur.Version+1
			return cur, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if st := r.jobStates(); st["scheduled"] != 1 || st["cancelled"] != 2 {
		t.Fatalf("jobs %v: want one scheduled, two cancelled", st)
	}
	want := td.DueAt.Add(-30 * time.Minute)
	if !td.Reminder.At.Equal(want) {
		t.Fatalf("remind at %v, want %v", td.Reminder.At, want)
	}
	r.clock.Travel(3 * time.Hour)
	r.eventually("sent", func() bool { return r.reminder(alice, td.ID).State == domain.ReminderSent })
	msgs := r.messagesFor(td.ID)
	if len(msgs) != 1 || msgs[0].Data["time2"] != td.DueAt.Format("2006-01-02 15:04") {
		t.Fatalf("delivered %+v, due %v", msgs, td.DueAt)
	}
	if st := r.jobStates(); st["scheduled"]+st["available"]+st["retryable"] != 0 {
		t.Errorf("jobs %v: none left to run", st)
	}
}

func TestADeletedTaskSendsNothing(t *testing.T) {
	r := newRig(t)
	r.replica("a")
	alice := r.user("alice", 2)
	gone := r.task(alice, "Deleted", time.Hour, 30)
	sentinel := r.task(alice, "Sentinel", time.Hour+time.Minute, 30)
	if err := r.todos.DeleteTodo(context.Background(), alice, gone.ID, func(domain.Todo) error { return nil }); err != nil {
		t.Fatal(err)
	}
	r.clock.Travel(32 * time.Minute)
	r.eventually("the sentinel sent", func() bool { return r.reminder(alice, sentinel.ID).State == domain.ReminderSent })
	if n := len(r.messagesFor(gone.ID)); n != 0 {
		t.Fatalf("the deleted task got %d messages", n)
	}
	r.eventually("the sentinel's job completed", func() bool { return r.jobStates()["completed"] == 1 })
	if st := r.jobStates(); st["cancelled"] != 1 {
		t.Fatalf("jobs %v", st)
	}
}

func TestNoGrantSaysNoSubscriptionAndInsertsNoJob(t *testing.T) {
	r := newRig(t)
	alice := r.user("alice", 0)
	td := r.task(alice, "Pay rent", time.Hour, 30)
	if td.Reminder == nil || td.Reminder.State != domain.ReminderNoSubscription {
		t.Fatalf("%+v", td.Reminder)
	}
	if st := r.jobStates(); len(st) != 0 {
		t.Fatalf("jobs %v", st)
	}
	// Once she subscribes, saving the task schedules it.
	r.grant(alice, "alice", 1)
	td, err := r.todos.UpdateTodo(context.Background(), alice, td.ID, func(cur domain.Todo) (domain.Todo, error) {
		cur.Version++
		return cur, nil
	})
	if err != nil || td.Reminder.State != domain.ReminderScheduled || r.jobStates()["scheduled"] != 1 {
		t.Fatalf("%v %+v %v", err, td.Reminder, r.jobStates())
	}
}

var _ = rivertype.JobStateCancelled
