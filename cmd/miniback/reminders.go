package main

import (
	"github.com/miniback/miniback/adapters/jobs"
	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/app"
)

// Task reminders on the job queue: the task writes insert and cancel
// their reminder jobs in their own transaction, and every replica that
// works jobs sends the due ones (app.Reminders.Deliver).

// reminderTodos is the task store, scheduling reminders on the queue.
func (m *Main) reminderTodos() *postgres.TodoStore {
	todos := postgres.NewTodoStore(m.db)
	todos.ScheduleReminders(jobs.Reminders{Jobs: m.Jobs.Client()}, app.SystemClock{})
	return todos
}

// addReminderWorker registers the reminder worker before the queue
// starts.
func (m *Main) addReminderWorker() {
	jobs.AddReminderWorker(m.JobWorkers, m.App.Reminders)
}
