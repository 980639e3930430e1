-- Administration in Slack (issue 25): every change of the rules an administrator makes in the App
-- Home is a new rule set, the newest of which every instance applies. The environment and the
-- policy file give the first one (source 'environment'). A row is never changed: the table is the
-- history of the rules, and `version` is what routes record as rules_version.
CREATE TABLE rule_sets (
    id         BIGSERIAL   PRIMARY KEY,
    version    TEXT        NOT NULL,
    source     TEXT        NOT NULL CHECK (source IN ('environment', 'admin')),
    changed_by TEXT        NOT NULL DEFAULT '',
    settings   TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- A change of the rules is audited (rules_changed) but belongs to no expense.
ALTER TABLE audit_events ALTER COLUMN expense_id DROP NOT NULL;
CREATE INDEX audit_events_without_expense ON audit_events (kind, id) WHERE expense_id IS NULL;
