-- What the editor's desk (issue 7) keeps: paused feeds, snoozed stories, polling rounds and
-- the kind of each failed fetch. Times are Unix seconds (UTC).

-- A paused feed is not fetched (by the daemon or `poll`) until resumed; NULL = not paused.
-- A column, not a state: pausing keeps the feed's own state (active, dead, gone) for when it
-- is resumed.
ALTER TABLE feeds ADD COLUMN paused_at INTEGER;

-- A snoozed story leaves the candidate list until `until`, then comes back in the window
-- where its snooze ends (however old the story is). A pick or reject ends the snooze.
CREATE TABLE snoozes (
    story_id INTEGER PRIMARY KEY REFERENCES stories (id) ON DELETE CASCADE,
    until    INTEGER NOT NULL,
    at       INTEGER NOT NULL
);
CREATE INDEX snoozes_until ON snoozes (until);

-- One row per polling round: a `gleaner poll`, or a busy spell of the daemon (from the first
-- fetch started while idle to the last one written). `/metrics` reports the last one.
CREATE TABLE rounds (
    id          INTEGER PRIMARY KEY,
    source      TEXT    NOT NULL CHECK (source IN ('poll', 'daemon')),
    started_at  INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    feeds       INTEGER NOT NULL,
    failed      INTEGER NOT NULL,
    new_count   INTEGER NOT NULL
);

-- Why a fetch failed, as a word: dns, connect, tls, certificate, timeout, http, too_large,
-- redirect, body, private, parse, invalid_url, internal, other. NULL on older rows and on
-- fetches that did not fail.
ALTER TABLE fetch_log ADD COLUMN error_kind TEXT;
