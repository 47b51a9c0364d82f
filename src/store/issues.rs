//! Issues and the ledger of used links: drafts, publishing, past issues imported into the
//! catalogue, a picked link stored as a story, and the week's activity figures.

use chrono::{DateTime, Utc};

use super::editorial::*;
use super::{Store, StoreError, from_ts, ts};
use crate::model::{Activity, CatalogueCounts};

impl Store {
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

#[cfg(test)]
mod tests {
    use super::super::test_store;
    use super::*;
    use crate::model::{DecisionRow, Verdict};

    #[tokio::test]
    async fn drafts_publishing_and_the_ledger() {
        let (_dir, store, ids) = test_store(3).await;
        let now = Utc::now();
        assert_eq!(store.last_issue().await.unwrap(), None);
        for &id in &ids[..2] {
            let d = DecisionRow {
                story_id: id,
                verdict: Verdict::Pick,
                section: None,
                blurb: None,
                reason: None,
                also_at: Vec::new(),
                decided_at: now,
                issue: None,
            };
            store.decide(&d, "pick", now).await.unwrap();
        }
        store.set_draft(1, &ids[..1]).await.unwrap();
        assert_eq!(store.draft_items(1).await.unwrap(), ids[..1]);
        store.set_draft(1, &ids[..2]).await.unwrap();
        assert_eq!(store.draft_items(1).await.unwrap(), ids[..2]);

        let ledger = [(
            "https://s.example/1".to_string(),
            ids[0],
            Some("News".to_string()),
        )];
        assert_eq!(store.publish(1, &ids[..1], &ledger, now).await.unwrap(), 1);
        let at = store.issue_published_at(1).await.unwrap().unwrap();
        assert_eq!(at.timestamp(), now.timestamp());
        assert_eq!(store.last_issue().await.unwrap().map(|(n, _)| n), Some(1));
        assert_eq!(
            store
                .last_issue_before(now - chrono::Duration::seconds(5))
                .await
                .unwrap(),
            None
        );
        assert_eq!(store.issue_published_at(2).await.unwrap(), None);
        // The published pick is the issue's; the other waits for the next one.
        assert_eq!(store.picked(Some(1), None).await.unwrap().len(), 1);
        let waiting = store.picked(None, None).await.unwrap();
        assert_eq!(
            waiting.iter().map(|p| p.story.id).collect::<Vec<_>>(),
            [ids[1]]
        );
        // Publishing the same number twice is refused by the database.
        assert!(store.publish(1, &ids[1..2], &[], now).await.is_err());
    }

    #[tokio::test]
    async fn a_link_stored_twice_is_one_story() {
        let (_dir, store, ids) = test_store(1).await;
        let row = store.pool_row(ids[0]).await.unwrap().unwrap();
        let entry = crate::model::CleanEntry {
            title: "Again".into(),
            url: row.story.url.clone(),
            canonical_url: row.story.canonical_url.clone(),
            author: None,
            published: None,
            updated: None,
            excerpt: String::new(),
            content_html: String::new(),
        };
        assert_eq!(store.add_story(&entry, Utc::now()).await.unwrap(), ids[0]);
    }
}
