-- name: InsertPasswordCredential :one
-- Returns the stored username and email, never the hash.
INSERT INTO password_credentials (user_id, username, email, hash)
VALUES (@user_id, @username, @email, @hash)
RETURNING username, email;

-- name: GetPasswordCredential :one
SELECT user_id, username, email, hash
FROM password_credentials
WHERE user_id = $1;

-- name: FindPasswordCredentialByUsername :one
SELECT user_id, username, email, hash
FROM password_credentials
WHERE lower(username) = lower(@username);

-- name: FindPasswordCredentialByEmail :one
SELECT user_id, username, email, hash
FROM password_credentials
WHERE lower(email) = lower(@email);

-- name: ReplacePasswordHash :execrows
-- Compare-and-set: no row changes when the hash is no longer old_hash.
UPDATE password_credentials
SET hash = @new_hash, updated_at = now()
WHERE user_id = @user_id AND hash = @old_hash;

-- name: CountLoginAttempt :one
-- Counts one attempt: a window that started at or before @window_over
-- (now minus the window's length) restarts at @now with this attempt. The
-- count is capped so that a flood cannot overflow it.
INSERT INTO login_attempts AS a (scope, key, window_start, attempts)
VALUES (@scope, @key, @now, 1)
ON CONFLICT (scope, key) DO UPDATE
SET window_start = CASE WHEN a.window_start <= @window_over THEN @now ELSE a.window_start END,
    attempts = CASE WHEN a.window_start <= @window_over THEN 1 ELSE LEAST(a.attempts + 1, 1000000) END
RETURNING window_start, attempts;

-- name: ForgetLoginAttempts :exec
DELETE FROM login_attempts
WHERE scope = @scope AND key = @key;

-- name: RefundLoginAttempt :exec
UPDATE login_attempts
SET attempts = GREATEST(attempts - 1, 0)
WHERE scope = @scope AND key = @key;

-- name: SweepLoginAttempts :execrows
-- Deletes up to @max_rows counters of @scope whose window started before
-- @before (they ended).
DELETE FROM login_attempts
WHERE (scope, key) IN (
    SELECT s.scope, s.key FROM login_attempts s
    WHERE s.scope = @scope AND s.window_start < @before
    LIMIT @max_rows
);

-- name: InsertBoundWeChatIdentity :one
-- Binds an identity to an existing user. No row back means the identity
-- exists already (the caller then reads its owner).
INSERT INTO wechat_identities (app_id, open_id, union_id, user_id, session_key)
VALUES (@app_id, @open_id, sqlc.narg(union_id), @user_id, @session_key)
ON CONFLICT (app_id, open_id) DO NOTHING
RETURNING user_id;

-- name: GetWeChatIdentityOwner :one
SELECT user_id
FROM wechat_identities
WHERE app_id = @app_id AND open_id = @open_id;
