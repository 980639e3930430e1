-- Drafts (issue 26): an expense read off a receipt posted in the bot's DM, waiting for its owner
-- to submit, edit or discard it. A draft is removed when it is submitted, discarded or expired;
-- its audit trail stays, in draft_events (an expense's trail needs an expense).
CREATE TABLE drafts (
    id          INTEGER   PRIMARY KEY AUTOINCREMENT,
    event_key   TEXT      NOT NULL,
    user_id     TEXT      NOT NULL,
    team_id     TEXT      NOT NULL DEFAULT '',
    channel     TEXT      NOT NULL,
    message_ts  TEXT      NOT NULL DEFAULT '',
    receipt     TEXT      NOT NULL,
    amount      INTEGER   NOT NULL CHECK (amount >= 0),
    currency    TEXT      NOT NULL,
    merchant    TEXT      NOT NULL DEFAULT '',
    category    TEXT      NOT NULL DEFAULT '',
    description TEXT      NOT NULL DEFAULT '',
    incurred_on TIMESTAMP NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL
);
-- One draft per file of one event: a redelivered event finds its drafts.
CREATE UNIQUE INDEX drafts_by_event ON drafts (event_key);
CREATE INDEX drafts_by_user ON drafts (user_id, id);
-- The expiry timer: due drafts are found by time.
CREATE INDEX drafts_by_expiry ON drafts (expires_at);

CREATE TABLE draft_events (
    id       INTEGER   PRIMARY KEY AUTOINCREMENT,
    draft_id INTEGER   NOT NULL,
    kind     TEXT      NOT NULL,
    actor    TEXT      NOT NULL,
    at       TIMESTAMP NOT NULL,
    detail   TEXT      NOT NULL DEFAULT '{}'
);
CREATE INDEX draft_events_by_draft ON draft_events (draft_id, id);

-- Like the expenses' trail, the drafts' trail is evidence: append-only.
CREATE TRIGGER draft_events_no_update BEFORE UPDATE ON draft_events
BEGIN
    SELECT RAISE(ABORT, 'draft_events is append-only: UPDATE refused');
END;
CREATE TRIGGER draft_events_no_delete BEFORE DELETE ON draft_events
BEGIN
    SELECT RAISE(ABORT, 'draft_events is append-only: DELETE refused');
END;
