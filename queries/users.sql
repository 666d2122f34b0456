-- name: GetUser :one
SELECT id, nickname, avatar_url, bio, created_at, updated_at
FROM users
WHERE id = $1;

-- name: GetUserForUpdate :one
SELECT id, nickname, avatar_url, bio, created_at, updated_at
FROM users
WHERE id = $1
FOR UPDATE;

-- name: UpdateUserProfile :one
UPDATE users
SET nickname = $2, avatar_url = $3, bio = $4, updated_at = now()
WHERE id = $1
RETURNING id, nickname, avatar_url, bio, created_at, updated_at;

-- name: CreateUser :one
INSERT INTO users DEFAULT VALUES
RETURNING id, nickname, avatar_url, bio, created_at, updated_at;

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
