//! Feeds: syncing with `feeds.toml`, and recording each fetch in one transaction.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{Store, StoreError, from_ts, stories, ts};
use crate::config::FeedConfig;
use crate::model::{FeedRow, FeedState, FetchRecord, Outcome, StoreCounts};

const FEED_COLUMNS: &str = "id, name, url, moved_to, section, etag, last_modified, body_hash, \
                            state, retry_after, consecutive_failures";

fn feed_row(r: &SqliteRow) -> FeedRow {
    FeedRow {
        id: r.get("id"),
        name: r.get("name"),
        url: r.get("url"),
        moved_to: r.get("moved_to"),
        section: r.get("section"),
        etag: r.get("etag"),
        last_modified: r.get("last_modified"),
        body_hash: r.get("body_hash"),
        state: FeedState::parse(r.get::<&str, _>("state")),
        retry_after: r.get::<Option<i64>, _>("retry_after").map(from_ts),
        consecutive_failures: r.get("consecutive_failures"),
    }
}

impl Store {
    /// Makes the feeds table match the config: new feeds are added, names and sections
    /// updated, feeds no longer configured are kept (with their stories) but marked out of
    /// config. A feed whose configured URL is where an old row was redirected to takes that
    /// row over. Returns the configured feeds' rows in config order.
    pub async fn sync_feeds(
        &self,
        feeds: &[FeedConfig],
        now: DateTime<Utc>,
    ) -> Result<Vec<FeedRow>, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE feeds SET in_config = 0")
            .execute(&mut *tx)
            .await?;
        let mut rows = Vec::with_capacity(feeds.len());
        for f in feeds {
            let url = f.url.as_str();
            let existing: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM feeds WHERE url = ?1
                 UNION ALL SELECT id FROM feeds WHERE moved_to = ?1 LIMIT 1",
            )
            .bind(url)
            .fetch_optional(&mut *tx)
            .await?;
            let id =
                match existing {
                    Some(id) => {
                        sqlx::query(
                            "UPDATE feeds SET name = ?2, section = ?3, in_config = 1, url = ?4,
                             moved_to = CASE WHEN moved_to = ?4 THEN NULL ELSE moved_to END
                         WHERE id = ?1",
                        )
                        .bind(id)
                        .bind(&f.name)
                        .bind(&f.section)
                        .bind(url)
                        .execute(&mut *tx)
                        .await?;
                        id
                    }
                    None => sqlx::query_scalar(
                        "INSERT INTO feeds (url, name, section, created_at) VALUES (?1, ?2, ?3, ?4)
                         RETURNING id",
                    )
                    .bind(url)
                    .bind(&f.name)
                    .bind(&f.section)
                    .bind(ts(now))
                    .fetch_one(&mut *tx)
                    .await?,
                };
            let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {FEED_COLUMNS} FROM feeds WHERE id = ?"
            )))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            rows.push(feed_row(&row));
        }
        tx.commit().await?;
        Ok(rows)
    }

    /// Every feed row, configured or not.
    pub async fn all_feeds(&self) -> Result<Vec<FeedRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {FEED_COLUMNS} FROM feeds ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(feed_row).collect())
    }

    /// Writes one fetch — feed state, stories, log line — in a single transaction.
    pub async fn record_fetch(
        &self,
        feed: &FeedRow,
        rec: &FetchRecord,
        now: DateTime<Utc>,
    ) -> Result<StoreCounts, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut counts = StoreCounts::default();
        let status = rec.status.map(i64::from);
        let now_s = ts(now);

        // Common to every outcome: when, what status, where the feed lives now.
        sqlx::query(
            "UPDATE feeds SET last_fetched_at = ?2, last_status = ?3,
                 moved_to = COALESCE(?4, moved_to)
             WHERE id = ?1",
        )
        .bind(feed.id)
        .bind(now_s)
        .bind(status)
        .bind(&rec.moved_to)
        .execute(&mut *tx)
        .await?;

        let error = match &rec.outcome {
            Outcome::Parsed {
                stories,
                validators,
                body_hash,
                feed: meta,
            } => {
                for story in stories {
                    stories::upsert(&mut tx, feed.id, story, now, &mut counts).await?;
                }
                Self::mark_success(&mut tx, feed.id, now_s).await?;
                sqlx::query(
                    "UPDATE feeds SET etag = ?2, last_modified = ?3, body_hash = ?4, title = ?5,
                         site_url = ?6, ttl_minutes = ?7, max_age_seconds = ?8
                     WHERE id = ?1",
                )
                .bind(feed.id)
                .bind(&validators.etag)
                .bind(&validators.last_modified)
                .bind(body_hash)
                .bind(&meta.title)
                .bind(&meta.site_url)
                .bind(meta.ttl_minutes.map(i64::from))
                .bind(meta.max_age_seconds.map(|s| s as i64))
                .execute(&mut *tx)
                .await?;
                None
            }
            Outcome::SameBody {
                validators,
                feed: meta,
            } => {
                Self::mark_success(&mut tx, feed.id, now_s).await?;
                sqlx::query(
                    "UPDATE feeds SET etag = ?2, last_modified = ?3, max_age_seconds = ?4
                     WHERE id = ?1",
                )
                .bind(feed.id)
                .bind(&validators.etag)
                .bind(&validators.last_modified)
                .bind(meta.max_age_seconds.map(|s| s as i64))
                .execute(&mut *tx)
                .await?;
                None
            }
            Outcome::NotModified => {
                Self::mark_success(&mut tx, feed.id, now_s).await?;
                None
            }
            Outcome::Gone => {
                sqlx::query(
                    "UPDATE feeds SET state = 'gone', last_error = 'HTTP 410 Gone: the publisher removed this feed'
                     WHERE id = ?1",
                )
                .bind(feed.id)
                .execute(&mut *tx)
                .await?;
                Some("gone")
            }
            Outcome::RetryLater { until } => {
                // Not a broken feed: the failure count is left alone.
                sqlx::query(
                    "UPDATE feeds SET retry_after = ?2,
                         last_error = 'server asked to retry later (HTTP ' || ?3 || ')'
                     WHERE id = ?1",
                )
                .bind(feed.id)
                .bind(until.map(ts))
                .bind(status)
                .execute(&mut *tx)
                .await?;
                None
            }
            Outcome::Failed { error } => {
                sqlx::query(
                    "UPDATE feeds SET last_error = ?2,
                         consecutive_failures = consecutive_failures + 1
                     WHERE id = ?1",
                )
                .bind(feed.id)
                .bind(error)
                .execute(&mut *tx)
                .await?;
                Some(error.as_str())
            }
        };

        sqlx::query(
            "INSERT INTO fetch_log (feed_id, started_at, duration_ms, status, outcome, bytes,
                 new_count, updated_count, error)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .bind(feed.id)
        .bind(ts(rec.started_at))
        .bind(rec.duration_ms)
        .bind(status)
        .bind(outcome_name(&rec.outcome, &counts))
        .bind(rec.bytes.map(|b| b as i64))
        .bind(counts.new as i64)
        .bind(counts.updated as i64)
        .bind(error)
        .execute(&mut *tx)
        .await?;

        tx.commit().await?;
        Ok(counts)
    }

    async fn mark_success(
        tx: &mut sqlx::SqliteConnection,
        feed_id: i64,
        now_s: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE feeds SET last_success_at = ?2, last_error = NULL, consecutive_failures = 0,
                 retry_after = NULL, state = 'active'
             WHERE id = ?1",
        )
        .bind(feed_id)
        .bind(now_s)
        .execute(tx)
        .await?;
        Ok(())
    }
}

fn outcome_name(o: &Outcome, counts: &StoreCounts) -> &'static str {
    match o {
        Outcome::Parsed { .. } if counts.new > 0 => "new",
        Outcome::Parsed { .. } if counts.updated > 0 => "updated",
        Outcome::Parsed { .. } | Outcome::SameBody { .. } => "unchanged",
        Outcome::NotModified => "not_modified",
        Outcome::Gone => "gone",
        Outcome::RetryLater { .. } => "retry_later",
        Outcome::Failed { .. } => "error",
    }
}
