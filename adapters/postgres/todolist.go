package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/miniback/miniback/adapters/postgres/internal/sqlcgen"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// A list page is one walk of one index over the owner's slice, in the
// sort's order, from the cursor on; a due order is two walks, the dated
// tasks by due time and then the undated tail by creation time.
//
// The statement of a walk holds only the predicates the request uses: a
// keyset start only after a cursor, a filter only when it is set. Each
// (walk, shape) pair is one fixed SQL string, built once (listStatements),
// so pgx's statement cache prepares it once per connection, and PostgreSQL
// plans it once too: after five executions it keeps the generic plan,
// which for these statements is the walk's index range scan with a Limit
// (TestExplainListQueries checks every shape, for a user with 100 tasks
// and one with 20,000). A single statement with every filter optional
// (`$4 IS NULL OR done = $4`) cannot have that generic plan: its
// estimates count on filters that mostly let everything through, so its
// generic plan reads all of the user's tasks and sorts them (7–19 ms for
// the 20,000-task user, against 0.05 ms).
//
// Some shapes have no plan that is right for every value, so they are
// planned for each execution's values (the unnamed statement, with its
// result description cached):
//   - a tag or a text search: whether the GIN index of the tag or of the
//     trigrams beats walking the sort index depends on how many of the
//     user's tasks match, which only the value tells;
//   - a due range in an order other than due time: a narrow window is best
//     read from the due index and sorted, a wide one by walking the sort
//     index and skipping what falls outside. (In due order the range is a
//     range of the walk's own index, so that shape is prepared.)
//
// Such a request costs a parse and a plan (about 0.1 ms) on top of its
// execution, which for these filters is the larger part anyway.

// listWalk is one index walk of a list.
type listWalk uint8

const (
	walkCreatedAsc listWalk = iota
	walkCreatedDesc
	walkPriorityAsc
	walkPriorityDesc
	walkDueAsc // the tasks with a due time
	walkDueDesc
	walkUndatedAsc // the tasks with none, by creation time
	walkUndatedDesc
	numWalks
)

// walkSpec describes a walk: its index key after user_id (the order and
// the keyset), the key's SQL types, the direction, and which of the tasks
// it reads.
type walkSpec struct {
	key   []string
	types []string
	desc  bool
	// dueTime is "IS NOT NULL" for the dated walk, "IS NULL" for the
	// undated tail, "" when the walk reads every task.
	dueTime string
}

var walkSpecs = [numWalks]walkSpec{
	walkCreatedAsc:   {key: []string{"created_at", "id"}, types: []string{"timestamptz", "uuid"}},
	walkCreatedDesc:  {key: []string{"created_at", "id"}, types: []string{"timestamptz", "uuid"}, desc: true},
	walkPriorityAsc:  {key: []string{"priority", "created_at", "id"}, types: []string{"smallint", "timestamptz", "uuid"}},
	walkPriorityDesc: {key: []string{"priority", "created_at", "id"}, types: []string{"smallint", "timestamptz", "uuid"}, desc: true},
	walkDueAsc:       {key: []string{"due_at", "id"}, types: []string{"timestamptz", "uuid"}, dueTime: "IS NOT NULL"},
	walkDueDesc:      {key: []string{"due_at", "id"}, types: []string{"timestamptz", "uuid"}, desc: true, dueTime: "IS NOT NULL"},
	walkUndatedAsc:   {key: []string{"created_at", "id"}, types: []string{"timestamptz", "uuid"}, dueTime: "IS NULL"},
	walkUndatedDesc:  {key: []string{"created_at", "id"}, types: []string{"timestamptz", "uuid"}, desc: true, dueTime: "IS NULL"},
}

// dated reports whether the walk is in due time order.
func (w listWalk) dated() bool { return walkSpecs[w].dueTime == "IS NOT NULL" }

// listShape is the set of predicates a walk's statement holds beyond the
// owner.
type listShape uint8

const (
	shapeAfter     listShape = 1 << iota // a keyset start: the page after a cursor
	shapeDone                            // done = …
	shapeDueAfter                        // due_at >= …
	shapeDueBefore                       // due_at < …
	shapeTag                             // tags @> ARRAY[…]
	shapeText                            // title or notes ILIKE …
	numShapes      = 1 << iota
)

// perExecution reports whether the statement of w in shape s is planned
// for each execution's values rather than prepared (see the top of the
// file).
func (s listShape) perExecution(w listWalk) bool {
	if s&(shapeTag|shapeText) != 0 {
		return true
	}
	return s&(shapeDueAfter|shapeDueBefore) != 0 && !w.dated()
}

// listStatements holds the statement of every walk in every shape, so a
// request picks a constant string: the key of pgx's statement cache.
var listStatements = func() (out [numWalks][numShapes]string) {
	for w := range numWalks {
		for s := range listShape(numShapes) {
			out[w][s] = buildListStatement(w, s)
		}
	}
	return out
}()

// todoColumns are the columns of a todos row, in sqlcgen.Todo's order.
const todoColumns = "id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at"

// buildListStatement writes the statement of w in shape s. Its parameters
// are, in order: the owner, the keyset start (shapeAfter), done, due
// after, due before, tag, text pattern (each when in s), the row count:
// listQuery.args sends them in that order.
func buildListStatement(w listWalk, s listShape) string {
	spec := walkSpecs[w]
	var b strings.Builder
	n := 1
	next := func() string { n++; return fmt.Sprintf("$%d", n) }

	direction, dir, cmp := "asc", "", ">"
	if spec.desc {
		direction, dir, cmp = "desc", " DESC", "<"
	}
	// The first line names the shape, for pg_stat_statements and plans.
	fmt.Fprintf(&b, "-- ListTodos (%s) %s", strings.Join(spec.key, ", "), direction)
	switch spec.dueTime {
	case "IS NOT NULL":
		b.WriteString(" dated")
	case "IS NULL":
		b.WriteString(" undated")
	}
	for _, f := range []struct {
		bit  listShape
		name string
	}{{shapeAfter, "after"}, {shapeDone, "done"}, {shapeDueAfter, "due_after"}, {shapeDueBefore, "due_before"}, {shapeTag, "tag"}, {shapeText, "text"}} {
		if s&f.bit != 0 {
			b.WriteString(" +" + f.name)
		}
	}
	// Whether the task has a reminder row rides along, so a page of tasks
	// without reminders costs no second query (ListTodos). A scalar
	// subquery, not EXISTS: the planner may turn an EXISTS into a hash of
	// the whole reminders table; this stays one primary-key probe per
	// returned row.
	b.WriteString("\nSELECT " + todoColumns + ",\n  coalesce((SELECT true FROM reminders r WHERE r.todo_id = todos.id), false)\nFROM todos\nWHERE user_id = $1\n")
	if spec.dueTime != "" {
		b.WriteString("  AND due_at " + spec.dueTime + "\n")
	}
	if s&shapeAfter != 0 {
		params := make([]string, len(spec.key))
		for i, typ := range spec.types {
			params[i] = next() + "::" + typ
		}
		fmt.Fprintf(&b, "  AND (%s) %s (%s)\n", strings.Join(spec.key, ", "), cmp, strings.Join(params, ", "))
	}
	if s&shapeDone != 0 {
		b.WriteString("  AND done = " + next() + "\n")
	}
	if s&shapeDueAfter != 0 {
		b.WriteString("  AND due_at >= " + next() + "\n")
	}
	if s&shapeDueBefore != 0 {
		b.WriteString("  AND due_at < " + next() + "\n")
	}
	if s&shapeTag != 0 {
		b.WriteString("  AND tags @> ARRAY[" + next() + "::text]\n")
	}
	if s&shapeText != 0 {
		p := next()
		b.WriteString("  AND (title ILIKE " + p + " OR notes ILIKE " + p + ")\n")
	}
	order := make([]string, len(spec.key))
	for i, col := range spec.key {
		order[i] = col + dir
	}
	b.WriteString("ORDER BY " + strings.Join(order, ", ") + "\nLIMIT " + next() + "\n")
	return b.String()
}

// listQuery is one walk to run: its statement's shape follows from which
// fields are set.
type listQuery struct {
	walk  listWalk
	owner uuid.UUID
	// after is the keyset start (the key of the cursor's task, in the
	// walk's key order), nil on a first page.
	after     []any
	done      *bool
	dueAfter  *time.Time
	dueBefore *time.Time
	tag       string
	pattern   string // an ILIKE pattern, "" for no text search
	limit     int32
}

func (q listQuery) shape() listShape {
	var s listShape
	if q.after != nil {
		s |= shapeAfter
	}
	if q.done != nil {
		s |= shapeDone
	}
	if q.dueAfter != nil {
		s |= shapeDueAfter
	}
	if q.dueBefore != nil {
		s |= shapeDueBefore
	}
	if q.tag != "" {
		s |= shapeTag
	}
	if q.pattern != "" {
		s |= shapeText
	}
	return s
}

// args are the statement's parameters, in buildListStatement's order,
// led by the exec mode when the shape is planned per execution. Without
// one, the pool's mode applies: pgx's default prepares the statement.
func (q listQuery) args(s listShape) []any {
	args := make([]any, 0, 11)
	if s.perExecution(q.walk) {
		args = append(args, pgx.QueryExecModeCacheDescribe)
	}
	args = append(args, q.owner)
	args = append(args, q.after...)
	if q.done != nil {
		args = append(args, *q.done)
	}
	if q.dueAfter != nil {
		args = append(args, *q.dueAfter)
	}
	if q.dueBefore != nil {
		args = append(args, *q.dueBefore)
	}
	if q.tag != "" {
		args = append(args, q.tag)
	}
	if q.pattern != "" {
		args = append(args, q.pattern)
	}
	return append(args, q.limit)
}

// run reads the walk's rows.
// listRow is a row of a list statement: the task, and whether it has a
// reminder row.
type listRow struct {
	sqlcgen.Todo
	hasReminder bool
}

func (s *TodoStore) run(ctx context.Context, q listQuery) ([]listRow, error) {
	shape := q.shape()
	rows, err := s.db.q().Query(ctx, listStatements[q.walk][shape], q.args(shape)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]listRow, 0, q.limit)
	for rows.Next() {
		var t listRow
		if err := rows.Scan(&t.ID, &t.UserID, &t.Title, &t.Notes, &t.DueAt, &t.DueOffset, &t.Priority, &t.Done,
			&t.CompletedAt, &t.Tags, &t.Version, &t.CreatedAt, &t.UpdatedAt, &t.hasReminder); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// ListTodos returns up to q.Limit of the owner's tasks after q.After, in
// q.Sort order. Each sort and direction is one keyset walk of its index;
// a due order is two: the tasks with a due time by due time, then (unless
// a due range excludes them) the undated ones by creation time.
func (s *TodoStore) ListTodos(ctx context.Context, q ports.TodoQuery) ([]domain.Todo, error) {
	uid, err := parseUserID(q.Owner)
	if err != nil {
		return nil, err
	}
	if q.Limit <= 0 {
		return []domain.Todo{}, nil
	}
	base := listQuery{owner: uid, done: q.Filter.Done, dueAfter: q.Filter.DueAfter, dueBefore: q.Filter.DueBefore,
		tag: q.Filter.Tag, limit: int32(q.Limit)}
	if q.Filter.Text != "" {
		base.pattern = "%" + escapeLike(q.Filter.Text) + "%"
	}
	var rows []listRow
	switch q.Sort.Field {
	case domain.SortByCreatedAt:
		rows, err = s.listByCreated(ctx, base, q.Sort.Desc, q.After)
	case domain.SortByPriority:
		rows, err = s.listByPriority(ctx, base, q.Sort.Desc, q.After)
	case domain.SortByDueAt:
		rows, err = s.listByDue(ctx, base, q.Sort.Desc, q.After, q.Filter.Dated())
	default:
		return nil, fmt.Errorf("postgres: unknown sort %q", q.Sort.Field)
	}
	if err != nil {
		return nil, interpretError(err)
	}
	out := make([]domain.Todo, 0, len(rows))
	var reminded []int // the tasks with a reminder row, by index in out
	for i, row := range rows {
		t, err := toTodo(row.Todo)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		if row.hasReminder {
			reminded = append(reminded, i)
		}
	}
	if len(reminded) == 0 {
		return out, nil
	}
	some := make([]domain.Todo, len(reminded))
	for j, i := range reminded {
		some[j] = out[i]
	}
	if err := withReminders(ctx, s.q, some); err != nil {
		return nil, interpretError(err)
	}
	for j, i := range reminded {
		out[i] = some[j]
	}
	return out, nil
}

// pick returns asc, or desc when desc is set.
func pick(desc bool, asc, descending listWalk) listWalk {
	if desc {
		return descending
	}
	return asc
}

// cursorID parses the id of a cursor's task.
func cursorID(pos *domain.TodoPosition) (uuid.UUID, error) {
	id, err := uuid.Parse(string(pos.ID))
	if err != nil {
		return uuid.Nil, fmt.Errorf("cursor id: %w", err)
	}
	return id, nil
}

func (s *TodoStore) listByCreated(ctx context.Context, q listQuery, desc bool, after *domain.TodoPosition) ([]listRow, error) {
	q.walk = pick(desc, walkCreatedAsc, walkCreatedDesc)
	if after != nil {
		id, err := cursorID(after)
		if err != nil {
			return nil, err
		}
		q.after = []any{after.CreatedAt, id}
	}
	return s.run(ctx, q)
}

func (s *TodoStore) listByPriority(ctx context.Context, q listQuery, desc bool, after *domain.TodoPosition) ([]listRow, error) {
	q.walk = pick(desc, walkPriorityAsc, walkPriorityDesc)
	if after != nil {
		id, err := cursorID(after)
		if err != nil {
			return nil, err
		}
		q.after = []any{int16(after.Priority.Rank()), after.CreatedAt, id}
	}
	return s.run(ctx, q)
}

func (s *TodoStore) listByDue(ctx context.Context, base listQuery, desc bool, after *domain.TodoPosition, datedOnly bool) ([]listRow, error) {
	var rows []listRow
	undatedFrom := after
	if after == nil || !after.Undated {
		q := base
		q.walk = pick(desc, walkDueAsc, walkDueDesc)
		if after != nil {
			id, err := cursorID(after)
			if err != nil {
				return nil, err
			}
			q.after = []any{after.DueAt, id}
		}
		var err error
		if rows, err = s.run(ctx, q); err != nil {
			return nil, err
		}
		undatedFrom = nil // the undated tail starts from its beginning
	}
	if datedOnly || len(rows) >= int(base.limit) {
		return rows, nil
	}
	q := base
	q.walk = pick(desc, walkUndatedAsc, walkUndatedDesc)
	q.limit = base.limit - int32(len(rows))
	if undatedFrom != nil {
		id, err := cursorID(undatedFrom)
		if err != nil {
			return nil, err
		}
		q.after = []any{undatedFrom.CreatedAt, id}
	}
	tail, err := s.run(ctx, q)
	if err != nil {
		return nil, err
	}
	return append(rows, tail...), nil
}
