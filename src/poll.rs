//! One round over the configured feeds: the orchestrator, and the only module that knows the
//! order of the pipeline.
//!
//! ```text
//! sync feeds.toml → rows ─▶ fetch (concurrent: `concurrency` in flight, `per_host` per host)
//!                            └─ parse → clean → dedup (spawn_blocking) ─▶ FetchRecord
//!                         ─▶ store.record_fetch (serial: one transaction per feed) ─▶ report
//! ```
//!
//! A feed's failure is a value in its [`FeedReport`]; only a database error stops the round.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tokio::sync::Semaphore;
use url::Url;

use crate::config::{Config, FetchSettings};
use crate::fetch::{self, Fetched};
use crate::model::{
    FeedMeta, FeedRow, FeedState, FetchRecord, Outcome, StoreCounts, Story, Validators,
};
use crate::parse::{self, ParseError};
use crate::store::{Store, StoreError};
use crate::{clean, dedup};

/// What the user asked of this round.
#[derive(Debug, Clone, Default)]
pub struct PollOptions {
    /// Fetch even feeds that are gone (410) or asked us to wait (Retry-After).
    pub force: bool,
    /// Only the feeds with these names (all when empty).
    pub only: Vec<String>,
}

/// How one feed's turn ended.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedResult {
    /// A body was parsed and stored.
    Stored {
        counts: StoreCounts,
        /// Entries dropped as exact repeats or unidentifiable.
        dropped: usize,
        repairs: Vec<&'static str>,
    },
    /// The body was identical to the last one parsed.
    SameBody,
    NotModified,
    Gone,
    RetryLater {
        status: Option<u16>,
        until: Option<DateTime<Utc>>,
    },
    Failed(String),
    /// Not fetched this round, and why.
    Skipped(String),
}

/// One line of the round's report.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedReport {
    pub name: String,
    pub url: String,
    pub result: FeedResult,
    /// Set when a permanent redirect moved the feed: `feeds.toml` should be updated.
    pub moved_to: Option<String>,
}

/// The whole round.
#[derive(Debug, Clone)]
pub struct RoundReport {
    pub feeds: Vec<FeedReport>,
    pub elapsed: Duration,
}

/// Polls every configured feed (or those in `opts.only`) once. `on_feed` is called as each
/// feed's result is stored, in completion order. `now` stamps everything written.
pub async fn poll_once(
    config: &Config,
    store: &Store,
    client: &reqwest::Client,
    now: DateTime<Utc>,
    opts: &PollOptions,
    mut on_feed: impl FnMut(&FeedReport),
) -> Result<RoundReport, StoreError> {
    let started = Instant::now();
    let rows = store.sync_feeds(&config.feeds, now).await?;
    let mut reports = Vec::with_capacity(rows.len());

    let mut due = Vec::new();
    for row in rows {
        if !opts.only.is_empty() && !opts.only.contains(&row.name) {
            continue;
        }
        match skip_reason(&row, now, opts.force) {
            Some(reason) => {
                let report = FeedReport {
                    name: row.name.clone(),
                    url: row.url.clone(),
                    result: FeedResult::Skipped(reason),
                    moved_to: None,
                };
                on_feed(&report);
                reports.push(report);
            }
            None => due.push(row),
        }
    }

    let settings = &config.fetch;
    let host_limits = host_semaphores(&due, settings.per_host);
    let mut results = futures_util::stream::iter(interleave_by_host(due))
        .map(|row| {
            let permit_pool = host_limits.get(&host_of(&row)).cloned();
            async move {
                let _permit = match &permit_pool {
                    Some(s) => Some(s.acquire().await.expect("semaphore never closed")),
                    None => None,
                };
                let record = fetch_feed(client, settings, &row, now).await;
                (row, record)
            }
        })
        .buffer_unordered(settings.concurrency.max(1));

    // Serial writes: this loop is the database's only writer during the round.
    while let Some((row, (record, extra))) = results.next().await {
        let counts = store.record_fetch(&row, &record, now).await?;
        let result = match (&record.outcome, extra) {
            (Outcome::Parsed { .. }, Extra::Parsed { dropped, repairs }) => FeedResult::Stored {
                counts,
                dropped,
                repairs,
            },
            (Outcome::Parsed { .. }, Extra::None) => FeedResult::Stored {
                counts,
                dropped: 0,
                repairs: Vec::new(),
            },
            (Outcome::SameBody { .. }, _) => FeedResult::SameBody,
            (Outcome::NotModified, _) => FeedResult::NotModified,
            (Outcome::Gone, _) => FeedResult::Gone,
            (Outcome::RetryLater { until }, _) => FeedResult::RetryLater {
                status: record.status,
                until: *until,
            },
            (Outcome::Failed { error }, _) => {
                tracing::info!(feed = %row.name, url = %row.fetch_url(), "{error}");
                FeedResult::Failed(error.clone())
            }
        };
        let report = FeedReport {
            name: row.name.clone(),
            url: row.url.clone(),
            result,
            moved_to: record.moved_to.clone(),
        };
        on_feed(&report);
        reports.push(report);
    }

    Ok(RoundReport {
        feeds: reports,
        elapsed: started.elapsed(),
    })
}

fn skip_reason(row: &FeedRow, now: DateTime<Utc>, force: bool) -> Option<String> {
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

/// Details the store does not need but the report shows.
enum Extra {
    None,
    Parsed {
        dropped: usize,
        repairs: Vec<&'static str>,
    },
}

/// Fetches one feed and turns the response into a record for the store.
async fn fetch_feed(
    client: &reqwest::Client,
    settings: &FetchSettings,
    row: &FeedRow,
    now: DateTime<Utc>,
) -> (FetchRecord, Extra) {
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
        },
        Ok(url) => {
            let validators = Validators {
                etag: row.etag.clone(),
                last_modified: row.last_modified.clone(),
            };
            match fetch::fetch(client, settings, &url, &validators).await {
                Err(e) => Outcome::Failed {
                    error: e.to_string(),
                },
                Ok(fetched) => {
                    let meta = fetched.meta();
                    record.status = Some(meta.status);
                    record.moved_to = meta.moved_to.as_ref().map(Url::to_string);
                    match fetched {
                        Fetched::NotModified(_) => Outcome::NotModified,
                        Fetched::Gone(_) => Outcome::Gone,
                        Fetched::RetryLater { retry_after, .. } => Outcome::RetryLater {
                            until: retry_after.map(|r| r.resolve(now)),
                        },
                        Fetched::Body(body) => {
                            record.bytes = Some(body.bytes.len());
                            let (outcome, e) = process_body(body, row.body_hash.as_deref()).await;
                            extra = e;
                            outcome
                        }
                    }
                }
            }
        }
    };
    record.duration_ms = started.elapsed().as_millis() as i64;
    (record, extra)
}

async fn process_body(body: fetch::Body, last_hash: Option<&str>) -> (Outcome, Extra) {
    let validators = Validators {
        etag: body.etag.clone(),
        last_modified: body.last_modified.clone(),
    };
    let max_age_seconds = body.max_age.map(|d| d.as_secs());
    let body_hash = dedup::body_digest(&body.bytes);
    if last_hash == Some(body_hash.as_str()) {
        let feed = FeedMeta {
            max_age_seconds,
            ..FeedMeta::default()
        };
        return (Outcome::SameBody { validators, feed }, Extra::None);
    }
    // Parsing and sanitizing are CPU work: keep them off the async workers.
    let joined = tokio::task::spawn_blocking(move || {
        prepare(
            &body.bytes,
            body.content_type.as_deref(),
            &body.meta.final_url,
        )
    })
    .await;
    match joined {
        Ok(Ok((stories, mut feed, dropped, repairs))) => {
            feed.max_age_seconds = max_age_seconds;
            (
                Outcome::Parsed {
                    stories,
                    validators,
                    body_hash,
                    feed,
                },
                Extra::Parsed { dropped, repairs },
            )
        }
        Ok(Err(e)) => (
            Outcome::Failed {
                error: e.to_string(),
            },
            Extra::None,
        ),
        // A panic in a parser must cost one feed, not the round.
        Err(e) => (
            Outcome::Failed {
                error: format!("internal error while parsing: {e}"),
            },
            Extra::None,
        ),
    }
}

type Prepared = (Vec<Story>, FeedMeta, usize, Vec<&'static str>);

/// parse → clean → dedup for one body.
pub fn prepare(
    bytes: &[u8],
    content_type: Option<&str>,
    base: &Url,
) -> Result<Prepared, ParseError> {
    let parsed = parse::parse(bytes, content_type, base)?;
    let cleaned = parsed
        .entries
        .iter()
        .map(|e| clean::clean_entry(e, base))
        .collect();
    let (stories, dropped) = dedup::identify(&parsed.entries, cleaned);
    let feed = FeedMeta {
        title: parsed
            .title
            .as_deref()
            .map(clean::html::plain_text)
            .filter(|t| !t.is_empty()),
        site_url: parsed.site_url,
        ttl_minutes: parsed.ttl,
        max_age_seconds: None,
    };
    Ok((stories, feed, dropped, parsed.repairs))
}

fn host_of(row: &FeedRow) -> String {
    Url::parse(row.fetch_url())
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default()
}

fn host_semaphores(rows: &[FeedRow], per_host: usize) -> HashMap<String, Arc<Semaphore>> {
    rows.iter()
        .map(|r| (host_of(r), Arc::new(Semaphore::new(per_host.max(1)))))
        .collect()
}

/// Orders feeds round-robin across hosts, so that the global slots are not all taken by
/// feeds waiting for the same host's permits.
fn interleave_by_host(rows: Vec<FeedRow>) -> Vec<FeedRow> {
    let mut order: Vec<String> = Vec::new();
    let mut queues: HashMap<String, VecDeque<FeedRow>> = HashMap::new();
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
            if let Some(row) = queues.get_mut(host).and_then(VecDeque::pop_front) {
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
        assert!(skip_reason(&gone, now, false).unwrap().contains("gone"));
        assert_eq!(skip_reason(&gone, now, true), None);
        let mut waiting = row(2, "https://x.example/");
        waiting.retry_after = Some(now + chrono::Duration::minutes(5));
        assert!(skip_reason(&waiting, now, false).unwrap().contains("wait"));
        waiting.retry_after = Some(now - chrono::Duration::minutes(5));
        assert_eq!(skip_reason(&waiting, now, false), None);
    }
}
