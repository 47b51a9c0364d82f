-- Editorial state: scores with their explanations, editor decisions, published issues and
-- the ledger of links used. Times are Unix seconds (UTC).

-- The score of a story before recency decay (decay depends on "now" and is applied when
-- candidates are listed). `version` is a hash of the scoring config; `sources` the number of
-- feeds when scored: either changing makes the row stale.
CREATE TABLE scores (
    story_id      INTEGER PRIMARY KEY REFERENCES stories (id) ON DELETE CASCADE,
    version       TEXT    NOT NULL,
    sources       INTEGER NOT NULL,
    base          REAL    NOT NULL,   -- keyword score × source weight + multi-source bonus
    vetoed_by     TEXT,               -- the veto term, when one matched
    simhash       INTEGER NOT NULL,   -- of the story's text, for near-duplicate grouping
    body_len      INTEGER NOT NULL,   -- characters of that text
    explanation   TEXT    NOT NULL,   -- JSON: terms, fields, contributions, weights
    scored_at     INTEGER NOT NULL
);

-- The editor's current decision on a story; history is in decision_log.
CREATE TABLE decisions (
    story_id   INTEGER PRIMARY KEY REFERENCES stories (id) ON DELETE CASCADE,
    decision   TEXT    NOT NULL CHECK (decision IN ('pick', 'reject')),
    section    TEXT,               -- overrides the suggested section
    blurb      TEXT,
    reason     TEXT,
    also_at    TEXT,               -- JSON array: other URLs of the same story when picked
    decided_at INTEGER NOT NULL,
    issue      INTEGER REFERENCES issues (number)   -- set when published
);

CREATE TABLE decision_log (
    id         INTEGER PRIMARY KEY,
    story_id   INTEGER NOT NULL,
    action     TEXT    NOT NULL,   -- pick | reject | unpick | add
    section    TEXT,
    blurb      TEXT,
    reason     TEXT,
    at         INTEGER NOT NULL
);

-- Published issues; the next candidate window starts at the last one's published_at.
CREATE TABLE issues (
    number       INTEGER PRIMARY KEY,
    published_at INTEGER NOT NULL
);

-- Every link used in a past issue, by canonical URL: it never comes back as a candidate
-- (Events and Jobs may, for [output] repeat_days after use).
CREATE TABLE ledger (
    canonical_url TEXT    NOT NULL,
    issue         INTEGER NOT NULL REFERENCES issues (number),
    story_id      INTEGER,
    section       TEXT,
    used_at       INTEGER NOT NULL,
    PRIMARY KEY (canonical_url, issue)
);

-- What `gleaner draft` put in an issue's draft: `publish` publishes exactly these, so a pick
-- made after the draft was written waits for the next issue.
CREATE TABLE draft_items (
    issue    INTEGER NOT NULL,
    story_id INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    PRIMARY KEY (issue, story_id)
);
