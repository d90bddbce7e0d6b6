-- Workflow runs stored as a whole state followed by steps: each step holds only what changed since the save before
-- it, so a save costs the same at the end of a long run as at its start. A step is a row of its own and leaves the
-- run's row (and the whole state in it) untouched: SQLite rewrites a whole row, state included, when any of its
-- columns changes. A run's version is its newest step's, else the row's; a step is stored only on top of the version
-- its writer read, so two writers of one run cannot both win. A save of the whole state removes the steps it
-- replaces, in the same transaction. Finishing a run always stores it whole.

CREATE TABLE workflow_steps (
    execution_id  INTEGER NOT NULL REFERENCES workflow_runs(execution_id),
    version       INTEGER NOT NULL,
    step          TEXT    NOT NULL,
    dispatches    TEXT    NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (execution_id, version)
) WITHOUT ROWID;
