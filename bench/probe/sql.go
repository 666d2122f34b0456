// Code copied from adapters/postgres/internal/sqlcgen (sqlc's rendering of
// queries/*.sql) and, for the lists (list*), from the statements
// adapters/postgres/todolist.go builds for the shapes the probe serves: the
// exact statements miniback sends, so PostgreSQL does the same work for
// the probe. TestProbeSQLIsMinibacksSQL and TestProbeListSQLIsMinibacksSQL
// fail when they drift apart; copy them again then.

package main

const sqlGetUser = `-- name: GetUser :one
SELECT users.id, users.nickname, users.avatar_url, users.bio, users.created_at, users.updated_at, users.role, users.phone_country_code, users.phone_pure_number, users.phone_number, users.phone_app_id, users.phone_bound_at,
       COALESCE(pc.username, '')::text AS username,
       COALESCE(pc.email, '')::text AS email,
       (pc.user_id IS NOT NULL)::bool AS has_password
FROM users
LEFT JOIN password_credentials pc ON pc.user_id = users.id
WHERE users.id = $1
`

const sqlTouchWeChatIdentity = `-- name: TouchWeChatIdentity :one
UPDATE wechat_identities
SET session_key = COALESCE(NULLIF($1::text, ''), session_key),
    union_id = COALESCE($2, union_id),
    updated_at = now()
WHERE app_id = $3 AND open_id = $4
RETURNING user_id
`

const sqlCreateUser = `-- name: CreateUser :one
INSERT INTO users DEFAULT VALUES
RETURNING id, nickname, avatar_url, bio, created_at, updated_at, role, phone_country_code, phone_pure_number, phone_number, phone_app_id, phone_bound_at
`

const sqlInsertWeChatIdentity = `-- name: InsertWeChatIdentity :one
INSERT INTO wechat_identities (app_id, open_id, union_id, user_id, session_key)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (app_id, open_id) DO NOTHING
RETURNING user_id
`

const sqlCreateSession = `-- name: CreateSession :one
INSERT INTO sessions (user_id, app_id, user_agent, created_at, last_used_at, idle_expires_at, absolute_expires_at)
VALUES ($1, $2, $3, $4, $4, $5, $6)
RETURNING id, user_id, app_id, user_agent, created_at, last_used_at, idle_expires_at, absolute_expires_at, revoked_at, revoke_reason
`

const sqlInsertRefreshToken = `-- name: InsertRefreshToken :exec
INSERT INTO refresh_tokens (hash, session_id, generation, created_at)
VALUES ($1, $2, $3, $4)
`

const sqlUseRefreshToken = `-- name: UseRefreshToken :one
UPDATE refresh_tokens
SET used_at = $1::timestamptz
WHERE hash = $2 AND used_at IS NULL
RETURNING session_id, generation
`

const sqlGetSessionAndUserForUpdate = `-- name: GetSessionAndUserForUpdate :one
SELECT sessions.id, sessions.user_id, sessions.app_id, sessions.user_agent, sessions.created_at, sessions.last_used_at, sessions.idle_expires_at, sessions.absolute_expires_at, sessions.revoked_at, sessions.revoke_reason, users.id, users.nickname, users.avatar_url, users.bio, users.created_at, users.updated_at, users.role, users.phone_country_code, users.phone_pure_number, users.phone_number, users.phone_app_id, users.phone_bound_at,
       COALESCE(pc.username, '')::text AS username,
       COALESCE(pc.email, '')::text AS email,
       (pc.user_id IS NOT NULL)::bool AS has_password
FROM sessions
JOIN users ON users.id = sessions.user_id
LEFT JOIN password_credentials pc ON pc.user_id = users.id
WHERE sessions.id = $1
FOR UPDATE OF sessions
`

const sqlTouchSession = `-- name: TouchSession :one
UPDATE sessions
SET last_used_at = $1, idle_expires_at = $2, user_agent = $3
WHERE id = $4
RETURNING id, user_id, app_id, user_agent, created_at, last_used_at, idle_expires_at, absolute_expires_at, revoked_at, revoke_reason
`

const sqlGetTodo = `-- name: GetTodo :one
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at
FROM todos
WHERE id = $1 AND user_id = $2
`

const sqlGetTodoForUpdate = `-- name: GetTodoForUpdate :one
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at
FROM todos
WHERE id = $1 AND user_id = $2
FOR UPDATE
`

const sqlUpdateTodo = `-- name: UpdateTodo :one
UPDATE todos
SET title = $1, notes = $2, due_at = $3, due_offset = $4,
    priority = $5, done = $6, completed_at = $7, tags = $8,
    version = $9, updated_at = now()
WHERE id = $10 AND user_id = $11
RETURNING id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at
`

const sqlCreateTodo = `-- name: CreateTodo :one

INSERT INTO todos (user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at
`

const sqlForgetUserIdempotencyKeys = `-- name: ForgetUserIdempotencyKeys :exec

DELETE FROM todo_idempotency_keys
WHERE user_id = $1 AND created_at < $2
`

const sqlClaimIdempotencyKey = `-- name: ClaimIdempotencyKey :execrows
INSERT INTO todo_idempotency_keys (user_id, key, request_hash, created_at)
VALUES ($1, $2, $3, $4)
ON CONFLICT (user_id, key) DO NOTHING
`

const sqlGetIdempotencyKey = `-- name: GetIdempotencyKey :one
SELECT request_hash, result
FROM todo_idempotency_keys
WHERE user_id = $1 AND key = $2
`

const sqlSetIdempotencyKeyResult = `-- name: SetIdempotencyKeyResult :exec
UPDATE todo_idempotency_keys
SET result = $1
WHERE user_id = $2 AND key = $3
`

// The lists: one walk of one index, with only the predicates in use
// (a keyset start after a cursor, done when the request filters on it).

const listCreatedAsc = `-- ListTodos (created_at, id) asc
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at,
  coalesce((SELECT true FROM reminders r WHERE r.todo_id = todos.id), false)
FROM todos
WHERE user_id = $1
ORDER BY created_at, id
LIMIT $2
`

const listCreatedAscAfter = `-- ListTodos (created_at, id) asc +after
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at,
  coalesce((SELECT true FROM reminders r WHERE r.todo_id = todos.id), false)
FROM todos
WHERE user_id = $1
  AND (created_at, id) > ($2::timestamptz, $3::uuid)
ORDER BY created_at, id
LIMIT $4
`

const listCreatedAscDone = `-- ListTodos (created_at, id) asc +done
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at,
  coalesce((SELECT true FROM reminders r WHERE r.todo_id = todos.id), false)
FROM todos
WHERE user_id = $1
  AND done = $2
ORDER BY created_at, id
LIMIT $3
`

const listCreatedAscAfterDone = `-- ListTodos (created_at, id) asc +after +done
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at,
  coalesce((SELECT true FROM reminders r WHERE r.todo_id = todos.id), false)
FROM todos
WHERE user_id = $1
  AND (created_at, id) > ($2::timestamptz, $3::uuid)
  AND done = $4
ORDER BY created_at, id
LIMIT $5
`

const listCreatedDesc = `-- ListTodos (created_at, id) desc
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at,
  coalesce((SELECT true FROM reminders r WHERE r.todo_id = todos.id), false)
FROM todos
WHERE user_id = $1
ORDER BY created_at DESC, id DESC
LIMIT $2
`

const listCreatedDescAfter = `-- ListTodos (created_at, id) desc +after
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at,
  coalesce((SELECT true FROM reminders r WHERE r.todo_id = todos.id), false)
FROM todos
WHERE user_id = $1
  AND (created_at, id) < ($2::timestamptz, $3::uuid)
ORDER BY created_at DESC, id DESC
LIMIT $4
`

const listCreatedDescDone = `-- ListTodos (created_at, id) desc +done
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at,
  coalesce((SELECT true FROM reminders r WHERE r.todo_id = todos.id), false)
FROM todos
WHERE user_id = $1
  AND done = $2
ORDER BY created_at DESC, id DESC
LIMIT $3
`

const listCreatedDescAfterDone = `-- ListTodos (created_at, id) desc +after +done
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at,
  coalesce((SELECT true FROM reminders r WHERE r.todo_id = todos.id), false)
FROM todos
WHERE user_id = $1
  AND (created_at, id) < ($2::timestamptz, $3::uuid)
  AND done = $4
ORDER BY created_at DESC, id DESC
LIMIT $5
`

const listDueAsc = `-- ListTodos (due_at, id) asc dated
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at,
  coalesce((SELECT true FROM reminders r WHERE r.todo_id = todos.id), false)
FROM todos
WHERE user_id = $1
  AND due_at IS NOT NULL
ORDER BY due_at, id
LIMIT $2
`

const listDueAscAfter = `-- ListTodos (due_at, id) asc dated +after
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at,
  coalesce((SELECT true FROM reminders r WHERE r.todo_id = todos.id), false)
FROM todos
WHERE user_id = $1
  AND due_at IS NOT NULL
  AND (due_at, id) > ($2::timestamptz, $3::uuid)
ORDER BY due_at, id
LIMIT $4
`

const listDueAscDone = `-- ListTodos (due_at, id) asc dated +done
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at,
  coalesce((SELECT true FROM reminders r WHERE r.todo_id = todos.id), false)
FROM todos
WHERE user_id = $1
  AND due_at IS NOT NULL
  AND done = $2
ORDER BY due_at, id
LIMIT $3
`

const listDueAscAfterDone = `-- ListTodos (due_at, id) asc dated +after +done
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at,
  coalesce((SELECT true FROM reminders r WHERE r.todo_id = todos.id), false)
FROM todos
WHERE user_id = $1
  AND due_at IS NOT NULL
  AND (due_at, id) > ($2::timestamptz, $3::uuid)
  AND done = $4
ORDER BY due_at, id
LIMIT $5
`

const listDueDesc = `-- ListTodos (due_at, id) desc dated
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at,
  coalesce((SELECT true FROM reminders r WHERE r.todo_id = todos.id), false)
FROM todos
WHERE user_id = $1
  AND due_at IS NOT NULL
ORDER BY due_at DESC, id DESC
LIMIT $2
`

const listDueDescAfter = `-- ListTodos (due_at, id) desc dated +after
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at,
  coalesce((SELECT true FROM reminders r WHERE r.todo_id = todos.id), false)
FROM todos
WHERE user_id = $1
  AND due_at IS NOT NULL
  AND (due_at, id) < ($2::timestamptz, $3::uuid)
ORDER BY due_at DESC, id DESC
LIMIT $4
`

const listDueDescDone = `-- ListTodos (due_at, id) desc dated +done
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at,
  coalesce((SELECT true FROM reminders r WHERE r.todo_id = todos.id), false)
FROM todos
WHERE user_id = $1
  AND due_at IS NOT NULL
  AND done = $2
ORDER BY due_at DESC, id DESC
LIMIT $3
`

const listDueDescAfterDone = `-- ListTodos (due_at, id) desc dated +after +done
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at,
  coalesce((SELECT true FROM reminders r WHERE r.todo_id = todos.id), false)
FROM todos
WHERE user_id = $1
  AND due_at IS NOT NULL
  AND (due_at, id) < ($2::timestamptz, $3::uuid)
  AND done = $4
ORDER BY due_at DESC, id DESC
LIMIT $5
`

const listUndatedAsc = `-- ListTodos (created_at, id) asc undated
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at,
  coalesce((SELECT true FROM reminders r WHERE r.todo_id = todos.id), false)
FROM todos
WHERE user_id = $1
  AND due_at IS NULL
ORDER BY created_at, id
LIMIT $2
`

const listUndatedAscAfter = `-- ListTodos (created_at, id) asc undated +after
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at,
  coalesce((SELECT true FROM reminders r WHERE r.todo_id = todos.id), false)
FROM todos
WHERE user_id = $1
  AND due_at IS NULL
  AND (created_at, id) > ($2::timestamptz, $3::uuid)
ORDER BY created_at, id
LIMIT $4
`

const listUndatedAscDone = `-- ListTodos (created_at, id) asc undated +done
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at,
  coalesce((SELECT true FROM reminders r WHERE r.todo_id = todos.id), false)
FROM todos
WHERE user_id = $1
  AND due_at IS NULL
  AND done = $2
ORDER BY created_at, id
LIMIT $3
`

const listUndatedAscAfterDone = `-- ListTodos (created_at, id) asc undated +after +done
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at,
  coalesce((SELECT true FROM reminders r WHERE r.todo_id = todos.id), false)
FROM todos
WHERE user_id = $1
  AND due_at IS NULL
  AND (created_at, id) > ($2::timestamptz, $3::uuid)
  AND done = $4
ORDER BY created_at, id
LIMIT $5
`

const listUndatedDesc = `-- ListTodos (created_at, id) desc undated
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at,
  coalesce((SELECT true FROM reminders r WHERE r.todo_id = todos.id), false)
FROM todos
WHERE user_id = $1
  AND due_at IS NULL
ORDER BY created_at DESC, id DESC
LIMIT $2
`

const listUndatedDescAfter = `-- ListTodos (created_at, id) desc undated +after
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at,
  coalesce((SELECT true FROM reminders r WHERE r.todo_id = todos.id), false)
FROM todos
WHERE user_id = $1
  AND due_at IS NULL
  AND (created_at, id) < ($2::timestamptz, $3::uuid)
ORDER BY created_at DESC, id DESC
LIMIT $4
`

const listUndatedDescDone = `-- ListTodos (created_at, id) desc undated +done
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at,
  coalesce((SELECT true FROM reminders r WHERE r.todo_id = todos.id), false)
FROM todos
WHERE user_id = $1
  AND due_at IS NULL
  AND done = $2
ORDER BY created_at DESC, id DESC
LIMIT $3
`

const listUndatedDescAfterDone = `-- ListTodos (created_at, id) desc undated +after +done
SELECT id, user_id, title, notes, due_at, due_offset, priority, done, completed_at, tags, version, created_at, updated_at,
  coalesce((SELECT true FROM reminders r WHERE r.todo_id = todos.id), false)
FROM todos
WHERE user_id = $1
  AND due_at IS NULL
  AND (created_at, id) < ($2::timestamptz, $3::uuid)
  AND done = $4
ORDER BY created_at DESC, id DESC
LIMIT $5
`
