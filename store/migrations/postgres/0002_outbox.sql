-- Notices to deliver to Slack, written in the same transaction as the state change they tell of,
-- and delivered (and retried) after commit: a Slack error or a restart never loses one.
CREATE TABLE outbox (
    id            BIGSERIAL PRIMARY KEY,
    kind          TEXT        NOT NULL,
    expense_id    BIGINT      NOT NULL REFERENCES expenses (id),
    event         TEXT        NOT NULL DEFAULT '',
    actor         TEXT        NOT NULL DEFAULT '',
    text          TEXT        NOT NULL DEFAULT '',
    attempts      INTEGER     NOT NULL DEFAULT 0,
    next_attempt  TIMESTAMPTZ NOT NULL,
    claimed_until TIMESTAMPTZ,
    last_error    TEXT        NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL,
    done_at       TIMESTAMPTZ,
    failed        BOOLEAN     NOT NULL DEFAULT FALSE
);
CREATE INDEX outbox_due ON outbox (next_attempt) WHERE done_at IS NULL;
CREATE INDEX outbox_by_expense ON outbox (expense_id, id) WHERE done_at IS NULL;

-- Slack event ids already handled: a redelivered Events API envelope is seen once.
CREATE TABLE seen_events (
    key     TEXT PRIMARY KEY,
    seen_at TIMESTAMPTZ NOT NULL
);
