-- Expenses a system submitted through the approval API: the client (the audit actor
-- api:<name>), where each final outcome is POSTed, and a hash of the request, so that an
-- Idempotency-Key reused with another body is refused rather than silently answered.
ALTER TABLE expenses ADD COLUMN submitted_by TEXT NOT NULL DEFAULT '';
ALTER TABLE expenses ADD COLUMN callback_url TEXT NOT NULL DEFAULT '';
ALTER TABLE expenses ADD COLUMN request_hash TEXT NOT NULL DEFAULT '';

-- GET /v1/expenses lists what changed since a time, one client's or everyone's.
CREATE INDEX expenses_by_client_change ON expenses (submitted_by, updated_at, id);
CREATE INDEX expenses_by_change ON expenses (updated_at, id);
