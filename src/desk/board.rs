//! What the web desk shows, read through the desk: the candidate board (candidates, picks
//! waiting for the next issue, stories set aside), the health check, and the figures of
//! `/metrics` and `gleaner status`. The pages call these, never the store.

use chrono::{DateTime, Utc};

use super::DeskError;
use super::candidates::candidates;
use super::issues::next_issue;
use super::ranking::Filter;
use crate::config::Config;
use crate::model::{Candidate, Delivery, FeedStatus, FetchStats, PickedRow, Shelved};
use crate::store::Store;

/// The candidate board at `now`.
#[derive(Debug, Clone)]
pub struct Board {
    pub candidates: Vec<Candidate>,
    /// Where the candidate window starts.
    pub since: DateTime<Utc>,
    /// Picks not published yet, newest first.
    pub picked: Vec<PickedRow>,
    /// The number the next issue gets.
    pub next_issue: i64,
    /// Snoozed stories (until when), and stories rejected in this window.
    pub snoozed: Vec<Shelved>,
    pub rejected: Vec<Shelved>,
}

pub async fn board(config: &Config, store: &Store, now: DateTime<Utc>) -> Result<Board, DeskError> {
    let (cands, since) = candidates(config, store, now, None, &Filter::default(), now).await?;
    Ok(Board {
        candidates: cands,
        since,
        picked: store.picked(None, None).await?,
        next_issue: next_issue(store).await?,
        snoozed: store.snoozed(now).await?,
        rejected: store.rejected_since(since).await?,
    })
}

/// Whether the database answers.
pub async fn health(store: &Store) -> Result<(), DeskError> {
    Ok(store.ping().await?)
}

/// Every feed's state, as `gleaner status` shows it.
pub async fn feed_status(store: &Store) -> Result<Vec<FeedStatus>, DeskError> {
    Ok(store.feed_status().await?)
}

/// The figures of feeds, fetches and digest deliveries (`/metrics`).
pub async fn figures(
    store: &Store,
) -> Result<(Vec<FeedStatus>, FetchStats, Vec<Delivery>), DeskError> {
    Ok((
        store.feed_status().await?,
        store.fetch_stats().await?,
        store.deliveries(32).await?,
    ))
}
