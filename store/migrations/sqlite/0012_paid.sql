-- Payouts (issue 21): the status paid, and who recorded the payout, when, with what reference.
-- SQLite cannot change a CHECK, so the expenses table is rebuilt as 0011 did (see docs/storage.md):
-- create it with the full definition, copy the rows, carry the AUTOINCREMENT counter over, drop
-- the old table, rename the new one and create its indexes again. The new columns come last, as
-- PostgreSQL's ADD COLUMN puts them.

CREATE TABLE expenses_new (
    id                 INTEGER   PRIMARY KEY AUTOINCREMENT,
    team_id            TEXT      NOT NULL DEFAULT '',
    submitter_id       TEXT      NOT NULL,
    amount_minor       INTEGER   NOT NULL CHECK (amount_minor > 0),
    currency           TEXT      NOT NULL CHECK (length(currency) = 3),
    category           TEXT      NOT NULL DEFAULT '',
    description        TEXT      NOT NULL,
    incurred_on        DATE      NOT NULL,
    receipt_file_ids   TEXT      NOT NULL DEFAULT '[]',
    status             TEXT      NOT NULL CHECK (status IN ('submitted', 'assessing', 'pending_review',
                           'approved', 'rejected', 'auto_approved', 'needs_info', 'withdrawn', 'expired', 'paid')),
    idempotency_key    TEXT      NOT NULL UNIQUE,
    assessment         TEXT,
    review_reasons     TEXT      NOT NULL DEFAULT '[]',
    approvals_required INTEGER   NOT NULL DEFAULT 1 CHECK (approvals_required IN (1, 2)),
    review_channel     TEXT      NOT NULL DEFAULT '',
    review_message_ts  TEXT      NOT NULL DEFAULT '',
    first_approver     TEXT      NOT NULL DEFAULT '',
    first_approved_at  TIMESTAMP,
    decided_by         TEXT      NOT NULL DEFAULT '',
    decided_at         TIMESTAMP,
    decision_reason    TEXT      NOT NULL DEFAULT '',
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    assessing_until    TIMESTAMP,
    home_currency      TEXT      NOT NULL DEFAULT '',
    home_amount_minor  INTEGER   CHECK (home_amount_minor > 0),
    rate               TEXT      NOT NULL DEFAULT '',
    rate_source        TEXT      NOT NULL DEFAULT '',
    rate_date          DATE,
    submitted_by       TEXT      NOT NULL DEFAULT '',
    callback_url       TEXT      NOT NULL DEFAULT '',
    request_hash       TEXT      NOT NULL DEFAULT '',
    route_reviewers    TEXT      NOT NULL DEFAULT '[]',
    rules_version      TEXT      NOT NULL DEFAULT '',
    resubmit_of        INTEGER   REFERENCES expenses (id),
    resubmitted_as     INTEGER   REFERENCES expenses (id),
    question           TEXT      NOT NULL DEFAULT '',
    question_by        TEXT      NOT NULL DEFAULT '',
    question_for       TEXT      NOT NULL DEFAULT '',
    paused_at          TIMESTAMP,
    remind_at          TIMESTAMP,
    escalate_at        TIMESTAMP,
    expires_at         TIMESTAMP,
    timed              BOOLEAN   NOT NULL DEFAULT FALSE,
    escalated_to       TEXT      NOT NULL DEFAULT '[]',
    first_approver_for TEXT      NOT NULL DEFAULT '',
    decided_for        TEXT      NOT NULL DEFAULT '',
    findings           TEXT      NOT NULL DEFAULT '[]',
    export_batch       INTEGER   REFERENCES export_batches (id),
    paid_at            TIMESTAMP,
    paid_by            TEXT      NOT NULL DEFAULT '',
    paid_reference     TEXT      NOT NULL DEFAULT ''
);

INSERT INTO expenses_new (id, team_id, submitter_id, amount_minor, currency, category, description, incurred_on,
    receipt_file_ids, status, idempotency_key, assessment, review_reasons, approvals_required, review_channel,
    review_message_ts, first_approver, first_approved_at, decided_by, decided_at, decision_reason, created_at, updated_at,
    assessing_until, home_currency, home_amount_minor, rate, rate_source, rate_date, submitted_by, callback_url,
    request_hash, route_reviewers, rules_version, resubmit_of, resubmitted_as, question, question_by, question_for,
    paused_at, remind_at, escalate_at, expires_at, timed, escalated_to, first_approver_for, decided_for, findings, export_batch)
SELECT id, team_id, submitter_id, amount_minor, currency, category, description, incurred_on,
    receipt_file_ids, status, idempotency_key, assessment, review_reasons, approvals_required, review_channel,
    review_message_ts, first_approver, first_approved_at, decided_by, decided_at, decision_reason, created_at, updated_at,
    assessing_until, home_currency, home_amount_minor, rate, rate_source, rate_date, submitted_by, callback_url,
    request_hash, route_reviewers, rules_version, resubmit_of, resubmitted_as, question, question_by, question_for,
    paused_at, remind_at, escalate_at, expires_at, timed, escalated_to, first_approver_for, decided_for, findings, export_batch
FROM expenses;

-- AUTOINCREMENT never gives an id again, even one whose row is gone: the new table goes on from
-- where the old one was, not from its largest id.
DELETE FROM sqlite_sequence WHERE name = 'expenses_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'expenses_new', seq FROM sqlite_sequence WHERE name = 'expenses';

DROP TABLE expenses;
ALTER TABLE expenses_new RENAME TO expenses;

CREATE INDEX expenses_by_submitter ON expenses (submitter_id, id DESC);
CREATE INDEX expenses_by_status ON expenses (status, created_at);
CREATE INDEX expenses_by_client_change ON expenses (submitted_by, updated_at, id);
CREATE INDEX expenses_by_change ON expenses (updated_at, id);
CREATE UNIQUE INDEX expenses_resubmit_of ON expenses (resubmit_of) WHERE resubmit_of IS NOT NULL;
CREATE INDEX expenses_by_submitter_incurred ON expenses (submitter_id, incurred_on);
-- The payout of a batch reads the batch's expenses.
CREATE INDEX expenses_by_export_batch ON expenses (export_batch) WHERE export_batch IS NOT NULL;
