-- Issue 16: every delivery of a weekly digest, one row per (week, channel), so that a restart,
-- a reload or a crash never sends a week twice or skips it.
CREATE TABLE deliveries (
    week         TEXT    NOT NULL,              -- 2026-W48: the week the digest covers
    channel      TEXT    NOT NULL,              -- email | webhook
    state        TEXT    NOT NULL CHECK (state IN ('sending', 'sent', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_attempt INTEGER,                       -- unix seconds
    next_attempt INTEGER,                       -- when a failed one is tried again
    last_error   TEXT,
    sent_at      INTEGER,
    PRIMARY KEY (week, channel)
);

-- Since when the daemon has had a [digest] schedule: a scheduled time before it is not a missed
-- send (a new schedule does not send last week's digest at once), one after it is.
CREATE TABLE digest_schedule (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    since INTEGER NOT NULL
);
