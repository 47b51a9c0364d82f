//! The editor's decisions: the story pool, pick/reject (one or many at once), snooze, take
//! back, and the lists of picks, snoozed and rejected stories.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::editorial::*;
use super::{Store, StoreError, ts};
use crate::model::{DecisionRow, PickedRow, PoolRow, Shelved};

impl Store {
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

    pub(super) async fn decide_in(
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

    pub(super) async fn snooze_in(
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
    pub(super) async fn take_back(
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

    pub(super) async fn picked_where(
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
}

#[cfg(test)]
mod tests {
    use super::super::test_store;
    use super::*;
    use crate::model::Verdict;

    fn decision(story_id: i64, verdict: Verdict, now: DateTime<Utc>) -> DecisionRow {
        DecisionRow {
            story_id,
            verdict,
            section: Some("Tools".into()),
            blurb: Some("A fine read.".into()),
            reason: (verdict == Verdict::Reject).then(|| "off topic".into()),
            also_at: vec!["https://mirror.example/x".into()],
            decided_at: now,
            issue: None,
        }
    }

    #[tokio::test]
    async fn picks_rejects_snoozes_and_taking_back() {
        let (_dir, store, ids) = test_store(3).await;
        let now = Utc::now();
        store
            .decide(&decision(ids[0], Verdict::Pick, now), "pick", now)
            .await
            .unwrap();
        store
            .decide(&decision(ids[1], Verdict::Reject, now), "reject", now)
            .await
            .unwrap();
        let picked = store.picked(None, None).await.unwrap();
        assert_eq!(picked.len(), 1);
        assert_eq!(picked[0].story.id, ids[0]);
        assert_eq!(picked[0].decision.blurb.as_deref(), Some("A fine read."));
        assert_eq!(picked[0].decision.also_at, ["https://mirror.example/x"]);
        let rejected = store
            .rejected_since(now - chrono::Duration::minutes(1))
            .await
            .unwrap();
        assert_eq!(rejected.len(), 1);
        assert_eq!(
            (rejected[0].id, rejected[0].reason.as_deref()),
            (ids[1], Some("off topic"))
        );
        // A second decision on a story replaces the first.
        store
            .decide(&decision(ids[1], Verdict::Pick, now), "pick", now)
            .await
            .unwrap();
        assert_eq!(store.picked(None, None).await.unwrap().len(), 2);
        assert!(
            store
                .rejected_since(now - chrono::Duration::minutes(1))
                .await
                .unwrap()
                .is_empty()
        );

        let until = now + chrono::Duration::days(7);
        store.snooze(ids[2], until, now).await.unwrap();
        assert_eq!(
            store.snooze_of(ids[2]).await.unwrap(),
            Some((until.timestamp(), now.timestamp()))
        );
        assert_eq!(store.snoozed(now).await.unwrap()[0].id, ids[2]);
        assert!(store.unsnooze(ids[2], now).await.unwrap());
        assert!(
            !store.unsnooze(ids[2], now).await.unwrap(),
            "nothing left to wake"
        );
        assert!(store.snoozed(now).await.unwrap().is_empty());

        assert!(store.undecide(ids[0], now).await.unwrap());
        assert!(!store.undecide(ids[0], now).await.unwrap());
        let row = store.pool_row(ids[0]).await.unwrap().unwrap();
        assert_eq!((row.story.title.as_str(), row.decision), ("Story 1", None));
        assert_eq!(store.pool_row(9_999).await.unwrap(), None);
    }

    #[tokio::test]
    async fn decide_all_is_all_or_nothing() {
        let (_dir, store, ids) = test_store(2).await;
        let now = Utc::now();
        // The second decision names a story that does not exist: nothing is recorded.
        let ds = [
            decision(ids[0], Verdict::Pick, now),
            decision(9_999, Verdict::Pick, now),
        ];
        assert!(
            store
                .decide_all(&ds, &[ids[1]], now + chrono::Duration::days(1), now)
                .await
                .is_err()
        );
        assert!(store.picked(None, None).await.unwrap().is_empty());
        assert!(store.snoozed(now).await.unwrap().is_empty());
        store
            .decide_all(&ds[..1], &[ids[1]], now + chrono::Duration::days(1), now)
            .await
            .unwrap();
        assert_eq!(store.picked(None, None).await.unwrap().len(), 1);
        assert_eq!(store.snoozed(now).await.unwrap().len(), 1);
    }
}
