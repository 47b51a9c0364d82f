//! Feeds: syncing with `feeds.toml`, and recording each fetch in one transaction.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{Store, StoreError, from_ts, stories, ts, ts_ceil};
use crate::config::FeedConfig;
use crate::model::{FeedRow, FeedState, FeedStatus, FetchRecord, Outcome, StoreCounts};
use crate::schedule::Plan;

const FEED_COLUMNS: &str = "id, name, url, moved_to, section, etag, last_modified, body_hash, \
     state, retry_after, consecutive_failures, created_at, last_fetched_at, last_success_at, \
     next_due, schedule, ttl_minutes, max_age_seconds, expires_at";

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
        created_at: from_ts(r.get("created_at")),
        last_fetched_at: r.get::<Option<i64>, _>("last_fetched_at").map(from_ts),
        last_success_at: r.get::<Option<i64>, _>("last_success_at").map(from_ts),
        next_due: r.get::<Option<i64>, _>("next_due").map(from_ts),
        schedule: r.get("schedule"),
        ttl_minutes: r.get("ttl_minutes"),
        max_age_seconds: r.get("max_age_seconds"),
        expires_at: r.get::<Option<i64>, _>("expires_at").map(from_ts),
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
            let mut existing: Option<i64> =
                sqlx::query_scalar("SELECT id FROM feeds WHERE url = ?1")
                    .bind(url)
                    .fetch_optional(&mut *tx)
                    .await?;
            if existing.is_none() {
                // The editor updated feeds.toml to where the feed moved: same feed, same row —
                // unless the old URL is still configured as a feed of its own.
                let moved: Vec<(i64, String)> =
                    sqlx::query_as("SELECT id, url FROM feeds WHERE moved_to = ?1 ORDER BY id")
                        .bind(url)
                        .fetch_all(&mut *tx)
                        .await?;
                existing = moved
                    .into_iter()
                    .find(|(_, old)| !feeds.iter().any(|c| c.url.as_str() == old))
                    .map(|(id, _)| id);
            }
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

    /// Health of every configured feed, in config order (by row id).
    pub async fn feed_status(&self) -> Result<Vec<FeedStatus>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {FEED_COLUMNS}, last_status, last_error,
                 (SELECT COUNT(DISTINCT story_id) FROM story_sources ss WHERE ss.feed_id = feeds.id) AS stories
             FROM feeds WHERE in_config = 1 ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| FeedStatus {
                row: feed_row(r),
                last_status: r.get("last_status"),
                last_error: r.get("last_error"),
                stories: r.get("stories"),
            })
            .collect())
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

    /// Configured feeds that are due at `now` (never fetched first, then oldest plan first),
    /// gone feeds excepted.
    pub async fn due_feeds(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<FeedRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {FEED_COLUMNS} FROM feeds
             WHERE in_config = 1 AND state != 'gone' AND (next_due IS NULL OR next_due <= ?1)
             ORDER BY next_due IS NOT NULL, next_due, id LIMIT ?2"
        )))
        .bind(ts(now))
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(feed_row).collect())
    }

    /// The earliest planned fetch among configured, not-gone feeds (`None`: nothing planned).
    pub async fn next_wake(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let t: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(COALESCE(next_due, 0)) FROM feeds WHERE in_config = 1 AND state != 'gone'",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(t.map(from_ts))
    }

    /// Replans a feed without fetching it (its schedule changed in feeds.toml).
    pub async fn set_plan(
        &self,
        feed_id: i64,
        next_due: Option<DateTime<Utc>>,
        schedule: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE feeds SET next_due = ?2, schedule = ?3 WHERE id = ?1")
            .bind(feed_id)
            .bind(next_due.map(ts_ceil))
            .bind(schedule)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Writes one fetch — feed state, stories, log line — in a single transaction.
    pub async fn record_fetch(
        &self,
        feed: &FeedRow,
        rec: &FetchRecord,
        plan: &Plan,
        schedule: &str,
        now: DateTime<Utc>,
    ) -> Result<StoreCounts, StoreError> {
        // IMMEDIATE: take the write lock now (new story ids come from MAX(id)); other
        // processes wait on the busy timeout instead of failing half way.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut counts = StoreCounts::default();
        let status = rec.status.map(i64::from);
        let now_s = ts(now);

        // A permanent redirect is adopted only when the new address worked; when the adopted
        // address fails, the configured URL is tried again next time (it may redirect anew).
        let success = matches!(
            rec.outcome,
            Outcome::Parsed { .. } | Outcome::SameBody { .. } | Outcome::NotModified
        );
        let abandon_move = feed.moved_to.is_some() && matches!(rec.outcome, Outcome::Failed { .. });
        // Common to every outcome: when, what status, where the feed lives now, the plan.
        sqlx::query(
            "UPDATE feeds SET last_fetched_at = ?2, last_status = ?3,
                 moved_to = CASE WHEN ?7 THEN NULL WHEN ?8 THEN COALESCE(?4, moved_to) ELSE moved_to END,
                 next_due = ?5, schedule = ?6
             WHERE id = ?1",
        )
        .bind(feed.id)
        .bind(now_s)
        .bind(status)
        .bind(&rec.moved_to)
        .bind(plan.next_due.map(ts_ceil))
        .bind(schedule)
        .bind(abandon_move)
        .bind(success)
        .execute(&mut *tx)
        .await?;

        let error = match &rec.outcome {
            Outcome::Parsed {
                stories,
                validators,
                body_hash,
                feed: meta,
            } => {
                Self::mark_success(&mut tx, feed.id, now_s).await?;
                // Feed facts first: the site URL tells whose stories these are (ownership).
                sqlx::query(
                    "UPDATE feeds SET etag = ?2, last_modified = ?3, body_hash = ?4, title = ?5,
                         site_url = ?6, ttl_minutes = ?7, max_age_seconds = ?8, expires_at = ?9
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
                .bind(meta.expires_at.map(ts))
                .execute(&mut *tx)
                .await?;
                stories::upsert_all(&mut tx, feed.id, stories, now, &mut counts).await?;
                None
            }
            Outcome::SameBody {
                validators,
                feed: meta,
            } => {
                Self::mark_success(&mut tx, feed.id, now_s).await?;
                sqlx::query(
                    "UPDATE feeds SET etag = ?2, last_modified = ?3, max_age_seconds = ?4,
                         expires_at = ?5
                     WHERE id = ?1",
                )
                .bind(feed.id)
                .bind(&validators.etag)
                .bind(&validators.last_modified)
                .bind(meta.max_age_seconds.map(|s| s as i64))
                .bind(meta.expires_at.map(ts))
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
                    "UPDATE feeds SET last_error = 'HTTP 410 Gone: the publisher removed this feed'
                     WHERE id = ?1",
                )
                .bind(feed.id)
                .execute(&mut *tx)
                .await?;
                Some("gone")
            }
            Outcome::RetryLater { until } => {
                // 429 is the publisher pacing us, not a broken feed: the failure count stays.
                // 503 is an unavailable server, and counts (a host answering 503 for a month
                // is dead).
                sqlx::query(
                    "UPDATE feeds SET retry_after = ?2,
                         last_error = 'server asked to retry later (HTTP ' || ?3 || ')',
                         consecutive_failures = consecutive_failures + (?3 = 503)
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

        // The plan decides the state (active, gone, dead); a success always revives.
        sqlx::query("UPDATE feeds SET state = ?2 WHERE id = ?1")
            .bind(feed.id)
            .bind(plan.state.as_str())
            .execute(&mut *tx)
            .await?;

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
                 retry_after = NULL
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
