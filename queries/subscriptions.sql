-- name: LockSubscription :one
-- Creates the user's subscription to a template if it is new (no grant,
-- the status given) and locks it: the choices reported for one user and
-- template are applied one at a time.
INSERT INTO subscriptions (user_id, app_id, template_id, remaining, status, updated_at)
VALUES (@user_id, @app_id, @template_id, 0, @status, @updated_at)
ON CONFLICT (user_id, app_id, template_id) DO UPDATE SET remaining = subscriptions.remaining
RETURNING remaining, status, updated_at;

-- name: PairAcceptance :one
-- Takes the oldest unpaired acceptance another source reported for the
-- user and template between @from_at and @to_at, if there is one.
DELETE FROM subscription_acceptances
WHERE id = (SELECT a.id FROM subscription_acceptances a
            WHERE a.user_id = @user_id AND a.app_id = @app_id AND a.template_id = @template_id
              AND a.source <> @source
              AND a.accepted_at >= @from_at::timestamptz AND a.accepted_at <= @to_at::timestamptz
            ORDER BY a.accepted_at, a.id
            LIMIT 1)
RETURNING id;

-- name: InsertAcceptance :exec
-- An acceptance that paired with none, waiting for its twin.
INSERT INTO subscription_acceptances (user_id, app_id, template_id, source, accepted_at)
VALUES (@user_id, @app_id, @template_id, @source, @at::timestamptz);

-- name: PurgeAcceptances :exec
-- Deletes up to 100 acceptances too old to pair with anything.
DELETE FROM subscription_acceptances
WHERE id IN (SELECT a.id FROM subscription_acceptances a WHERE a.accepted_at < @before::timestamptz
             ORDER BY a.accepted_at LIMIT 100);

-- name: ApplySubscriptionChoice :one
-- Adds @add grants (at most @max in all) and records the choice as the
-- status unless a later one is recorded already.
UPDATE subscriptions
SET remaining  = LEAST(remaining + @add::integer, GREATEST(remaining, @max::integer)),
    status     = CASE WHEN @at::timestamptz >= updated_at THEN @status::text ELSE status END,
    updated_at = GREATEST(updated_at, @at::timestamptz)
WHERE user_id = @user_id AND app_id = @app_id AND template_id = @template_id
RETURNING remaining, status, updated_at;

-- name: ListSubscriptions :many
SELECT template_id, remaining, status, updated_at
FROM subscriptions
WHERE user_id = @user_id AND app_id = @app_id
ORDER BY template_id;

-- name: UserByOpenID :one
-- The user of a WeChat identity, for the choices WeChat pushes.
SELECT user_id FROM wechat_identities WHERE app_id = @app_id AND open_id = @open_id;
