//! The orchestrator: the only module that knows the order of the pipeline. Both `gleaner poll`
//! (one round, [`poll_once`]) and the daemon (`daemon`) are built from the same three steps:
//!
//! ```text
//! sync      feeds.toml → feed rows (new feeds due now; changed schedules replanned)
//! fetch     one feed: host gate → fetch → parse → clean → dedup → score (CPU in spawn_blocking)
//! settle    a batch: schedule::plan each → store.record_fetches (one transaction) → FeedReports
//! ```
//!
//! Fetches run concurrently, as tasks; settling is serial — its caller is the database's only
//! writer, and it writes whatever feeds are ready as one batch. A feed's failure is a value in
//! its [`FeedReport`]; only a database error stops a round.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use url::Url;

use crate::config::{Config, FetchSettings};
use crate::fetch::{self, Fetched};
use crate::hosts::HostGate;
use crate::model::{
    ErrorKind, FeedMeta, FeedReport, FeedResult, FeedRow, FeedState, FetchRecord, Outcome,
    Prepared, RoundReport, StoreCounts, Validators,
};
use crate::parse::{self, ParseError};
use crate::schedule::{self, Event, Hints, Plan, Schedule};
use crate::score::{Scorer, StoryText};
use crate::store::{FetchWrite, Store, StoreError};
use crate::{clean, dedup};

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

/// A fetched (and parsed) feed, waiting to be settled.
#[derive(Debug)]
pub struct Fetch {
    record: FetchRecord,
    extra: Extra,
}

/// Details the store does not need but the report shows.
#[derive(Debug)]
enum Extra {
    None,
    Parsed {
        dropped: usize,
        repairs: Vec<&'static str>,
    },
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

/// Fetches one feed (waiting for its host's turn) and turns the response into a record. With a
/// scorer, new stories are scored while parsing (on the blocking pool, where the text is at
/// hand) instead of being read back from the database afterwards.
pub async fn fetch_feed(
    fetcher: &Fetcher,
    row: &FeedRow,
    now: DateTime<Utc>,
    scorer: Option<&Arc<Scorer>>,
) -> Fetch {
    let started = Instant::now();
    let mut record = FetchRecord {
        started_at: now,
        duration_ms: 0,
        status: None,
        moved_to: None,
        bytes: None,
        outcome: Outcome::NotModified,
    };
    let mut extra = Extra::None;
    record.outcome = match Url::parse(row.fetch_url()) {
        Err(e) => Outcome::Failed {
            error: format!("invalid URL {}: {e}", row.fetch_url()),
            kind: ErrorKind::InvalidUrl,
        },
        Ok(url) => {
            let _pass = fetcher.hosts.enter(url.host_str().unwrap_or("")).await;
            let validators = Validators {
                etag: row.etag.clone(),
                last_modified: row.last_modified.clone(),
            };
            // How far the feed may reach follows the URL the user configured, also when it is
            // fetched at the address a permanent redirect gave it.
            let reach = match Url::parse(&row.url) {
                Ok(configured) => fetch::reach(&fetcher.settings, &configured),
                Err(_) => fetch::reach(&fetcher.settings, &url),
            };
            let fetched =
                fetch::fetch_within(&fetcher.client, &fetcher.settings, &url, &validators, reach)
                    .await;
            match fetched {
                Err(e) => {
                    if let fetch::FetchError::Status { code, .. } = e {
                        record.status = Some(code);
                    }
                    Outcome::Failed {
                        error: e.to_string(),
                        kind: e.kind(),
                    }
                }
                Ok(fetched) => {
                    let meta = fetched.meta();
                    record.status = Some(meta.status);
                    // An https feed redirected to http is followed, never adopted.
                    record.moved_to = meta
                        .moved_to
                        .as_ref()
                        .filter(|to| !(url.scheme() == "https" && to.scheme() == "http"))
                        .map(Url::to_string);
                    match fetched {
                        Fetched::NotModified(_) => Outcome::NotModified,
                        Fetched::Gone(_) => Outcome::Gone,
                        Fetched::RetryLater { retry_after, .. } => Outcome::RetryLater {
                            until: retry_after.map(|r| r.resolve(now)),
                        },
                        Fetched::Body(body) => {
                            record.bytes = Some(body.bytes.len());
                            let scoring = scorer.map(|s| (s.clone(), row.name.clone()));
                            let (outcome, e) =
                                process_body(body, row.body_hash.as_deref(), scoring).await;
                            extra = e;
                            outcome
                        }
                    }
                }
            }
        }
    };
    record.duration_ms = started.elapsed().as_millis() as i64;
    Fetch { record, extra }
}

/// [`fetch_feed`] as a task of its own: the response is read on the runtime's workers, not
/// on the thread that writes the database. A panic costs that feed alone (it is reported as
/// failed).
pub fn spawn_fetch(
    fetcher: Arc<Fetcher>,
    row: FeedRow,
    now: DateTime<Utc>,
    scorer: Arc<Scorer>,
) -> impl std::future::Future<Output = (FeedRow, Fetch)> {
    let task_row = row.clone();
    let task =
        tokio::spawn(async move { fetch_feed(&fetcher, &task_row, now, Some(&scorer)).await });
    async move {
        match task.await {
            Ok(fetch) => (row, fetch),
            Err(e) => {
                let fetch = Fetch {
                    record: FetchRecord {
                        started_at: now,
                        duration_ms: 0,
                        status: None,
                        moved_to: None,
                        bytes: None,
                        outcome: Outcome::Failed {
                            error: format!("internal error while fetching: {e}"),
                            kind: ErrorKind::Internal,
                        },
                    },
                    extra: Extra::None,
                };
                (row, fetch)
            }
        }
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

/// How long the round's writer waits for more feeds before writing a batch.
const BATCH_WAIT: Duration = Duration::from_millis(20);

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

    // Fetching (tasks of their own; parsing on the blocking pool) runs ahead of writing
    // through a bounded channel: the writer never stops the fetches, and at most a channel's
    // worth of parsed feeds waits in memory. A database error ends the writer, which drops
    // the receiver, which ends the fetching.
    let scorer = Arc::new(Scorer::new(config));
    let schedules = Schedules::new(config);
    let concurrency = fetcher.settings.concurrency.max(1);
    let (tx, rx) = tokio::sync::mpsc::channel::<(FeedRow, Fetch)>(concurrency.max(MAX_BATCH));
    let fetching = async {
        let mut results = futures_util::stream::iter(interleave_by_host(due))
            .map(|row| spawn_fetch(fetcher.clone(), row, now, scorer.clone()))
            .buffer_unordered(concurrency);
        while let Some(done) = results.next().await {
            if tx.send(done).await.is_err() {
                break; // the writer stopped (a database error)
            }
        }
        drop(tx);
    };
    // Serial writes: this loop is the database's only writer during the round.
    let writing = async {
        let mut rx = rx; // owned: dropping it on an error ends the fetching too
        while let Some(first) = rx.recv().await {
            let mut batch = vec![first];
            // Gather a batch: a transaction has a fixed cost (its statements wait for the
            // database thread), so a few milliseconds of waiting buys many feeds per commit.
            let deadline = tokio::time::Instant::now() + BATCH_WAIT;
            while batch.len() < MAX_BATCH {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(more)) => batch.push(more),
                    _ => break,
                }
            }
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
        Ok::<(), StoreError>(())
    };
    let ((), written) = tokio::join!(fetching, writing);
    written?;

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

async fn process_body(
    body: fetch::Body,
    last_hash: Option<&str>,
    scoring: Option<(Arc<Scorer>, String)>,
) -> (Outcome, Extra) {
    let validators = Validators {
        etag: body.etag.clone(),
        last_modified: body.last_modified.clone(),
    };
    let max_age_seconds = body.max_age.map(|d| d.as_secs());
    let expires_at = body.expires;
    // Hashing and parsing are CPU work: off the async workers, in one trip to the blocking
    // pool. A body byte-for-byte the last one parsed is not parsed again.
    let last_hash = last_hash.map(str::to_string);
    let joined = tokio::task::spawn_blocking(move || {
        lower_priority();
        let body_hash = dedup::body_digest(&body.bytes);
        if last_hash.as_deref() == Some(body_hash.as_str()) {
            return (body_hash, None);
        }
        let prepared = prepare(
            &body.bytes,
            body.content_type.as_deref(),
            &body.meta.final_url,
            scoring.as_ref().map(|(s, name)| (&**s, name.as_str())),
        );
        (body_hash, Some(prepared))
    })
    .await;
    let joined = match joined {
        Ok((_, None)) => {
            let feed = FeedMeta {
                max_age_seconds,
                expires_at,
                ..FeedMeta::default()
            };
            return (Outcome::SameBody { validators, feed }, Extra::None);
        }
        Ok((body_hash, Some(prepared))) => Ok((body_hash, prepared)),
        Err(e) => Err(e),
    };
    match joined {
        Ok((body_hash, Ok(prepared))) => {
            let Prepared {
                stories,
                mut feed,
                dropped,
                repairs,
                truncated,
            } = prepared;
            feed.max_age_seconds = max_age_seconds;
            feed.expires_at = expires_at;
            (
                Outcome::Parsed {
                    stories,
                    validators,
                    body_hash,
                    feed,
                    truncated,
                },
                Extra::Parsed { dropped, repairs },
            )
        }
        Ok((_, Err(e))) => (
            Outcome::Failed {
                error: e.to_string(),
                kind: ErrorKind::Parse,
            },
            Extra::None,
        ),
        // A panic in a parser must cost one feed, not the round.
        Err(e) => (
            Outcome::Failed {
                error: format!("internal error while parsing: {e}"),
                kind: ErrorKind::Internal,
            },
            Extra::None,
        ),
    }
}

/// Parsing yields to the writer: the round's one writer (and the async thread that feeds it)
/// waits for a core at every statement when parsing threads hold both, and a round goes only
/// as fast as its writer. Nice 10 on the blocking threads that parse, once per thread.
fn lower_priority() {
    thread_local! {
        static DONE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    DONE.with(|d| {
        if !d.replace(true) {
            // Linux applies nice to the calling thread. Failing to lower it is harmless.
            let _ = rustix::process::nice(10);
        }
    });
}

/// parse → clean → dedup (→ score, given a scorer and the feed's name) for one body.
pub fn prepare(
    bytes: &[u8],
    content_type: Option<&str>,
    base: &Url,
    scoring: Option<(&Scorer, &str)>,
) -> Result<Prepared, ParseError> {
    let parsed = parse::parse(bytes, content_type, base)?;
    let (cleaned, texts): (Vec<_>, Vec<_>) = parsed
        .entries
        .iter()
        .map(|e| clean::clean_entry_with_text(e, base))
        .unzip();
    let (indexed, dropped) = dedup::identify_indexed(&parsed.entries, cleaned);
    let stories = match scoring {
        None => indexed.into_iter().map(|(_, s)| s).collect(),
        Some((scorer, feed)) => {
            // As a story of this feed alone: the store queues it again if it turns out to be
            // another feed's story too.
            let sources = [feed.to_string()];
            indexed
                .into_iter()
                .map(|(i, mut s)| {
                    s.score = Some(scorer.score_row(
                        0,
                        &StoryText {
                            title: &s.entry.title,
                            body: &texts[i],
                            sources: &sources,
                            url: s.entry.url.as_deref(),
                        },
                        &s.entry.excerpt,
                        s.entry.author.as_deref(),
                    ));
                    s
                })
                .collect()
        }
    };
    let feed = FeedMeta {
        title: parsed
            .title
            .as_deref()
            .map(clean::html::plain_text)
            .filter(|t| !t.is_empty()),
        site_url: parsed.site_url,
        ttl_minutes: parsed.ttl,
        max_age_seconds: None,
        expires_at: None,
    };
    Ok(Prepared {
        stories,
        feed,
        dropped,
        repairs: parsed.repairs,
        truncated: parsed.truncated,
    })
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
