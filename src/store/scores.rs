//! Scores and what ranking reads: stories to (re)score, score writes, the candidate window
//! (numbers and fingerprints only), the learning examples, and the text of listed stories.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::editorial::*;
use super::{Store, StoreError, ts};
use crate::model::{ScoreInput, ScoreRow, WindowRow};

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
}

#[cfg(test)]
mod tests {
    use super::super::test_store;
    use super::*;

    #[tokio::test]
    async fn unscored_stories_are_listed_until_scored_with_this_version() {
        let (_dir, store, ids) = test_store(3).await;
        let now = Utc::now();
        let inputs = store.score_inputs("v1", false, 0, 10).await.unwrap();
        assert_eq!(inputs.iter().map(|i| i.story_id).collect::<Vec<_>>(), ids);
        // Pages: after the first id, at most one.
        let page = store.score_inputs("v1", false, ids[0], 1).await.unwrap();
        assert_eq!(
            page.iter().map(|i| i.story_id).collect::<Vec<_>>(),
            [ids[1]]
        );

        let scorer = crate::score::Scorer::new(
            &crate::config::Config::parse("[keywords]\nstory = 2\n", std::path::Path::new("."))
                .unwrap(),
        );
        let rows: Vec<ScoreRow> = inputs
            .iter()
            .map(|i| {
                scorer.score_row(
                    i.story_id,
                    &crate::score::StoryText {
                        title: &i.title,
                        body: &i.excerpt,
                        sources: &i.sources,
                        url: i.url.as_deref(),
                    },
                    &i.excerpt,
                    None,
                )
            })
            .collect();
        // Stories are queued when stored: writing their scores takes them off the queue.
        let queued: Vec<(i64, i64)> = inputs
            .iter()
            .filter_map(|i| i.queued.map(|q| (i.story_id, q)))
            .collect();
        assert_eq!(queued.len(), 3);
        store.write_scores(&rows, &queued, now).await.unwrap();
        let version = rows[0].version.clone();
        assert!(
            store
                .score_inputs(&version, false, 0, 10)
                .await
                .unwrap()
                .is_empty()
        );
        // `all` lists every story again; another version finds them stale.
        assert_eq!(
            store
                .score_inputs(&version, true, 0, 10)
                .await
                .unwrap()
                .len(),
            3
        );
        assert_eq!(
            store
                .score_inputs("other", false, 0, 10)
                .await
                .unwrap()
                .len(),
            3
        );

        // The window holds them with their scores; the details are read for the listed ones.
        let window = store
            .window(
                now - chrono::Duration::days(7),
                now,
                now - chrono::Duration::days(14),
                true,
            )
            .await
            .unwrap();
        assert_eq!(window.len(), 3);
        assert!(
            window.iter().all(|w| w.base.is_some_and(|b| b > 0.0)),
            "{window:?}"
        );
        let details = store.story_details(&ids[..2]).await.unwrap();
        assert_eq!(details.len(), 2);
        assert_eq!(details[&ids[0]].title, "Story 1");
    }
}
