-- Payouts (issue 21): finance records that an approved expense was paid, once, with who recorded
-- it and the payment's reference. SQLite's 0012 rebuilds its expenses table for the same CHECK.
ALTER TABLE expenses DROP CONSTRAINT expenses_status_check;
ALTER TABLE expenses ADD CONSTRAINT expenses_status_check CHECK (status IN ('submitted', 'assessing', 'pending_review',
    'approved', 'rejected', 'auto_approved', 'needs_info', 'withdrawn', 'expired', 'paid'));

ALTER TABLE expenses ADD COLUMN paid_at TIMESTAMPTZ;
ALTER TABLE expenses ADD COLUMN paid_by TEXT NOT NULL DEFAULT '';
ALTER TABLE expenses ADD COLUMN paid_reference TEXT NOT NULL DEFAULT '';

-- The payout of a batch reads the batch's expenses.
CREATE INDEX expenses_by_export_batch ON expenses (export_batch) WHERE export_batch IS NOT NULL;
