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

-- Acceptances reported by one source and not (yet) by the other: the
-- mini-program (source 'client': POST /v1/me/subscriptions) and WeChat's
-- push (source 'popup': subscribe_msg_popup_event) both report the same
-- tap. An accept that finds an unpaired one of the other source within
-- domain.SubscribeSameAcceptance of it is that acceptance: the pair is
-- deleted and no grant is added; otherwise it adds a grant and waits here
-- for its twin. Rows older than the window pair with nothing and go.
CREATE TABLE subscription_acceptances (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    app_id      text NOT NULL,
    template_id text NOT NULL,
    source      text NOT NULL CHECK (source IN ('client', 'popup')),
    accepted_at timestamptz NOT NULL
);

CREATE INDEX subscription_acceptances_key_idx ON subscription_acceptances (user_id, app_id, template_id, accepted_at);
CREATE INDEX subscription_acceptances_at_idx ON subscription_acceptances (accepted_at);

-- +goose Down
DROP TABLE subscription_acceptances;
DROP TABLE subscriptions;
