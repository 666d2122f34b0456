-- name: CreateSession :one
INSERT INTO sessions (user_id, app_id, user_agent, created_at, last_used_at, idle_expires_at, absolute_expires_at)
VALUES (@user_id, @app_id, @user_agent, @created_at, @created_at, @idle_expires_at, @absolute_expires_at)
RETURNING *;

-- name: InsertRefreshToken :exec
INSERT INTO refresh_tokens (hash, session_id, generation, created_at)
VALUES (@hash, @session_id, @generation, @created_at);

-- name: UseRefreshToken :one
-- The rotation's one conditional update. Of concurrent callers with the
-- same token, the first takes the row lock and marks it used; the others
-- wait for it, re-check used_at and get no row.
UPDATE refresh_tokens
SET used_at = @used_at::timestamptz
WHERE hash = @hash AND used_at IS NULL
RETURNING session_id, generation;

-- name: FindRefreshToken :one
SELECT session_id, generation, used_at
FROM refresh_tokens
WHERE hash = @hash;

-- name: GetSessionAndUserForUpdate :one
SELECT sqlc.embed(sessions), sqlc.embed(users),
       COALESCE(pc.username, '')::text AS username,
       COALESCE(pc.email, '')::text AS email,
       (pc.user_id IS NOT NULL)::bool AS has_password
FROM sessions
JOIN users ON users.id = sessions.user_id
LEFT JOIN password_credentials pc ON pc.user_id = users.id
WHERE sessions.id = @id
FOR UPDATE OF sessions;

-- name: GetSession :one
SELECT * FROM sessions WHERE id = @id;

-- name: TouchSession :one
UPDATE sessions
SET last_used_at = @last_used_at, idle_expires_at = @idle_expires_at, user_agent = @user_agent
WHERE id = @id
RETURNING *;

-- name: ListActiveSessions :many
SELECT * FROM sessions
WHERE user_id = @user_id AND revoked_at IS NULL AND idle_expires_at > @now
ORDER BY last_used_at DESC, id DESC
LIMIT @max_rows;

-- name: RevokeSession :one
-- Revokes one live session of the user and records it in the revocation
-- feed, in one statement.
WITH revoked AS (
    UPDATE sessions
    SET revoked_at = @revoked_at::timestamptz, revoke_reason = @reason::text
    WHERE sessions.id = @id AND sessions.user_id = @user_id AND sessions.revoked_at IS NULL
    RETURNING sessions.id, sessions.user_id, sessions.revoked_at
)
INSERT INTO revocations (session_id, user_id, revoked_at)
SELECT revoked.id, revoked.user_id, revoked.revoked_at FROM revoked
RETURNING session_id, user_id, revoked_at;

-- name: RevokeOtherSessions :many
-- Revokes every live session of the user but @keep, feeding each to the
-- revocation feed.
WITH revoked AS (
    UPDATE sessions
    SET revoked_at = @revoked_at::timestamptz, revoke_reason = @reason::text
    WHERE sessions.user_id = @user_id AND sessions.id <> @keep AND sessions.revoked_at IS NULL
      AND sessions.idle_expires_at > @revoked_at::timestamptz
    RETURNING sessions.id, sessions.user_id, sessions.revoked_at
)
INSERT INTO revocations (session_id, user_id, revoked_at)
SELECT revoked.id, revoked.user_id, revoked.revoked_at FROM revoked
RETURNING session_id, user_id, revoked_at;

-- name: SessionBelongsTo :one
SELECT EXISTS (SELECT 1 FROM sessions WHERE id = @id AND user_id = @user_id);

-- name: RevocationsSince :many
-- The revocation feed. The first column is the oldest transaction still
-- running when this statement's snapshot was taken: every transaction
-- before it has ended, so its rows are in this answer, and the next read
-- starts there. Rows of later transactions may be read twice; that is
-- harmless. The LEFT JOIN returns that column even when no row is new.
SELECT pg_snapshot_xmin(pg_current_snapshot()) AS next_xid,
       r.session_id, r.user_id, r.revoked_at
FROM (SELECT 1) AS one
LEFT JOIN revocations r ON r.xid >= @after_xid::xid8 AND r.revoked_at > @not_before::timestamptz
ORDER BY r.id;

-- name: PurgeRevocations :execrows
DELETE FROM revocations WHERE revoked_at < @before;

-- name: PurgeEndedSessions :execrows
-- Sessions that ended (revoked or expired) before @before, with their
-- refresh tokens.
DELETE FROM sessions
WHERE (revoked_at IS NOT NULL AND revoked_at < @before::timestamptz) OR idle_expires_at < @before::timestamptz;
