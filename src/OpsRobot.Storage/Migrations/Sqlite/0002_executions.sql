-- Executions: one durable record per run of an action, and its output in order.
-- Parameters are stored with secrets already masked; requester is a JSON object (door, user, room, …).

CREATE TABLE executions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    action_ref      TEXT    NOT NULL,
    runner_type     TEXT    NOT NULL,
    parameters      TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    requester       TEXT    NOT NULL,
    requester_user  TEXT    NOT NULL,
    result          TEXT    NULL,
    exit_code       INTEGER NULL,
    error           TEXT    NULL,
    created_at      INTEGER NOT NULL,
    started_at      INTEGER NULL,
    ended_at        INTEGER NULL,
    parent_id       INTEGER NULL REFERENCES executions(id),
    retry_of        INTEGER NULL REFERENCES executions(id),
    attempt         INTEGER NOT NULL DEFAULT 1,
    owner           TEXT    NOT NULL
);

CREATE INDEX ix_executions_action ON executions (action_ref, id);
CREATE INDEX ix_executions_user ON executions (requester_user, id);
CREATE INDEX ix_executions_parent ON executions (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX ix_executions_unfinished ON executions (id)
    WHERE status IN ('requested', 'scheduled', 'running', 'canceling');

CREATE TABLE execution_output (
    execution_id  INTEGER NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('stdout', 'stderr')),
    text          TEXT    NOT NULL,
    at            INTEGER NOT NULL,
    PRIMARY KEY (execution_id, seq)
) WITHOUT ROWID;
