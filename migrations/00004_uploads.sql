-- +goose Up
-- Files users send straight to object storage. The row is the truth about
-- an object: the storage only ever holds objects whose key a row names
-- (or named, until the cleaner has removed both).
CREATE TABLE uploads (
    id            uuid PRIMARY KEY,
    -- NULL once the owner's account is deleted: the cleaner then deletes
    -- the object and the row (a cascade would leave the object behind).
    owner_id      uuid REFERENCES users (id) ON DELETE SET NULL,
    purpose       text NOT NULL CHECK (purpose IN ('avatar', 'attachment')),
    status        text NOT NULL CHECK (status IN ('pending', 'ready', 'rejected')),
    -- Chosen by the server from the purpose and the id; never by a client.
    object_key    text NOT NULL UNIQUE,
    content_type  text NOT NULL,
    size_bytes    bigint NOT NULL CHECK (size_bytes > 0),
    file_name     text NOT NULL DEFAULT '',
    -- The problem code complete answered when it rejected the upload.
    reject_reason text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- When a pending (or rejected) upload is deleted with its object.
    expires_at    timestamptz NOT NULL,
    completed_at  timestamptz,
    CHECK ((status = 'ready') = (completed_at IS NOT NULL)),
    CHECK ((status = 'rejected') = (reject_reason <> ''))
);

CREATE INDEX uploads_owner_idx ON uploads (owner_id, created_at);
-- The cleaner's scans: uploads that can expire, oldest deadline first, and
-- uploads of deleted accounts.
CREATE INDEX uploads_expiring_idx ON uploads (expires_at) WHERE status <> 'ready';
CREATE INDEX uploads_orphaned_idx ON uploads (created_at) WHERE owner_id IS NULL;

-- Files attached to tasks. Deleting the task or the upload detaches it;
-- the upload itself stays when its task goes (it can be attached again).
CREATE TABLE todo_attachments (
    todo_id     uuid NOT NULL REFERENCES todos (id) ON DELETE CASCADE,
    upload_id   uuid NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    attached_at timestamptz NOT NULL,
    PRIMARY KEY (todo_id, upload_id)
);

CREATE INDEX todo_attachments_upload_idx ON todo_attachments (upload_id);

-- +goose Down
DROP TABLE todo_attachments;
DROP TABLE uploads;
