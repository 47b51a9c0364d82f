//! Stories and their sources: cross-feed dedup by canonical URL, updates by content hash.
//!
//! A batch of feeds is written in one transaction with a fixed number of statements for all of
//! them: one query finds which keys the feeds already have, one which canonical URLs are
//! already stories (and who owns them), new stories, sources and scores go in with multi-row
//! inserts at the end. Only changed entries and joins of another feed's story are written row
//! by row. The result is exactly what writing the feeds one after another would give: what an
//! earlier feed of the batch changed is tracked in memory (new stories, owners, titles), and a
//! change the batch view does not follow (a story's canonical URL edited) makes it read the
//! database again.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

use super::editorial::{STORY_COLUMNS, story_view};
use super::{Store, StoreError, ts};
use crate::model::{FeedRow, ScoreRow, StoreCounts, Story, StoryView};

/// Which stories to list.
#[derive(Debug, Clone, Default)]
pub struct StoryFilter {
    /// Published (or first seen, when undated) at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Carried by the feed with this name.
    pub feed: Option<String>,
    pub limit: Option<u32>,
}

/// One feed's stories, as the batch writes them.
pub(super) struct FeedStories<'a> {
    pub feed: &'a FeedRow,
    /// The site URL the feed document gave in this fetch (ownership is decided on it).
    pub site_url: Option<&'a str>,
    pub stories: &'a [Story],
}

/// A (feed, key) the database already has.
struct Known {
    story_id: i64,
    hash: String,
    updated: Option<i64>,
    owner: Option<i64>,
    canonical: Option<String>,
}

/// A story that an entry of the batch links to by canonical URL.
#[derive(Debug, Clone)]
struct Hit {
    id: i64,
    title: String,
    /// Feeds of the batch that carried it before the batch.
    carriers: Vec<i64>,
}

/// Who owns a story's text: the feed and its addresses; and whether it has a body yet.
#[derive(Debug, Clone, Default)]
struct Owner {
    feed: Option<i64>,
    url: Option<String>,
    site: Option<String>,
    html_empty: bool,
}

/// What a batch of feeds written in one transaction shares: story ids (allocated from
/// `MAX(id)` once, under `BEGIN IMMEDIATE`), and the rows written once at the end.
#[derive(Debug, Default)]
pub(super) struct Batch {
    next_id: Option<i64>,
    /// Scores computed at ingest for new stories.
    scores: Vec<ScoreRow>,
    /// Stories whose score must be recomputed.
    queue: Vec<i64>,
}

impl Batch {
    /// The first of `n` fresh story ids.
    async fn allocate(&mut self, tx: &mut SqliteConnection, n: usize) -> Result<i64, StoreError> {
        let next = match self.next_id {
            Some(id) => id,
            None => {
                let max: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM stories")
                    .fetch_one(&mut *tx)
                    .await?;
                max + 1
            }
        };
        self.next_id = Some(next + n as i64);
        Ok(next)
    }
}

/// Rows waiting to be inserted: new stories (with their ids) and sources.
#[derive(Default)]
struct Pending<'a> {
    stories: Vec<(i64, i64, &'a Story)>,
    sources: Vec<(i64, &'a Story, i64)>,
    /// Ids at or above this are pending stories.
    first_id: Option<i64>,
}

impl Pending<'_> {
    fn holds(&self, id: i64) -> bool {
        self.first_id.is_some_and(|f| id >= f) && self.stories.iter().any(|(i, _, _)| *i == id)
    }

    async fn flush(
        &mut self,
        tx: &mut SqliteConnection,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let now = ts(now);
        for chunk in super::chunks(&self.stories) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO stories (id, feed_id, canonical_url, url, title, author, published,
                     updated, excerpt, first_seen, last_changed) ",
            );
            q.push_values(chunk, |mut b, (id, feed_id, s)| {
                let e = &s.entry;
                b.push_bind(*id)
                    .push_bind(*feed_id)
                    .push_bind(e.canonical_url.as_deref())
                    .push_bind(e.url.as_deref())
                    .push_bind(e.title.as_str())
                    .push_bind(e.author.as_deref())
                    .push_bind(e.published.map(ts))
                    .push_bind(e.updated.map(ts))
                    .push_bind(e.excerpt.as_str())
                    .push_bind(now)
                    .push_bind(now);
            });
            q.build().execute(&mut *tx).await?;
            let mut q: QueryBuilder<Sqlite> =
                QueryBuilder::new("INSERT INTO story_html (story_id, html) ");
            q.push_values(chunk, |mut b, (id, _, s)| {
                b.push_bind(*id).push_bind(s.entry.content_html.as_str());
            });
            q.build().execute(&mut *tx).await?;
        }
        for chunk in super::chunks(&self.sources) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO story_sources (feed_id, entry_key, story_id, entry_url, content_hash,
                     first_seen) ",
            );
            q.push_values(chunk, |mut b, (feed_id, s, story_id)| {
                b.push_bind(*feed_id)
                    .push_bind(s.key.as_str())
                    .push_bind(*story_id)
                    .push_bind(s.entry.url.as_deref())
                    .push_bind(s.content_hash.as_str())
                    .push_bind(now);
            });
            q.build().execute(&mut *tx).await?;
        }
        self.stories.clear();
        self.sources.clear();
        self.first_id = None;
        Ok(())
    }
}

/// Stores the stories of a batch of feeds, feed after feed. Per entry:
///
/// - known (feed, key), same content hash: nothing to do;
/// - known (feed, key), new hash: if this feed owns the story (brought it first), the story is
///   rewritten and `updated` set; another source's change (an aggregator's live comment
///   count) only updates that source's hash and never overwrites the owner's text;
/// - new key, and this feed already carries a story with the same canonical URL and title: the
///   publisher re-keyed its entries (added GUIDs); the new key joins that story;
/// - new key, canonical URL carried by another feed: this feed becomes one more source (and
///   takes the text over when it is the story's own publisher);
/// - otherwise a new story (two entries of one feed may share a canonical URL: a changelog
///   linking to `page#v1` and `page#v2`).
///
/// The transaction must have been begun with `BEGIN IMMEDIATE`: new story ids are allocated
/// from `MAX(id)`.
pub(super) async fn upsert_batch(
    tx: &mut SqliteConnection,
    feeds: &[FeedStories<'_>],
    now: DateTime<Utc>,
    batch: &mut Batch,
) -> Result<Vec<StoreCounts>, StoreError> {
    let mut all_counts = vec![StoreCounts::default(); feeds.len()];
    if feeds.iter().all(|f| f.stories.is_empty()) {
        return Ok(all_counts);
    }
    let known = known_keys(tx, feeds).await?;
    let (mut by_url, mut owners) = lookup_urls(tx, feeds, &known).await?;
    let mut pending = Pending::default();

    for (n, f) in feeds.iter().enumerate() {
        let counts = &mut all_counts[n];
        let feed_id = f.feed.id;
        let mut created: Vec<(i64, &Story)> = Vec::new();
        // Stories this feed joined in this turn: it did not carry them when its turn began.
        let mut joined: Vec<i64> = Vec::new();
        for story in f.stories {
            let e = &story.entry;
            if let Some(k) = known.get(&(feed_id, story.key.as_str())) {
                if k.hash == story.content_hash {
                    counts.unchanged += 1;
                    continue;
                }
                let owner = owners.get(&k.story_id).map_or(k.owner, |o| o.feed);
                if update(tx, feed_id, story, k, owner, now, counts).await? {
                    batch.queue.push(k.story_id);
                    if let Some(o) = owners.get_mut(&k.story_id) {
                        o.html_empty = e.content_html.is_empty();
                    }
                    if e.canonical_url.is_some() && e.canonical_url != k.canonical {
                        // The story moved to another canonical URL: the batch's view of URLs
                        // is stale. Write what is pending and read it again.
                        pending.flush(tx, now).await?;
                        let (mut fresh, fresh_owners) =
                            lookup_urls(tx, &feeds[n..], &known).await?;
                        // This feed sees the database as it was when its turn began.
                        for hits in fresh.values_mut() {
                            hits.retain(|h| !created.iter().any(|(id, _)| *id == h.id));
                            for h in hits.iter_mut().filter(|h| joined.contains(&h.id)) {
                                h.carriers.retain(|c| *c != feed_id);
                            }
                        }
                        by_url = fresh;
                        owners.extend(fresh_owners);
                    } else {
                        retitle(&mut by_url, k.canonical.as_deref(), k.story_id, &e.title);
                    }
                }
                continue;
            }
            let existing = e.canonical_url.as_ref().and_then(|c| by_url.get(c));
            let rekeyed = existing.and_then(|v| {
                v.iter()
                    .find(|h| h.carriers.contains(&feed_id) && h.title == e.title)
            });
            let elsewhere =
                existing.and_then(|v| v.iter().find(|h| !h.carriers.contains(&feed_id)));
            match (rekeyed, elsewhere) {
                (Some(h), _) => {
                    counts.unchanged += 1;
                    pending.sources.push((feed_id, story, h.id));
                }
                (None, Some(h)) => {
                    let id = h.id;
                    if pending.holds(id) {
                        pending.flush(tx, now).await?;
                    }
                    let owner = owners.get(&id).cloned().unwrap_or_default();
                    let canonical = e.canonical_url.as_deref().unwrap_or_default();
                    let original = is_original(canonical, f.feed, f.site_url, &owner);
                    join(tx, feed_id, story, id, original, owner.html_empty, now).await?;
                    let html_empty = if original || owner.html_empty {
                        e.content_html.is_empty()
                    } else {
                        false
                    };
                    if original {
                        owners.insert(
                            id,
                            Owner {
                                feed: Some(feed_id),
                                url: Some(f.feed.url.clone()),
                                site: f.site_url.map(str::to_string),
                                html_empty,
                            },
                        );
                        retitle(&mut by_url, e.canonical_url.as_deref(), id, &e.title);
                    } else if let Some(o) = owners.get_mut(&id) {
                        o.html_empty = html_empty;
                    }
                    counts.also_elsewhere += 1;
                    joined.push(id);
                    // One more source: the score changes (multi-source bonus, feed weights).
                    batch.queue.push(id);
                    pending.sources.push((feed_id, story, id));
                }
                (None, None) => {
                    counts.new += 1;
                    let id = batch.allocate(tx, 1).await?;
                    pending.first_id.get_or_insert(id);
                    pending.stories.push((id, feed_id, story));
                    pending.sources.push((feed_id, story, id));
                    created.push((id, story));
                    // Scored at ingest (poll scores while parsing); else by the next rescore.
                    match &story.score {
                        Some(score) => batch.scores.push(ScoreRow {
                            story_id: id,
                            ..score.clone()
                        }),
                        None => batch.queue.push(id),
                    }
                }
            }
        }
        // This feed's new stories are there for the feeds after it (never for itself: two of
        // its own entries may share a canonical URL).
        for (id, story) in created {
            owners.insert(
                id,
                Owner {
                    feed: Some(feed_id),
                    url: Some(f.feed.url.clone()),
                    site: f.site_url.map(str::to_string),
                    html_empty: story.entry.content_html.is_empty(),
                },
            );
            if let Some(c) = &story.entry.canonical_url {
                by_url.entry(c.clone()).or_default().push(Hit {
                    id,
                    title: story.entry.title.clone(),
                    carriers: vec![feed_id],
                });
            }
        }
    }
    pending.flush(tx, now).await?;
    Ok(all_counts)
}

/// After a story's title changed, the batch's view of it follows.
fn retitle(by_url: &mut HashMap<String, Vec<Hit>>, canonical: Option<&str>, id: i64, title: &str) {
    if let Some(hits) = canonical.and_then(|c| by_url.get_mut(c)) {
        for h in hits.iter_mut().filter(|h| h.id == id) {
            h.title = title.to_string();
        }
    }
}

/// The keys of the batch's entries that their feeds already have.
async fn known_keys<'a>(
    tx: &mut SqliteConnection,
    feeds: &'a [FeedStories<'a>],
) -> Result<HashMap<(i64, &'a str), Known>, StoreError> {
    let pairs: Vec<(i64, &str)> = feeds
        .iter()
        .flat_map(|f| f.stories.iter().map(|s| (f.feed.id, s.key.as_str())))
        .collect();
    if pairs.is_empty() {
        return Ok(HashMap::new());
    }
    let by_pair: HashMap<(i64, &str), &str> = pairs.iter().map(|p| (*p, p.1)).collect();
    let rows = sqlx::query(
        "SELECT ss.feed_id, ss.entry_key, ss.story_id, ss.content_hash, s.updated, s.feed_id,
             s.canonical_url
         FROM json_each(?1) j
         JOIN story_sources ss ON ss.feed_id = j.value->>0 AND ss.entry_key = j.value->>1
         JOIN stories s ON s.id = ss.story_id",
    )
    .bind(serde_json::to_string(&pairs).expect("keys serialize"))
    .fetch_all(&mut *tx)
    .await?;
    let mut known = HashMap::with_capacity(rows.len());
    for r in rows {
        let feed_id: i64 = r.get(0);
        let key: String = r.get(1);
        // Keyed by the batch's own strings, so lookups need no allocation.
        let Some(&k) = by_pair.get(&(feed_id, key.as_str())) else {
            continue;
        };
        known.insert(
            (feed_id, k),
            Known {
                story_id: r.get(2),
                hash: r.get(3),
                updated: r.get(4),
                owner: r.get(5),
                canonical: r.get(6),
            },
        );
    }
    Ok(known)
}

/// Stories at the canonical URLs of the batch's new entries: which of the batch's feeds carry
/// each, and who owns it.
async fn lookup_urls(
    tx: &mut SqliteConnection,
    feeds: &[FeedStories<'_>],
    known: &HashMap<(i64, &str), Known>,
) -> Result<(HashMap<String, Vec<Hit>>, HashMap<i64, Owner>), StoreError> {
    let mut urls: Vec<&str> = feeds
        .iter()
        .flat_map(|f| {
            f.stories
                .iter()
                .filter(|s| !known.contains_key(&(f.feed.id, s.key.as_str())))
                .filter_map(|s| s.entry.canonical_url.as_deref())
        })
        .collect();
    urls.sort_unstable();
    urls.dedup();
    let mut by_url: HashMap<String, Vec<Hit>> = HashMap::new();
    let mut owners = HashMap::new();
    if urls.is_empty() {
        return Ok((by_url, owners));
    }
    let feed_ids: Vec<i64> = feeds.iter().map(|f| f.feed.id).collect();
    let rows = sqlx::query(
        "SELECT s.id, s.canonical_url, s.title, s.feed_id, o.url, o.site_url,
             (SELECT json_group_array(DISTINCT ss.feed_id) FROM story_sources ss
              WHERE ss.story_id = s.id AND ss.feed_id IN (SELECT value FROM json_each(?2))),
             COALESCE((SELECT b.html = '' FROM story_html b WHERE b.story_id = s.id), 1)
         FROM stories s LEFT JOIN feeds o ON o.id = s.feed_id
         WHERE s.canonical_url IN (SELECT value FROM json_each(?1))
         ORDER BY s.id",
    )
    .bind(serde_json::to_string(&urls).expect("strings serialize"))
    .bind(serde_json::to_string(&feed_ids).expect("ids serialize"))
    .fetch_all(&mut *tx)
    .await?;
    for r in rows {
        let id: i64 = r.get(0);
        owners.insert(
            id,
            Owner {
                feed: r.get(3),
                url: r.get(4),
                site: r.get(5),
                html_empty: r.get(7),
            },
        );
        by_url.entry(r.get(1)).or_default().push(Hit {
            id,
            title: r.get(2),
            carriers: serde_json::from_str(r.get::<&str, _>(6)).unwrap_or_default(),
        });
    }
    Ok((by_url, owners))
}

/// Writes the batch's scores and rescore requests.
pub(super) async fn flush_batch(
    tx: &mut SqliteConnection,
    batch: &mut Batch,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if !batch.scores.is_empty() {
        super::editorial::insert_scores(tx, &batch.scores, now).await?;
        batch.scores.clear();
    }
    if !batch.queue.is_empty() {
        super::editorial::enqueue(tx, &batch.queue).await?;
        batch.queue.clear();
    }
    Ok(())
}

/// A known entry whose content changed. Returns whether the story's text changed (it did when
/// this feed owns it), so that its score is recomputed.
async fn update(
    tx: &mut SqliteConnection,
    feed_id: i64,
    story: &Story,
    k: &Known,
    owner: Option<i64>,
    now: DateTime<Utc>,
    counts: &mut StoreCounts,
) -> Result<bool, StoreError> {
    let e = &story.entry;
    sqlx::query(
        "UPDATE story_sources SET content_hash = ?3, entry_url = ?4
         WHERE feed_id = ?1 AND entry_key = ?2",
    )
    .bind(feed_id)
    .bind(&story.key)
    .bind(&story.content_hash)
    .bind(&e.url)
    .execute(&mut *tx)
    .await?;
    if owner != Some(feed_id) {
        counts.unchanged += 1;
        return Ok(false);
    }
    // The feed's own date when it moved; else the moment we noticed.
    let updated = match e.updated.map(ts) {
        Some(u) if Some(u) != k.updated => u,
        _ => ts(now),
    };
    sqlx::query(
        "UPDATE stories SET title = ?2, url = COALESCE(?3, url), author = COALESCE(?4, author),
             published = COALESCE(published, ?5), updated = ?6, excerpt = ?7,
             last_changed = ?8, canonical_url = COALESCE(?9, canonical_url)
         WHERE id = ?1",
    )
    .bind(k.story_id)
    .bind(&e.title)
    .bind(&e.url)
    .bind(&e.author)
    .bind(e.published.map(ts))
    .bind(updated)
    .bind(&e.excerpt)
    .bind(ts(now))
    .bind(&e.canonical_url)
    .execute(&mut *tx)
    .await?;
    set_html(tx, k.story_id, &e.content_html, true).await?;
    counts.updated += 1;
    Ok(true)
}

/// This feed becomes one more source of another feed's story; when it is the story's own
/// publisher (`original`), its text wins. The body is written only when it changes (taken
/// over, or filling a story that had none).
async fn join(
    tx: &mut SqliteConnection,
    feed_id: i64,
    story: &Story,
    id: i64,
    original: bool,
    html_empty: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let e = &story.entry;
    // Taking over: this entry's text, keeping what it lacks. Otherwise fill what the first
    // source lacked. Either way a new source changes the score (last_changed).
    sqlx::query(
        "UPDATE stories SET
             feed_id = CASE WHEN ?2 THEN ?3 ELSE feed_id END,
             title = CASE WHEN ?2 THEN ?4 ELSE title END,
             url = CASE WHEN ?2 THEN ?5 ELSE url END,
             excerpt = CASE WHEN ?2 OR excerpt = '' THEN ?6 ELSE excerpt END,
             author = CASE WHEN ?2 THEN COALESCE(?7, author) ELSE COALESCE(author, ?7) END,
             published = CASE WHEN ?2 THEN COALESCE(?8, published) ELSE COALESCE(published, ?8) END,
             last_changed = ?9
         WHERE id = ?1",
    )
    .bind(id)
    .bind(original)
    .bind(feed_id)
    .bind(&e.title)
    .bind(&e.url)
    .bind(&e.excerpt)
    .bind(&e.author)
    .bind(e.published.map(ts))
    .bind(ts(now))
    .execute(&mut *tx)
    .await?;
    if original || html_empty {
        set_html(tx, id, &e.content_html, original).await?;
    }
    Ok(())
}

/// Writes a story's body: always (`replace`), or only where it had none.
async fn set_html(
    tx: &mut SqliteConnection,
    id: i64,
    html: &str,
    replace: bool,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO story_html (story_id, html) VALUES (?1, ?2)
         ON CONFLICT (story_id) DO UPDATE SET
             html = CASE WHEN ?3 OR html = '' THEN excluded.html ELSE html END",
    )
    .bind(id)
    .bind(html)
    .bind(replace)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Whether `feed` is the story's own publisher (its feed or site is on the story's host) while
/// the current owner is not — e.g. the blog's feed arriving after Hacker News.
fn is_original(canonical: &str, feed: &FeedRow, site: Option<&str>, owner: &Owner) -> bool {
    let host = |u: Option<&str>| {
        u.and_then(|u| url::Url::parse(u).ok()).and_then(|u| {
            u.host_str()
                .map(|h| h.trim_start_matches("www.").to_ascii_lowercase())
        })
    };
    let story_host = host(Some(canonical));
    let on_host = |a: Option<&str>, b: Option<&str>| {
        story_host.is_some() && (host(a) == story_host || host(b) == story_host)
    };
    on_host(Some(&feed.url), site) && !on_host(owner.url.as_deref(), owner.site.as_deref())
}

impl Store {
    /// Stored stories, newest first (by published date, else first seen).
    pub async fn stories(&self, filter: &StoryFilter) -> Result<Vec<StoryView>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {STORY_COLUMNS}
             FROM stories s
             WHERE (?1 IS NULL OR COALESCE(s.published, s.first_seen) >= ?1)
               AND (?2 IS NULL OR EXISTS (
                    SELECT 1 FROM story_sources ss JOIN feeds f ON f.id = ss.feed_id
                    WHERE ss.story_id = s.id AND f.name = ?2))
             ORDER BY COALESCE(s.published, s.first_seen) DESC, s.id DESC
             LIMIT COALESCE(?3, -1)"
        )))
        .bind(filter.since.map(ts))
        .bind(&filter.feed)
        .bind(filter.limit.map(i64::from))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(story_view).collect())
    }
}
