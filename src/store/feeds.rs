//! Feeds: syncing with `feeds.toml`, and recording each fetch in one transaction.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::{Store, StoreError, from_ts, stories, ts, ts_ceil};
use crate::config::FeedConfig;
use crate::model::{
    FeedRow, FeedState, FeedStatus, FetchRecord, FetchStats, Outcome, Round, StoreCounts,
};
use crate::schedule::Plan;

const FEED_COLUMNS: &str = "id, name, url, moved_to, section, etag, last_modified, body_hash, \
     state, retry_after, consecutive_failures, created_at, last_fetched_at, last_success_at, \
     next_due, schedule, ttl_minutes, max_age_seconds, expires_at, paused_at";

/// A feed row as `json_array({FEED_COLUMNS}, …extra)` gives it.
#[derive(serde::Deserialize)]
struct FeedJson(
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<i64>,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    /// Extra columns after the feed's own (status: last status, last error, stories).
    #[serde(default)]
    Option<i64>,
    #[serde(default)] Option<String>,
    #[serde(default)] Option<i64>,
);

impl FeedJson {
    fn row(self) -> (FeedRow, Option<i64>, Option<String>, Option<i64>) {
        let row = FeedRow {
            id: self.0,
            name: self.1,
            url: self.2,
            moved_to: self.3,
            section: self.4,
            etag: self.5,
            last_modified: self.6,
            body_hash: self.7,
            state: FeedState::parse(&self.8),
            retry_after: self.9.map(from_ts),
            consecutive_failures: self.10,
            created_at: from_ts(self.11),
            last_fetched_at: self.12.map(from_ts),
            last_success_at: self.13.map(from_ts),
            next_due: self.14.map(from_ts),
            schedule: self.15,
            ttl_minutes: self.16,
            max_age_seconds: self.17,
            expires_at: self.18.map(from_ts),
            paused_at: self.19.map(from_ts),
        };
        (row, self.20, self.21, self.22)
    }
}

/// Feed rows (and `extra` columns) for `tail` (`FROM feeds WHERE … ORDER BY …`), read as one
/// JSON value: sqlx hands rows over one message at a time and copies every value, which for
/// 20,000 feeds cost 0.4 s and 45 MB at the start of every round.
async fn feed_rows(
    conn: &mut sqlx::SqliteConnection,
    extra: &str,
    tail: &str,
    bind: Option<(i64, i64)>,
) -> Result<Vec<(FeedRow, Option<i64>, Option<String>, Option<i64>)>, StoreError> {
    let sql = format!(
        "SELECT json_group_array(json(r)) FROM (SELECT json_array({FEED_COLUMNS}{extra}) AS r {tail})"
    );
    let q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
    let q = match bind {
        Some((a, b)) => q.bind(a).bind(b),
        None => q,
    };
    let json: Option<String> = q.fetch_one(&mut *conn).await?;
    let rows: Vec<FeedJson> = serde_json::from_str(json.as_deref().unwrap_or("[]"))
        .map_err(|e| StoreError::Sql(sqlx::Error::Decode(e.to_string().into())))?;
    Ok(rows.into_iter().map(FeedJson::row).collect())
}

/// How many rounds the database keeps: only the last one is reported, the rest are there for
/// someone looking into the database (a daemon's busy spells come every few minutes).
const ROUNDS_KEPT: i64 = 10_000;

impl Store {
    /// Whether the database answers (`/healthz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Stories and fetch-log counts, for `/metrics`.
    pub async fn fetch_stats(&self) -> Result<FetchStats, StoreError> {
        let (stories,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM stories")
            .fetch_one(&self.pool)
            .await?;
        let fetches: Vec<(String, i64)> = sqlx::query_as(
            "SELECT outcome, COUNT(*) FROM fetch_log GROUP BY outcome ORDER BY outcome",
        )
        .fetch_all(&self.pool)
        .await?;
        let errors: Vec<(String, Option<i64>, i64)> = sqlx::query_as(
            "SELECT COALESCE(error_kind, 'unknown'), status, COUNT(*) FROM fetch_log
             WHERE outcome = 'error' GROUP BY 1, 2 ORDER BY 1, 2",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(FetchStats {
            stories,
            fetches,
            errors,
            last_round: self.last_round().await?,
        })
    }

    /// Records a polling round (keeping the last [`ROUNDS_KEPT`]).
    pub async fn record_round(&self, round: &Round) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM rounds WHERE id <= (SELECT MAX(id) FROM rounds) - ?1")
            .bind(ROUNDS_KEPT - 1)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO rounds (source, started_at, duration_ms, feeds, failed, new_count)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(round.source)
        .bind(ts(round.started_at))
        .bind(i64::try_from(round.duration.as_millis()).unwrap_or(i64::MAX))
        .bind(round.feeds as i64)
        .bind(round.failed as i64)
        .bind(round.new as i64)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The round recorded last.
    pub async fn last_round(&self) -> Result<Option<Round>, StoreError> {
        let row: Option<(String, i64, i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT source, started_at, duration_ms, feeds, failed, new_count FROM rounds
             ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(source, at, ms, feeds, failed, new)| Round {
            source: if source == "poll" { "poll" } else { "daemon" },
            started_at: from_ts(at),
            duration: std::time::Duration::from_millis(ms.max(0) as u64),
            feeds: feeds.max(0) as usize,
            failed: failed.max(0) as usize,
            new: new.max(0) as usize,
        }))
    }

    /// Makes the feeds table match the config: new feeds are added, names and sections
    /// updated, feeds no longer configured are kept (with their stories) but marked out of
    /// config. A feed whose configured URL is where an old row was redirected to takes that
    /// row over. Returns the configured feeds' rows in config order.
    ///
    /// A handful of statements whatever the number of feeds (all rows are read at once and
    /// only differences written): at 20,000 feeds this runs before every round.
    pub async fn sync_feeds(
        &self,
        feeds: &[FeedConfig],
        now: DateTime<Utc>,
    ) -> Result<Vec<FeedRow>, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        type Existing = (i64, String, String, Option<String>, Option<String>, bool);
        type ExistingJson = (i64, String, String, Option<String>, Option<String>, i64);
        let json: Option<String> = sqlx::query_scalar(
            "SELECT json_group_array(json_array(id, url, name, section, moved_to, in_config))
             FROM (SELECT * FROM feeds ORDER BY id)",
        )
        .fetch_one(&mut *tx)
        .await?;
        let existing: Vec<ExistingJson> = serde_json::from_str(json.as_deref().unwrap_or("[]"))
            .map_err(|e| StoreError::Sql(sqlx::Error::Decode(e.to_string().into())))?;
        let existing: Vec<Existing> = existing
            .into_iter()
            .map(|(a, b, c, d, e, f)| (a, b, c, d, e, f != 0))
            .collect();
        let by_url: HashMap<&str, &Existing> = existing.iter().map(|e| (e.1.as_str(), e)).collect();
        let configured: HashSet<&str> = feeds.iter().map(|f| f.url.as_str()).collect();
        // Rows moved (301/308) to a URL: the editor may have updated feeds.toml to it.
        let mut moved: HashMap<&str, Vec<&Existing>> = HashMap::new();
        for e in &existing {
            if let Some(to) = e.4.as_deref() {
                moved.entry(to).or_default().push(e);
            }
        }

        let mut ids: Vec<Option<i64>> = Vec::with_capacity(feeds.len());
        let mut taken: HashSet<i64> = HashSet::new();
        let mut updates: Vec<serde_json::Value> = Vec::new();
        let mut inserts: Vec<&FeedConfig> = Vec::new();
        for f in feeds {
            let url = f.url.as_str();
            // Same feed, same row — unless the old URL is still configured as a feed of its own.
            let row = by_url.get(url).copied().or_else(|| {
                moved.get(url).and_then(|v| {
                    v.iter()
                        .find(|e| !configured.contains(e.1.as_str()) && !taken.contains(&e.0))
                        .copied()
                })
            });
            match row {
                Some(e) => {
                    taken.insert(e.0);
                    ids.push(Some(e.0));
                    let changed = e.1 != url
                        || e.2 != f.name
                        || e.3 != f.section
                        || !e.5
                        || e.4.as_deref() == Some(url);
                    if changed {
                        updates.push(serde_json::json!([e.0, f.name, f.section, url]));
                    }
                }
                None => {
                    ids.push(None);
                    inserts.push(f);
                }
            }
        }
        // Out of config: rows not claimed above.
        let gone: Vec<i64> = existing
            .iter()
            .filter(|e| e.5 && !taken.contains(&e.0))
            .map(|e| e.0)
            .collect();
        if !gone.is_empty() {
            sqlx::query(
                "UPDATE feeds SET in_config = 0 WHERE id IN (SELECT value FROM json_each(?1))",
            )
            .bind(serde_json::to_string(&gone).expect("ids serialize"))
            .execute(&mut *tx)
            .await?;
        }
        if !updates.is_empty() {
            sqlx::query(
                "UPDATE feeds SET name = j.value->>1, section = j.value->>2, in_config = 1,
                     url = j.value->>3,
                     moved_to = CASE WHEN moved_to = j.value->>3 THEN NULL ELSE moved_to END
                 FROM json_each(?1) AS j WHERE feeds.id = j.value->>0",
            )
            .bind(serde_json::Value::Array(updates).to_string())
            .execute(&mut *tx)
            .await?;
        }
        let mut new_ids: Vec<i64> = Vec::with_capacity(inserts.len());
        if !inserts.is_empty() {
            let rows: Vec<_> = inserts
                .iter()
                .map(|f| (f.url.as_str(), f.name.as_str(), f.section.as_deref()))
                .collect();
            // json_each keeps the array's order, and so do the ids RETURNING gives back.
            let got: Vec<(i64, String)> = sqlx::query_as(
                "INSERT INTO feeds (url, name, section, created_at)
                 SELECT value->>0, value->>1, value->>2, ?2 FROM json_each(?1) ORDER BY key
                 RETURNING id, url",
            )
            .bind(serde_json::to_string(&rows).expect("rows serialize"))
            .bind(ts(now))
            .fetch_all(&mut *tx)
            .await?;
            let by_url: HashMap<String, i64> = got.into_iter().map(|(id, u)| (u, id)).collect();
            new_ids.extend(inserts.iter().map(|f| by_url[f.url.as_str()]));
        }
        let mut new_ids = new_ids.into_iter();
        let ids: Vec<i64> = ids
            .into_iter()
            .map(|id| id.unwrap_or_else(|| new_ids.next().expect("one id per inserted feed")))
            .collect();
        let mut rows: HashMap<i64, FeedRow> =
            feed_rows(&mut tx, "", "FROM feeds WHERE in_config = 1", None)
                .await?
                .into_iter()
                .map(|(row, ..)| (row.id, row))
                .collect();
        tx.commit().await?;
        Ok(ids.iter().filter_map(|id| rows.remove(id)).collect())
    }

    /// Health of every configured feed, in config order (by row id).
    pub async fn feed_status(&self) -> Result<Vec<FeedStatus>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let mut rows = feed_rows(
            &mut conn,
            ", last_status, last_error,
                 (SELECT COUNT(DISTINCT story_id) FROM story_sources ss WHERE ss.feed_id = feeds.id)",
            "FROM feeds WHERE in_config = 1 ORDER BY id",
            None,
        )
        .await?;
        rows.sort_by_key(|r| r.0.id);
        Ok(rows
            .into_iter()
            .map(|(row, last_status, last_error, stories)| FeedStatus {
                row,
                last_status,
                last_error,
                stories: stories.unwrap_or(0),
            })
            .collect())
    }

    /// Every feed row, configured or not.
    pub async fn all_feeds(&self) -> Result<Vec<FeedRow>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let mut rows: Vec<FeedRow> = feed_rows(&mut conn, "", "FROM feeds ORDER BY id", None)
            .await?
            .into_iter()
            .map(|r| r.0)
            .collect();
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    /// Configured feeds that are due at `now` (never fetched first, then oldest plan first),
    /// gone and paused feeds excepted.
    pub async fn due_feeds(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<FeedRow>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let tail = "FROM feeds
             WHERE in_config = 1 AND state != 'gone' AND paused_at IS NULL
               AND (next_due IS NULL OR next_due <= ?1)
             ORDER BY next_due IS NOT NULL, next_due, id LIMIT ?2";
        let mut rows: Vec<FeedRow> = feed_rows(&mut conn, "", tail, Some((ts(now), limit as i64)))
            .await?
            .into_iter()
            .map(|r| r.0)
            .collect();
        // Never fetched first, then oldest plan first.
        rows.sort_by_key(|r| (r.next_due.is_some(), r.next_due, r.id));
        Ok(rows)
    }

    /// The earliest planned fetch among configured feeds neither gone nor paused (`None`:
    /// nothing planned).
    pub async fn next_wake(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let t: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(COALESCE(next_due, 0)) FROM feeds
             WHERE in_config = 1 AND state != 'gone' AND paused_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(t.map(from_ts))
    }

    /// Pauses (`Some(now)`) or resumes (`None`) the configured feeds named; returns, per
    /// name, whether it changed anything (`None`: no configured feed has that name). Resuming
    /// makes a feed due at once (it missed its runs while paused).
    pub async fn set_paused(
        &self,
        names: &[String],
        paused: Option<DateTime<Utc>>,
    ) -> Result<Vec<Option<bool>>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let was: Option<Option<i64>> =
                sqlx::query_scalar("SELECT paused_at FROM feeds WHERE in_config = 1 AND name = ?1")
                    .bind(name)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some(was) = was else {
                out.push(None);
                continue;
            };
            let changed = was.is_some() != paused.is_some();
            if changed {
                let q = match paused {
                    Some(at) => sqlx::query(
                        "UPDATE feeds SET paused_at = ?2 WHERE in_config = 1 AND name = ?1",
                    )
                    .bind(name)
                    .bind(ts(at)),
                    None => sqlx::query(
                        "UPDATE feeds SET paused_at = NULL, next_due = NULL
                         WHERE in_config = 1 AND name = ?1",
                    )
                    .bind(name),
                };
                q.execute(&mut *tx).await?;
            }
            out.push(Some(changed));
        }
        tx.commit().await?;
        Ok(out)
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

    /// Writes several fetches in one transaction: each feed's state, stories, scores and log
    /// line. A transaction is all or nothing, so a crash never leaves half of a feed; what a
    /// crash loses is the batch being written, whose feeds are simply fetched again (their
    /// new validators were not stored either).
    ///
    /// The statements do not grow with the number of feeds that had nothing new: every feed
    /// row is updated by one `UPDATE … FROM json_each`, every log line by one `INSERT`; only a
    /// feed with a body costs statements of its own (its stories).
    pub async fn record_fetches(
        &self,
        items: &[FetchWrite<'_>],
        now: DateTime<Utc>,
    ) -> Result<Vec<StoreCounts>, StoreError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        // IMMEDIATE: take the write lock now (new story ids come from MAX(id)); other
        // processes wait on the busy timeout instead of failing half way.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let now_s = ts(now);

        // Feed rows first: the site URL tells whose stories these are (ownership).
        let rows: Vec<serde_json::Value> = items.iter().map(feed_update).collect();
        sqlx::query(
            "UPDATE feeds SET
                 last_fetched_at = ?2,
                 last_status = j.status,
                 moved_to = CASE WHEN j.abandon_move THEN NULL
                                 WHEN j.success THEN COALESCE(j.moved_to, feeds.moved_to)
                                 ELSE feeds.moved_to END,
                 next_due = j.next_due,
                 schedule = j.schedule,
                 state = j.state,
                 last_success_at = CASE WHEN j.success THEN ?2 ELSE feeds.last_success_at END,
                 last_error = CASE WHEN j.success THEN NULL ELSE j.error END,
                 consecutive_failures = CASE WHEN j.success THEN 0
                                             ELSE feeds.consecutive_failures + j.failure END,
                 retry_after = CASE WHEN j.success THEN NULL
                                    WHEN j.retry THEN j.retry_after
                                    ELSE feeds.retry_after END,
                 etag = CASE WHEN j.body THEN j.etag ELSE feeds.etag END,
                 last_modified = CASE WHEN j.body THEN j.last_modified ELSE feeds.last_modified END,
                 max_age_seconds = CASE WHEN j.body THEN j.max_age ELSE feeds.max_age_seconds END,
                 expires_at = CASE WHEN j.body THEN j.expires ELSE feeds.expires_at END,
                 body_hash = CASE WHEN j.parsed THEN j.body_hash ELSE feeds.body_hash END,
                 title = CASE WHEN j.parsed THEN j.title ELSE feeds.title END,
                 site_url = CASE WHEN j.parsed THEN j.site_url ELSE feeds.site_url END,
                 ttl_minutes = CASE WHEN j.parsed THEN j.ttl ELSE feeds.ttl_minutes END
             FROM (SELECT value->>'id' AS id, value->>'status' AS status,
                       value->>'abandon_move' AS abandon_move, value->>'success' AS success,
                       value->>'moved_to' AS moved_to, value->>'next_due' AS next_due,
                       value->>'schedule' AS schedule, value->>'state' AS state,
                       value->>'error' AS error, value->>'failure' AS failure,
                       value->>'retry' AS retry, value->>'retry_after' AS retry_after,
                       value->>'body' AS body, value->>'etag' AS etag,
                       value->>'last_modified' AS last_modified, value->>'max_age' AS max_age,
                       value->>'expires' AS expires, value->>'parsed' AS parsed,
                       value->>'body_hash' AS body_hash, value->>'title' AS title,
                       value->>'site_url' AS site_url, value->>'ttl' AS ttl
                   FROM json_each(?1)) AS j
             WHERE feeds.id = j.id",
        )
        .bind(serde_json::Value::Array(rows).to_string())
        .bind(now_s)
        .execute(&mut *tx)
        .await?;

        let mut batch = stories::Batch::default();
        let with_stories: Vec<stories::FeedStories<'_>> = items
            .iter()
            .filter_map(|i| match &i.rec.outcome {
                Outcome::Parsed {
                    stories,
                    feed: meta,
                    ..
                } => Some(stories::FeedStories {
                    feed: i.feed,
                    site_url: meta.site_url.as_deref(),
                    stories,
                }),
                _ => None,
            })
            .collect();
        let mut counts = stories::upsert_batch(&mut tx, &with_stories, now, &mut batch)
            .await?
            .into_iter();
        let mut all_counts = Vec::with_capacity(items.len());
        let mut log: Vec<serde_json::Value> = Vec::with_capacity(items.len());
        for item in items {
            let counts = match &item.rec.outcome {
                Outcome::Parsed { .. } => counts.next().unwrap_or_default(),
                _ => StoreCounts::default(),
            };
            let status = item.rec.status.map(i64::from);
            let (error, kind) = match &item.rec.outcome {
                Outcome::Gone => (Some("gone"), None),
                Outcome::Parsed {
                    truncated: Some(error),
                    ..
                } => (
                    Some(error.as_str()),
                    Some(crate::model::ErrorKind::Parse.as_str()),
                ),
                Outcome::Failed { error, kind } => (Some(error.as_str()), Some(kind.as_str())),
                _ => (None, None),
            };
            log.push(serde_json::json!([
                item.feed.id,
                ts(item.rec.started_at),
                item.rec.duration_ms,
                status,
                outcome_name(&item.rec.outcome, &counts),
                item.rec.bytes.map(|b| b as i64),
                counts.new as i64,
                counts.updated as i64,
                error,
                kind,
            ]));
            all_counts.push(counts);
        }
        stories::flush_batch(&mut tx, &mut batch, now).await?;
        sqlx::query(
            "INSERT INTO fetch_log (feed_id, started_at, duration_ms, status, outcome, bytes,
                 new_count, updated_count, error, error_kind)
             SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5,
                 value->>6, value->>7, value->>8, value->>9
             FROM json_each(?1)",
        )
        .bind(serde_json::Value::Array(log).to_string())
        .execute(&mut *tx)
        .await?;

        tx.commit().await?;
        Ok(all_counts)
    }
}

/// One fetch to record, as [`Store::record_fetches`] takes it.
#[derive(Debug, Clone, Copy)]
pub struct FetchWrite<'a> {
    pub feed: &'a FeedRow,
    pub rec: &'a FetchRecord,
    pub plan: &'a Plan,
    /// The schedule the plan was made with (its display form).
    pub schedule: &'a str,
}

/// The new values of one feed row, for the batched `UPDATE`.
fn feed_update(item: &FetchWrite<'_>) -> serde_json::Value {
    let rec = item.rec;
    let success = matches!(
        rec.outcome,
        Outcome::Parsed { .. } | Outcome::SameBody { .. } | Outcome::NotModified
    );
    // A permanent redirect is adopted only when the new address worked; when the adopted
    // address fails, the configured URL is tried again next time (it may redirect anew).
    let abandon_move =
        item.feed.moved_to.is_some() && matches!(rec.outcome, Outcome::Failed { .. });
    let status = rec.status.map(i64::from);
    let mut v = serde_json::json!({
        "id": item.feed.id,
        "status": status,
        "abandon_move": abandon_move,
        "success": success,
        "moved_to": rec.moved_to,
        "next_due": item.plan.next_due.map(ts_ceil),
        "schedule": item.schedule,
        // The plan decides the state (active, gone, dead); a success always revives.
        "state": item.plan.state.as_str(),
        "failure": 0,
        "retry": false,
        "body": false,
        "parsed": false,
    });
    let o = v.as_object_mut().expect("an object");
    let mut set = |k: &str, val: serde_json::Value| {
        o.insert(k.to_string(), val);
    };
    match &rec.outcome {
        Outcome::Parsed {
            truncated: Some(error),
            ..
        } => {
            // Its complete entries are stored (by the caller); the feed is failing, and keeps
            // the last whole body's validators and hash so that the next poll reads it anew.
            set("success", false.into());
            set("error", error.clone().into());
            set("failure", 1.into());
        }
        Outcome::Parsed {
            validators,
            body_hash,
            feed: meta,
            ..
        } => {
            set("body", true.into());
            set("parsed", true.into());
            set("etag", validators.etag.clone().into());
            set("last_modified", validators.last_modified.clone().into());
            set("max_age", meta.max_age_seconds.map(|s| s as i64).into());
            set("expires", meta.expires_at.map(ts).into());
            set("body_hash", body_hash.clone().into());
            set("title", meta.title.clone().into());
            set("site_url", meta.site_url.clone().into());
            set("ttl", meta.ttl_minutes.map(i64::from).into());
        }
        Outcome::SameBody {
            validators,
            feed: meta,
        } => {
            set("body", true.into());
            set("etag", validators.etag.clone().into());
            set("last_modified", validators.last_modified.clone().into());
            set("max_age", meta.max_age_seconds.map(|s| s as i64).into());
            set("expires", meta.expires_at.map(ts).into());
        }
        Outcome::NotModified => {}
        Outcome::Gone => {
            set(
                "error",
                "HTTP 410 Gone: the publisher removed this feed".into(),
            );
        }
        Outcome::RetryLater { until } => {
            // 429 is the publisher pacing us, not a broken feed: the failure count stays.
            // 503 is an unavailable server, and counts (a host answering 503 for a month is
            // dead).
            set("retry", true.into());
            set("retry_after", until.map(ts).into());
            set(
                "error",
                format!(
                    "server asked to retry later (HTTP {})",
                    status.map_or_else(String::new, |s| s.to_string())
                )
                .into(),
            );
            set("failure", i64::from(status == Some(503)).into());
        }
        Outcome::Failed { error, .. } => {
            set("error", error.clone().into());
            set("failure", 1.into());
        }
    }
    v
}

fn outcome_name(o: &Outcome, counts: &StoreCounts) -> &'static str {
    match o {
        Outcome::Parsed {
            truncated: Some(_), ..
        } => "error",
        Outcome::Parsed { .. } if counts.new > 0 => "new",
        Outcome::Parsed { .. } if counts.updated > 0 => "updated",
        Outcome::Parsed { .. } | Outcome::SameBody { .. } => "unchanged",
        Outcome::NotModified => "not_modified",
        Outcome::Gone => "gone",
        Outcome::RetryLater { .. } => "retry_later",
        Outcome::Failed { .. } => "error",
    }
}
