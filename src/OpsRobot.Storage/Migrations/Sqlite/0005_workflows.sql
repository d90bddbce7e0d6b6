-- Workflow runs: the engine's state and the actions in flight, saved before every transition takes effect, so a
-- restarted OpsRobot resumes each run where it was. One row per workflow execution; version is a compare-and-set
-- counter so two writers cannot both win.

CREATE TABLE workflow_runs (
    execution_id   INTEGER PRIMARY KEY REFERENCES executions(id),
    action_ref     TEXT    NOT NULL,
    workflow_file  TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    state          TEXT    NOT NULL,
    dispatches     TEXT    NOT NULL,
    finished       INTEGER NOT NULL DEFAULT 0,
    updated_at     INTEGER NOT NULL
);

CREATE INDEX ix_workflow_runs_unfinished ON workflow_runs (execution_id) WHERE finished = 0;
