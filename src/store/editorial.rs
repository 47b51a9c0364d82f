//! Editorial state shared by its table groups (`scores`, `decisions`, `issues`): the columns
//! and row decoders of stories, decisions and the candidate window, and the score writes the
//! ingest transaction shares.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{StoreError, from_ts, ts};
use crate::model::{
    DecisionRow, Fingerprint, PoolRow, ScoreRow, Shelved, StoryView, Verdict, WindowRow,
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
pub(super) const STORY_LIGHT_COLUMNS: &str =
    "s.id, s.title, s.url, s.canonical_url, s.published, s.updated,
    s.excerpt, '' AS content_html, s.author, s.first_seen,
    (SELECT json_group_array(name) FROM (
        SELECT f.name FROM story_sources ss JOIN feeds f ON f.id = ss.feed_id
        WHERE ss.story_id = s.id GROUP BY f.id ORDER BY MIN(ss.first_seen), f.name)) AS sources";

pub(super) const DECISION_COLUMNS: &str = "d.story_id AS d_story, d.decision, d.section AS d_section, d.blurb, d.reason, d.also_at, d.decided_at, d.issue";

pub(super) fn decision_row(r: &SqliteRow) -> Option<DecisionRow> {
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
pub(super) const WINDOW_ROW: &str = "json_array(COALESCE(s.published, s.first_seen), s.id, sc.base,
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
pub(super) struct WindowJson(
    pub(super) i64,
    pub(super) i64,
    pub(super) Option<f64>,
    pub(super) bool,
    pub(super) Option<i64>,
    pub(super) Option<i64>,
    pub(super) Option<String>,
    pub(super) Option<String>,
    pub(super) Option<i64>,
    pub(super) bool,
    pub(super) Option<(i64, bool)>,
    pub(super) Option<(i64, i64)>,
    pub(super) Option<String>,
);

/// An item of a past issue, ready to store ([`Store::import_catalogue`](crate::store::Store::import_catalogue)).
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

/// At most how many examples of each kind [`Store::learning_examples`](crate::store::Store::learning_examples) reads (the latest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LearningLimits {
    pub decisions: usize,
    pub catalogue: usize,
    pub background: usize,
}

/// A [`Shelved`] as the queries select it: id, title, url, time, reason.
pub(super) type ShelvedRow = (i64, String, Option<String>, i64, Option<String>);

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
pub(super) type Sections = std::collections::HashMap<String, std::sync::Arc<str>>;

impl WindowJson {
    pub(super) fn row(self, sections: &mut Sections) -> WindowRow {
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
pub(super) fn unhex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    b.chunks_exact(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

pub(super) fn decode_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Sql(sqlx::Error::Decode(e.to_string().into()))
}

pub(super) fn pool_row(r: &SqliteRow) -> PoolRow {
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
