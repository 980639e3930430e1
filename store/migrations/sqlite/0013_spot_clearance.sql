-- A flagged spot check is settled by a reviewer or finance (issue 21): cleared, the expense may be
-- exported for payment; upheld, it must not be paid and stays out of the export. Who settled it,
-- when and why are kept beside who flagged it, which they never overwrite.
--
-- SQLite cannot change a CHECK constraint, so spot_checks is rebuilt as SQLite documents
-- (https://www.sqlite.org/lang_altertable.html#otheralter): create the new table with its full
-- definition, copy the rows, drop the old table, rename the new one. It has no index of its own
-- and no AUTOINCREMENT counter to carry over; the runner turns foreign keys off around this
-- transaction and runs PRAGMA foreign_key_check before it commits.

CREATE TABLE spot_checks_new (
    expense_id INTEGER   PRIMARY KEY REFERENCES expenses (id),
    rate       REAL      NOT NULL,
    draw       REAL      NOT NULL,
    status     TEXT      NOT NULL CHECK (status IN ('drawn', 'confirmed', 'flagged', 'cleared', 'upheld')),
    channel    TEXT      NOT NULL DEFAULT '',
    message_ts TEXT      NOT NULL DEFAULT '',
    checked_by TEXT      NOT NULL DEFAULT '',
    checked_at TIMESTAMP,
    finding    TEXT      NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    settled_by TEXT      NOT NULL DEFAULT '',
    settled_at TIMESTAMP,
    settlement TEXT      NOT NULL DEFAULT ''
);

INSERT INTO spot_checks_new (expense_id, rate, draw, status, channel, message_ts, checked_by, checked_at, finding, created_at)
SELECT expense_id, rate, draw, status, channel, message_ts, checked_by, checked_at, finding, created_at
FROM spot_checks;

DROP TABLE spot_checks;
ALTER TABLE spot_checks_new RENAME TO spot_checks;
