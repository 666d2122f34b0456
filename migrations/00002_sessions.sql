-- +goose Up
-- Roles: every user is a 'user'; an operator grants 'admin' from the command
-- line (miniback admin grant <user id>). Access tokens carry the role.
ALTER TABLE users ADD COLUMN role text NOT NULL DEFAULT 'user'
    CONSTRAINT users_role_check CHECK (role IN ('user', 'admin'));

-- A session is one login on one device: it lives until its owner logs out,
-- someone revokes it, or it expires (idle: not refreshed for the idle TTL;
-- absolute: the absolute TTL after the login, whatever happens). Access
-- tokens name their session in the "sid" claim.
CREATE TABLE sessions (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    app_id              text NOT NULL DEFAULT '', -- '' for logins not tied to a mini-program
    user_agent          text NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL,
    last_used_at        timestamptz NOT NULL,
    -- min(last use + idle TTL, absolute expiry): a refresh moves it on.
    idle_expires_at     timestamptz NOT NULL,
    absolute_expires_at timestamptz NOT NULL,
    revoked_at          timestamptz,
    revoke_reason       text,
    CONSTRAINT sessions_revoked_with_reason CHECK ((revoked_at IS NULL) = (revoke_reason IS NULL)),
    CONSTRAINT sessions_idle_within_absolute CHECK (idle_expires_at <= absolute_expires_at)
);

CREATE INDEX sessions_user_id_idx ON sessions (user_id, created_at DESC);

-- Every refresh token a session was ever given, by the SHA-256 of the token
-- (the token itself is never stored). Exactly one per session is unused:
-- the current one. Presenting a used one is refresh token reuse (RFC 9700
-- 4.14.2) and revokes the session.
CREATE TABLE refresh_tokens (
    hash       bytea PRIMARY KEY CONSTRAINT refresh_tokens_hash_is_sha256 CHECK (length(hash) = 32),
    session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    generation integer NOT NULL, -- 1 for the login's token, +1 per rotation
    created_at timestamptz NOT NULL,
    used_at    timestamptz,
    UNIQUE (session_id, generation)
);

-- The revocation feed every replica polls: a row per revoked session, or
-- per user whose every token issued up to revoked_at must die (a deleted
-- account). user_id is deliberately not a foreign key: the row must outlive
-- the user. xid orders the feed: a replica reads the rows of transactions
-- at or after the oldest one its previous read could not see yet, so a
-- revocation that commits late is never skipped.
CREATE TABLE revocations (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    xid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
    session_id uuid,
    user_id    uuid NOT NULL,
    revoked_at timestamptz NOT NULL
);

CREATE INDEX revocations_xid_idx ON revocations (xid);
CREATE INDEX revocations_revoked_at_idx ON revocations (revoked_at);

-- Wake the replicas' pollers at once (NOTIFY is delivered on commit, so the
-- row is visible when they read). Polling alone still bounds the delay when
-- a listener is disconnected.
-- +goose StatementBegin
CREATE FUNCTION notify_revocation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('miniback_revocations', '');
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER revocations_notify AFTER INSERT ON revocations
    FOR EACH STATEMENT EXECUTE FUNCTION notify_revocation();

-- +goose Down
DROP TABLE revocations;
DROP FUNCTION notify_revocation();
DROP TABLE refresh_tokens;
DROP TABLE sessions;
ALTER TABLE users DROP COLUMN role;
