//! One feed, start to finish, as miniflux's `RefreshFeed` reads: wait for the host's turn →
//! conditional GET → (a body new since the last one) parse → clean → dedup → score, the CPU
//! part on the blocking pool. The result is a [`Fetch`]: what the writer records. Nothing here
//! writes the database.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use url::Url;

use super::Fetcher;
use crate::fetch::{self, Fetched};
use crate::model::{ErrorKind, FeedMeta, FeedRow, FetchRecord, Outcome, Prepared, Validators};
use crate::parse::{self, ParseError};
use crate::score::{Scorer, StoryText};
use crate::{clean, dedup};

/// A fetched (and parsed) feed, waiting to be settled.
#[derive(Debug)]
pub struct Fetch {
    pub(super) record: FetchRecord,
    pub(super) extra: Extra,
}

/// Details the store does not need but the report shows.
#[derive(Debug)]
pub(super) enum Extra {
    None,
    Parsed {
        dropped: usize,
        repairs: Vec<&'static str>,
    },
}

/// Refreshes one feed (waiting for its host's turn) and turns the response into a record. With
/// a scorer, new stories are scored while parsing (on the blocking pool, where the text is at
/// hand) instead of being read back from the database afterwards.
pub async fn refresh_feed(
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

/// [`refresh_feed`] as a task of its own: the response is read on the runtime's workers, not
/// on the thread that writes the database. A panic costs that feed alone (it is reported as
/// failed).
pub(super) fn spawn_refresh(
    fetcher: Arc<Fetcher>,
    row: FeedRow,
    now: DateTime<Utc>,
    scorer: Arc<Scorer>,
) -> impl std::future::Future<Output = (FeedRow, Fetch)> {
    let task_row = row.clone();
    let task =
        tokio::spawn(async move { refresh_feed(&fetcher, &task_row, now, Some(&scorer)).await });
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
