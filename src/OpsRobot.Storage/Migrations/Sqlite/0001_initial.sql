-- Users, the built-in chat's rooms, members and messages.
-- Times are Unix milliseconds (UTC) so that they sort and compare the same way in every database.

CREATE TABLE users (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    display_name     TEXT    NOT NULL,
    is_admin         INTEGER NOT NULL DEFAULT 0,
    password_hash    TEXT    NULL,
    failed_sign_ins  INTEGER NOT NULL DEFAULT 0,
    locked_until     INTEGER NULL,
    created_at       INTEGER NOT NULL,
    last_sign_in_at  INTEGER NULL
);

CREATE TABLE rooms (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL UNIQUE,
    topic          TEXT    NOT NULL DEFAULT '',
    kind           TEXT    NOT NULL CHECK (kind IN ('room', 'direct')),
    owner_user_id  INTEGER NULL REFERENCES users(id),
    created_at     INTEGER NOT NULL
);

CREATE TABLE room_members (
    room_id    INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    joined_at  INTEGER NOT NULL,
    PRIMARY KEY (room_id, user_id)
);

CREATE INDEX ix_room_members_user ON room_members (user_id);

CREATE TABLE messages (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id      INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    author_kind  TEXT    NOT NULL CHECK (author_kind IN ('user', 'robot')),
    user_id      INTEGER NULL REFERENCES users(id),
    author_name  TEXT    NOT NULL,
    text         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
);

CREATE INDEX ix_messages_room_id ON messages (room_id, id);
