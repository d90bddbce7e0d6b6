-- An execution whose stored parameters had secrets masked in them (its own secret parameters, or secret values its
-- requester handed over: a datastore secret a rule rendered into a parameter, a workflow's secret input passed on to
-- a step) is marked, because those stored parameters are not what it ran with: after a crash it is never started
-- again from them. Rows stored before this migration are 0; their secret parameters are still recognised by the
-- action's definition.

ALTER TABLE executions ADD COLUMN secrets_masked INTEGER NOT NULL DEFAULT 0;
