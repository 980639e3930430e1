-- Finance controls and outputs (issue 16).

-- What the finance controls found in the submitter's other expenses when the expense was routed:
-- a JSON list of {flag, related}, shown on the card and counted by the report.
ALTER TABLE expenses ADD COLUMN findings TEXT NOT NULL DEFAULT '[]';
-- The controls look up one person's expenses around a date.
CREATE INDEX expenses_by_submitter_incurred ON expenses (submitter_id, incurred_on);

-- Automatic approvals drawn at random for a person to look at afterwards. The approval stands
-- whatever the check finds: a spot check is evidence, not a gate.
CREATE TABLE spot_checks (
    expense_id BIGINT           PRIMARY KEY REFERENCES expenses (id),
    rate       DOUBLE PRECISION NOT NULL,
    draw       DOUBLE PRECISION NOT NULL,
    status     TEXT             NOT NULL CHECK (status IN ('drawn', 'confirmed', 'flagged')),
    channel    TEXT             NOT NULL DEFAULT '',
    message_ts TEXT             NOT NULL DEFAULT '',
    checked_by TEXT             NOT NULL DEFAULT '',
    checked_at TIMESTAMPTZ,
    finding    TEXT             NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ      NOT NULL
);

-- People as Slack last described them (users.info), so that the exports name them without Slack.
CREATE TABLE people (
    user_id      TEXT        PRIMARY KEY,
    name         TEXT        NOT NULL DEFAULT '',
    display_name TEXT        NOT NULL DEFAULT '',
    updated_at   TIMESTAMPTZ NOT NULL
);

-- Receipt files as Slack last described them (files.info) and the SHA-256 of their content, so
-- that the accounting export links and identifies each receipt without Slack.
CREATE TABLE receipt_files (
    file_id    TEXT        PRIMARY KEY,
    permalink  TEXT        NOT NULL DEFAULT '',
    sha256     TEXT        NOT NULL DEFAULT '',
    updated_at TIMESTAMPTZ NOT NULL
);

-- Batches of the accounting export run with --mark-exported; an expense in one is skipped by
-- later runs unless they ask for it. The audit trail has an "exported" event per expense.
CREATE TABLE export_batches (
    id         BIGSERIAL   PRIMARY KEY,
    format     TEXT        NOT NULL,
    expenses   INTEGER     NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
ALTER TABLE expenses ADD COLUMN export_batch BIGINT REFERENCES export_batches (id);
