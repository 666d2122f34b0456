-- +goose Up
-- Content security (WeChat msgSecCheck for text, mediaCheckAsync for
-- images): what was flagged for an administrator, and the image checks
-- that wait for WeChat's verdict (it arrives later by message push).
CREATE TABLE moderation_items (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Whose: the author. Their items go with their account.
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The mini-program whose openid the check used; '' when the author has
    -- no WeChat identity (a password-only account).
    app_id     text NOT NULL DEFAULT '',
    -- What: a profile (subject_id is the user), a task or an upload, and
    -- which of its fields.
    subject    text NOT NULL CHECK (subject IN ('profile', 'todo', 'upload')),
    subject_id uuid NOT NULL,
    field      text NOT NULL CHECK (field IN ('nickname', 'bio', 'todo_title', 'todo_notes', 'avatar', 'attachment')),
    -- The text that was checked, for the administrator; '' for an image.
    content    text NOT NULL DEFAULT '',
    -- WeChat's suggest, 'pending' while an image check runs, or
    -- 'unchecked' when no verdict could be had (reason says why).
    verdict    text NOT NULL CHECK (verdict IN ('pending', 'pass', 'review', 'risky', 'unchecked')),
    label      integer NOT NULL DEFAULT 0,
    trace_id   text NOT NULL DEFAULT '',
    reason     text NOT NULL DEFAULT '',
    status     text NOT NULL CHECK (status IN ('pending', 'open', 'cleared', 'approved', 'removed')),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CHECK (status <> 'pending' OR verdict = 'pending')
);

-- The push of an image's verdict names the check by (appid, trace_id).
CREATE UNIQUE INDEX moderation_items_trace_idx ON moderation_items (app_id, trace_id) WHERE trace_id <> '' AND subject = 'upload';
-- One open item per field of a thing: flagging the field again (the
-- profile sent back, a retried create) refreshes it instead of piling up.
CREATE UNIQUE INDEX moderation_items_open_idx ON moderation_items (subject, subject_id, field) WHERE status IN ('pending', 'open');
-- The administrator's list: by status, newest first.
CREATE INDEX moderation_items_status_idx ON moderation_items (status, created_at DESC, id DESC);
CREATE INDEX moderation_items_user_idx ON moderation_items (user_id);

-- A blocked upload is not served (content security judged it risky, or an
-- administrator removed it). Its object stays until an administrator
-- decides, so an approval can serve it again.
ALTER TABLE uploads ADD COLUMN blocked boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE uploads DROP COLUMN blocked;
DROP TABLE moderation_items;
