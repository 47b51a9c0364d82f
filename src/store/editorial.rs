//! Editorial state: scores, decisions, issues, the ledger of used links.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{Store, StoreError, from_ts, ts};
use crate::model::{
    Activity, CatalogueCounts, DecisionRow, Fingerprint, PickedRow, PoolRow, ScoreInput, ScoreRow,
    Shelved, StoryView, Verdict, WindowRow,
};

/// The columns of a `StoryView`, for queries over `stories s`.
pub(super) const STORY_COLUMNS: &str =
    "s.id, s.title, s.url, s.canonical_url, s.published, s.updated,
    s.excerpt, COALESCE((SELECT b.html FROM story_html b WHERE b.story_id = s.id), '') AS content_html,
    s.author, s.first_seen,
    (SELECT json_group_array(name) FROM (
        SELECT f.name FROM story_sources ss JOIN feeds f ON f.id = ss.feed_id
        WHERE ss.story_id = s.id GROUP BY f.id ORDER BY MIN(ss.first_seen), f.name)) AS sources";

pub(super) fn story_view(r: &SqliteRow) -> StoryView {
    StoryView {
        id: r.get("id"),
        title: r.get("title"),
        url: r.get("url"),
        canonical_url: r.get("canonical_url"),
        sources: serde_json::from_str(r.get::<&str, _>("sources")).unwrap_or_default(),
        published: r.get::<Option<i64>, _>("published").map(from_ts),
        updated: r.get::<Option<i64>, _>("updated").map(from_ts),
        excerpt: r.get("excerpt"),
        content_html: r.get("content_html"),
        author: r.get("author"),
        first_seen: from_ts(r.get("first_seen")),
    }
}

/// [`STORY_COLUMNS`] without the HTML body: candidate windows hold thousands of stories.
const STORY_LIGHT_COLUMNS: &str = "s.id, s.title, s.url, s.canonical_url, s.published, s.updated,
    s.excerpt, '' AS content_html, s.author, s.first_seen,
    (SELECT json_group_array(name) FROM (
        SELECT f.name FROM story_sources ss JOIN feeds f ON f.id = ss.feed_id
        WHERE ss.story_id = s.id GROUP BY f.id ORDER BY MIN(ss.first_seen), f.name)) AS sources";

const DECISION_COLUMNS: &str = "d.story_id AS d_story, d.decision, d.section AS d_section, d.blurb, d.reason, d.also_at, d.decided_at, d.issue";

fn decision_row(r: &SqliteRow) -> Option<DecisionRow> {
    let verdict = match r.get::<Option<&str>, _>("decision")? {
        "pick" => Verdict::Pick,
        _ => Verdict::Reject,
    };
    Some(DecisionRow {
        story_id: r.get("d_story"),
        verdict,
        section: r.get("d_section"),
        blurb: r.get("blurb"),
        reason: r.get("reason"),
        also_at: r
            .get::<Option<&str>, _>("also_at")
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default(),
        decided_at: from_ts(r.get("decided_at")),
        issue: r.get("issue"),
    })
}

/// What [`Store::window`] selects of a story, as one JSON array (see [`WindowJson`]). `?2`
/// is the window's end, `?8` whether the ledger is read.
const WINDOW_ROW: &str = "json_array(COALESCE(s.published, s.first_seen), s.id, sc.base,
    json(CASE WHEN sc.vetoed_by IS NULL THEN 'false' ELSE 'true' END),
    sc.simhash, sc.body_len, hex(sc.print), COALESCE(f.section, sc.section),
    d.decided_at, json(CASE WHEN d.issue IS NULL THEN 'false' ELSE 'true' END),
    json((SELECT json_array(l.used_at,
                json(CASE WHEN l.section IN ('Events', 'Jobs') THEN 'true' ELSE 'false' END))
          FROM ledger l
          WHERE ?8 AND l.canonical_url = s.canonical_url AND l.used_at <= ?2
          ORDER BY l.used_at DESC, l.issue DESC LIMIT 1)),
    json((SELECT json_array(z.until, z.at) FROM snoozes z WHERE ?8 AND z.story_id = s.id)),
    sc.features)";

/// One [`WINDOW_ROW`].
#[derive(serde::Deserialize)]
struct WindowJson(
    i64,
    i64,
    Option<f64>,
    bool,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<i64>,
    bool,
    Option<(i64, bool)>,
    Option<(i64, i64)>,
    Option<String>,
);

/// An item of a past issue, ready to store ([`Store::import_catalogue`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogueItem {
    pub issue: i64,
    pub section: Option<String>,
    pub url: String,
    pub canonical_url: String,
    pub blurb: String,
    /// `learn::features` of the blurb and the link.
    pub features: String,
}

/// At most how many examples of each kind [`Store::learning_examples`] reads (the latest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LearningLimits {
    pub decisions: usize,
    pub catalogue: usize,
    pub background: usize,
}

/// A [`Shelved`] as the queries select it: id, title, url, time, reason.
type ShelvedRow = (i64, String, Option<String>, i64, Option<String>);

impl From<ShelvedRow> for Shelved {
    fn from(
        (id, title, url, at, reason): (i64, String, Option<String>, i64, Option<String>),
    ) -> Self {
        Shelved {
            id,
            title,
            url,
            at: from_ts(at),
            reason,
        }
    }
}

/// Section names shared between the rows of a window (a few distinct values, many rows).
type Sections = std::collections::HashMap<String, std::sync::Arc<str>>;

impl WindowJson {
    fn row(self, sections: &mut Sections) -> WindowRow {
        let WindowJson(
            date,
            id,
            base,
            vetoed,
            simhash,
            body_len,
            print,
            section,
            decided_at,
            published,
            used,
            snooze,
            features,
        ) = self;
        let simhash = simhash.unwrap_or(0) as u64;
        let body_len = body_len.unwrap_or(0).max(0) as usize;
        // A score without a fingerprint (never: scoring writes both) ranks unscored.
        let print = print
            .as_deref()
            .and_then(unhex)
            .and_then(|b| crate::model::Fingerprint::decode(&b, simhash, body_len));
        let section = section.unwrap_or_default();
        let section = match sections.get(&section) {
            Some(s) => s.clone(),
            None => {
                let shared: std::sync::Arc<str> = section.as_str().into();
                sections.insert(section, shared.clone());
                shared
            }
        };
        WindowRow {
            id,
            date,
            base: base.filter(|_| print.is_some()),
            vetoed,
            print: print.unwrap_or_else(|| Fingerprint::untitled(simhash)),
            section,
            decided: decided_at.map(|t| (t, published)),
            used,
            snooze,
            features: features.unwrap_or_default().into(),
        }
    }
}

impl Store {
    /// Stories whose score is missing or stale: queued for rescoring (a new source, changed
    /// text, added by hand) or scored with another config `version`. All stories when `all`.
    /// At most `limit` of them with ids above `after`, in id order (so a caller can page
    /// through without holding every body at once).
    pub async fn score_inputs(
        &self,
        version: &str,
        all: bool,
        after: i64,
        limit: usize,
    ) -> Result<Vec<ScoreInput>, StoreError> {
        // One JSON value per page (see `window`): per-row hand-over cost more than scoring.
        const ROW: &str = "json_array(s.id, s.title, s.url,
            COALESCE((SELECT b.html FROM story_html b WHERE b.story_id = s.id), ''), s.excerpt, q.seq,
            json((SELECT json_group_array(name) FROM (
                SELECT f.name FROM story_sources ss JOIN feeds f ON f.id = ss.feed_id
                WHERE ss.story_id = s.id GROUP BY f.id ORDER BY MIN(ss.first_seen), f.name))),
            s.author)";
        // Driven by the queue and the version index: the work follows what is stale, not the
        // size of the database. (Every story without a score is queued: ingest scores or
        // queues each new story, and migration 0003 queued what was unscored before.)
        let sql = if all {
            format!(
                "SELECT json_group_array(json(r)) FROM (
                     SELECT {ROW} AS r FROM stories s LEFT JOIN score_queue q ON q.story_id = s.id
                     WHERE s.id > ?3 AND ?2 AND ?1 IS NOT NULL ORDER BY s.id LIMIT ?4)"
            )
        } else {
            format!(
                "SELECT json_group_array(json(r)) FROM (
                     SELECT {ROW} AS r FROM (
                         SELECT story_id AS id FROM score_queue WHERE story_id > ?3
                         UNION
                         SELECT story_id FROM scores
                         WHERE (version < ?1 OR version > ?1) AND story_id > ?3 AND NOT ?2
                         ORDER BY 1 LIMIT ?4) AS stale
                     JOIN stories s ON s.id = stale.id
                     LEFT JOIN score_queue q ON q.story_id = s.id
                     ORDER BY s.id)"
            )
        };
        let json: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(version)
            .bind(all)
            .bind(after)
            .bind(limit as i64)
            .fetch_one(&self.pool)
            .await?;
        type Input = (
            i64,
            String,
            Option<String>,
            String,
            String,
            Option<i64>,
            Vec<String>,
            Option<String>,
        );
        let rows: Vec<Input> =
            serde_json::from_str(json.as_deref().unwrap_or("[]")).map_err(decode_err)?;
        let mut out: Vec<ScoreInput> = rows
            .into_iter()
            .map(
                |(story_id, title, url, content_html, excerpt, queued, sources, author)| {
                    ScoreInput {
                        story_id,
                        title,
                        url,
                        content_html,
                        excerpt,
                        sources,
                        author,
                        queued,
                    }
                },
            )
            .collect();
        out.sort_unstable_by_key(|i| i.story_id);
        Ok(out)
    }

    /// Stores scores in one transaction, and takes their stories off the rescore queue —
    /// unless a story was queued again since it was read (its `seq` moved on).
    pub async fn write_scores(
        &self,
        rows: &[ScoreRow],
        queued: &[(i64, i64)],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        insert_scores(&mut tx, rows, now).await?;
        if !queued.is_empty() {
            sqlx::query(
                "DELETE FROM score_queue WHERE rowid IN (
                     SELECT q.rowid FROM json_each(?1) j
                     JOIN score_queue q ON q.story_id = j.value->>0 AND q.seq = j.value->>1)",
            )
            .bind(serde_json::to_string(queued).expect("ids serialize"))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The stories of a window, as ranking needs them: those dated (published, else first
    /// seen) in `[since, until]`, and those that a feed brought in the window while dated no
    /// earlier than `late_floor` (a post from before the last issue that gleaner saw only after
    /// it, or that another feed shared again). Nothing first seen after `until` is included.
    /// With `ledger` (a candidate window, not a digest), each row carries the latest use of
    /// its link up to `until` and its snooze, and stories whose snooze ends in the window are
    /// included whatever their date.
    ///
    /// No text: [`Store::story_details`] reads it for the stories listed. Rows are found
    /// through the `stories_date` index and come a page at a time as one JSON value (sqlx
    /// hands rows over one message at a time, ~20 µs each, which for a window of 100,000
    /// stories cost more than the query).
    pub async fn window(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        late_floor: DateTime<Utc>,
        ledger: bool,
    ) -> Result<Vec<WindowRow>, StoreError> {
        const PAGE: i64 = 2000;
        let mut sections = Sections::default();
        let mut out = Vec::new();
        let mut after = (i64::MIN, i64::MIN);
        loop {
            let json: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT json_group_array(json(r)) FROM (
                 SELECT {WINDOW_ROW} AS r
                 FROM stories s INDEXED BY stories_date
                 LEFT JOIN scores sc ON sc.story_id = s.id
                 LEFT JOIN feeds f ON f.id = s.feed_id
                 LEFT JOIN decisions d ON d.story_id = s.id
                 WHERE COALESCE(s.published, s.first_seen) >= ?4
                   AND (COALESCE(s.published, s.first_seen), s.id) > (?5, ?6)
                   AND s.first_seen <= ?2
                   AND (COALESCE(s.published, s.first_seen) BETWEEN ?1 AND ?2
                        OR (COALESCE(s.published, s.first_seen) >= ?3 AND EXISTS (
                            SELECT 1 FROM story_sources ss WHERE ss.story_id = s.id
                            AND ss.first_seen > ?1 AND ss.first_seen <= ?2)))
                 ORDER BY COALESCE(s.published, s.first_seen), s.id
                 LIMIT ?7)",
            )))
            .bind(ts(since))
            .bind(ts(until))
            .bind(ts(late_floor))
            .bind(ts(late_floor.min(since)))
            .bind(after.0)
            .bind(after.1)
            .bind(PAGE)
            .bind(ledger)
            .fetch_one(&self.pool)
            .await?;
            let rows: Vec<WindowJson> =
                serde_json::from_str(json.as_deref().unwrap_or("[]")).map_err(decode_err)?;
            let full = rows.len() as i64 == PAGE;
            if let Some(last) = rows.last() {
                after = (last.0, last.1);
            }
            out.extend(rows.into_iter().map(|r| r.row(&mut sections)));
            if !full {
                break;
            }
        }
        // Snoozes that end in the window bring their stories back, however old they are.
        if ledger {
            let json: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT json_group_array(json(r)) FROM (
                 SELECT {WINDOW_ROW} AS r
                 FROM snoozes z JOIN stories s ON s.id = z.story_id
                 LEFT JOIN scores sc ON sc.story_id = s.id
                 LEFT JOIN feeds f ON f.id = s.feed_id
                 LEFT JOIN decisions d ON d.story_id = s.id
                 WHERE z.until > ?1 AND z.until <= ?2 AND z.at <= ?2 AND s.first_seen <= ?2)",
            )))
            .bind(ts(since))
            .bind(ts(until))
            // ?3 to ?7 are the paging parameters of the query above: unused here.
            .bind(None::<i64>)
            .bind(None::<i64>)
            .bind(None::<i64>)
            .bind(None::<i64>)
            .bind(None::<i64>)
            .bind(ledger)
            .fetch_one(&self.pool)
            .await?;
            let rows: Vec<WindowJson> =
                serde_json::from_str(json.as_deref().unwrap_or("[]")).map_err(decode_err)?;
            let seen: std::collections::HashSet<i64> = out.iter().map(|r| r.id).collect();
            out.extend(
                rows.into_iter()
                    .filter(|r| !seen.contains(&r.1))
                    .map(|r| r.row(&mut sections)),
            );
        }
        // In id order, as the candidate list breaks its ties.
        out.sort_unstable_by_key(|r| r.id);
        Ok(out)
    }

    /// What the learned ranking learns from at `as_of`: every decision taken by then (a pick
    /// is a positive example, a reject a negative one), every item of a past issue imported by
    /// then (positive), and, as weak negatives (`weak`), up to `background` of the stories
    /// dated in the four weeks before `window_start` that nobody picked. Each with its stored
    /// features and its section's.
    pub async fn learning_examples(
        &self,
        as_of: DateTime<Utc>,
        window_start: DateTime<Utc>,
        limits: LearningLimits,
        weak: f64,
    ) -> Result<Vec<(crate::model::LearningExample, Option<(String, String)>)>, StoreError> {
        type Row = (
            String,
            Option<String>,
            i64,
            Option<f64>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT * FROM (
                 SELECT sc.features, COALESCE(d.section, f.section, sc.section),
                     CASE d.decision WHEN 'pick' THEN 1 ELSE 0 END, sc.base, NULL, NULL
                 FROM decisions d JOIN scores sc ON sc.story_id = d.story_id
                 JOIN stories s ON s.id = d.story_id LEFT JOIN feeds f ON f.id = s.feed_id
                 WHERE d.decided_at <= ?1
                 ORDER BY d.decided_at DESC, d.story_id DESC LIMIT ?4)
             UNION ALL
             SELECT * FROM (
                 SELECT c.features || COALESCE(' ' || cs.features, ''), c.section, 1, cs.base,
                     c.blurb, c.url
                 FROM catalogue c LEFT JOIN scores cs ON cs.story_id = (
                     SELECT s.id FROM stories s WHERE s.canonical_url = c.canonical_url
                     ORDER BY s.id LIMIT 1)
                 WHERE c.imported_at <= ?1
                 ORDER BY c.issue DESC, c.id DESC LIMIT ?5)
             UNION ALL
             SELECT * FROM (
                 SELECT sc.features, COALESCE(f.section, sc.section), -1, sc.base, NULL, NULL
                 FROM stories s INDEXED BY stories_date
                 JOIN scores sc ON sc.story_id = s.id
                 LEFT JOIN feeds f ON f.id = s.feed_id
                 WHERE COALESCE(s.published, s.first_seen) >= ?2
                   AND COALESCE(s.published, s.first_seen) < ?3 AND s.first_seen <= ?1
                   AND sc.vetoed_by IS NULL
                   AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.story_id = s.id)
                 ORDER BY COALESCE(s.published, s.first_seen) DESC, s.id DESC
                 LIMIT ?6)",
        )
        .bind(ts(as_of))
        .bind(ts(window_start - chrono::Duration::days(28)))
        .bind(ts(window_start))
        .bind(limits.decisions as i64)
        .bind(limits.catalogue as i64)
        .bind(limits.background as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(features, section, kind, base, blurb, url)| {
                (
                    crate::model::LearningExample {
                        features,
                        section: section.unwrap_or_default(),
                        positive: kind == 1,
                        weight: if kind == -1 { weak } else { 1.0 },
                        base: base.unwrap_or(0.0),
                    },
                    // A past issue's item without a stored story: scored from its blurb.
                    if base.is_none() { blurb.zip(url) } else { None },
                )
            })
            .collect())
    }

    /// Sources, excerpt and score explanation of the given stories.
    pub async fn story_details(
        &self,
        ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, crate::model::Details>, StoreError> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let rows = sqlx::query(
            "SELECT s.id, s.title, s.url, s.excerpt, sc.explanation,
                 (SELECT json_group_array(name) FROM (
                     SELECT f.name FROM story_sources ss JOIN feeds f ON f.id = ss.feed_id
                     WHERE ss.story_id = s.id GROUP BY f.id ORDER BY MIN(ss.first_seen), f.name)) AS sources
             FROM stories s LEFT JOIN scores sc ON sc.story_id = s.id
             WHERE s.id IN (SELECT value FROM json_each(?1))",
        )
        .bind(serde_json::to_string(ids).expect("ids serialize"))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get("id"),
                    crate::model::Details {
                        title: r.get("title"),
                        url: r.get("url"),
                        sources: serde_json::from_str(r.get::<&str, _>("sources"))
                            .unwrap_or_default(),
                        excerpt: r.get("excerpt"),
                        explanation: r.get("explanation"),
                    },
                )
            })
            .collect())
    }

    /// One story with its score and decision.
    pub async fn pool_row(&self, story_id: i64) -> Result<Option<PoolRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {STORY_LIGHT_COLUMNS}, sc.base, sc.vetoed_by, sc.simhash, sc.body_len, sc.explanation, sc.features,
                 f.section AS feed_section, {DECISION_COLUMNS}
             FROM stories s
             LEFT JOIN scores sc ON sc.story_id = s.id
             LEFT JOIN feeds f ON f.id = s.feed_id
             LEFT JOIN decisions d ON d.story_id = s.id
             WHERE s.id = ?1"
        )))
        .bind(story_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(pool_row))
    }

    /// Records a decision (replacing an earlier one on the same story), logged at `now`.
    pub async fn decide(
        &self,
        d: &DecisionRow,
        action: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        Self::decide_in(&mut tx, d, action, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records several decisions, and snoozes `snoozes` until `until`, all-or-nothing.
    pub async fn decide_all(
        &self,
        ds: &[DecisionRow],
        snoozes: &[i64],
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for d in ds {
            Self::decide_in(&mut tx, d, d.verdict.as_str(), now).await?;
        }
        for id in snoozes {
            Self::snooze_in(&mut tx, *id, until, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn decide_in(
        tx: &mut sqlx::SqliteConnection,
        d: &DecisionRow,
        action: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let also_at = serde_json::to_string(&d.also_at).expect("strings serialize");
        sqlx::query(
            "INSERT INTO decisions (story_id, decision, section, blurb, reason, also_at, decided_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (story_id) DO UPDATE SET decision = ?2, section = ?3, blurb = ?4,
                 reason = ?5, also_at = ?6, decided_at = ?7",
        )
        .bind(d.story_id)
        .bind(d.verdict.as_str())
        .bind(&d.section)
        .bind(&d.blurb)
        .bind(&d.reason)
        .bind(&also_at)
        .bind(ts(d.decided_at))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO decision_log (story_id, action, section, blurb, reason, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(d.story_id)
        .bind(action)
        .bind(&d.section)
        .bind(&d.blurb)
        .bind(&d.reason)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        // A decision ends a snooze: the story is dealt with.
        sqlx::query("DELETE FROM snoozes WHERE story_id = ?1")
            .bind(d.story_id)
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    /// Snoozes a story until `until` (replacing an earlier snooze), and takes back an
    /// unpublished decision on it: a snoozed story waits, undecided.
    pub async fn snooze(
        &self,
        story_id: i64,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        Self::snooze_in(&mut tx, story_id, until, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn snooze_in(
        tx: &mut sqlx::SqliteConnection,
        story_id: i64,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM decisions WHERE story_id = ?1 AND issue IS NULL")
            .bind(story_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO snoozes (story_id, until, at) VALUES (?1, ?2, ?3)
             ON CONFLICT (story_id) DO UPDATE SET until = ?2, at = ?3",
        )
        .bind(story_id)
        .bind(ts(until))
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO decision_log (story_id, action, reason, at) VALUES (?1, 'snooze', ?2, ?3)",
        )
        .bind(story_id)
        .bind(format!("until {}", until.to_rfc3339()))
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    /// Ends a story's snooze now; returns whether it was snoozed (still asleep at `now`).
    pub async fn unsnooze(&self, story_id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.take_back(
            "DELETE FROM snoozes WHERE story_id = ?1 AND until > ?2",
            "unsnooze",
            story_id,
            now,
        )
        .await
    }

    /// Runs `delete` (`?1` the story, `?2` now) and, if it removed a row, logs `action` in the
    /// same transaction; returns whether it did.
    async fn take_back(
        &self,
        delete: &'static str,
        action: &str,
        story_id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query(delete)
            .bind(story_id)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n > 0 {
            sqlx::query("INSERT INTO decision_log (story_id, action, at) VALUES (?1, ?2, ?3)")
                .bind(story_id)
                .bind(action)
                .bind(ts(now))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }

    /// A story's snooze, as `(until, at)` (Unix seconds), if it has one (asleep or ended).
    pub async fn snooze_of(&self, story_id: i64) -> Result<Option<(i64, i64)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT until, at FROM snoozes WHERE story_id = ?1")
                .bind(story_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Stories asleep at `now`, soonest back first: (id, title, url, until).
    pub async fn snoozed(&self, now: DateTime<Utc>) -> Result<Vec<Shelved>, StoreError> {
        let rows: Vec<ShelvedRow> = sqlx::query_as(
            "SELECT s.id, s.title, s.url, z.until, NULL FROM snoozes z
             JOIN stories s ON s.id = z.story_id
             WHERE z.until > ?1 AND z.at <= ?1 ORDER BY z.until, s.id",
        )
        .bind(ts(now))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Shelved::from).collect())
    }

    /// Unpublished rejects decided since `since`, newest first: (id, title, url, when, reason).
    pub async fn rejected_since(&self, since: DateTime<Utc>) -> Result<Vec<Shelved>, StoreError> {
        let rows: Vec<ShelvedRow> = sqlx::query_as(
            "SELECT s.id, s.title, s.url, d.decided_at, d.reason FROM decisions d
             JOIN stories s ON s.id = d.story_id
             WHERE d.decision = 'reject' AND d.issue IS NULL AND d.decided_at >= ?1
             ORDER BY d.decided_at DESC, s.id DESC",
        )
        .bind(ts(since))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Shelved::from).collect())
    }

    /// Removes an unpublished decision; returns whether there was one.
    pub async fn undecide(&self, story_id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.take_back(
            "DELETE FROM decisions WHERE story_id = ?1 AND issue IS NULL AND ?2 IS NOT NULL",
            "unpick",
            story_id,
            now,
        )
        .await
    }

    /// Picked stories: unpublished ones (`issue` None) or those of one issue; newest first.
    pub async fn picked(
        &self,
        issue: Option<i64>,
        limit: Option<usize>,
    ) -> Result<Vec<PickedRow>, StoreError> {
        self.picked_where(
            match issue {
                Some(_) => "d.issue = ?1",
                None => "d.issue IS NULL",
            },
            issue,
            limit,
        )
        .await
    }

    /// Every picked story, published or not, newest decision first (the curated feed).
    pub async fn all_picked(&self, limit: usize) -> Result<Vec<PickedRow>, StoreError> {
        self.picked_where("?1 IS NULL", None, Some(limit)).await
    }

    async fn picked_where(
        &self,
        cond: &str,
        issue: Option<i64>,
        limit: Option<usize>,
    ) -> Result<Vec<PickedRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {STORY_COLUMNS}, {DECISION_COLUMNS},
                 f.name AS origin_name, f.url AS origin_url, f.site_url AS origin_site,
                 f.section AS feed_section
             FROM decisions d JOIN stories s ON s.id = d.story_id
             LEFT JOIN feeds f ON f.id = s.feed_id
             WHERE d.decision = 'pick' AND {cond}
             ORDER BY d.decided_at DESC, d.story_id DESC
             LIMIT ?2"
        )))
        .bind(issue)
        .bind(limit.map_or(-1, |l| l as i64))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| PickedRow {
                story: story_view(r),
                decision: decision_row(r).expect("joined on decisions"),
                origin: r
                    .get::<Option<String>, _>("origin_name")
                    .map(|n| (n, r.get("origin_url"), r.get("origin_site"))),
                feed_section: r.get("feed_section"),
            })
            .collect())
    }

    /// The last published issue: number and time.
    pub async fn last_issue(&self) -> Result<Option<(i64, DateTime<Utc>)>, StoreError> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT number, published_at FROM issues ORDER BY published_at DESC, number DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(n, t)| (n, from_ts(t))))
    }

    /// Writes what `gleaner import issues` read, in one transaction: each past issue (kept as
    /// it is when its number is known already), each item's link in the ledger (so it is never
    /// a candidate again) and each item in the catalogue (a positive example for the learned
    /// ranking). Rows already there are left alone, so importing a file twice changes nothing.
    /// With `dry_run` nothing is kept: the counts say what would change.
    pub async fn import_catalogue(
        &self,
        issues: &[(i64, DateTime<Utc>)],
        items: &[CatalogueItem],
        now: DateTime<Utc>,
        dry_run: bool,
    ) -> Result<CatalogueCounts, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut counts = CatalogueCounts::default();
        for (number, at) in issues {
            counts.issues += sqlx::query(
                "INSERT INTO issues (number, published_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            )
            .bind(number)
            .bind(ts(*at))
            .execute(&mut *tx)
            .await?
            .rows_affected() as usize;
        }
        for i in items {
            counts.links += sqlx::query(
                "INSERT INTO ledger (canonical_url, issue, story_id, section, used_at)
                 VALUES (?1, ?2,
                     (SELECT id FROM stories WHERE canonical_url = ?1 ORDER BY id LIMIT 1),
                     ?3, (SELECT published_at FROM issues WHERE number = ?2))
                 ON CONFLICT DO NOTHING",
            )
            .bind(&i.canonical_url)
            .bind(i.issue)
            .bind(i.section.as_deref())
            .execute(&mut *tx)
            .await?
            .rows_affected() as usize;
            counts.items += sqlx::query(
                "INSERT INTO catalogue (issue, section, url, canonical_url, blurb, features, imported_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
            )
            .bind(i.issue)
            .bind(i.section.as_deref())
            .bind(&i.url)
            .bind(&i.canonical_url)
            .bind(&i.blurb)
            .bind(&i.features)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?
            .rows_affected() as usize;
        }
        if dry_run {
            tx.rollback().await?;
        } else {
            tx.commit().await?;
        }
        Ok(counts)
    }

    /// The names of the feeds whose stories live at each of `hosts` (`www.` aside), for the
    /// items of past issues: a feed's stories and the items that linked to them are then
    /// described alike.
    pub async fn feeds_at_hosts(
        &self,
        hosts: &[String],
    ) -> Result<std::collections::HashMap<String, Vec<String>>, StoreError> {
        let mut out = std::collections::HashMap::new();
        for host in hosts {
            let bare = host.trim_start_matches("www.");
            let mut names: Vec<String> = Vec::new();
            for scheme in ["http", "https"] {
                let from = format!("{scheme}://{bare}/");
                let to = format!("{scheme}://{bare}0");
                let rows: Vec<(String,)> = sqlx::query_as(
                    "SELECT DISTINCT f.name FROM stories s JOIN feeds f ON f.id = s.feed_id
                     WHERE s.canonical_url >= ?1 AND s.canonical_url < ?2 ORDER BY f.name LIMIT 5",
                )
                .bind(&from)
                .bind(&to)
                .fetch_all(&self.pool)
                .await?;
                names.extend(rows.into_iter().map(|(n,)| n));
            }
            names.sort();
            names.dedup();
            out.insert(host.clone(), names);
        }
        Ok(out)
    }

    /// The last issue published at or before `t`.
    pub async fn last_issue_before(
        &self,
        t: DateTime<Utc>,
    ) -> Result<Option<(i64, DateTime<Utc>)>, StoreError> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT number, published_at FROM issues WHERE published_at <= ?1
             ORDER BY published_at DESC, number DESC LIMIT 1",
        )
        .bind(ts(t))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(n, t)| (n, from_ts(t))))
    }

    pub async fn issue_published_at(
        &self,
        number: i64,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let t: Option<i64> =
            sqlx::query_scalar("SELECT published_at FROM issues WHERE number = ?1")
                .bind(number)
                .fetch_optional(&self.pool)
                .await?;
        Ok(t.map(from_ts))
    }

    /// Remembers which stories the draft of issue `number` holds.
    pub async fn set_draft(&self, number: i64, story_ids: &[i64]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM draft_items WHERE issue = ?1")
            .bind(number)
            .execute(&mut *tx)
            .await?;
        for id in story_ids {
            sqlx::query("INSERT INTO draft_items (issue, story_id) VALUES (?1, ?2)")
                .bind(number)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The stories of issue `number`'s draft, if one was written.
    pub async fn draft_items(&self, number: i64) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT story_id FROM draft_items WHERE issue = ?1 ORDER BY story_id",
        )
        .bind(number)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Publishes issue `number` with the given picks as its items; their links (and the other
    /// URLs of the same stories) enter the ledger. Returns the items' count.
    pub async fn publish(
        &self,
        number: i64,
        items: &[i64],
        ledger: &[(String, i64, Option<String>)],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO issues (number, published_at) VALUES (?1, ?2)")
            .bind(number)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        let mut n = 0;
        for id in items {
            n += sqlx::query(
                "UPDATE decisions SET issue = ?1
                 WHERE story_id = ?2 AND decision = 'pick' AND issue IS NULL",
            )
            .bind(number)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        for (url, story_id, section) in ledger {
            sqlx::query(
                "INSERT OR IGNORE INTO ledger (canonical_url, issue, story_id, section, used_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .bind(url)
            .bind(number)
            .bind(story_id)
            .bind(section)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Stores a link the editor added by hand (in no feed); returns its story id. A story with
    /// the same canonical URL is reused.
    pub async fn add_story(
        &self,
        entry: &crate::model::CleanEntry,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        if let Some(c) = &entry.canonical_url {
            let id: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM stories WHERE canonical_url = ?1 ORDER BY id LIMIT 1",
            )
            .bind(c)
            .fetch_optional(&self.pool)
            .await?;
            if let Some(id) = id {
                return Ok(id);
            }
        }
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO stories (feed_id, canonical_url, url, title, author, published, updated,
                 excerpt, first_seen, last_changed)
             VALUES (NULL, ?1, ?2, ?3, ?4, ?5, NULL, ?6, ?7, ?7) RETURNING id",
        )
        .bind(&entry.canonical_url)
        .bind(&entry.url)
        .bind(&entry.title)
        .bind(&entry.author)
        .bind(entry.published.map(ts))
        .bind(&entry.excerpt)
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO story_html (story_id, html) VALUES (?1, ?2)")
            .bind(id)
            .bind(&entry.content_html)
            .execute(&mut *tx)
            .await?;
        // Scored by the next rescore, like every story not scored at ingest.
        enqueue(&mut tx, &[id]).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// What was read between `since` and `until`.
    pub async fn activity(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Activity, StoreError> {
        let (feeds_polled, fetches): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(DISTINCT feed_id), COUNT(*) FROM fetch_log WHERE started_at BETWEEN ?1 AND ?2",
        )
        .bind(ts(since))
        .bind(ts(until))
        .fetch_one(&self.pool)
        .await?;
        let (stories_seen, sources): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM((SELECT COUNT(*) FROM story_sources ss WHERE ss.story_id = s.id)), 0)
             FROM stories s WHERE s.first_seen BETWEEN ?1 AND ?2",
        )
        .bind(ts(since))
        .bind(ts(until))
        .fetch_one(&self.pool)
        .await?;
        Ok(Activity {
            feeds_polled,
            fetches,
            stories_seen,
            duplicates_collapsed: (sources - stories_seen).max(0),
        })
    }
}

/// Inserts or replaces scores.
pub(super) async fn insert_scores(
    tx: &mut sqlx::SqliteConnection,
    rows: &[ScoreRow],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for chunk in super::chunks(rows) {
        let mut q: sqlx::QueryBuilder<sqlx::Sqlite> = sqlx::QueryBuilder::new(
            "INSERT INTO scores (story_id, version, sources, base, vetoed_by, simhash, body_len,
                 explanation, scored_at, print, section, features) ",
        );
        q.push_values(chunk, |mut b, r| {
            b.push_bind(r.story_id)
                .push_bind(r.version.as_str())
                .push_bind(r.sources)
                .push_bind(r.base)
                .push_bind(r.vetoed_by.as_deref())
                .push_bind(r.simhash as i64)
                .push_bind(r.body_len)
                .push_bind(r.explanation.as_str())
                .push_bind(ts(now))
                .push_bind(r.print.as_slice())
                .push_bind(r.section.as_str())
                .push_bind(r.features.as_str());
        });
        q.push(
            " ON CONFLICT (story_id) DO UPDATE SET version = excluded.version,
                 sources = excluded.sources, base = excluded.base,
                 vetoed_by = excluded.vetoed_by, simhash = excluded.simhash,
                 body_len = excluded.body_len, explanation = excluded.explanation,
                 scored_at = excluded.scored_at, print = excluded.print,
                 section = excluded.section, features = excluded.features",
        );
        q.build().execute(&mut *tx).await?;
    }
    Ok(())
}

/// Queues stories for rescoring (a story already queued gets a new `seq`).
pub(super) async fn enqueue(
    tx: &mut sqlx::SqliteConnection,
    story_ids: &[i64],
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO score_queue (story_id) SELECT value FROM json_each(?1) WHERE true
         ON CONFLICT (story_id) DO UPDATE SET seq = seq + 1",
    )
    .bind(serde_json::to_string(story_ids).expect("ids serialize"))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Bytes from SQLite's `hex()`.
fn unhex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    b.chunks_exact(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

fn decode_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Sql(sqlx::Error::Decode(e.to_string().into()))
}

fn pool_row(r: &SqliteRow) -> PoolRow {
    PoolRow {
        story: story_view(r),
        base: r.get("base"),
        vetoed_by: r.get("vetoed_by"),
        simhash: r.get::<Option<i64>, _>("simhash").unwrap_or(0) as u64,
        body_len: r.get::<Option<i64>, _>("body_len").unwrap_or(0),
        explanation: r.get("explanation"),
        features: r.get::<Option<String>, _>("features").unwrap_or_default(),
        feed_section: r.get("feed_section"),
        decision: decision_row(r),
    }
}
