//! `gleaner run`: the long-running loop. The schedule lives in the database (`next_due` per
//! feed), so this loop is small and a restart resumes where it stopped: it fetches what is due
//! (new feeds at once), settles results as they arrive — each with whatever else is ready, in
//! one transaction (this loop is the only writer) — and sleeps until the next plan.
//!
//! - SIGINT/SIGTERM: stop taking new work; in-flight feeds get `[daemon] grace` to finish and be
//!   committed; then exit 0. A second signal exits at once (SQLite keeps the database
//!   consistent: an interrupted transaction is rolled back).
//! - SIGHUP: re-read feeds.toml. A valid file takes effect at once (new feeds are fetched,
//!   removed feeds stop, changed schedules are replanned); an invalid one is reported with all
//!   its problems and the running config stays.
//! - After a burst of fetches that stored new stories, the stale scores are recomputed and the
//!   outputs rewritten ([`crate::desk::refresh`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::ingest::{self, Engine, Fetcher};
use crate::model::FeedResult;
use crate::output;
use crate::store::{Store, StoreError};

/// The longest the loop sleeps without looking at the database again (plans written by a
/// `gleaner poll` run beside the daemon are picked up within this).
const MAX_NAP: Duration = Duration::from_secs(30);

/// Errors that stop the daemon (a feed's failure never does).
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Signals, as the loop sees them.
pub struct Control {
    /// Cancelled on the first SIGINT/SIGTERM.
    pub shutdown: CancellationToken,
    /// One message per SIGHUP (or per [`Control::reloader`] send).
    pub reload: mpsc::Receiver<()>,
    /// Feeds `reload`: what a SIGHUP does, from inside the process.
    reloader: mpsc::Sender<()>,
}

impl Control {
    /// A handle that asks for a reload as SIGHUP does (the web desk, after it wrote feeds.toml).
    pub fn reloader(&self) -> mpsc::Sender<()> {
        self.reloader.clone()
    }
}

/// Installs SIGINT/SIGTERM/SIGHUP handlers. A second SIGINT/SIGTERM exits the process at once.
pub fn install_signal_handlers() -> std::io::Result<Control> {
    use tokio::signal::unix::{SignalKind, signal};
    let shutdown = CancellationToken::new();
    let (tx, reload) = mpsc::channel(4);
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    let token = shutdown.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            if token.is_cancelled() {
                tracing::warn!("second signal: exiting now");
                std::process::exit(130);
            }
            token.cancel();
        }
    });
    let reloader = tx.clone();
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            if tx.send(()).await.is_err() {
                break;
            }
        }
    });
    Ok(Control {
        shutdown,
        reload,
        reloader,
    })
}

/// Runs until `control.shutdown` is cancelled. `config_path` is re-read on reload; every
/// config adopted then is also sent to `adopted` (the web desk under `run --serve`).
pub async fn run(
    mut config: Config,
    config_path: PathBuf,
    store: Store,
    mut control: Control,
    adopted: Option<tokio::sync::watch::Sender<Arc<Config>>>,
) -> Result<(), DaemonError> {
    let mut rng = fastrand::Rng::new();
    let mut engine = Engine::new(&config, Arc::new(Fetcher::new(&config.fetch)?));
    let now = Utc::now();
    ingest::sync(&config, &store, now, &mut rng).await?;
    warn_aggressive(&config, now);
    tracing::info!(
        feeds = config.feeds.len(),
        db = %config.storage.path.display(),
        "gleaner running; SIGHUP reloads {}, SIGINT/SIGTERM stops",
        config_path.display()
    );

    let mut stopping: Option<tokio::time::Instant> = None;
    let mut new_since_outputs = 0usize;
    // After a failed write (a full disk, say): no new fetches until this instant.
    let mut paused_until: Option<tokio::time::Instant> = None;
    let mut write_failures = 0u32;
    // The busy spell under way (from the first fetch started while idle to the last one
    // written): recorded as a round for `/metrics`.
    let mut spell: Option<(std::time::Instant, crate::model::Round)> = None;
    // The weekly digest ([digest]): when to look again whether a week is due, and the send
    // under way (one at a time, beside the fetches).
    let mut digest_at = digest_check(&config, &store, Utc::now()).await;
    let mut digest_task: Option<tokio::task::JoinHandle<Option<DateTime<Utc>>>> = None;

    loop {
        let now = Utc::now();
        if stopping.is_none() && digest_task.is_none() && digest_at.is_some_and(|t| t <= now) {
            let (c, s) = (config.clone(), store.clone());
            digest_task = Some(tokio::spawn(async move { send_digest(&c, &s).await }));
        }
        if paused_until.is_some_and(|t| tokio::time::Instant::now() >= t) {
            paused_until = None;
        }
        if stopping.is_none() && paused_until.is_none() {
            let room = engine.room();
            if room > 0 {
                let due = store.due_feeds(now, room + engine.in_flight()).await?;
                let due: Vec<_> = due
                    .into_iter()
                    .filter(|r| !engine.is_busy(r.id))
                    .take(room)
                    .collect();
                if !due.is_empty() && spell.is_none() {
                    spell = Some((
                        std::time::Instant::now(),
                        crate::model::Round::start("daemon", now),
                    ));
                }
                engine.submit(due, now);
            }
        }
        if stopping.is_some() && engine.in_flight() == 0 && digest_task.is_none() {
            break;
        }
        let mut wake = match (stopping, paused_until) {
            (Some(deadline), _) => deadline,
            (None, Some(until)) => until,
            (None, None) => next_wake(&store, now).await?,
        };
        if stopping.is_none()
            && digest_task.is_none()
            && let Some(t) = digest_at
        {
            let at = tokio::time::Instant::now() + (t - now).to_std().unwrap_or(Duration::ZERO);
            wake = wake.min(at.max(tokio::time::Instant::now() + Duration::from_millis(50)));
        }

        tokio::select! {
            _ = control.shutdown.cancelled(), if stopping.is_none() => {
                let grace = config.daemon.grace;
                tracing::info!(in_flight = engine.in_flight(), "stopping: finishing in-flight feeds (grace {})", humantime::format_duration(grace));
                stopping = Some(tokio::time::Instant::now() + grace);
            }
            Some(()) = control.reload.recv(), if stopping.is_none() => {
                if let Some(new) = reload(&config_path, &config) {
                    let fetcher = if new.fetch != config.fetch {
                        Arc::new(Fetcher::new(&new.fetch)?)
                    } else {
                        engine.fetcher()
                    };
                    config = new;
                    engine.configure(&config, fetcher);
                    if let Some(tx) = &adopted {
                        tx.send_replace(Arc::new(config.clone()));
                    }
                    let now = Utc::now();
                    match ingest::sync(&config, &store, now, &mut rng).await {
                        Ok(_) => tracing::info!(feeds = config.feeds.len(), "reloaded {}", config_path.display()),
                        // The feeds table keeps its old rows; the next reload tries again.
                        Err(e) => tracing::error!("reloaded {}, but cannot record its feeds: {e}", config_path.display()),
                    }
                    warn_aggressive(&config, now);
                    digest_at = digest_check(&config, &store, now).await;
                }
            }
            done = async { digest_task.as_mut().expect("guarded").await }, if digest_task.is_some() => {
                digest_task = None;
                digest_at = match done {
                    Ok(next) => next,
                    Err(e) => {
                        tracing::error!("the digest send stopped: {e}");
                        Some(Utc::now() + chrono::Duration::minutes(1))
                    }
                };
            }
            // Whatever is ready goes in the same transaction; the daemon never waits for more.
            Some(batch) = engine.next_batch(Duration::ZERO), if engine.in_flight() > 0 => {
                let now = Utc::now();
                let schedules = ingest::Schedules::new(&config);
                let n = batch.len();
                let reports = match ingest::settle_batch(&config, &schedules, &store, batch, now, &mut rng).await {
                    Ok(reports) => {
                        write_failures = 0;
                        reports
                    }
                    // The transaction rolled back: the database is as before, these feeds are
                    // still due, and are fetched again once the pause is over.
                    Err(e) => {
                        // Fetches that were in flight when the first write failed land in
                        // the same pause; only a failure after a pause lengthens the next.
                        let until = *paused_until.get_or_insert_with(|| {
                            write_failures += 1;
                            tokio::time::Instant::now() + write_retry_pause(write_failures)
                        });
                        tracing::error!(
                            feeds = n,
                            "cannot write the database: {e}; nothing from these feeds was stored, fetching again in {}",
                            humantime::format_duration(Duration::from_secs(
                                until.saturating_duration_since(tokio::time::Instant::now()).as_secs_f64().ceil() as u64
                            ))
                        );
                        continue;
                    }
                };
                for report in &reports {
                    log_report(report);
                    new_since_outputs += report.result.new_stories();
                    if let Some((_, round)) = &mut spell {
                        round.add(&report.result);
                    }
                }
                if engine.in_flight() == 0
                    && let Some((started, mut round)) = spell.take()
                {
                    round.duration = started.elapsed();
                    // Only a figure for /metrics: a failure to keep it costs nothing else.
                    if let Err(e) = store.record_round(&round).await {
                        tracing::warn!("cannot record the round: {e}");
                    }
                }
                if engine.in_flight() == 0 && new_since_outputs > 0 {
                    regenerate_outputs(&config, &store, now, new_since_outputs).await;
                    new_since_outputs = 0;
                }
            }
            _ = tokio::time::sleep_until(wake) => {
                if stopping.is_some() {
                    tracing::warn!(abandoned = engine.in_flight(), "grace period over: stopping without them (they will be fetched next time)");
                    if let Some(t) = digest_task.take() {
                        // Left `sending`: the next start sends it again.
                        tracing::warn!("grace period over: the digest send under way is abandoned (it is tried again at the next start)");
                        t.abort();
                    }
                    break;
                }
            }
        }
    }
    if new_since_outputs > 0 {
        regenerate_outputs(&config, &store, Utc::now(), new_since_outputs).await;
    }
    drop(engine);
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// When to look again whether a digest is due (`None`: no `[digest]`). A database error is
/// logged and looked at again in a minute.
async fn digest_check(config: &Config, store: &Store, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if config.digest.is_some()
        && let Err(e) = store.digest_schedule_since(now).await
    {
        tracing::error!("cannot record the digest schedule: {e}");
    }
    match crate::deliver::next_check(config, store, now).await {
        Ok(t) => t,
        Err(e) => {
            tracing::error!("cannot read the digest deliveries: {e}");
            config
                .digest
                .as_ref()
                .map(|_| now + chrono::Duration::minutes(1))
        }
    }
}

/// Sends the digest that is due (if any), logs what happened, and returns when to look again.
async fn send_digest(config: &Config, store: &Store) -> Option<DateTime<Utc>> {
    let now = Utc::now();
    match crate::deliver::run_due(config, store, now).await {
        Ok((outcomes, next)) => {
            for o in &outcomes {
                let line = output::deliveries::outcome_line(o);
                match &o.result {
                    crate::model::Sent::Failed { .. } => {
                        tracing::warn!(channel = o.channel, week = %o.week, "{line}")
                    }
                    _ => tracing::info!(channel = o.channel, week = %o.week, "{line}"),
                }
            }
            next
        }
        Err(e) => {
            tracing::error!("cannot send the digest: {e}; trying again in a minute");
            Some(now + chrono::Duration::minutes(1))
        }
    }
}

/// How long to wait before fetching again after the `n`th write failure in a row: 5 s,
/// doubling, at most 5 minutes.
fn write_retry_pause(n: u32) -> Duration {
    Duration::from_secs(5u64.saturating_mul(1 << n.saturating_sub(1).min(6)))
        .min(Duration::from_secs(300))
}

/// When to look at the database again: the earliest plan, but at most [`MAX_NAP`] away.
async fn next_wake(store: &Store, now: DateTime<Utc>) -> Result<tokio::time::Instant, StoreError> {
    let nap = match store.next_wake().await? {
        Some(t) => (t - now).to_std().unwrap_or(Duration::ZERO).min(MAX_NAP),
        None => MAX_NAP,
    };
    // Never spin: a feed due "now" that is already in flight must not busy-loop.
    Ok(tokio::time::Instant::now() + nap.max(Duration::from_millis(200)))
}

/// For `gleaner serve` on its own: each reload request (SIGHUP, or the desk after it wrote
/// feeds.toml) re-reads `path` as the daemon does and, when valid, hands the new config to
/// `adopted`; an invalid file is logged and the running config stays.
pub fn follow_reloads(
    mut requests: mpsc::Receiver<()>,
    adopted: tokio::sync::watch::Sender<std::sync::Arc<Config>>,
    path: std::path::PathBuf,
) {
    tokio::spawn(async move {
        while requests.recv().await.is_some() {
            let current = adopted.borrow().clone();
            if let Some(new) = reload(&path, &current) {
                adopted.send_replace(std::sync::Arc::new(new));
                tracing::info!("reloaded {}", path.display());
            }
        }
    });
}

/// Re-reads the config file; `None` (logged) when it is invalid and `current` stays.
pub fn reload(path: &std::path::Path, current: &Config) -> Option<Config> {
    match Config::load(path) {
        // The database in use stays: changing [storage] path takes a restart.
        Ok(new) => Some(Config {
            storage: current.storage.clone(),
            ..new
        }),
        Err(e) => {
            tracing::error!("reload rejected, the running config stays: {e}");
            None
        }
    }
}

fn warn_aggressive(config: &Config, now: DateTime<Utc>) {
    for feed in &config.feeds {
        let s = config.schedule_of(feed);
        if s.is_aggressive(now) {
            tracing::warn!(feed = %feed.name, schedule = %s, "polls more often than every 5 minutes; publishers may block it");
        }
    }
}

fn log_report(r: &crate::model::FeedReport) {
    let next = r
        .next_due
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "never".into());
    let line = output::round::feed_line(r);
    if r.state == crate::model::FeedState::Dead {
        tracing::warn!(feed = %r.name, "dead: failing for longer than [schedule] dead_after; still retried at the longest backoff — check the URL or remove the feed");
    }
    match &r.result {
        FeedResult::Failed(_)
        | FeedResult::Gone
        | FeedResult::Stored {
            truncated: Some(_), ..
        } => {
            tracing::warn!(feed = %r.name, next_due = %next, state = r.state.as_str(), "{line}")
        }
        _ => tracing::info!(feed = %r.name, next_due = %next, "{line}"),
    }
}

async fn regenerate_outputs(config: &Config, store: &Store, now: DateTime<Utc>, new: usize) {
    match crate::desk::refresh(config, store, now).await {
        Ok(r) => {
            tracing::info!(
                new_stories = new,
                files = r.files.len(),
                "outputs regenerated"
            );
            if let Some(p) = r.held_back {
                tracing::warn!(
                    "candidates.md has unapplied ticks or blurbs: left alone, fresh list in {}",
                    p.display()
                );
            }
        }
        Err(e) => tracing::error!("regenerating outputs failed: {e}"),
    }
}
