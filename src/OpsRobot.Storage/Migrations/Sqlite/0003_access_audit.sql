-- Access control and the audit trail.
-- Secrets (API keys, bearer tokens, link and elevation codes) are stored only as SHA-256 hashes of
-- high-entropy random values; the clear value is shown once to its owner and never again.

-- A chat identity (platform + the platform's immutable user id) belongs to exactly one user.
CREATE TABLE chat_identities (
    platform          TEXT    NOT NULL,
    platform_user_id  TEXT    NOT NULL,
    user_id           INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    display_name      TEXT    NOT NULL DEFAULT '',
    linked_by         TEXT    NOT NULL,
    linked_at         INTEGER NOT NULL,
    PRIMARY KEY (platform, platform_user_id)
) WITHOUT ROWID;

CREATE INDEX ix_chat_identities_user ON chat_identities (user_id);

-- Roles defined through the API, the CLI or chat. Built-in roles live in code; file roles are loaded at start.
CREATE TABLE roles (
    name         TEXT    NOT NULL PRIMARY KEY COLLATE NOCASE,
    description  TEXT    NOT NULL DEFAULT '',
    grants       TEXT    NOT NULL,
    updated_by   TEXT    NOT NULL,
    updated_at   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE user_roles (
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role        TEXT    NOT NULL COLLATE NOCASE,
    granted_by  TEXT    NOT NULL,
    granted_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, role)
) WITHOUT ROWID;

-- The application tree: one row per node, by its full path (corp/hotel/booking/api).
CREATE TABLE tree_nodes (
    path         TEXT    NOT NULL PRIMARY KEY,
    description  TEXT    NOT NULL DEFAULT '',
    created_by   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE tree_members (
    path        TEXT    NOT NULL REFERENCES tree_nodes(path) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL CHECK (kind IN ('owner', 'member')),
    added_by    TEXT    NOT NULL,
    added_at    INTEGER NOT NULL,
    PRIMARY KEY (path, user_id)
) WITHOUT ROWID;

CREATE INDEX ix_tree_members_user ON tree_members (user_id);

-- API keys and bearer tokens: 'key' rows are made by people and last until they expire or are revoked;
-- 'token' rows come from signing in (opsrobot login) and always expire.
CREATE TABLE api_keys (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT    NOT NULL CHECK (kind IN ('key', 'token')),
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    secret_hash   TEXT    NOT NULL UNIQUE,
    scope         TEXT    NULL,
    created_by    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NULL,
    revoked_at    INTEGER NULL,
    revoked_by    TEXT    NULL,
    last_used_at  INTEGER NULL,
    last_used_from TEXT   NULL
);

CREATE INDEX ix_api_keys_user ON api_keys (user_id);

-- One-time codes: 'link' ties a chat identity to the user who asked for the code in the web console;
-- 'elevate' confirms a sudo request. Each is used at most once.
CREATE TABLE one_time_codes (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    purpose       TEXT    NOT NULL CHECK (purpose IN ('link', 'elevate')),
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash     TEXT    NOT NULL,
    payload       TEXT    NOT NULL DEFAULT '{}',
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER NULL
);

CREATE INDEX ix_one_time_codes_lookup ON one_time_codes (purpose, code_hash);

-- Open sudo elevations: one window per user at most.
CREATE TABLE elevations (
    user_id       INTEGER NOT NULL PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    opened_at     INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    confirmed_via TEXT    NOT NULL
);

-- The audit trail: append-only, each record chained to the one before by a SHA-256 hash.
CREATE TABLE audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    door        TEXT    NOT NULL,
    place       TEXT    NULL,
    subject     TEXT    NULL,
    decision    TEXT    NULL,
    rule        TEXT    NULL,
    detail      TEXT    NOT NULL,
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL
);

CREATE INDEX ix_audit_at ON audit (at);
CREATE INDEX ix_audit_actor ON audit (actor, id);
CREATE INDEX ix_audit_kind ON audit (kind, id);

-- The store never changes or removes an audit record. The chain still catches anyone who drops these
-- triggers and edits the file by hand: `opsrobot audit verify` names the first record that no longer fits.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only');
END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only');
END;

-- Administrators made before access control keep what they could do.
INSERT INTO user_roles (user_id, role, granted_by, granted_at)
SELECT id, 'admin', 'migration 0003', created_at FROM users WHERE is_admin = 1;
