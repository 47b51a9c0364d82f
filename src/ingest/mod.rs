//! The ingest engine: the only module that knows the order of the pipeline for feeds. Both
//! `gleaner poll` (one round, [`poll_once`]) and the daemon (`daemon`) run it:
//!
//! ```text
//! sync      feeds.toml → feed rows (new feeds due now; changed schedules replanned)
//! refresh   one feed (feed.rs): host gate → fetch → parse → clean → dedup → score
//! write     a batch (engine.rs): schedule::plan each → store.record_fetches, one transaction
//! ```
//!
//! Feeds are refreshed concurrently, as tasks; writing is serial — its caller is the
//! database's only writer, and it writes whatever feeds are ready as one batch. A feed's
//! failure is a value in its [`FeedReport`]; only a database error stops a round. The daemon
//! supplies what is due, pauses and shutdown; `gleaner pick URL` and feed discovery fetch
//! their pages through [`fetch_page`].

mod engine;
mod feed;
mod page;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use url::Url;

pub use engine::{Engine, MAX_BATCH, Schedules, settle_batch};
pub use feed::{Fetch, prepare, refresh_feed};
pub use page::{Page, PageError, fetch_page};

use crate::config::{Config, FetchSettings};
use crate::fetch;
use crate::hosts::HostGate;
use crate::model::{FeedReport, FeedResult, FeedRow, FeedState, RoundReport};
use crate::schedule::{self, Event, Hints, Schedule};
use crate::store::{Store, StoreError};

/// What fetching needs, built once: the HTTP clients, the limits and the per-host gate.
#[derive(Debug)]
pub struct Fetcher {
    pub client: fetch::Client,
    pub settings: FetchSettings,
    pub hosts: HostGate,
}

impl Fetcher {
    pub fn new(settings: &FetchSettings) -> Result<Fetcher, reqwest::Error> {
        Ok(Fetcher {
            client: fetch::client(settings)?,
            settings: settings.clone(),
            hosts: HostGate::new(settings.per_host, settings.host_delay),
        })
    }
}

/// What the user asked of one `poll` round.
#[derive(Debug, Clone, Default)]
pub struct PollOptions {
    /// Fetch even feeds that are gone (410) or asked us to wait (Retry-After).
    pub force: bool,
    /// Only the feeds with these names (all when empty).
    pub only: Vec<String>,
}

/// Makes the feeds table match the config, and replans feeds whose schedule changed since
/// their plan was made (the next run follows the new schedule from the last fetch).
pub async fn sync(
    config: &Config,
    store: &Store,
    now: DateTime<Utc>,
    rng: &mut fastrand::Rng,
) -> Result<Vec<FeedRow>, StoreError> {
    let mut rows = store.sync_feeds(&config.feeds, now).await?;
    let by_url: HashMap<&str, &Schedule> = config
        .feeds
        .iter()
        .map(|f| (f.url.as_str(), config.schedule_of(f)))
        .collect();
    for row in &mut rows {
        let Some(schedule) = by_url.get(row.url.as_str()) else {
            continue;
        };
        let spec = schedule.to_string();
        if row.next_due.is_none() || row.schedule.as_deref() == Some(spec.as_str()) {
            continue;
        }
        if row.state == FeedState::Gone {
            continue;
        }
        let from = row.last_fetched_at.unwrap_or(now);
        let next = schedule::plan(
            schedule,
            &config.schedule,
            Event::Success,
            &Hints::default(),
            from,
            from,
            rng,
        )
        .next_due
        .map(|t| t.max(now));
        store.set_plan(row.id, next, &spec).await?;
        row.next_due = next;
        row.schedule = Some(spec);
    }
    Ok(rows)
}

/// How long the round's writer waits for more feeds before writing a batch.
const BATCH_WAIT: Duration = Duration::from_millis(20);

/// Polls every configured feed (or those in `opts.only`) once, now. `on_feed` is called as
/// each feed's result is stored, in completion order. `now` stamps everything written.
pub async fn poll_once(
    config: &Config,
    store: &Store,
    fetcher: &Arc<Fetcher>,
    now: DateTime<Utc>,
    opts: &PollOptions,
    mut on_feed: impl FnMut(&FeedReport),
) -> Result<RoundReport, StoreError> {
    let started = Instant::now();
    let mut rng = fastrand::Rng::new();
    let rows = sync(config, store, now, &mut rng).await?;
    let mut reports = Vec::with_capacity(rows.len());

    let mut due = Vec::new();
    for row in rows {
        if !opts.only.is_empty() && !opts.only.contains(&row.name) {
            continue;
        }
        let named = opts.only.contains(&row.name);
        match skip_reason(&row, now, opts.force, named) {
            Some(reason) => {
                let report = FeedReport {
                    name: row.name.clone(),
                    url: row.url.clone(),
                    result: FeedResult::Skipped(reason),
                    moved_to: None,
                    next_due: row.next_due,
                    state: row.state,
                };
                on_feed(&report);
                reports.push(report);
            }
            None => due.push(row),
        }
    }

    // Refreshing (tasks of their own; parsing on the blocking pool) runs ahead of writing:
    // the writer never stops the fetches. A database error ends the round, and dropping the
    // engine abandons what is in flight.
    let mut engine = Engine::new(config, fetcher.clone());
    engine.submit(due, now);
    let schedules = Schedules::new(config);
    // Serial writes: this loop is the database's only writer during the round.
    while let Some(batch) = engine.next_batch(BATCH_WAIT).await {
        let n = batch.len();
        let t0 = Instant::now();
        let settled = settle_batch(config, &schedules, store, batch, now, &mut rng).await?;
        tracing::debug!(feeds = n, elapsed = ?t0.elapsed(), "wrote a batch");
        for report in settled {
            match &report.result {
                FeedResult::Failed(error)
                | FeedResult::Stored {
                    truncated: Some(error),
                    ..
                } => tracing::info!(feed = %report.name, url = %report.url, "{error}"),
                _ => {}
            }
            on_feed(&report);
            reports.push(report);
        }
    }

    let report = RoundReport {
        feeds: reports,
        elapsed: started.elapsed(),
    };
    // Only a figure for /metrics: everything the round fetched is stored already.
    if let Err(e) = store.record_round(&report.round("poll", now)).await {
        tracing::warn!("cannot record the round: {e}");
    }
    Ok(report)
}

/// Why a feed is not fetched this round. A paused feed is fetched only when named (`--force`
/// does not override the editor's pause); gone and waiting feeds only with `force`.
fn skip_reason(row: &FeedRow, now: DateTime<Utc>, force: bool, named: bool) -> Option<String> {
    if let Some(at) = row.paused_at.filter(|_| !named) {
        return Some(format!(
            "paused since {} (`gleaner resume {}` to poll it again, or `poll --feed` it by name once)",
            at.format("%Y-%m-%d %H:%M UTC"),
            shell_word(&row.name)
        ));
    }
    if force {
        return None;
    }
    if row.state == FeedState::Gone {
        return Some(
            "gone (HTTP 410): remove it from feeds.toml, or poll with --force to try again".into(),
        );
    }
    match row.retry_after {
        Some(t) if t > now => Some(format!(
            "the server asked us to wait until {} (use --force to fetch anyway)",
            t.format("%Y-%m-%d %H:%M UTC")
        )),
        _ => None,
    }
}

/// A feed name as a shell word: quoted when it holds anything but letters, digits and `-_.`.
fn shell_word(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        name.to_string()
    } else {
        format!("'{}'", name.replace('\'', "'\\''"))
    }
}

/// The host a feed is fetched from.
pub fn host_of(row: &FeedRow) -> String {
    Url::parse(row.fetch_url())
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default()
}

/// Orders feeds round-robin across hosts, so that the global slots are not all taken by
/// feeds waiting for the same host's turn.
pub fn interleave_by_host(rows: Vec<FeedRow>) -> Vec<FeedRow> {
    let mut order: Vec<String> = Vec::new();
    let mut queues: HashMap<String, std::collections::VecDeque<FeedRow>> = HashMap::new();
    for row in rows {
        let host = host_of(&row);
        if !queues.contains_key(&host) {
            order.push(host.clone());
        }
        queues.entry(host).or_default().push_back(row);
    }
    let mut out = Vec::new();
    loop {
        let mut any = false;
        for host in &order {
            if let Some(row) = queues.get_mut(host).and_then(|q| q.pop_front()) {
                out.push(row);
                any = true;
            }
        }
        if !any {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, url: &str) -> FeedRow {
        FeedRow {
            id,
            name: format!("f{id}"),
            url: url.into(),
            moved_to: None,
            section: None,
            etag: None,
            last_modified: None,
            body_hash: None,
            state: FeedState::Active,
            retry_after: None,
            consecutive_failures: 0,
            created_at: Utc::now(),
            last_fetched_at: None,
            last_success_at: None,
            next_due: None,
            schedule: None,
            ttl_minutes: None,
            max_age_seconds: None,
            expires_at: None,
            paused_at: None,
        }
    }

    #[test]
    fn feeds_are_interleaved_by_host() {
        let rows = vec![
            row(1, "https://github.com/a.atom"),
            row(2, "https://github.com/b.atom"),
            row(3, "https://github.com/c.atom"),
            row(4, "https://blog.example/feed"),
            row(5, "https://other.example/feed"),
        ];
        let ids: Vec<i64> = interleave_by_host(rows).iter().map(|r| r.id).collect();
        assert_eq!(ids, vec![1, 4, 5, 2, 3]);
    }

    #[test]
    fn gone_and_waiting_feeds_are_skipped_unless_forced() {
        let now = Utc::now();
        let mut gone = row(1, "https://x.example/");
        gone.state = FeedState::Gone;
        assert!(
            skip_reason(&gone, now, false, false)
                .unwrap()
                .contains("gone")
        );
        assert_eq!(skip_reason(&gone, now, true, false), None);
        let mut waiting = row(2, "https://x.example/");
        waiting.retry_after = Some(now + chrono::Duration::minutes(5));
        assert!(
            skip_reason(&waiting, now, false, false)
                .unwrap()
                .contains("wait")
        );
        waiting.retry_after = Some(now - chrono::Duration::minutes(5));
        assert_eq!(skip_reason(&waiting, now, false, false), None);
    }

    #[test]
    fn paused_feeds_are_fetched_only_when_named() {
        let now = Utc::now();
        let mut paused = row(1, "https://x.example/");
        paused.name = "Ops blog".into();
        paused.paused_at = Some(now);
        let why = skip_reason(&paused, now, true, false).unwrap();
        assert!(why.contains("gleaner resume 'Ops blog'"), "{why}");
        assert_eq!(skip_reason(&paused, now, false, true), None);
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word("k8s-blog"), "k8s-blog");
    }
}
