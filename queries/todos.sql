-- Tasks. Every query is scoped to the owner (user_id): another user's task
-- is no row at all.

-- name: CreateTodo :one
INSERT INTO todos (user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags)
VALUES (@user_id, @title, @notes, sqlc.narg(due_at), sqlc.narg(due_offset), @priority, @done, sqlc.narg(completed_at), @tags)
RETURNING id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at;

-- name: GetTodo :one
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at
FROM todos
WHERE id = @id AND user_id = @user_id;

-- name: GetTodoForUpdate :one
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at
FROM todos
WHERE id = @id AND user_id = @user_id
FOR UPDATE;

-- name: UpdateTodo :one
UPDATE todos
SET title = @title, notes = @notes, due_at = sqlc.narg(due_at), due_offset = sqlc.narg(due_offset),
    priority = @priority, done = @done, completed_at = sqlc.narg(completed_at), tags = @tags,
    version = @version, updated_at = now()
WHERE id = @id AND user_id = @user_id
RETURNING id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at;

-- name: DeleteTodo :execrows
DELETE FROM todos
WHERE id = @id AND user_id = @user_id;

-- Lists. Each sort has a query per direction: a keyset range scan of its
-- index, strictly after (or before) the last row of the previous page. The
-- first page starts from a key below (above) every row. Filters are
-- optional: a NULL filter lets every row through. All list queries take
-- the same filter parameters, so their parameter structs convert into one
-- another.

-- name: ListTodosByCreatedAsc :many
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at
FROM todos
WHERE user_id = @user_id
  AND (created_at, id) > (@after_created_at::timestamptz, @after_id::uuid)
  AND (sqlc.narg(done)::boolean IS NULL OR done = sqlc.narg(done))
  AND (sqlc.narg(due_after)::timestamptz IS NULL OR due_at >= sqlc.narg(due_after))
  AND (sqlc.narg(due_before)::timestamptz IS NULL OR due_at < sqlc.narg(due_before))
  AND (sqlc.narg(tag)::text IS NULL OR tags @> ARRAY[sqlc.narg(tag)::text])
  AND (sqlc.narg(pattern)::text IS NULL OR title ILIKE sqlc.narg(pattern) OR notes ILIKE sqlc.narg(pattern))
ORDER BY created_at, id
LIMIT @max_rows;

-- name: ListTodosByCreatedDesc :many
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at
FROM todos
WHERE user_id = @user_id
  AND (created_at, id) < (@after_created_at::timestamptz, @after_id::uuid)
  AND (sqlc.narg(done)::boolean IS NULL OR done = sqlc.narg(done))
  AND (sqlc.narg(due_after)::timestamptz IS NULL OR due_at >= sqlc.narg(due_after))
  AND (sqlc.narg(due_before)::timestamptz IS NULL OR due_at < sqlc.narg(due_before))
  AND (sqlc.narg(tag)::text IS NULL OR tags @> ARRAY[sqlc.narg(tag)::text])
  AND (sqlc.narg(pattern)::text IS NULL OR title ILIKE sqlc.narg(pattern) OR notes ILIKE sqlc.narg(pattern))
ORDER BY created_at DESC, id DESC
LIMIT @max_rows;

-- name: ListTodosByDueAsc :many
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at
FROM todos
WHERE user_id = @user_id
  AND (due_at, id) > (@after_due_at::timestamptz, @after_id::uuid)
  AND (sqlc.narg(done)::boolean IS NULL OR done = sqlc.narg(done))
  AND (sqlc.narg(due_after)::timestamptz IS NULL OR due_at >= sqlc.narg(due_after))
  AND (sqlc.narg(due_before)::timestamptz IS NULL OR due_at < sqlc.narg(due_before))
  AND (sqlc.narg(tag)::text IS NULL OR tags @> ARRAY[sqlc.narg(tag)::text])
  AND (sqlc.narg(pattern)::text IS NULL OR title ILIKE sqlc.narg(pattern) OR notes ILIKE sqlc.narg(pattern))
ORDER BY due_at, id
LIMIT @max_rows;

-- name: ListTodosByDueDesc :many
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at
FROM todos
WHERE user_id = @user_id
  AND (due_at, id) < (@after_due_at::timestamptz, @after_id::uuid)
  AND (sqlc.narg(done)::boolean IS NULL OR done = sqlc.narg(done))
  AND (sqlc.narg(due_after)::timestamptz IS NULL OR due_at >= sqlc.narg(due_after))
  AND (sqlc.narg(due_before)::timestamptz IS NULL OR due_at < sqlc.narg(due_before))
  AND (sqlc.narg(tag)::text IS NULL OR tags @> ARRAY[sqlc.narg(tag)::text])
  AND (sqlc.narg(pattern)::text IS NULL OR title ILIKE sqlc.narg(pattern) OR notes ILIKE sqlc.narg(pattern))
ORDER BY due_at DESC, id DESC
LIMIT @max_rows;

-- The tail of the due orders: tasks with no due time, by creation time.

-- name: ListUndatedTodosAsc :many
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at
FROM todos
WHERE user_id = @user_id
  AND due_at IS NULL
  AND (created_at, id) > (@after_created_at::timestamptz, @after_id::uuid)
  AND (sqlc.narg(done)::boolean IS NULL OR done = sqlc.narg(done))
  AND (sqlc.narg(due_after)::timestamptz IS NULL OR due_at >= sqlc.narg(due_after))
  AND (sqlc.narg(due_before)::timestamptz IS NULL OR due_at < sqlc.narg(due_before))
  AND (sqlc.narg(tag)::text IS NULL OR tags @> ARRAY[sqlc.narg(tag)::text])
  AND (sqlc.narg(pattern)::text IS NULL OR title ILIKE sqlc.narg(pattern) OR notes ILIKE sqlc.narg(pattern))
ORDER BY created_at, id
LIMIT @max_rows;

-- name: ListUndatedTodosDesc :many
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at
FROM todos
WHERE user_id = @user_id
  AND due_at IS NULL
  AND (created_at, id) < (@after_created_at::timestamptz, @after_id::uuid)
  AND (sqlc.narg(done)::boolean IS NULL OR done = sqlc.narg(done))
  AND (sqlc.narg(due_after)::timestamptz IS NULL OR due_at >= sqlc.narg(due_after))
  AND (sqlc.narg(due_before)::timestamptz IS NULL OR due_at < sqlc.narg(due_before))
  AND (sqlc.narg(tag)::text IS NULL OR tags @> ARRAY[sqlc.narg(tag)::text])
  AND (sqlc.narg(pattern)::text IS NULL OR title ILIKE sqlc.narg(pattern) OR notes ILIKE sqlc.narg(pattern))
ORDER BY created_at DESC, id DESC
LIMIT @max_rows;

-- name: ListTodosByPriorityAsc :many
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at
FROM todos
WHERE user_id = @user_id
  AND (priority, created_at, id) > (@after_priority::smallint, @after_created_at::timestamptz, @after_id::uuid)
  AND (sqlc.narg(done)::boolean IS NULL OR done = sqlc.narg(done))
  AND (sqlc.narg(due_after)::timestamptz IS NULL OR due_at >= sqlc.narg(due_after))
  AND (sqlc.narg(due_before)::timestamptz IS NULL OR due_at < sqlc.narg(due_before))
  AND (sqlc.narg(tag)::text IS NULL OR tags @> ARRAY[sqlc.narg(tag)::text])
  AND (sqlc.narg(pattern)::text IS NULL OR title ILIKE sqlc.narg(pattern) OR notes ILIKE sqlc.narg(pattern))
ORDER BY priority, created_at, id
LIMIT @max_rows;

-- name: ListTodosByPriorityDesc :many
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at
FROM todos
WHERE user_id = @user_id
  AND (priority, created_at, id) < (@after_priority::smallint, @after_created_at::timestamptz, @after_id::uuid)
  AND (sqlc.narg(done)::boolean IS NULL OR done = sqlc.narg(done))
  AND (sqlc.narg(due_after)::timestamptz IS NULL OR due_at >= sqlc.narg(due_after))
  AND (sqlc.narg(due_before)::timestamptz IS NULL OR due_at < sqlc.narg(due_before))
  AND (sqlc.narg(tag)::text IS NULL OR tags @> ARRAY[sqlc.narg(tag)::text])
  AND (sqlc.narg(pattern)::text IS NULL OR title ILIKE sqlc.narg(pattern) OR notes ILIKE sqlc.narg(pattern))
ORDER BY priority DESC, created_at DESC, id DESC
LIMIT @max_rows;

-- Idempotency keys of creates.

-- name: ForgetUserIdempotencyKeys :exec
-- Expired keys of one user, forgotten before a key is looked up.
DELETE FROM todo_idempotency_keys
WHERE user_id = @user_id AND created_at < @before;

-- name: ClaimIdempotencyKey :execrows
-- Waits while a concurrent request holds the same key, then claims nothing
-- if that request committed (0 rows): the caller reads its result instead.
INSERT INTO todo_idempotency_keys (user_id, key, request_hash, created_at)
VALUES (@user_id, @key, @request_hash, @created_at)
ON CONFLICT (user_id, key) DO NOTHING;

-- name: GetIdempotencyKey :one
SELECT request_hash, result
FROM todo_idempotency_keys
WHERE user_id = @user_id AND key = @key;

-- name: SetIdempotencyKeyResult :exec
UPDATE todo_idempotency_keys
SET result = @result
WHERE user_id = @user_id AND key = @key;

-- name: ForgetIdempotencyKeys :execrows
DELETE FROM todo_idempotency_keys
WHERE created_at < @before;
