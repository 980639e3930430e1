-- One table keeps a receipt's SHA-256: receipts (0009), the workflow's, now also keeps what the
-- accounting export read from receipt_files (0008): the file's permalink and when Slack last
-- described it. receipt_files is merged in and dropped.
--
-- A row of receipts is checked (the workflow fetched the file, checked it and hashed it) or, for
-- a file the workflow never checked (expenses from before receipts were checked), only described:
-- its size is 0 and its hash '' unless the export's lookup hashed it. The workflow reads only
-- checked rows; the export reads them all.
ALTER TABLE receipts ADD COLUMN checked BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE receipts ADD COLUMN permalink TEXT NOT NULL DEFAULT '';
ALTER TABLE receipts ADD COLUMN described_at TIMESTAMPTZ;
ALTER TABLE receipts DROP CONSTRAINT receipts_size_check;
ALTER TABLE receipts ADD CONSTRAINT receipts_size_check CHECK (size > 0 OR NOT checked);
ALTER TABLE receipts DROP CONSTRAINT receipts_sha256_check;
ALTER TABLE receipts ADD CONSTRAINT receipts_sha256_check CHECK (length(sha256) = 64 OR (NOT checked AND sha256 = ''));

-- What the export knew about checked receipts: their link. Their hash is the workflow's already.
UPDATE receipts SET permalink = f.permalink, described_at = f.updated_at
  FROM receipt_files f WHERE f.file_id = receipts.file_id;

-- Files the export described that the workflow never checked: a row for each expense listing one.
-- A described file no expense lists any more is not kept (the export only looks up listed files).
INSERT INTO receipts (expense_id, file_id, size, sha256, added_by, added_at, checked, permalink, described_at)
SELECT e.id, f.file_id, 0, CASE WHEN length(f.sha256) = 64 THEN f.sha256 ELSE '' END, '', f.updated_at, FALSE, f.permalink, f.updated_at
  FROM expenses e
 CROSS JOIN LATERAL jsonb_array_elements_text(e.receipt_file_ids::jsonb) AS listed (file_id)
  JOIN receipt_files f ON f.file_id = listed.file_id
 WHERE NOT EXISTS (SELECT 1 FROM receipts r WHERE r.expense_id = e.id AND r.file_id = f.file_id)
    ON CONFLICT (expense_id, file_id) DO NOTHING; -- a file an expense lists twice

DROP TABLE receipt_files;

-- The export looks receipts up by file.
CREATE INDEX receipts_by_file ON receipts (file_id);
