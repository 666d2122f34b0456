-- +goose Up
-- A miniback account. Login methods (WeChat identities now, passwords later)
-- live in their own tables and point here.
CREATE TABLE users (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    nickname   text NOT NULL DEFAULT '',
    avatar_url text NOT NULL DEFAULT '',
    bio        text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per (mini-program, WeChat user). openid is only unique within an
-- appid, so the pair is the key; several AppIDs never collide.
CREATE TABLE wechat_identities (
    app_id      text NOT NULL,
    open_id     text NOT NULL,
    union_id    text,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- WeChat's session_key: secret, server-side only, replaced on each login.
    session_key text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (app_id, open_id)
);

CREATE INDEX wechat_identities_user_id_idx ON wechat_identities (user_id);
CREATE INDEX wechat_identities_union_id_idx ON wechat_identities (union_id) WHERE union_id IS NOT NULL;

-- +goose Down
DROP TABLE wechat_identities;
DROP TABLE users;
