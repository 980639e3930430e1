-- The life of an expense after the first click (issue 14): a question to the submitter
-- (needs_info), withdrawal, expiry, resubmission, reminders, escalation and delegation.

-- The status CHECK gains needs_info, withdrawn and expired in 0011, which rebuilds the table
-- (SQLite cannot alter a CHECK). This migration used to edit the stored table definition instead
-- (writable_schema), which silently did nothing when the text differed; 0011 defines the table
-- from its full text, so databases that ran the old edit and new ones end up the same. Nothing
-- stores a new status between this migration and 0011: they run together on upgrade.

-- A resubmission points at the expense it replaces, and that one at it; an expense is resubmitted
-- at most once, which the unique index holds even against two forms submitted at once.
ALTER TABLE expenses ADD COLUMN resubmit_of INTEGER REFERENCES expenses (id);
ALTER TABLE expenses ADD COLUMN resubmitted_as INTEGER REFERENCES expenses (id);
CREATE UNIQUE INDEX expenses_resubmit_of ON expenses (resubmit_of) WHERE resubmit_of IS NOT NULL;

-- The open question while needs_info; paused_at is when it was asked: timers stand still until
-- the answer, and then move on by the time it took.
ALTER TABLE expenses ADD COLUMN question TEXT NOT NULL DEFAULT '';
ALTER TABLE expenses ADD COLUMN question_by TEXT NOT NULL DEFAULT '';
ALTER TABLE expenses ADD COLUMN question_for TEXT NOT NULL DEFAULT '';
ALTER TABLE expenses ADD COLUMN paused_at TIMESTAMP;

-- Timers live here, not in memory: each is claimed by a conditional UPDATE, so of several
-- instances exactly one fires it, and a restart neither loses nor repeats one. timed is false for
-- expenses routed before this migration (or by an older instance): their timers are set from the
-- moment a new instance first sees them.
ALTER TABLE expenses ADD COLUMN remind_at TIMESTAMP;
ALTER TABLE expenses ADD COLUMN escalate_at TIMESTAMP;
ALTER TABLE expenses ADD COLUMN expires_at TIMESTAMP;
ALTER TABLE expenses ADD COLUMN timed BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE expenses ADD COLUMN escalated_to TEXT NOT NULL DEFAULT '[]';

-- A delegate decides in the name of an away reviewer: both are kept.
ALTER TABLE expenses ADD COLUMN first_approver_for TEXT NOT NULL DEFAULT '';
ALTER TABLE expenses ADD COLUMN decided_for TEXT NOT NULL DEFAULT '';

-- "Away until <date>, <delegate> decides for me". Rows are kept when a delegation ends, as the
-- record of who could decide for whom; at most one is current per reviewer.
CREATE TABLE delegations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    reviewer_id TEXT      NOT NULL,
    delegate_id TEXT      NOT NULL CHECK (delegate_id <> reviewer_id),
    away_until  TIMESTAMP NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    ended_at    TIMESTAMP
);
CREATE UNIQUE INDEX delegations_current ON delegations (reviewer_id) WHERE ended_at IS NULL;
