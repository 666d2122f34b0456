package postgres_test

import (
	"context"
	"testing"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// BenchmarkListTodosPage reads one page of 20 tasks (21 rows: one more
// tells whether there is a next page) of a user among 1,000 with 100 tasks
// each, through the store: query, scan and mapping.
func BenchmarkListTodosPage(b *testing.B) {
	db := pgtest.NewDB(b)
	users := pgtest.SeedTodos(b, db, 1000, 100)
	s := postgres.NewTodoStore(db)
	open := false
	for _, bc := range []struct {
		name string
		q    ports.TodoQuery
	}{
		{"newest_first", ports.TodoQuery{Sort: domain.DefaultTodoSort}},
		{"open_by_due_time", ports.TodoQuery{Sort: domain.TodoSort{Field: domain.SortByDueAt}, Filter: domain.TodoFilter{Done: &open}}},
		{"high_priority_first", ports.TodoQuery{Sort: domain.TodoSort{Field: domain.SortByPriority, Desc: true}}},
		{"search_milk", ports.TodoQuery{Sort: domain.DefaultTodoSort, Filter: domain.TodoFilter{Text: "milk"}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				q := bc.q
				q.Owner, q.Limit = users[i%len(users)], 21
				i++
				if _, err := s.ListTodos(context.Background(), q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
