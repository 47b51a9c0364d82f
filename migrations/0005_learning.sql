-- What the ranking learns from (issue 15). Times are Unix seconds (UTC).

-- Each story's features for the model learned from the editor's decisions: the words of its
-- title and text, its title's phrases, its feeds, host and author, as space-separated tokens
-- (`learn::features`). Written with the score; the scoring version changed with this
-- migration, so every story is rescored (and gets its features) once.
ALTER TABLE scores ADD COLUMN features TEXT NOT NULL DEFAULT '';

-- The items of past issues read by `gleaner import issues`: positive examples for the model
-- (by the blurb's words, the link's host and the section). Their links also go into the
-- ledger. One row per issue and link: importing the same file again changes nothing.
CREATE TABLE catalogue (
    id            INTEGER PRIMARY KEY,
    issue         INTEGER NOT NULL,
    section       TEXT,
    url           TEXT    NOT NULL,
    canonical_url TEXT    NOT NULL,
    blurb         TEXT    NOT NULL,
    features      TEXT    NOT NULL,
    imported_at   INTEGER NOT NULL,
    UNIQUE (issue, canonical_url)
);
CREATE INDEX catalogue_imported ON catalogue (imported_at);
