-- Scores are computed when stories are stored (poll scores while parsing); what must be
-- scored again is queued here: a story that gained a source, whose text changed, or that was
-- added by hand. `seq` grows with every request, so a rescore that read an older version of
-- the story leaves the request in place (see store::editorial::write_scores).
CREATE TABLE score_queue (
    story_id INTEGER PRIMARY KEY REFERENCES stories (id) ON DELETE CASCADE,
    seq      INTEGER NOT NULL DEFAULT 0
);

-- What the old staleness rule (scored before the last change, or never) found stale.
INSERT INTO score_queue (story_id)
    SELECT s.id FROM stories s LEFT JOIN scores sc ON sc.story_id = s.id
    WHERE sc.story_id IS NULL OR sc.scored_at <= s.last_changed;

-- What ranking a candidate window needs of a story besides numbers, computed when it is scored:
-- the title part of its near-duplicate fingerprint and the section its link and title suggest.
ALTER TABLE scores ADD COLUMN print BLOB;
ALTER TABLE scores ADD COLUMN section TEXT;

-- Scores of another scoring config are found through this index, not a scan.
CREATE INDEX scores_version ON scores (version);

-- Candidate windows and listings go by a story's date (published, else first seen); no query
-- uses `published` alone, and every index costs each insert.
CREATE INDEX stories_date ON stories (COALESCE(published, first_seen));
DROP INDEX stories_published;
-- "Brought by a feed in the window" is read off this index alone (no row lookups).
DROP INDEX story_sources_story;
CREATE INDEX story_sources_story ON story_sources (story_id, first_seen);

-- A story's sanitized HTML lives beside it, not in it: windows, listings and lookups read
-- thousands of story rows, and a row that carries its body (kilobytes) costs its pages every
-- time.
CREATE TABLE story_html (
    story_id INTEGER PRIMARY KEY REFERENCES stories (id) ON DELETE CASCADE,
    html     TEXT    NOT NULL
);
INSERT INTO story_html (story_id, html) SELECT id, content_html FROM stories;
ALTER TABLE stories DROP COLUMN content_html;
