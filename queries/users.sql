-- name: GetUser :one
-- A user with its password login's username and email ('' without one);
-- never the hash. Every query that answers a user adds these columns.
SELECT sqlc.embed(users),
       COALESCE(pc.username, '')::text AS username,
       COALESCE(pc.email, '')::text AS email,
       (pc.user_id IS NOT NULL)::bool AS has_password
FROM users
LEFT JOIN password_credentials pc ON pc.user_id = users.id
WHERE users.id = $1;

-- name: GetUserForUpdate :one
SELECT sqlc.embed(users),
       COALESCE(pc.username, '')::text AS username,
       COALESCE(pc.email, '')::text AS email,
       (pc.user_id IS NOT NULL)::bool AS has_password
FROM users
LEFT JOIN password_credentials pc ON pc.user_id = users.id
WHERE users.id = $1
FOR UPDATE OF users;

-- name: UpdateUserProfile :one
-- The account columns come along as in GetUser: RETURNING sees the
-- FROM list, whose one row is the user's id and its credential, if any.
UPDATE users
SET nickname = @nickname, avatar_url = @avatar_url, bio = @bio, updated_at = now()
FROM (SELECT @id::uuid AS id) AS k
LEFT JOIN password_credentials pc ON pc.user_id = k.id
WHERE users.id = k.id
RETURNING sqlc.embed(users),
          COALESCE(pc.username, '')::text AS username,
          COALESCE(pc.email, '')::text AS email,
          (pc.user_id IS NOT NULL)::bool AS has_password;

-- name: CreateUser :one
-- Every column, so the row stays a users row as columns are added.
INSERT INTO users DEFAULT VALUES
RETURNING *;

-- name: TouchWeChatIdentity :one
-- A returning user: store the fresh session_key, and keep the union_id we
-- knew when WeChat sends none. A login through Cloud Hosting's gateway has
-- no session_key (''): it keeps the one an earlier wx.login stored.
UPDATE wechat_identities
SET session_key = COALESCE(NULLIF(@session_key::text, ''), session_key),
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
FROM (SELECT @id::uuid AS id) AS k
LEFT JOIN password_credentials pc ON pc.user_id = k.id
WHERE users.id = k.id
RETURNING sqlc.embed(users),
          COALESCE(pc.username, '')::text AS username,
          COALESCE(pc.email, '')::text AS email,
          (pc.user_id IS NOT NULL)::bool AS has_password;

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
-- search another column, add it to the OR list. @phone is the search's
-- digits when it reads as a phone number ('' otherwise): it matches a
-- whole number, with or without its country code (both indexed).
SELECT sqlc.embed(users),
       COALESCE(pc.username, '')::text AS username,
       COALESCE(pc.email, '')::text AS email,
       (pc.user_id IS NOT NULL)::bool AS has_password
FROM users
LEFT JOIN password_credentials pc ON pc.user_id = users.id
WHERE (@pattern::text = ''
       OR nickname ILIKE @pattern
       OR users.id::text = @exact::text
       OR (@phone::text <> '' AND (users.phone_pure_number = @phone::text
                                   OR users.phone_country_code || users.phone_pure_number = @phone::text))
       OR EXISTS (SELECT 1 FROM password_credentials pc
                  WHERE pc.user_id = users.id
                    AND (pc.username ILIKE @pattern OR pc.email ILIKE @pattern)))
  AND (@role::text = '' OR users.role = @role::text)
  AND (@app_id::text = ''
       OR EXISTS (SELECT 1 FROM wechat_identities wi
                  WHERE wi.app_id = @app_id::text AND wi.user_id = users.id))
  AND (NOT @has_after::bool
       OR (users.created_at, users.id) < (@after_created_at::timestamptz, @after_id::uuid))
ORDER BY users.created_at DESC, users.id DESC
LIMIT @max_rows;
