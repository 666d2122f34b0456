-- +goose Up
-- Accounts an admin disabled: while a row exists, every login and refresh
-- of the user is refused (account_disabled). Enabling deletes the row; the
-- history is in admin_audit.
CREATE TABLE user_disablements (
    user_id     uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    disabled_at timestamptz NOT NULL,
    reason      text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    -- The admin who disabled it; NULL for an operator's command. No
    -- foreign key: it outlives that admin's account.
    disabled_by uuid
);

-- The audit log of admin actions: who (actor_id, NULL for an operator's
-- command), what (action, target), when, from where (client_address,
-- request_id). details never holds a secret. No foreign keys: the log
-- outlives the accounts and things it names.
CREATE TABLE admin_audit (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             timestamptz NOT NULL,
    actor_id       uuid,
    action         text NOT NULL CHECK (action ~ '^[a-z_.]{1,64}$'),
    target_kind    text NOT NULL CHECK (length(target_kind) BETWEEN 1 AND 32),
    target_id      text NOT NULL CHECK (length(target_id) <= 64),
    details        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(details) = 'object'),
    client_address text NOT NULL DEFAULT '',
    request_id     text NOT NULL DEFAULT ''
);

-- Newest first is id DESC; each filter walks its own index in that order.
CREATE INDEX admin_audit_actor_idx ON admin_audit (actor_id, id DESC) WHERE actor_id IS NOT NULL;
CREATE INDEX admin_audit_target_idx ON admin_audit (target_id, id DESC);
CREATE INDEX admin_audit_action_idx ON admin_audit (action, id DESC);

-- The admin's user list walks users newest first and stops at a page,
-- rather than sorting every user for each page.
CREATE INDEX users_created_idx ON users (created_at DESC, id DESC);

-- +goose Down
DROP INDEX users_created_idx;
DROP TABLE admin_audit;
DROP TABLE user_disablements;
