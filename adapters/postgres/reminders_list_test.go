package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// readsOfReminders counts the statements that read reminders by task id.
func readsOfReminders(sts []sentStatement) int {
	n := 0
	for _, st := range sts {
		if strings.HasPrefix(st.sql, "-- name: ListReminders") {
			n++
		}
	}
	return n
}

// A page of tasks costs one statement unless a task on it has a reminder:
// the list statement says which tasks have one, and only those are read.
func TestAPageOfTasksReadsRemindersOnlyWhenATaskOnItHasOne(t *testing.T) {
	ctx := context.Background()
	log := &statementLog{}
	cfg, err := pgxpool.ParseConfig(pgtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.Tracer = log
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := postgres.FromPool(pool)
	defer db.Close()
	s := postgres.NewTodoStore(db)
	s.ScheduleReminders(&memJobs{}, pinnedClock{time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)})

	plain := newTaskOwner(t, db, "plain")
	for _, title := range []string{"A", "B", "C"} {
		createTodo(t, s, domain.Todo{Owner: plain, Title: title, DueAt: at("2026-03-02T18:00:00+08:00")})
	}
	reminded := newTaskOwner(t, db, "reminded")
	createTodo(t, s, domain.Todo{Owner: reminded, Title: "no reminder"})
	withLead := createTodo(t, s, domain.Todo{Owner: reminded, Title: "Pay rent", DueAt: at("2026-03-02T18:00:00+08:00"),
		ReminderLead: lead(30), RemindVia: route})

	log.take()
	page, err := s.ListTodos(ctx, ports.TodoQuery{Owner: plain, Sort: domain.DefaultTodoSort, Limit: 10})
	if err != nil || len(page) != 3 {
		t.Fatalf("plain page: %d tasks, %v", len(page), err)
	}
	if sent := log.take(); len(sent) != 1 || readsOfReminders(sent) != 0 {
		t.Fatalf("a page without reminders sent %d statements (%d reminder reads), want the list statement only", len(sent), readsOfReminders(sent))
	}

	page, err = s.ListTodos(ctx, ports.TodoQuery{Owner: reminded, Sort: domain.DefaultTodoSort, Limit: 10})
	if err != nil || len(page) != 2 {
		t.Fatalf("reminded page: %d tasks, %v", len(page), err)
	}
	if sent := log.take(); readsOfReminders(sent) != 1 {
		t.Fatalf("a page with a reminder read reminders %d times, want once", readsOfReminders(sent))
	}
	for _, td := range page {
		switch td.ID {
		case withLead.ID:
			if td.ReminderLead == nil || *td.ReminderLead != 30 || td.Reminder == nil || td.Reminder.State != domain.ReminderNoSubscription {
				t.Fatalf("the reminded task reads back lead %v reminder %+v", td.ReminderLead, td.Reminder)
			}
		default:
			if td.ReminderLead != nil || td.Reminder != nil {
				t.Fatalf("the task without a reminder reads back lead %v reminder %+v", td.ReminderLead, td.Reminder)
			}
		}
	}
}
