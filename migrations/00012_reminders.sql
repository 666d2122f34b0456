-- +goose Up
-- The reminder of a task (a WeChat subscribe message sent before it is
-- due), one row per task, deleted with it. lead_minutes is the owner's
-- setting; the rest is the reminder's state, which the task write that
-- changes it (create, update, delete: in the same transaction as the river
-- job it inserts or cancels) and the reminder worker move on:
--
--   NULL             nothing to remind (no lead, or no due time)
--   scheduled        job_id waits in river_job for remind_at
--   no_subscription  no grant of the reminder template was left
--   sending          the worker took a grant and is calling WeChat (attempt
--                    is the river attempt that did): a later attempt that
--                    finds it here does not send again (outcome_unknown)
--   sent             msgid, sent_at
--   failed           reason: WeChat's final refusal, or outcome_unknown
--   cancelled        reason: task_done, reminder_cleared, due_cleared, due_passed
--
-- app_id and template_id are where it goes: the mini-program of the
-- session that set it, and that app's reminder template.
CREATE TABLE reminders (
    todo_id      uuid PRIMARY KEY REFERENCES todos (id) ON DELETE CASCADE,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    lead_minutes integer CHECK (lead_minutes BETWEEN 0 AND 10080),
    app_id       text NOT NULL DEFAULT '',
    template_id  text NOT NULL DEFAULT '',
    state        text CHECK (state IN ('scheduled', 'no_subscription', 'sending', 'sent', 'failed', 'cancelled')),
    remind_at    timestamptz,
    job_id       bigint,
    attempt      integer NOT NULL DEFAULT 0,
    msgid        text,
    reason       text,
    sent_at      timestamptz,
    updated_at   timestamptz NOT NULL,
    CONSTRAINT reminders_state_at CHECK (state IS NULL OR remind_at IS NOT NULL)
);

-- +goose Down
DROP TABLE reminders;
