-- The rooms each stored alert notice (0012) has already been handed: sent, or refused by the room's adapter. A notice
-- that goes to several rooms is recorded room by room as their messages go out (the rooms of one flush in one
-- transaction), so a restart posts it only to the rooms it routes to that are not recorded here, and removes it when
-- none is left. Rows are only inserted, never updated (the primary key makes a repeat harmless), and leave the
-- notice's row untouched. A notice is removed with its rows, in one transaction: notice ids are not AUTOINCREMENT and
-- may be reused, so a row left behind would mark a later notice as told.

CREATE TABLE alert_notice_rooms (
    notice_id  INTEGER NOT NULL REFERENCES alert_notices(id),
    platform   TEXT    NOT NULL,
    room       TEXT    NOT NULL,
    PRIMARY KEY (notice_id, platform, room)
) WITHOUT ROWID;
