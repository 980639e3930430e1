-- Expenses and their append-only audit trail.
CREATE TABLE expenses (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id            TEXT      NOT NULL DEFAULT '',
    submitter_id       TEXT      NOT NULL,
    amount_minor       INTEGER   NOT NULL CHECK (amount_minor > 0),
    currency           TEXT      NOT NULL CHECK (length(currency) = 3),
    category           TEXT      NOT NULL DEFAULT '',
    description        TEXT      NOT NULL,
    incurred_on        DATE      NOT NULL,
    receipt_file_ids   TEXT      NOT NULL DEFAULT '[]',
    status             TEXT      NOT NULL CHECK (status IN ('submitted', 'assessing', 'pending_review', 'approved', 'rejected', 'auto_approved')),
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
    updated_at         TIMESTAMP NOT NULL
);
CREATE INDEX expenses_by_submitter ON expenses (submitter_id, id DESC);
CREATE INDEX expenses_by_status ON expenses (status, created_at);

CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    expense_id INTEGER   NOT NULL REFERENCES expenses (id),
    kind       TEXT      NOT NULL,
    actor      TEXT      NOT NULL,
    at         TIMESTAMP NOT NULL,
    detail     TEXT      NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_by_expense ON audit_events (expense_id, id);
CREATE INDEX audit_events_by_time ON audit_events (at);

-- The audit trail is evidence: the database itself refuses to change or remove a line of it.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused');
END;
