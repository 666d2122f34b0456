package jobs_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/miniback/miniback/domain"
)

// BenchmarkReminderThroughput measures the reminder queue here: b.N
// reminders of 100 users, all due at the same instant, worked by three
// replicas (river clients, 20 workers each) against the simulator. It
// reports the jobs per second from the first send to the last, and
// the delay between due (remind_at) and sent at the 50th and 99th
// percentiles (which include river's scheduler, every 5 s, moving the
// due jobs to available).
//
//	go test -run '^$' -bench BenchmarkReminderThroughput -benchtime 3000x ./adapters/jobs/
func BenchmarkReminderThroughput(b *testing.B) {
	r := newRig(b)
	replicas := 3
	if v, err := strconv.Atoi(os.Getenv("REMINDER_BENCH_REPLICAS")); err == nil && v > 0 {
		replicas = v
	}
	for i := range replicas {
		r.replicaWith(fmt.Sprintf("r%d", i), 20)
	}
	const users = 100
	per := (b.N + users - 1) / users
	var owners []domain.UserID
	var names []string
	for i := range users {
		name := fmt.Sprintf("u%03d", i)
		owners = append(owners, r.user(name, 0))
		names = append(names, name)
	}
	for i, o := range owners {
		r.grantMany(o, names[i], per)
	}
	due := r.clock.Now().Add(2 * time.Hour).Truncate(time.Second)
	lead := 30
	remindAt := due.Add(-30 * time.Minute)
	var tasks []domain.Todo
	for i := range b.N {
		at := due.In(time.FixedZone("", 8*3600))
		td, err := r.todos.CreateTodo(context.Background(), domain.Todo{Owner: owners[i%users], Title: fmt.Sprintf("task %d", i),
			Priority: domain.PriorityNormal, DueAt: &at, ReminderLead: &lead, RemindVia: r.route, Tags: []string{}})
		if err != nil {
			b.Fatal(err)
		}
		tasks = append(tasks, td)
	}
	b.ResetTimer()
	r.clock.Travel(remindAt.Sub(r.clock.Now()))
	r.eventually("every reminder sent", func() bool {
		var n int
		_ = r.db.Pool().QueryRow(context.Background(), "SELECT count(*) FROM reminders WHERE state = 'sent'").Scan(&n)
		return n == b.N
	})
	b.StopTimer()
	rows, err := r.db.Pool().Query(context.Background(), "SELECT extract(epoch FROM sent_at - remind_at) FROM reminders WHERE state = 'sent'")
	if err != nil {
		b.Fatal(err)
	}
	var delays []float64
	for rows.Next() {
		var d float64
		if err := rows.Scan(&d); err != nil {
			b.Fatal(err)
		}
		delays = append(delays, d)
	}
	slices.Sort(delays)
	if len(delays) != b.N || len(r.sim.SubscribeMessages()) != b.N {
		b.Fatalf("%d sent, %d delivered, want %d", len(delays), len(r.sim.SubscribeMessages()), b.N)
	}
	last := delays[len(delays)-1]
	// The drain rate: from the first send to the last (the wait for
	// river's scheduler before the first is in the delays).
	if span := last - delays[0]; span > 0 {
		b.ReportMetric(float64(b.N-1)/span, "jobs/s")
	}
	b.ReportMetric(delays[len(delays)/2]*1000, "p50-delay-ms")
	b.ReportMetric(delays[len(delays)*99/100]*1000, "p99-delay-ms")
	b.ReportMetric(last*1000, "max-delay-ms")
	_ = tasks
}
