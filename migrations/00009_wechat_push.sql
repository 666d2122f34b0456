-- +goose Up
-- Messages WeChat pushed to /v1/wechat/push/{appid}, after their signature
-- (and, in safe mode, decryption) checked out. One row per message: WeChat
-- retries a delivery three times, and each retry finds the row by
-- (app_id, dedup_key) and is acknowledged without being dispatched again.
-- Rows are deleted after the retention (MINIBACK_WECHAT_PUSH_RETENTION).
CREATE TABLE wechat_push_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app_id        text NOT NULL,
    -- hex SHA-256 of the MsgId, or of FromUserName, CreateTime, Event
    -- (and OpenID, trace_id): see domain.PushMessage.DedupKey.
    dedup_key     text NOT NULL CHECK (length(dedup_key) = 64),
    msg_type      text NOT NULL,
    event         text NOT NULL,
    -- The user the message is about: OpenID for user_authorization_revoke,
    -- else FromUserName ('' when none).
    open_id       text NOT NULL,
    msg_id        text NOT NULL,
    create_time   bigint NOT NULL, -- WeChat's CreateTime, Unix seconds (0 when absent)
    format        text NOT NULL CHECK (format IN ('json', 'xml')),
    encrypted     boolean NOT NULL,
    -- The message as WeChat sent it (decrypted when it came encrypted).
    message       text NOT NULL,
    received_at   timestamptz NOT NULL,
    deliveries    integer NOT NULL DEFAULT 1,
    -- A delivery dispatching the message holds it until claimed_until;
    -- claim names that delivery. A failed dispatch releases it, and one
    -- that died lets it lapse: WeChat's next delivery dispatches again.
    claim         uuid,
    claimed_until timestamptz,
    dispatched_at timestamptz,
    CONSTRAINT wechat_push_events_key UNIQUE (app_id, dedup_key)
);

CREATE INDEX wechat_push_events_received_at_idx ON wechat_push_events (received_at);

-- The items of subscribe_msg_popup_event, subscribe_msg_change_event and
-- subscribe_msg_sent_event, one row per template: what the user accepted
-- or rejected, and how each send went. The reminders read them.
CREATE TABLE wechat_subscription_events (
    push_event_id bigint NOT NULL REFERENCES wechat_push_events (id) ON DELETE CASCADE,
    position      integer NOT NULL,
    app_id        text NOT NULL,
    open_id       text NOT NULL,
    event         text NOT NULL,
    template_id   text NOT NULL,
    -- SubscribeStatusString (accept, reject, …), or a sent event's
    -- ErrorStatus (success, fail…).
    status        text NOT NULL,
    popup_scene   text NOT NULL,
    msg_id        text NOT NULL, -- sent events
    error_code    text NOT NULL, -- sent events
    create_time   bigint NOT NULL,
    PRIMARY KEY (push_event_id, position)
);

CREATE INDEX wechat_subscription_events_user_idx ON wechat_subscription_events (app_id, open_id, template_id, create_time DESC);

-- +goose Down
DROP TABLE wechat_subscription_events;
DROP TABLE wechat_push_events;
