-- While one instance assesses an expense, it holds it until assessing_until; another instance's
-- sweep resumes it only after that, so the AI is not asked twice. NULL (rows from before this
-- migration) counts as expired.
ALTER TABLE expenses ADD COLUMN assessing_until TIMESTAMPTZ;
