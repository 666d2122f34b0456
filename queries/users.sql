-- name: GetUser :one
SELECT id, nickname, avatar_url, bio, created_at, updated_at, role
FROM users
WHERE id = $1;

-- name: GetUserForUpdate :one
SELECT id, nickname, avatar_url, bio, created_at, updated_at, role
FROM users
WHERE id = $1
FOR UPDATE;

-- name: UpdateUserProfile :one
UPDATE users
SET nickname = $2, avatar_url = $3, bio = $4, updated_at = now()
WHERE id = $1
RETURNING id, nickname, avatar_url, bio, created_at, updated_at, role;

-- name: CreateUser :one
INSERT INTO users DEFAULT VALUES
RETURNING id, nickname, avatar_url, bio, created_at, updated_at, role;

-- name: TouchWeChatIdentity :one
-- A returning user: store the fresh session_key, and keep the union_id we
-- knew when WeChat sends none.
UPDATE wechat_identities
SET session_key = @session_key,
    union_id = COALESCE(sqlc.narg(union_id), union_id),
    updated_at = now()
WHERE app_id = @app_id AND open_id = @open_id
RETURNING user_id;

-- name: InsertWeChatIdentity :one
-- ON CONFLICT DO NOTHING waits for a concurrent inserter of the same
-- (app_id, open_id) and then returns no row, which tells the caller it lost
-- the race.
INSERT INTO wechat_identities (app_id, open_id, union_id, user_id, session_key)
VALUES (@app_id, @open_id, sqlc.narg(union_id), @user_id, @session_key)
ON CONFLICT (app_id, open_id) DO NOTHING
RETURNING user_id;

-- name: SetUserRole :one
UPDATE users
SET role = @role, updated_at = now()
WHERE id = @id
RETURNING id, nickname, avatar_url, bio, created_at, updated_at, role;

-- name: DeleteUser :one
-- Deletes the user (its identities and sessions go with it: ON DELETE
-- CASCADE) and, in the same statement, records a user-wide revocation so
-- every replica refuses the tokens it still holds.
WITH gone AS (
    DELETE FROM users WHERE users.id = @id RETURNING users.id
)
INSERT INTO revocations (user_id, revoked_at)
SELECT gone.id, @revoked_at FROM gone
RETURNING user_id, revoked_at;

-- name: ListUsers :many
-- The admin's user search, newest first, keyset-paginated on
-- (created_at, id). @pattern is an ILIKE pattern ('' matches all); to
-- search another column, add it to the OR list.
SELECT id, nickname, avatar_url, bio, created_at, updated_at, role
FROM users
WHERE (@pattern::text = ''
       OR nickname ILIKE @pattern
       OR id::text = @exact::text
       OR EXISTS (SELECT 1 FROM password_credentials pc
                  WHERE pc.user_id = users.id
                    AND (pc.username ILIKE @pattern OR pc.email ILIKE @pattern)))
  AND (@role::text = '' OR role = @role::text)
  AND (NOT @has_after::bool
       OR (created_at, id) < (@after_created_at::timestamptz, @after_id::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @max_rows;
