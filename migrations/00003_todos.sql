-- +goose Up
-- Trigram indexes for the text search of tasks (ILIKE '%...%'). pg_trgm is
-- a trusted contrib extension: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- A user's to-do task. Deleting the user deletes their tasks.
CREATE TABLE todos (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title        text NOT NULL,
    notes        text NOT NULL DEFAULT '',
    -- The due instant, and the UTC offset (seconds east) it was given in,
    -- so it reads back as the client wrote it.
    due_at       timestamptz,
    due_offset   integer,
    -- 0 low, 1 normal, 2 high: sorts by importance.
    priority     smallint NOT NULL DEFAULT 1,
    done         boolean NOT NULL DEFAULT false,
    completed_at timestamptz,
    tags         text[] NOT NULL DEFAULT '{}',
    version      integer NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT todos_due_pair CHECK ((due_at IS NULL) = (due_offset IS NULL)),
    CONSTRAINT todos_done_pair CHECK (done = (completed_at IS NOT NULL)),
    CONSTRAINT todos_priority_rank CHECK (priority BETWEEN 0 AND 2),
    CONSTRAINT todos_version_positive CHECK (version >= 1)
);

-- One index per sort, each ending in the keyset tie-breakers, so every page
-- is a range scan of the user's slice (forward or backward).
CREATE INDEX todos_user_created_idx ON todos (user_id, created_at, id);
CREATE INDEX todos_user_due_idx ON todos (user_id, due_at, id);
CREATE INDEX todos_user_priority_idx ON todos (user_id, priority, created_at, id);
-- The undated tail of the due orders, by creation time.
CREATE INDEX todos_user_undated_idx ON todos (user_id, created_at, id) WHERE due_at IS NULL;
-- Filters the planner can pick when they are selective.
CREATE INDEX todos_tags_idx ON todos USING gin (tags);
CREATE INDEX todos_title_trgm_idx ON todos USING gin (title gin_trgm_ops);
CREATE INDEX todos_notes_trgm_idx ON todos USING gin (notes gin_trgm_ops);

-- Idempotency keys of POST /v1/todos, per user. The row is inserted before
-- the task in the same transaction, so a concurrent request with the same
-- key waits for it and then reads the result. Rows older than 24 hours are
-- expired: forgotten on the next use of the key and purged periodically.
CREATE TABLE todo_idempotency_keys (
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          text NOT NULL,
    request_hash bytea NOT NULL,
    -- The task as the first request created it; set before commit.
    result       jsonb,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);

CREATE INDEX todo_idempotency_keys_created_at_idx ON todo_idempotency_keys (created_at);

-- +goose Down
DROP TABLE todo_idempotency_keys;
DROP TABLE todos;
