-- A workflow's execution record now shows pausing, paused and resuming (StackStorm's statuses). They are unfinished
-- statuses like running: start-up looks for them after a crash, so the partial index of unfinished executions
-- covers them too (its predicate must match the query's list for SQLite to use it).

DROP INDEX ix_executions_unfinished;
CREATE INDEX ix_executions_unfinished ON executions (id)
    WHERE status IN ('requested', 'scheduled', 'running', 'canceling', 'pausing', 'paused', 'resuming');
