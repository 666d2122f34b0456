-- name: LockUserRole :one
-- The user's role, locked for the admin operation's transaction.
SELECT role FROM users WHERE id = @id FOR UPDATE;

-- name: AdminSetUserRole :exec
UPDATE users SET role = @role, updated_at = @updated_at WHERE id = @id;

-- name: UserExists :one
SELECT EXISTS (SELECT 1 FROM users WHERE id = @id);

-- name: GetUserDisablement :one
SELECT * FROM user_disablements WHERE user_id = @user_id;

-- name: UserDisabled :one
SELECT EXISTS (SELECT 1 FROM user_disablements WHERE user_id = @user_id);

-- name: UpsertUserDisablement :exec
INSERT INTO user_disablements (user_id, disabled_at, reason, disabled_by)
VALUES (@user_id, @disabled_at, @reason, sqlc.narg(disabled_by))
ON CONFLICT (user_id) DO UPDATE
SET disabled_at = EXCLUDED.disabled_at, reason = EXCLUDED.reason, disabled_by = EXCLUDED.disabled_by;

-- name: DeleteUserDisablement :execrows
DELETE FROM user_disablements WHERE user_id = @user_id;

-- name: ListWeChatLogins :many
-- The user's WeChat identities, without their session_key.
SELECT app_id, open_id, COALESCE(union_id, '')::text AS union_id, created_at, updated_at
FROM wechat_identities
WHERE user_id = @user_id
ORDER BY created_at, app_id;

-- name: CountUserThings :one
SELECT (SELECT count(*) FROM todos WHERE todos.user_id = @user_id)::bigint AS tasks,
       (SELECT count(*) FROM uploads WHERE uploads.owner_id = @user_id)::bigint AS uploads,
       (SELECT count(*) FROM sessions
        WHERE sessions.user_id = @user_id AND sessions.revoked_at IS NULL
          AND sessions.idle_expires_at > @now::timestamptz)::bigint AS active_sessions;

-- name: ListUserSessions :many
-- One user's sessions, newest login first, keyset-paginated on
-- (created_at, id) along sessions_user_id_idx. @state is all, active or
-- ended.
SELECT * FROM sessions
WHERE user_id = @user_id
  AND (@state::text = 'all'
       OR (@state::text = 'active') = (revoked_at IS NULL AND idle_expires_at > @now::timestamptz))
  AND (NOT @has_after::bool
       OR (created_at, id) < (@after_created_at::timestamptz, @after_id::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @max_rows;

-- name: ListUserUploads :many
-- One user's uploads, newest first, keyset-paginated on (created_at, id)
-- along uploads_owner_idx.
SELECT * FROM uploads
WHERE owner_id = @owner_id
  AND (NOT @has_after::bool
       OR (created_at, id) < (@after_created_at::timestamptz, @after_id::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @max_rows;

-- name: InsertAdminAudit :exec
INSERT INTO admin_audit (at, actor_id, action, target_kind, target_id, details, client_address, request_id)
VALUES (@at, sqlc.narg(actor_id), @action, @target_kind, @target_id, @details, @client_address, @request_id);

-- name: ListAdminAudit :many
-- The audit log, newest first, keyset-paginated on id. Each filter is ''
-- (or NULL) for none.
SELECT * FROM admin_audit
WHERE (sqlc.narg(actor_id)::uuid IS NULL OR actor_id = sqlc.narg(actor_id)::uuid)
  AND (@target_kind::text = '' OR target_kind = @target_kind::text)
  AND (@target_id::text = '' OR target_id = @target_id::text)
  AND (@action::text = '' OR action = @action::text)
  AND (NOT @has_after::bool OR id < @after_id::bigint)
ORDER BY id DESC
LIMIT @max_rows;

-- name: LockAdmins :many
-- Every admin, locked: revoking the role checks that another admin
-- remains, and concurrent revocations wait for each other.
SELECT id FROM users WHERE role = 'admin' ORDER BY id FOR UPDATE;
