-- A flagged spot check is settled by a reviewer or finance (issue 21): cleared, the expense may be
-- exported for payment; upheld, it must not be paid and stays out of the export. Who settled it,
-- when and why are kept beside who flagged it, which they never overwrite.
ALTER TABLE spot_checks DROP CONSTRAINT spot_checks_status_check;
ALTER TABLE spot_checks ADD CONSTRAINT spot_checks_status_check
    CHECK (status IN ('drawn', 'confirmed', 'flagged', 'cleared', 'upheld'));
ALTER TABLE spot_checks ADD COLUMN settled_by TEXT NOT NULL DEFAULT '';
ALTER TABLE spot_checks ADD COLUMN settled_at TIMESTAMPTZ;
ALTER TABLE spot_checks ADD COLUMN settlement TEXT NOT NULL DEFAULT '';
