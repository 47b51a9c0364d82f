//! The round runner both `gleaner poll` and the daemon use: feeds are submitted to a queue,
//! refreshed by at most `concurrency` worker tasks (in submission order, interleaved by host),
//! and handed to the one writer in batches: each batch is planned
//! ([`crate::schedule::plan`]) and written in one transaction. The caller decides what to
//! submit (every due feed for a round; what has room, for the daemon), how long a batch may
//! wait for company, and what to do with the reports.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::Fetcher;
use super::feed::{Extra, Fetch, spawn_refresh};
use crate::config::Config;
use crate::model::{FeedReport, FeedResult, FeedRow, FetchRecord, Outcome, StoreCounts};
use crate::schedule::{self, Event, Hints, Plan, Schedule};
use crate::score::Scorer;
use crate::store::{FetchWrite, Store, StoreError};

/// The ingest engine: feeds in flight and the channel their results come back on. Dropping it
/// abandons what is in flight (the daemon's grace period over).
pub struct Engine {
    fetcher: Arc<Fetcher>,
    scorer: Arc<Scorer>,
    queue: Arc<Mutex<Queue>>,
    /// The workers: dropping the set aborts them.
    tasks: JoinSet<()>,
    tx: mpsc::Sender<(FeedRow, Fetch)>,
    rx: mpsc::Receiver<(FeedRow, Fetch)>,
    /// Ids of the feeds submitted and not yet handed out in a batch.
    busy: HashSet<i64>,
}

/// Feeds waiting for a worker, and how many workers are alive (one lock for both: a worker
/// that finds the queue empty leaves under it, so a feed submitted then gets a new worker).
#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    workers: usize,
}

/// A feed to refresh, with the fetcher and scorer of the config it was submitted under.
type Job = (FeedRow, Arc<Fetcher>, Arc<Scorer>, DateTime<Utc>);

/// Takes feeds off the queue until it is empty; each result goes to the writer's channel
/// (waiting there when the writer is behind, so that at most a channel's worth of refreshed
/// feeds waits in memory however slow the writes are, and fetches never wait for a write).
async fn worker(queue: Arc<Mutex<Queue>>, tx: mpsc::Sender<(FeedRow, Fetch)>) {
    loop {
        let job = {
            let mut q = queue.lock().expect("the queue lock is never poisoned");
            match q.jobs.pop_front() {
                Some(job) => job,
                None => {
                    q.workers -= 1;
                    return;
                }
            }
        };
        let (row, fetcher, scorer, now) = job;
        let done = spawn_refresh(fetcher, row, now, scorer).await;
        if tx.send(done).await.is_err() {
            // The engine is gone: nothing waits for the rest.
            queue
                .lock()
                .expect("the queue lock is never poisoned")
                .workers -= 1;
            return;
        }
    }
}

impl Engine {
    pub fn new(config: &Config, fetcher: Arc<Fetcher>) -> Engine {
        let concurrency = fetcher.settings.concurrency.max(1);
        let (tx, rx) = mpsc::channel(concurrency.max(MAX_BATCH));
        Engine {
            scorer: Arc::new(Scorer::new(config)),
            queue: Arc::default(),
            fetcher,
            tasks: JoinSet::new(),
            tx,
            rx,
            busy: HashSet::new(),
        }
    }

    /// A new config (a reload): feeds submitted from now on are fetched and scored with it.
    pub fn configure(&mut self, config: &Config, fetcher: Arc<Fetcher>) {
        self.fetcher = fetcher;
        self.scorer = Arc::new(Scorer::new(config));
    }

    /// The fetcher feeds are submitted with.
    pub fn fetcher(&self) -> Arc<Fetcher> {
        self.fetcher.clone()
    }

    /// Feeds submitted and not yet handed out.
    pub fn in_flight(&self) -> usize {
        self.busy.len()
    }

    /// Whether feed `id` is in flight.
    pub fn is_busy(&self, id: i64) -> bool {
        self.busy.contains(&id)
    }

    /// How many more feeds may be submitted without waiting for a slot.
    pub fn room(&self) -> usize {
        self.fetcher
            .settings
            .concurrency
            .saturating_sub(self.in_flight())
    }

    /// Queues `rows` for refreshing (interleaved by host; a feed already in flight is left
    /// out) and starts workers for them, up to `concurrency`.
    pub fn submit(&mut self, rows: Vec<FeedRow>, now: DateTime<Utc>) {
        let mut q = self.queue.lock().expect("the queue lock is never poisoned");
        for row in super::interleave_by_host(rows) {
            if self.busy.insert(row.id) {
                q.jobs
                    .push_back((row, self.fetcher.clone(), self.scorer.clone(), now));
            }
        }
        let limit = self.fetcher.settings.concurrency.max(1);
        while q.workers < limit && q.workers < q.jobs.len() {
            q.workers += 1;
            self.tasks
                .spawn(worker(self.queue.clone(), self.tx.clone()));
        }
    }

    /// The next refreshed feeds to write: waits for one, then takes what else is ready, waiting
    /// at most `wait` for more (a transaction has a fixed cost: a few milliseconds of waiting
    /// buys many feeds per commit). `None` when nothing is in flight.
    pub async fn next_batch(&mut self, wait: Duration) -> Option<Vec<(FeedRow, Fetch)>> {
        if self.busy.is_empty() {
            return None;
        }
        let first = self.rx.recv().await?;
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + wait;
        while batch.len() < MAX_BATCH && batch.len() < self.busy.len() {
            if let Ok(more) = self.rx.try_recv() {
                batch.push(more);
                continue;
            }
            if wait.is_zero() {
                break;
            }
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(more)) => batch.push(more),
                _ => break,
            }
        }
        for (row, _) in &batch {
            self.busy.remove(&row.id);
        }
        // Reap the finished tasks (their results are in the batch).
        while self.tasks.try_join_next().is_some() {}
        Some(batch)
    }
}

/// Where each configured feed's schedule is found, by URL: built once per round (or config),
/// so settling a feed is not a search through 20,000 of them.
#[derive(Debug)]
pub struct Schedules<'a> {
    by_url: HashMap<&'a str, (&'a Schedule, String)>,
    default: (&'a Schedule, String),
}

impl<'a> Schedules<'a> {
    pub fn new(config: &'a Config) -> Schedules<'a> {
        Schedules {
            by_url: config
                .feeds
                .iter()
                .map(|f| {
                    let s = config.schedule_of(f);
                    (f.url.as_str(), (s, s.to_string()))
                })
                .collect(),
            default: (
                &config.schedule.default,
                config.schedule.default.to_string(),
            ),
        }
    }

    /// The schedule of the feed configured at `url`, and its display form.
    fn of(&self, url: &str) -> (&'a Schedule, &str) {
        let (s, spec) = self.by_url.get(url).unwrap_or(&self.default);
        (s, spec.as_str())
    }
}

/// Most feeds settled in one transaction. Batching costs nothing in latency (the writer takes
/// what is ready and never waits for more) and saves a commit and most statements per feed.
pub const MAX_BATCH: usize = 32;

/// Plans each feed's next fetch and writes the batch in one transaction.
pub async fn settle_batch(
    config: &Config,
    schedules: &Schedules<'_>,
    store: &Store,
    batch: Vec<(FeedRow, Fetch)>,
    now: DateTime<Utc>,
    rng: &mut fastrand::Rng,
) -> Result<Vec<FeedReport>, StoreError> {
    let plans: Vec<(Plan, &str)> = batch
        .iter()
        .map(|(row, fetch)| {
            let (schedule, spec) = schedules.of(&row.url);
            (
                plan_for(config, schedule, row, &fetch.record, now, rng),
                spec,
            )
        })
        .collect();
    let writes: Vec<FetchWrite<'_>> = batch
        .iter()
        .zip(&plans)
        .map(|((row, fetch), (plan, spec))| FetchWrite {
            feed: row,
            rec: &fetch.record,
            plan,
            schedule: spec,
        })
        .collect();
    let counts = store.record_fetches(&writes, now).await?;
    drop(writes);
    Ok(batch
        .into_iter()
        .zip(plans)
        .zip(counts)
        .map(|(((row, fetch), (plan, _)), counts)| report(row, fetch, plan, counts))
        .collect())
}

fn report(row: FeedRow, fetch: Fetch, plan: Plan, counts: StoreCounts) -> FeedReport {
    let Fetch { record, extra } = fetch;
    let result = match (record.outcome, extra) {
        (Outcome::Parsed { truncated, .. }, Extra::Parsed { dropped, repairs }) => {
            FeedResult::Stored {
                counts,
                dropped,
                repairs,
                truncated,
            }
        }
        (Outcome::Parsed { truncated, .. }, Extra::None) => FeedResult::Stored {
            counts,
            dropped: 0,
            repairs: Vec::new(),
            truncated,
        },
        (Outcome::SameBody { .. }, _) => FeedResult::SameBody,
        (Outcome::NotModified, _) => FeedResult::NotModified,
        (Outcome::Gone, _) => FeedResult::Gone,
        (Outcome::RetryLater { until }, _) => FeedResult::RetryLater {
            status: record.status,
            until,
        },
        (Outcome::Failed { error, .. }, _) => FeedResult::Failed(error),
    };
    let adopted = matches!(
        result,
        FeedResult::Stored { .. } | FeedResult::SameBody | FeedResult::NotModified
    );
    FeedReport {
        name: row.name,
        url: row.url,
        result,
        moved_to: record.moved_to.filter(|_| adopted),
        next_due: plan.next_due,
        state: plan.state,
    }
}

fn plan_for(
    config: &Config,
    schedule: &Schedule,
    row: &FeedRow,
    record: &FetchRecord,
    now: DateTime<Utc>,
    rng: &mut fastrand::Rng,
) -> Plan {
    let event = match &record.outcome {
        // A cut-off body is a failure of the feed's (its complete entries were kept).
        Outcome::Parsed {
            truncated: Some(_), ..
        } => Event::Failure {
            failures: u32::try_from(row.consecutive_failures + 1).unwrap_or(u32::MAX),
        },
        Outcome::Parsed { .. } | Outcome::SameBody { .. } | Outcome::NotModified => Event::Success,
        Outcome::Gone => Event::Gone,
        Outcome::RetryLater { until } => Event::RateLimited {
            until: *until,
            failures: (record.status == Some(503))
                .then(|| u32::try_from(row.consecutive_failures + 1).unwrap_or(u32::MAX)),
        },
        Outcome::Failed { .. } => Event::Failure {
            failures: u32::try_from(row.consecutive_failures + 1).unwrap_or(u32::MAX),
        },
    };
    // Fresh hints from this response, else what earlier responses said.
    let fresh = match &record.outcome {
        Outcome::Parsed { feed, .. } | Outcome::SameBody { feed, .. } => Some(feed),
        _ => None,
    };
    let secs = |s: i64| Duration::from_secs(s.max(0) as u64);
    let hints = Hints {
        ttl: fresh
            .and_then(|f| f.ttl_minutes.map(i64::from))
            .or(row.ttl_minutes)
            .map(|m| secs(m * 60)),
        max_age: fresh
            .and_then(|f| f.max_age_seconds.map(|s| s as i64))
            .or(row.max_age_seconds)
            .map(secs),
        expires: fresh.and_then(|f| f.expires_at).or(row.expires_at),
    };
    let failing_since = row.last_success_at.unwrap_or(row.created_at);
    schedule::plan(
        schedule,
        &config.schedule,
        event,
        &hints,
        failing_since,
        now,
        rng,
    )
}
