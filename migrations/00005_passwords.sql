-- +goose Up
-- A user's password login. Usernames and emails are stored normalised
-- (lower case), and unique case-insensitively: the indexes on lower() hold
-- even if a writer forgot to normalise.
CREATE TABLE password_credentials (
    user_id    uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    username   text NOT NULL CHECK (username = lower(username) AND length(username) BETWEEN 3 AND 32),
    email      text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    -- Argon2id in PHC string format. Secret: never sent, never logged.
    hash       text NOT NULL CHECK (hash LIKE '$argon2id$%'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX password_credentials_username_key ON password_credentials (lower(username));
CREATE UNIQUE INDEX password_credentials_email_key ON password_credentials (lower(email));

-- A user has at most one WeChat identity per mini-program, so binding a
-- second WeChat user of the same app to an account is refused.
CREATE UNIQUE INDEX wechat_identities_app_user_key ON wechat_identities (app_id, user_id);

-- Attempt counters for throttling failed logins, shared by every replica:
-- one row per ('account', login name or user) and per ('ip', address),
-- counting attempts in a fixed window that starts at window_start.
CREATE TABLE login_attempts (
    scope        text NOT NULL CHECK (scope IN ('account', 'ip')),
    key          text NOT NULL,
    window_start timestamptz NOT NULL,
    attempts     integer NOT NULL CHECK (attempts >= 0),
    PRIMARY KEY (scope, key)
);

-- For sweeping windows that ended.
CREATE INDEX login_attempts_window_start_idx ON login_attempts (window_start);

-- +goose Down
DROP TABLE login_attempts;
DROP INDEX wechat_identities_app_user_key;
DROP TABLE password_credentials;
