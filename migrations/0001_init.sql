-- gleaner's first schema. Migrations are additive: never edit one that has landed.
-- Times are Unix seconds (UTC).

-- One row per configured feed, with its fetch state.
CREATE TABLE feeds (
    id                   INTEGER PRIMARY KEY,
    url                  TEXT    NOT NULL UNIQUE,   -- as written in feeds.toml
    name                 TEXT    NOT NULL,
    section              TEXT,
    moved_to             TEXT,                      -- permanent redirect target, fetched instead of url
    etag                 TEXT,
    last_modified        TEXT,
    body_hash            TEXT,                      -- of the last parsed body: same body, no parse
    state                TEXT    NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'gone', 'dead')),
    title                TEXT,                      -- from the feed document
    site_url             TEXT,
    ttl_minutes          INTEGER,                   -- RSS <ttl>
    max_age_seconds      INTEGER,                   -- Cache-Control: max-age
    expires_at           INTEGER,                   -- HTTP Expires
    last_fetched_at      INTEGER,
    last_success_at      INTEGER,
    last_status          INTEGER,                   -- HTTP status of the last response
    last_error           TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    retry_after          INTEGER,                   -- do not fetch before (429/503 Retry-After)
    next_due             INTEGER,                   -- the scheduler's plan; NULL = due now
    schedule             TEXT,                      -- the schedule next_due was planned with
    created_at           INTEGER NOT NULL,
    in_config            INTEGER NOT NULL DEFAULT 1 -- 0 once removed from feeds.toml (rows are kept)
);

-- One row per story; the same canonical URL from several feeds is one story. Within one feed
-- entries are told apart by their own ids, so two stories may share a canonical URL (a
-- changelog linking to page#v1 and page#v2).
CREATE TABLE stories (
    id            INTEGER PRIMARY KEY,
    feed_id       INTEGER REFERENCES feeds (id) ON DELETE SET NULL, -- the source that owns the text
    canonical_url TEXT,                             -- NULL when the entry had no usable link
    url           TEXT,                             -- the link as first seen
    title         TEXT    NOT NULL,                 -- plain text
    author        TEXT,
    published     INTEGER,
    updated       INTEGER,
    excerpt       TEXT    NOT NULL,                 -- plain text, ~300 chars
    content_html  TEXT    NOT NULL,                 -- sanitized
    first_seen    INTEGER NOT NULL,
    last_changed  INTEGER NOT NULL
);
CREATE INDEX stories_canonical_url ON stories (canonical_url);
CREATE INDEX stories_published ON stories (published);
CREATE INDEX stories_first_seen ON stories (first_seen);

-- Which feed carried which story, under which key (guid / url / hash) and content hash.
CREATE TABLE story_sources (
    feed_id      INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    entry_key    TEXT    NOT NULL,
    story_id     INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    entry_url    TEXT,                              -- as this feed gave it, tracking and all
    content_hash TEXT    NOT NULL,
    first_seen   INTEGER NOT NULL,
    PRIMARY KEY (feed_id, entry_key)
) WITHOUT ROWID;
CREATE INDEX story_sources_story ON story_sources (story_id);

-- One row per fetch attempt.
CREATE TABLE fetch_log (
    id          INTEGER PRIMARY KEY,
    feed_id     INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    started_at  INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    status      INTEGER,
    outcome     TEXT    NOT NULL,   -- new | updated | unchanged | not_modified | gone | retry_later | error
    bytes       INTEGER,
    new_count   INTEGER NOT NULL DEFAULT 0,
    updated_count INTEGER NOT NULL DEFAULT 0,
    error       TEXT
);
CREATE INDEX fetch_log_feed ON fetch_log (feed_id, started_at);
