//! The `deliveries` table: what happened to each (week, channel) of the weekly digest.
//! A send is recorded as `sending` before it starts and `sent` or `failed` when it ends, each
//! in its own transaction.

use chrono::{DateTime, Utc};

use super::{Store, StoreError, from_ts, ts};
use crate::model::Delivery;

type Row = (
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<i64>,
);

fn delivery(r: Row) -> Delivery {
    Delivery {
        week: r.0,
        channel: r.1,
        state: r.2,
        attempts: r.3,
        last_attempt: r.4.map(from_ts),
        next_attempt: r.5.map(from_ts),
        last_error: r.6,
        sent_at: r.7.map(from_ts),
    }
}

impl Store {
    /// The delivery of `week` on `channel`, if one was ever tried.
    pub async fn delivery(
        &self,
        week: &str,
        channel: &str,
    ) -> Result<Option<Delivery>, StoreError> {
        let row: Option<Row> = sqlx::query_as(
            "SELECT week, channel, state, attempts, last_attempt, next_attempt, last_error, sent_at
             FROM deliveries WHERE week = ?1 AND channel = ?2",
        )
        .bind(week)
        .bind(channel)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(delivery))
    }

    /// The latest deliveries, newest week first (at most `limit`).
    pub async fn deliveries(&self, limit: i64) -> Result<Vec<Delivery>, StoreError> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT week, channel, state, attempts, last_attempt, next_attempt, last_error, sent_at
             FROM deliveries ORDER BY week DESC, channel LIMIT ?1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(delivery).collect())
    }

    /// Marks an attempt as begun (committed before anything is sent) and returns how many
    /// attempts there have been, this one included. `None` when the delivery is already
    /// `sent`: nothing may be sent then.
    pub async fn begin_delivery(
        &self,
        week: &str,
        channel: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "INSERT INTO deliveries (week, channel, state, attempts, last_attempt)
             VALUES (?1, ?2, 'sending', 1, ?3)
             ON CONFLICT (week, channel) DO UPDATE SET
                 state = 'sending', attempts = attempts + 1, last_attempt = ?3, next_attempt = NULL
             WHERE deliveries.state <> 'sent'
             RETURNING attempts",
        )
        .bind(week)
        .bind(channel)
        .bind(ts(now))
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Records a successful send.
    pub async fn delivery_sent(
        &self,
        week: &str,
        channel: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE deliveries SET state = 'sent', sent_at = ?3, last_error = NULL, next_attempt = NULL
             WHERE week = ?1 AND channel = ?2",
        )
        .bind(week)
        .bind(channel)
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a failed send and when to try again.
    pub async fn delivery_failed(
        &self,
        week: &str,
        channel: &str,
        error: &str,
        next_attempt: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE deliveries SET state = 'failed', last_error = ?3, next_attempt = ?4
             WHERE week = ?1 AND channel = ?2",
        )
        .bind(week)
        .bind(channel)
        .bind(error)
        .bind(ts(next_attempt))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Since when the daemon has had a digest schedule, recording `now` the first time.
    pub async fn digest_schedule_since(
        &self,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, StoreError> {
        sqlx::query("INSERT OR IGNORE INTO digest_schedule (id, since) VALUES (1, ?1)")
            .bind(ts(now))
            .execute(&self.pool)
            .await?;
        self.digest_schedule_known().await.map(|t| t.unwrap_or(now))
    }

    /// The same, without recording anything (`None`: never).
    pub async fn digest_schedule_known(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let since: Option<i64> =
            sqlx::query_scalar("SELECT since FROM digest_schedule WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?;
        Ok(since.map(from_ts))
    }
}
