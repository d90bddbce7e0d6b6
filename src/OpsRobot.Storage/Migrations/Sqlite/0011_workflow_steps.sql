-- Workflow runs stored as a whole state followed by steps: each step holds only what changed since the save before
-- it, so a save costs the same at the end of a long run as at its start. A save of the whole state removes the steps
-- it replaces, in the same transaction. Step versions continue the run's version counter.

CREATE TABLE workflow_steps (
    execution_id  INTEGER NOT NULL REFERENCES workflow_runs(execution_id),
    version       INTEGER NOT NULL,
    step          TEXT    NOT NULL,
    PRIMARY KEY (execution_id, version)
) WITHOUT ROWID;
