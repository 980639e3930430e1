-- Administration in Slack (issue 25): every change of the rules an administrator makes in the App
-- Home is a new rule set, the newest of which every instance applies. The environment and the
-- policy file give the first one (source 'environment'). A row is never changed: the table is the
-- history of the rules, and `version` is what routes record as rules_version.
CREATE TABLE rule_sets (
    id         INTEGER   PRIMARY KEY AUTOINCREMENT,
    version    TEXT      NOT NULL,
    source     TEXT      NOT NULL CHECK (source IN ('environment', 'admin')),
    changed_by TEXT      NOT NULL DEFAULT '',
    settings   TEXT      NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- A change of the rules is audited (rules_changed) but belongs to no expense, so audit_events'
-- expense_id may be NULL. SQLite cannot drop a NOT NULL in place: the table is rebuilt by the
-- documented procedure (see 0011), its rows copied with their ids, and its append-only triggers
-- created again.
CREATE TABLE audit_events_new (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    expense_id INTEGER   REFERENCES expenses (id),
    kind       TEXT      NOT NULL,
    actor      TEXT      NOT NULL,
    at         TIMESTAMP NOT NULL,
    detail     TEXT      NOT NULL DEFAULT '{}'
);
INSERT INTO audit_events_new (id, expense_id, kind, actor, at, detail)
    SELECT id, expense_id, kind, actor, at, detail FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_new RENAME TO audit_events;
CREATE INDEX audit_events_by_expense ON audit_events (expense_id, id);
CREATE INDEX audit_events_by_time ON audit_events (at);
CREATE INDEX audit_events_without_expense ON audit_events (kind, id) WHERE expense_id IS NULL;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused');
END;
