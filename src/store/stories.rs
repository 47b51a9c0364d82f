//! Stories and their sources: cross-feed dedup by canonical URL, updates by content hash.
//!
//! A feed's entries are written as one batch, inside the feed's transaction: one query finds
//! which keys the feed already has, one finds which canonical URLs are already stories, new
//! stories and sources go in with multi-row inserts. Only changed entries and joins of another
//! feed's story are written row by row.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

use super::editorial::{STORY_COLUMNS, story_view};
use super::{Store, StoreError, ts};
use crate::model::{StoreCounts, Story, StoryView};

/// Which stories to list.
#[derive(Debug, Clone, Default)]
pub struct StoryFilter {
    /// Published (or first seen, when undated) at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Carried by the feed with this name.
    pub feed: Option<String>,
    pub limit: Option<u32>,
}

/// Rows per multi-row INSERT (11 columns × 500 stays far below SQLite's variable limit).
const CHUNK: usize = 500;

struct Known {
    story_id: i64,
    hash: String,
    updated: Option<i64>,
    owner: Option<i64>,
}

/// Stores one feed's stories. Per entry:
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
pub(super) async fn upsert_all(
    tx: &mut SqliteConnection,
    feed_id: i64,
    stories: &[Story],
    now: DateTime<Utc>,
    counts: &mut StoreCounts,
) -> Result<(), StoreError> {
    if stories.is_empty() {
        return Ok(());
    }
    let keys: Vec<&str> = stories.iter().map(|s| s.key.as_str()).collect();
    let known: HashMap<String, Known> = sqlx::query(
        "SELECT ss.entry_key, ss.story_id, ss.content_hash, s.updated, s.feed_id
         FROM story_sources ss JOIN stories s ON s.id = ss.story_id
         WHERE ss.feed_id = ?1 AND ss.entry_key IN (SELECT value FROM json_each(?2))",
    )
    .bind(feed_id)
    .bind(serde_json::to_string(&keys).expect("strings serialize"))
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| {
        (
            r.get::<String, _>(0),
            Known {
                story_id: r.get(1),
                hash: r.get(2),
                updated: r.get(3),
                owner: r.get(4),
            },
        )
    })
    .collect();

    // Existing stories for the canonical URLs of entries new to this feed.
    let urls: Vec<&str> = stories
        .iter()
        .filter(|s| !known.contains_key(&s.key))
        .filter_map(|s| s.entry.canonical_url.as_deref())
        .collect();
    let mut by_url: HashMap<String, Vec<(i64, String, bool)>> = HashMap::new();
    if !urls.is_empty() {
        let rows = sqlx::query(
            "SELECT s.id, s.canonical_url, s.title,
                 EXISTS (SELECT 1 FROM story_sources ss WHERE ss.story_id = s.id AND ss.feed_id = ?1)
             FROM stories s
             WHERE s.canonical_url IN (SELECT value FROM json_each(?2))
             ORDER BY s.id",
        )
        .bind(feed_id)
        .bind(serde_json::to_string(&urls).expect("strings serialize"))
        .fetch_all(&mut *tx)
        .await?;
        for r in rows {
            by_url
                .entry(r.get(1))
                .or_default()
                .push((r.get(0), r.get(2), r.get::<bool, _>(3)));
        }
    }

    let mut new_stories: Vec<&Story> = Vec::new();
    // (story, story id) for every source row to insert.
    let mut sources: Vec<(&Story, Option<i64>)> = Vec::new();
    for story in stories {
        let e = &story.entry;
        if let Some(k) = known.get(&story.key) {
            if k.hash == story.content_hash {
                counts.unchanged += 1;
                continue;
            }
            update(tx, feed_id, story, k, now, counts).await?;
            continue;
        }
        let existing = e.canonical_url.as_ref().and_then(|c| by_url.get(c));
        let rekeyed = existing.and_then(|v| v.iter().find(|(_, t, mine)| *mine && *t == e.title));
        let elsewhere = existing.and_then(|v| v.iter().find(|(_, _, mine)| !*mine));
        match (rekeyed, elsewhere) {
            (Some((id, _, _)), _) => {
                counts.unchanged += 1;
                sources.push((story, Some(*id)));
            }
            (None, Some((id, _, _))) => {
                join(tx, feed_id, story, *id, now).await?;
                counts.also_elsewhere += 1;
                sources.push((story, Some(*id)));
            }
            (None, None) => {
                counts.new += 1;
                new_stories.push(story);
                sources.push((story, None));
            }
        }
    }

    // New stories, with ids allocated here so sources can point at them.
    let mut ids: HashMap<*const Story, i64> = HashMap::new();
    if !new_stories.is_empty() {
        let max: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM stories")
            .fetch_one(&mut *tx)
            .await?;
        for (i, s) in new_stories.iter().enumerate() {
            ids.insert(*s as *const Story, max + 1 + i as i64);
        }
        for chunk in new_stories.chunks(CHUNK) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO stories (id, feed_id, canonical_url, url, title, author, published,
                     updated, excerpt, content_html, first_seen, last_changed) ",
            );
            q.push_values(chunk, |mut b, s| {
                let e = &s.entry;
                b.push_bind(ids[&(*s as *const Story)])
                    .push_bind(feed_id)
                    .push_bind(e.canonical_url.clone())
                    .push_bind(e.url.clone())
                    .push_bind(e.title.clone())
                    .push_bind(e.author.clone())
                    .push_bind(e.published.map(ts))
                    .push_bind(e.updated.map(ts))
                    .push_bind(e.excerpt.clone())
                    .push_bind(e.content_html.clone())
                    .push_bind(ts(now))
                    .push_bind(ts(now));
            });
            q.build().execute(&mut *tx).await?;
        }
    }
    for chunk in sources.chunks(CHUNK) {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO story_sources (feed_id, entry_key, story_id, entry_url, content_hash, first_seen) ",
        );
        q.push_values(chunk, |mut b, (s, id)| {
            let story_id = id.unwrap_or_else(|| ids[&(*s as *const Story)]);
            b.push_bind(feed_id)
                .push_bind(s.key.clone())
                .push_bind(story_id)
                .push_bind(s.entry.url.clone())
                .push_bind(s.content_hash.clone())
                .push_bind(ts(now));
        });
        q.build().execute(&mut *tx).await?;
    }
    Ok(())
}

/// A known entry whose content changed.
async fn update(
    tx: &mut SqliteConnection,
    feed_id: i64,
    story: &Story,
    k: &Known,
    now: DateTime<Utc>,
    counts: &mut StoreCounts,
) -> Result<(), StoreError> {
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
    if k.owner != Some(feed_id) {
        counts.unchanged += 1;
        return Ok(());
    }
    // The feed's own date when it moved; else the moment we noticed.
    let updated = match e.updated.map(ts) {
        Some(u) if Some(u) != k.updated => u,
        _ => ts(now),
    };
    sqlx::query(
        "UPDATE stories SET title = ?2, url = COALESCE(?3, url), author = COALESCE(?4, author),
             published = COALESCE(published, ?5), updated = ?6, excerpt = ?7,
             content_html = ?8, last_changed = ?9, canonical_url = COALESCE(?10, canonical_url)
         WHERE id = ?1",
    )
    .bind(k.story_id)
    .bind(&e.title)
    .bind(&e.url)
    .bind(&e.author)
    .bind(e.published.map(ts))
    .bind(updated)
    .bind(&e.excerpt)
    .bind(&e.content_html)
    .bind(ts(now))
    .bind(&e.canonical_url)
    .execute(&mut *tx)
    .await?;
    counts.updated += 1;
    Ok(())
}

/// This feed becomes one more source of another feed's story.
async fn join(
    tx: &mut SqliteConnection,
    feed_id: i64,
    story: &Story,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let e = &story.entry;
    let canonical = e.canonical_url.as_deref().unwrap_or_default();
    if is_original(tx, id, feed_id, canonical).await? {
        // The publisher's own feed arrived after an aggregator: its text wins.
        sqlx::query(
            "UPDATE stories SET feed_id = ?2, title = ?3, url = ?4, excerpt = ?5,
                 content_html = ?6, author = COALESCE(?7, author),
                 published = COALESCE(?8, published), last_changed = ?9
             WHERE id = ?1",
        )
        .bind(id)
        .bind(feed_id)
        .bind(&e.title)
        .bind(&e.url)
        .bind(&e.excerpt)
        .bind(&e.content_html)
        .bind(&e.author)
        .bind(e.published.map(ts))
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
    }
    // Fill what the first source lacked; a new source changes the score (last_changed).
    sqlx::query(
        "UPDATE stories SET published = COALESCE(published, ?2),
             author = COALESCE(author, ?3),
             content_html = CASE WHEN content_html = '' THEN ?4 ELSE content_html END,
             excerpt = CASE WHEN excerpt = '' THEN ?5 ELSE excerpt END,
             last_changed = ?6
         WHERE id = ?1",
    )
    .bind(id)
    .bind(e.published.map(ts))
    .bind(&e.author)
    .bind(&e.content_html)
    .bind(&e.excerpt)
    .bind(ts(now))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Whether `feed_id` is the story's own publisher (its feed or site is on the story's host)
/// while the current owner is not — e.g. the blog's feed arriving after Hacker News.
async fn is_original(
    tx: &mut SqliteConnection,
    story_id: i64,
    feed_id: i64,
    canonical: &str,
) -> Result<bool, StoreError> {
    type Urls = (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let row: Option<Urls> = sqlx::query_as(
        "SELECT o.url, o.site_url, j.url, j.site_url FROM stories s
         LEFT JOIN feeds o ON o.id = s.feed_id
         JOIN feeds j ON j.id = ?2
         WHERE s.id = ?1",
    )
    .bind(story_id)
    .bind(feed_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((owner_url, owner_site, url, site)) = row else {
        return Ok(false);
    };
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
    Ok(on_host(url.as_deref(), site.as_deref())
        && !on_host(owner_url.as_deref(), owner_site.as_deref()))
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
