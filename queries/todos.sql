-- Tasks. Every query is scoped to the owner (user_id): another user's task
-- is no row at all. The list statements are built in
-- adapters/postgres/todolist.go, each with only the predicates a request
-- uses, so that it can be prepared.

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
