-- Receipts attached to expenses (issue 15): each file as Slack described it, checked by us, the
-- SHA-256 of its bytes (a receipt already on another expense is flagged), and what a vision model
-- read on it with the comparison against the claim (JSON, expensebot.ReceiptReading). The file
-- itself stays in Slack. Finance's receipt_files (0008) describes files for the accounting export;
-- this table is the workflow's.
CREATE TABLE receipts (
    expense_id   BIGINT      NOT NULL REFERENCES expenses (id),
    file_id      TEXT        NOT NULL,
    name         TEXT        NOT NULL DEFAULT '',
    filetype     TEXT        NOT NULL DEFAULT '',
    mimetype     TEXT        NOT NULL DEFAULT '',
    size         BIGINT      NOT NULL CHECK (size > 0),
    sha256       TEXT        NOT NULL CHECK (length(sha256) = 64),
    added_by     TEXT        NOT NULL,
    added_at     TIMESTAMPTZ NOT NULL,
    reading      TEXT,
    duplicate_of BIGINT      REFERENCES expenses (id),
    PRIMARY KEY (expense_id, file_id)
);
CREATE INDEX receipts_by_sha256 ON receipts (sha256, expense_id);
