-- The built-in CMDB: hosts, and the history of every change to them (who, when, through which door, and the
-- fields that changed as a JSON diff {"field": {"from": ..., "to": ...}}). History is kept when a host is deleted,
-- so "who removed web01 and what was it" can still be answered.
-- Lists (addresses, tags) and attributes are JSON; application is the tree node path without a leading '/'.

CREATE TABLE hosts (
    hostname     TEXT    NOT NULL PRIMARY KEY,
    addresses    TEXT    NOT NULL,
    environment  TEXT    NULL,
    application  TEXT    NULL,
    tags         TEXT    NOT NULL,
    owner        TEXT    NULL,
    status       TEXT    NOT NULL,
    attributes   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    updated_by   TEXT    NOT NULL
);

CREATE INDEX ix_hosts_application ON hosts (application);
CREATE INDEX ix_hosts_environment ON hosts (environment);

CREATE TABLE host_history (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    hostname  TEXT    NOT NULL,
    at        INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    door      TEXT    NOT NULL,
    change    TEXT    NOT NULL CHECK (change IN ('created', 'updated', 'deleted')),
    diff      TEXT    NOT NULL
);

CREATE INDEX ix_host_history_host ON host_history (hostname, id);
