-- +goose Up
-- One row per served AppID: the access token every replica uses (one per
-- AppID for the whole deployment, from stable_token), the lease of the one
-- replica refreshing it, and the forced refreshes spent (WeChat allows 20 a
-- day, Beijing time, 30 s apart).
--
-- The lease is a row, not an advisory lock: taking it, storing the token
-- and releasing it are each one short statement, so no replica holds a
-- pooled connection, a row lock or a transaction while it waits for
-- WeChat, and nothing can deadlock. A replica that dies while holding it
-- holds it only until lease_until.
--
-- 'epoch' stands for "never" in the timestamps so that every column is NOT
-- NULL.
CREATE TABLE wechat_tokens (
    app_id         text PRIMARY KEY,
    -- WeChat asks to reserve 512 characters; text has no limit.
    access_token   text NOT NULL DEFAULT '',
    expires_at     timestamptz NOT NULL DEFAULT 'epoch',
    generation     bigint NOT NULL DEFAULT 0, -- +1 each time a different token is stored
    fetched_at     timestamptz NOT NULL DEFAULT 'epoch',
    fetched_by     text NOT NULL DEFAULT '',
    lease_holder   text NOT NULL DEFAULT '', -- '' when nobody refreshes
    lease_until    timestamptz NOT NULL DEFAULT 'epoch',
    force_day      date NOT NULL DEFAULT '1970-01-01', -- the Beijing date forced_count counts
    forced_count   integer NOT NULL DEFAULT 0,
    last_forced_at timestamptz NOT NULL DEFAULT 'epoch',
    CONSTRAINT wechat_tokens_forced_count_check CHECK (forced_count >= 0)
);

-- +goose Down
DROP TABLE wechat_tokens;
