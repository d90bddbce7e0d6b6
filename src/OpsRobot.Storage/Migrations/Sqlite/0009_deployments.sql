-- Deployments: what version of which application went to which environment, by whom, through which back-end, and
-- what was there before (a rollback deploys that). "What is deployed where" is the last succeeded row per
-- (app, environment).

CREATE TABLE deployments (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    app               TEXT    NOT NULL,
    version           TEXT    NOT NULL,
    environment       TEXT    NOT NULL,
    kind              TEXT    NOT NULL CHECK (kind IN ('deploy', 'rollback')),
    backend           TEXT    NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    requested_by      TEXT    NOT NULL,
    execution_id      INTEGER NULL,
    previous_version  TEXT    NULL,
    started_at        INTEGER NOT NULL,
    ended_at          INTEGER NULL,
    error             TEXT    NULL
);

CREATE INDEX ix_deployments_app_env ON deployments (app, environment, id);
CREATE INDEX ix_deployments_succeeded ON deployments (app, environment, id) WHERE status = 'succeeded';
