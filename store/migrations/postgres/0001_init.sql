-- Expenses and their append-only audit trail.
CREATE TABLE expenses (
    id                 BIGSERIAL PRIMARY KEY,
    team_id            TEXT        NOT NULL DEFAULT '',
    submitter_id       TEXT        NOT NULL,
    amount_minor       BIGINT      NOT NULL CHECK (amount_minor > 0),
    currency           CHAR(3)     NOT NULL,
    category           TEXT        NOT NULL DEFAULT '',
    description        TEXT        NOT NULL,
    incurred_on        DATE        NOT NULL,
    receipt_file_ids   TEXT        NOT NULL DEFAULT '[]',
    status             TEXT        NOT NULL CHECK (status IN ('submitted', 'assessing', 'pending_review', 'approved', 'rejected', 'auto_approved')),
    idempotency_key    TEXT        NOT NULL UNIQUE,
    assessment         TEXT,
    review_reasons     TEXT        NOT NULL DEFAULT '[]',
    approvals_required INTEGER     NOT NULL DEFAULT 1 CHECK (approvals_required IN (1, 2)),
    review_channel     TEXT        NOT NULL DEFAULT '',
    review_message_ts  TEXT        NOT NULL DEFAULT '',
    first_approver     TEXT        NOT NULL DEFAULT '',
    first_approved_at  TIMESTAMPTZ,
    decided_by         TEXT        NOT NULL DEFAULT '',
    decided_at         TIMESTAMPTZ,
    decision_reason    TEXT        NOT NULL DEFAULT '',
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX expenses_by_submitter ON expenses (submitter_id, id DESC);
CREATE INDEX expenses_by_status ON expenses (status, created_at);

CREATE TABLE audit_events (
    id         BIGSERIAL PRIMARY KEY,
    expense_id BIGINT      NOT NULL REFERENCES expenses (id),
    kind       TEXT        NOT NULL,
    actor      TEXT        NOT NULL,
    at         TIMESTAMPTZ NOT NULL,
    detail     JSONB       NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_by_expense ON audit_events (expense_id, id);
CREATE INDEX audit_events_by_time ON audit_events (at);

-- The audit trail is evidence: the database itself refuses to change or remove a line of it.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
