-- Alert notices on their way to rooms. A notice is stored in the same transaction as the board change that caused it
-- (and the cursor past its event), and removed once every room it goes to has been sent it (or refused it): notices
-- gathered into a room's next message when OpsRobot stops or crashes are sent after the next start, not lost.

CREATE TABLE alert_notices (
    id            INTEGER PRIMARY KEY,
    alert_id      INTEGER NOT NULL REFERENCES alerts(id),
    kind          TEXT    NOT NULL,
    fired_for_ms  INTEGER NULL,
    created_at    INTEGER NOT NULL
);
