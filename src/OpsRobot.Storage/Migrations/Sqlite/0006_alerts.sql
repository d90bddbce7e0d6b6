-- The alert board: the current state of each alert (source + fingerprint), what people did about it, and the id of
-- the last core.alert event applied (alert_board_cursor), moved in the same transaction as the rows it changed so
-- every event is applied exactly once. The id is the short id people type in chat (A12).

CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    source          TEXT    NOT NULL,
    fingerprint     TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    severity        TEXT    NULL,
    host            TEXT    NULL,
    summary         TEXT    NULL,
    url             TEXT    NULL,
    labels          TEXT    NOT NULL,
    node            TEXT    NULL,
    status          TEXT    NOT NULL CHECK (status IN ('firing', 'resolved')),
    since           INTEGER NOT NULL,
    first_seen      INTEGER NOT NULL,
    last_seen       INTEGER NOT NULL,
    events          INTEGER NOT NULL,
    flaps           INTEGER NOT NULL,
    recent_changes  TEXT    NOT NULL,
    flapping        INTEGER NOT NULL DEFAULT 0,
    acked_by        TEXT    NULL,
    acked_at        INTEGER NULL,
    ack_comment     TEXT    NULL,
    silenced_by     TEXT    NULL,
    silenced_until  INTEGER NULL,
    silence_id      TEXT    NULL,
    UNIQUE (source, fingerprint)
);

CREATE INDEX ix_alerts_firing ON alerts (since) WHERE status = 'firing';
CREATE INDEX ix_alerts_flapping ON alerts (id) WHERE flapping = 1;

CREATE TABLE alert_board_cursor (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    last_event_id   INTEGER NOT NULL
);

INSERT INTO alert_board_cursor (id, last_event_id) VALUES (1, 0);
