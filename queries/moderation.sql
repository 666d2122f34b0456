-- name: WeChatOpenIDInApp :one
-- The user's openid in one mini-program.
SELECT app_id, open_id FROM wechat_identities
WHERE user_id = @user_id AND app_id = @app_id;

-- name: AnyWeChatOpenID :one
-- The user's openid in any mini-program (for a session not tied to one):
-- the one they last logged in with.
SELECT app_id, open_id FROM wechat_identities
WHERE user_id = @user_id
ORDER BY updated_at DESC, app_id
LIMIT 1;

-- name: FlagContent :exec
-- One open item per field of a thing: flagging it again replaces what the
-- open item says.
INSERT INTO moderation_items (user_id, app_id, subject, subject_id, field, content, verdict, label, trace_id, reason, status, created_at, updated_at)
VALUES (@user_id, @app_id, @subject, @subject_id, @field, @content, @verdict, @label, @trace_id, @reason, 'open', @now, @now)
ON CONFLICT (subject, subject_id, field) WHERE status IN ('pending', 'open')
DO UPDATE SET user_id = EXCLUDED.user_id, app_id = EXCLUDED.app_id, content = EXCLUDED.content,
    verdict = EXCLUDED.verdict, label = EXCLUDED.label, trace_id = EXCLUDED.trace_id,
    reason = EXCLUDED.reason, status = 'open', updated_at = EXCLUDED.updated_at;

-- name: InsertMediaCheck :exec
INSERT INTO moderation_items (user_id, app_id, subject, subject_id, field, verdict, trace_id, reason, status, created_at, updated_at)
VALUES (@user_id, @app_id, 'upload', @subject_id, @field, @verdict, @trace_id, @reason, @status, @now, @now)
ON CONFLICT (subject, subject_id, field) WHERE status IN ('pending', 'open')
DO NOTHING;

-- name: GetMediaCheckForUpdate :one
SELECT id, user_id, app_id, subject, subject_id, field, content, verdict, label, trace_id, reason, status, created_at, updated_at
FROM moderation_items
WHERE app_id = @app_id AND trace_id = @trace_id AND trace_id <> '' AND subject = 'upload'
FOR UPDATE;

-- name: GetModerationItemForUpdate :one
SELECT id, user_id, app_id, subject, subject_id, field, content, verdict, label, trace_id, reason, status, created_at, updated_at
FROM moderation_items
WHERE id = $1
FOR UPDATE;

-- name: UpdateModerationItem :exec
UPDATE moderation_items
SET verdict = @verdict, label = @label, reason = @reason, status = @status, updated_at = @updated_at
WHERE id = @id;

-- name: SetUploadBlocked :exec
UPDATE uploads SET blocked = @blocked WHERE id = @id;

-- name: ListModerationItems :many
-- Newest first, after the cursor's item when there is one.
SELECT id, user_id, app_id, subject, subject_id, field, content, verdict, label, trace_id, reason, status, created_at, updated_at
FROM moderation_items
WHERE status = @status
  AND (NOT @has_after::boolean OR (created_at, id) < (@after_created_at::timestamptz, @after_id::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @max_rows;
