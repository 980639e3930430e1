-- Every lease names its holder and counts its attempts, so that each write that follows a claim
-- can check that the claim is still the writer's (a fencing token): an instance whose lease ran
-- out and was taken over cannot record, renew or retry work another instance now holds.
--
-- assess_owner is the instance holding the expense's assessment (with assessing_until); '' when
-- none does. assess_attempt counts the holds taken on it; each StartAssessment adds one.
-- claim_owner is the instance holding a notice's claim (with claimed_until); its attempt number
-- is the notice's attempts column, which every claim already raises by one.
--
-- Adding a column with a constant default changes no constraint, so on SQLite it is an
-- ALTER TABLE ADD COLUMN, not a table rebuild.
ALTER TABLE expenses ADD COLUMN assess_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE expenses ADD COLUMN assess_attempt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN claim_owner TEXT NOT NULL DEFAULT '';
