-- +goose Up
-- When stable_token answers 45009 (its daily quota is used up), the replica
-- that got it records the next Beijing midnight here, and no replica calls
-- stable_token for the app before then: one call per deployment, not one
-- a minute per replica, against a quota that resets only at 00:00 UTC+8.
-- 'epoch' means "no stop". An operator who got the quota reset earlier
-- lifts the stop by setting it back to 'epoch'.
ALTER TABLE wechat_tokens
    ADD COLUMN stable_token_not_before timestamptz NOT NULL DEFAULT 'epoch';

-- +goose Down
ALTER TABLE wechat_tokens DROP COLUMN stable_token_not_before;
