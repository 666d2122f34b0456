-- +goose Up
-- What each user accepted of each subscribe-message template
-- (wx.requestSubscribeMessage, or WeChat's subscribe_msg_popup_event /
-- subscribe_msg_change_event push): a one-time template allows one send
-- per acceptance, so remaining counts the acceptances not yet spent. An
-- accept adds one (up to domain.MaxSubscribeGrants, 100: WeChat lets
-- one-time grants accumulate; the bound keeps a client that reports the
-- same acceptance in a loop from buying unbounded sends); a send takes one
-- (UPDATE … SET remaining = remaining - 1 WHERE … AND remaining > 0).
CREATE TABLE subscriptions (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    app_id      text NOT NULL,
    template_id text NOT NULL,
    -- one-time grants left: an accept adds one, a send takes one
    remaining   integer NOT NULL DEFAULT 0 CHECK (remaining >= 0),
    -- the user's last choice: accept | reject | ban | filter
    status      text NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (user_id, app_id, template_id)
);

-- +goose Down
DROP TABLE subscriptions;
