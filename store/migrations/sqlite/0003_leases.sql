-- While one instance assesses an expense, it holds it until assessing_until; another instance's
-- sweep resumes it only after that, so the AI is not asked twice. NULL (rows from before this
-- migration) counts as expired.
ALTER TABLE expenses ADD COLUMN assessing_until TIMESTAMP;

-- A notice that Slack refused for a reason only an administrator can fix (the bot is not in the
-- channel, the channel is archived or gone) waits here, named by its channel, until a check finds
-- the channel working again.
ALTER TABLE outbox ADD COLUMN blocked_channel TEXT NOT NULL DEFAULT '';
