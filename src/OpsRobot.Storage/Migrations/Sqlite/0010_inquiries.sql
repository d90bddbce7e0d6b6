-- Inquiries: the questions a workflow's ask task puts to people (StackStorm's core.ask). One row per question; every
-- change of status is a compare-and-set on 'pending'. parent_id + parameters_hash let the ask started again after a
-- restart find (adopt) the question its interrupted run asked, so the number people were given stays valid.

CREATE TABLE inquiries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    execution_id    INTEGER NOT NULL,
    parent_id       INTEGER NULL,
    parameters_hash TEXT    NOT NULL,
    question        TEXT    NULL,
    schema          TEXT    NOT NULL,
    users           TEXT    NOT NULL,
    roles           TEXT    NOT NULL,
    platform        TEXT    NULL,
    room_id         TEXT    NULL,
    room_name       TEXT    NULL,
    thread_id       TEXT    NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    status          TEXT    NOT NULL,
    response        TEXT    NULL,
    responded_by    TEXT    NULL,
    responded_at    INTEGER NULL
);

CREATE INDEX ix_inquiries_parent ON inquiries (parent_id, parameters_hash) WHERE parent_id IS NOT NULL;
CREATE INDEX ix_inquiries_status ON inquiries (status, id);

-- An ask waiting for its answer shows 'pending' on its execution record: an unfinished status like running, so the
-- partial index of unfinished executions covers it (its predicate must match the query's list for SQLite to use it).
DROP INDEX ix_executions_unfinished;
CREATE INDEX ix_executions_unfinished ON executions (id)
    WHERE status IN ('requested', 'scheduled', 'running', 'canceling', 'pausing', 'paused', 'resuming', 'pending');
