-- Events (trigger instances), the rules' enforcements, and the key-value datastore.
-- An event is stored 'pending' before anything acts on it; the rule engine marks it 'processed' once every rule was
-- applied. UNIQUE (event_id, rule_ref) is what keeps a re-evaluated event (after a crash) from firing a rule twice.

CREATE TABLE events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    trigger_type  TEXT    NOT NULL,
    payload       TEXT    NOT NULL,
    source        TEXT    NOT NULL,
    received_at   INTEGER NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('pending', 'processed')),
    processed_at  INTEGER NULL
);

CREATE INDEX ix_events_pending ON events (id) WHERE status = 'pending';
CREATE INDEX ix_events_trigger ON events (trigger_type, id);
CREATE INDEX ix_events_processed ON events (received_at) WHERE status = 'processed';

CREATE TABLE rule_enforcements (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_ref      TEXT    NOT NULL,
    event_id      INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    trigger_type  TEXT    NOT NULL,
    action_ref    TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('starting', 'started', 'failed')),
    parameters    TEXT    NULL,
    execution_id  INTEGER NULL,
    error         TEXT    NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NULL,
    UNIQUE (event_id, rule_ref)
);

CREATE INDEX ix_enforcements_rule ON rule_enforcements (rule_ref, id);
CREATE INDEX ix_enforcements_starting ON rule_enforcements (id) WHERE status = 'starting';

-- Key-value pairs. owner is '' for the system scope, the user's name for the user scope. A secret's value is
-- ciphertext (AES-GCM, key file in the data folder), never the clear text.
CREATE TABLE kv_pairs (
    scope        TEXT    NOT NULL CHECK (scope IN ('system', 'user')),
    owner        TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    value        TEXT    NOT NULL,
    secret       INTEGER NOT NULL CHECK (secret IN (0, 1)),
    expires_at   INTEGER NULL,
    updated_at   INTEGER NOT NULL,
    updated_by   TEXT    NOT NULL,
    PRIMARY KEY (scope, owner, name)
) WITHOUT ROWID;

CREATE INDEX ix_kv_expires ON kv_pairs (expires_at) WHERE expires_at IS NOT NULL;
