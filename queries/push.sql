-- name: ClaimPushEvent :one
-- Records a pushed message, or counts another delivery of one recorded,
-- and claims it for this delivery when it is new, or was neither
-- dispatched nor claimed until after @now. Of concurrent deliveries of one
-- message the first takes the row lock; the others wait for it, then see
-- its claim. claimed says whether @claim won.
INSERT INTO wechat_push_events (app_id, dedup_key, msg_type, event, open_id, msg_id, create_time, format, encrypted,
                                message, received_at, claim, claimed_until)
VALUES (@app_id, @dedup_key, @msg_type, @event, @open_id, @msg_id, @create_time, @format, @encrypted,
        @message, @now::timestamptz, @claim, @claimed_until)
ON CONFLICT (app_id, dedup_key) DO UPDATE
SET deliveries = wechat_push_events.deliveries + 1,
    claim = CASE
        WHEN wechat_push_events.dispatched_at IS NULL
             AND (wechat_push_events.claimed_until IS NULL OR wechat_push_events.claimed_until <= @now::timestamptz)
        THEN EXCLUDED.claim ELSE wechat_push_events.claim END,
    claimed_until = CASE
        WHEN wechat_push_events.dispatched_at IS NULL
             AND (wechat_push_events.claimed_until IS NULL OR wechat_push_events.claimed_until <= @now::timestamptz)
        THEN EXCLUDED.claimed_until ELSE wechat_push_events.claimed_until END
RETURNING id, deliveries, COALESCE(claim = @claim, false)::bool AS claimed;

-- name: InsertSubscriptionEvents :exec
-- The items of a subscription event, with the event's first delivery: one
-- row per position of the arrays (set-returning functions in a select list
-- advance together).
INSERT INTO wechat_subscription_events (push_event_id, position, app_id, open_id, event, template_id, status,
                                        popup_scene, msg_id, error_code, create_time)
SELECT @push_event_id::bigint, unnest(@positions::integer[]), @app_id::text, @open_id::text, @event::text,
       unnest(@template_ids::text[]), unnest(@statuses::text[]), unnest(@popup_scenes::text[]),
       unnest(@msg_ids::text[]), unnest(@error_codes::text[]), @create_time::bigint
ON CONFLICT DO NOTHING;

-- name: FinishPushEvent :exec
-- Ends the claim @claim: the message is dispatched, or released for the
-- next delivery.
UPDATE wechat_push_events
SET dispatched_at = CASE WHEN @dispatched::bool THEN @now::timestamptz END,
    claim = NULL, claimed_until = NULL
WHERE id = @id AND claim = @claim;

-- name: PurgePushEvents :execrows
DELETE FROM wechat_push_events WHERE received_at < @before;

-- name: RevokeIdentitySessions :many
-- Ends every live session of the user whose WeChat identity is
-- (@app_id, @open_id), feeding each to the revocation feed, in one
-- statement. No row when no user has the identity.
WITH target AS (
    SELECT wechat_identities.user_id FROM wechat_identities
    WHERE wechat_identities.app_id = @app_id AND wechat_identities.open_id = @open_id
), revoked AS (
    UPDATE sessions
    SET revoked_at = @revoked_at::timestamptz, revoke_reason = @reason::text
    WHERE sessions.user_id IN (SELECT target.user_id FROM target) AND sessions.revoked_at IS NULL
      AND sessions.idle_expires_at > @revoked_at::timestamptz
    RETURNING sessions.id, sessions.user_id, sessions.revoked_at
)
INSERT INTO revocations (session_id, user_id, revoked_at)
SELECT revoked.id, revoked.user_id, revoked.revoked_at FROM revoked
RETURNING session_id, user_id, revoked_at;
