//! Stories and their sources: cross-feed dedup by canonical URL, updates by content hash.

use chrono::{DateTime, Utc};
use sqlx::{Row, SqliteConnection};

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

/// Stores one story from one feed.
///
/// - known (feed, key), same content hash: nothing to do;
/// - known (feed, key), new hash: if this feed owns the story (brought it first), the story is
///   rewritten and `updated` set; another source's change (an aggregator's live comment
///   count) only updates that source's hash and never overwrites the owner's text;
/// - new key, and this feed already carries a story with the same canonical URL and title: the
///   publisher re-keyed its entries (added GUIDs); the new key joins that story;
/// - new key, canonical URL carried by another feed: this feed becomes one more source;
/// - otherwise a new story (two entries of one feed may share a canonical URL: a changelog
///   linking to `page#v1` and `page#v2`).
pub(super) async fn upsert(
    tx: &mut SqliteConnection,
    feed_id: i64,
    story: &Story,
    now: DateTime<Utc>,
    counts: &mut StoreCounts,
) -> Result<(), StoreError> {
    let e = &story.entry;
    let known = sqlx::query(
        "SELECT ss.story_id, ss.content_hash, s.updated, s.feed_id FROM story_sources ss
         JOIN stories s ON s.id = ss.story_id
         WHERE ss.feed_id = ?1 AND ss.entry_key = ?2",
    )
    .bind(feed_id)
    .bind(&story.key)
    .fetch_optional(&mut *tx)
    .await?;

    if let Some(row) = known {
        let story_id: i64 = row.get(0);
        let old_hash: String = row.get(1);
        let old_updated: Option<i64> = row.get(2);
        let owner: Option<i64> = row.get(3);
        if old_hash == story.content_hash {
            counts.unchanged += 1;
            return Ok(());
        }
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
            return Ok(());
        }
        // The feed's own date when it moved; else the moment we noticed.
        let updated = match e.updated.map(ts) {
            Some(u) if Some(u) != old_updated => u,
            _ => ts(now),
        };
        sqlx::query(
            "UPDATE stories SET title = ?2, url = COALESCE(?3, url), author = COALESCE(?4, author),
                 published = COALESCE(published, ?5), updated = ?6, excerpt = ?7,
                 content_html = ?8, last_changed = ?9, canonical_url = COALESCE(?10, canonical_url)
             WHERE id = ?1",
        )
        .bind(story_id)
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
        return Ok(());
    }

    let mut story_id = None;
    if let Some(c) = &e.canonical_url {
        let rekeyed: Option<i64> = sqlx::query_scalar(
            "SELECT s.id FROM stories s
             WHERE s.canonical_url = ?1 AND s.title = ?3
               AND EXISTS (SELECT 1 FROM story_sources ss WHERE ss.story_id = s.id AND ss.feed_id = ?2)
             ORDER BY s.id LIMIT 1",
        )
        .bind(c)
        .bind(feed_id)
        .bind(&e.title)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = rekeyed {
            counts.unchanged += 1;
            story_id = Some(id);
        } else {
            let elsewhere: Option<i64> = sqlx::query_scalar(
                "SELECT s.id FROM stories s
                 WHERE s.canonical_url = ?1
                   AND NOT EXISTS (SELECT 1 FROM story_sources ss WHERE ss.story_id = s.id AND ss.feed_id = ?2)
                 ORDER BY s.id LIMIT 1",
            )
            .bind(c)
            .bind(feed_id)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(id) = elsewhere {
                if is_original(tx, id, feed_id, c).await? {
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
                // Another source of a known story: fill what the first source lacked.
                sqlx::query(
                    "UPDATE stories SET published = COALESCE(published, ?2),
                         author = COALESCE(author, ?3),
                         content_html = CASE WHEN content_html = '' THEN ?4 ELSE content_html END,
                         excerpt = CASE WHEN excerpt = '' THEN ?5 ELSE excerpt END
                     WHERE id = ?1",
                )
                .bind(id)
                .bind(e.published.map(ts))
                .bind(&e.author)
                .bind(&e.content_html)
                .bind(&e.excerpt)
                .execute(&mut *tx)
                .await?;
                counts.also_elsewhere += 1;
                story_id = Some(id);
            }
        }
    }
    let story_id = match story_id {
        Some(id) => id,
        None => {
            counts.new += 1;
            sqlx::query_scalar(
                "INSERT INTO stories (feed_id, canonical_url, url, title, author, published,
                     updated, excerpt, content_html, first_seen, last_changed)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)
                 RETURNING id",
            )
            .bind(feed_id)
            .bind(&e.canonical_url)
            .bind(&e.url)
            .bind(&e.title)
            .bind(&e.author)
            .bind(e.published.map(ts))
            .bind(e.updated.map(ts))
            .bind(&e.excerpt)
            .bind(&e.content_html)
            .bind(ts(now))
            .fetch_one(&mut *tx)
            .await?
        }
    };
    sqlx::query(
        "INSERT INTO story_sources (feed_id, entry_key, story_id, entry_url, content_hash, first_seen)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(feed_id)
    .bind(&story.key)
    .bind(story_id)
    .bind(&e.url)
    .bind(&story.content_hash)
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
