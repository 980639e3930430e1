-- One table keeps a receipt's SHA-256: receipts (0009), the workflow's, now also keeps what the
-- accounting export read from receipt_files (0008): the file's permalink and when Slack last
-- described it. receipt_files is merged in and dropped.
--
-- A row of receipts is checked (the workflow fetched the file, checked it and hashed it) or, for
-- a file the workflow never checked (expenses from before receipts were checked), only described:
-- its size is 0 and its hash '' unless the export's lookup hashed it. The workflow reads only
-- checked rows; the export reads them all.
--
-- The CHECKs change, so the table is rebuilt as SQLite documents
-- (https://www.sqlite.org/lang_altertable.html#otheralter): the migration runner turns foreign
-- keys off around this transaction and checks them before it commits.
CREATE TABLE receipts_new (
    expense_id   INTEGER     NOT NULL REFERENCES expenses (id),
    file_id      TEXT        NOT NULL,
    name         TEXT        NOT NULL DEFAULT '',
    filetype     TEXT        NOT NULL DEFAULT '',
    mimetype     TEXT        NOT NULL DEFAULT '',
    size         INTEGER     NOT NULL CONSTRAINT receipts_size_check CHECK (size > 0 OR NOT checked),
    sha256       TEXT        NOT NULL CONSTRAINT receipts_sha256_check CHECK (length(sha256) = 64 OR (NOT checked AND sha256 = '')),
    added_by     TEXT        NOT NULL,
    added_at     TIMESTAMP   NOT NULL,
    reading      TEXT,
    duplicate_of INTEGER     REFERENCES expenses (id),
    checked      BOOLEAN     NOT NULL DEFAULT TRUE,
    permalink    TEXT        NOT NULL DEFAULT '',
    described_at TIMESTAMP,
    PRIMARY KEY (expense_id, file_id)
);
INSERT INTO receipts_new (expense_id, file_id, name, filetype, mimetype, size, sha256, added_by, added_at, reading, duplicate_of,
    checked, permalink, described_at)
SELECT r.expense_id, r.file_id, r.name, r.filetype, r.mimetype, r.size, r.sha256, r.added_by, r.added_at, r.reading, r.duplicate_of,
    TRUE, coalesce(f.permalink, ''), f.updated_at
  FROM receipts r LEFT JOIN receipt_files f ON f.file_id = r.file_id;

-- Files the export described that the workflow never checked: a row for each expense listing one.
-- A described file no expense lists any more is not kept (the export only looks up listed files).
INSERT INTO receipts_new (expense_id, file_id, size, sha256, added_by, added_at, checked, permalink, described_at)
SELECT e.id, f.file_id, 0, CASE WHEN length(f.sha256) = 64 THEN f.sha256 ELSE '' END, '', f.updated_at, FALSE, f.permalink, f.updated_at
  FROM expenses e, json_each(e.receipt_file_ids) AS listed
  JOIN receipt_files f ON f.file_id = listed.value
 WHERE NOT EXISTS (SELECT 1 FROM receipts r WHERE r.expense_id = e.id AND r.file_id = f.file_id)
 GROUP BY e.id, f.file_id;

DROP TABLE receipts;
ALTER TABLE receipts_new RENAME TO receipts;
DROP TABLE receipt_files;

CREATE INDEX receipts_by_sha256 ON receipts (sha256, expense_id);
-- The export looks receipts up by file.
CREATE INDEX receipts_by_file ON receipts (file_id);
