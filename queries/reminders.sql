-- Task reminders (migrations/00012_reminders.sql). The task writes move
-- them in the task's transaction; the reminder worker claims and finishes
-- a send in two short transactions around the call to WeChat.

-- name: LockReminder :one
SELECT todo_id, user_id, lead_minutes, app_id, template_id, state, remind_at, job_id, attempt, msgid, reason, sent_at, updated_at
FROM reminders
WHERE todo_id = @todo_id
FOR UPDATE;

-- name: SaveReminder :exec
INSERT INTO reminders (todo_id, user_id, lead_minutes, app_id, template_id, state, remind_at, job_id, attempt, msgid, reason, sent_at, updated_at)
VALUES (@todo_id, @user_id, sqlc.narg(lead_minutes), @app_id, @template_id, sqlc.narg(state), sqlc.narg(remind_at), sqlc.narg(job_id),
        @attempt, sqlc.narg(msgid), sqlc.narg(reason), sqlc.narg(sent_at), @updated_at)
ON CONFLICT (todo_id) DO UPDATE
SET lead_minutes = EXCLUDED.lead_minutes, app_id = EXCLUDED.app_id, template_id = EXCLUDED.template_id,
    state = EXCLUDED.state, remind_at = EXCLUDED.remind_at, job_id = EXCLUDED.job_id, attempt = EXCLUDED.attempt,
    msgid = EXCLUDED.msgid, reason = EXCLUDED.reason, sent_at = EXCLUDED.sent_at, updated_at = EXCLUDED.updated_at;

-- name: ListReminders :many
-- The reminders of a page of tasks (or one), for the reads.
SELECT todo_id, user_id, lead_minutes, app_id, template_id, state, remind_at, job_id, attempt, msgid, reason, sent_at, updated_at
FROM reminders
WHERE todo_id = ANY(@todo_ids::uuid[]);

-- name: GrantsLeft :one
-- The one-time grants the user has left of the template (0 when never
-- subscribed).
SELECT COALESCE((SELECT remaining FROM subscriptions
                 WHERE user_id = @user_id AND app_id = @app_id AND template_id = @template_id), 0)::integer;

-- name: TakeGrant :execrows
-- Spends one grant, if one is left: 1 row when it did.
UPDATE subscriptions
SET remaining = remaining - 1
WHERE user_id = @user_id AND app_id = @app_id AND template_id = @template_id AND remaining > 0;

-- name: ReturnGrant :exec
-- Gives back a grant a send did not use (WeChat said it did not send).
UPDATE subscriptions
SET remaining = LEAST(remaining + 1, @max::integer)
WHERE user_id = @user_id AND app_id = @app_id AND template_id = @template_id;

-- name: ClearGrants :exec
-- WeChat says no grant is left (43101): none is.
UPDATE subscriptions
SET remaining = 0
WHERE user_id = @user_id AND app_id = @app_id AND template_id = @template_id;

-- name: ReminderOpenID :one
-- The user's openid in the reminder's mini-program.
SELECT open_id FROM wechat_identities
WHERE user_id = @user_id AND app_id = @app_id
ORDER BY updated_at DESC
LIMIT 1;
