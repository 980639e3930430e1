-- The route is a fact of the expense: who may decide it and under which version of the rules it
-- was routed are stored when it is routed, so a later change of policy or configuration applies to
-- new expenses only.
ALTER TABLE expenses ADD COLUMN route_reviewers TEXT NOT NULL DEFAULT '[]';
ALTER TABLE expenses ADD COLUMN rules_version TEXT NOT NULL DEFAULT '';
