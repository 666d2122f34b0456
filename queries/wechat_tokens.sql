-- name: GetWeChatToken :one
SELECT * FROM wechat_tokens WHERE app_id = @app_id;

-- name: AcquireWeChatTokenLease :one
-- Creates the app's row on first use. Of concurrent callers, the first
-- takes the row lock and the lease; the others wait for that one statement,
-- re-check the lease and get no row.
INSERT INTO wechat_tokens AS t (app_id, lease_holder, lease_until)
VALUES (@app_id, @holder, @lease_until)
ON CONFLICT (app_id) DO UPDATE
SET lease_holder = EXCLUDED.lease_holder, lease_until = EXCLUDED.lease_until
WHERE t.lease_holder = '' OR t.lease_holder = EXCLUDED.lease_holder OR t.lease_until <= @now::timestamptz
RETURNING *;

-- name: StoreWeChatToken :one
-- Saves the token and ends the lease, only for the lease's holder.
UPDATE wechat_tokens
SET generation   = generation + CASE WHEN access_token = @access_token::text THEN 0 ELSE 1 END,
    access_token = @access_token::text,
    expires_at   = @expires_at,
    fetched_at   = @fetched_at,
    fetched_by   = @holder::text,
    lease_holder = '',
    lease_until  = 'epoch'
WHERE app_id = @app_id AND lease_holder = @holder::text
RETURNING *;

-- name: ReleaseWeChatTokenLease :exec
UPDATE wechat_tokens
SET lease_holder = '', lease_until = 'epoch'
WHERE app_id = @app_id AND lease_holder = @holder;

-- name: SpendForcedRefresh :one
-- Counts one forced refresh, only for the lease's holder and only while
-- the budget allows it: fewer than @per_day on @day (a Beijing date) and
-- none after @not_before (now minus the gap).
UPDATE wechat_tokens
SET forced_count   = CASE WHEN force_day = @day::date THEN forced_count + 1 ELSE 1 END,
    force_day      = @day::date,
    last_forced_at = @now::timestamptz
WHERE app_id = @app_id AND lease_holder = @holder
  AND (force_day <> @day::date OR forced_count < @per_day::integer)
  AND last_forced_at <= @not_before::timestamptz
RETURNING *;

-- name: StopStableToken :exec
-- Records that no replica calls stable_token before @not_before (its daily
-- quota is used up). Any replica may record it; it only moves later.
INSERT INTO wechat_tokens AS t (app_id, stable_token_not_before)
VALUES (@app_id, @not_before)
ON CONFLICT (app_id) DO UPDATE
SET stable_token_not_before = GREATEST(t.stable_token_not_before, EXCLUDED.stable_token_not_before);
