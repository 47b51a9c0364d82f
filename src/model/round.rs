//! What a polling round did, feed by feed and in total: what the engine reports, the store
//! keeps (for `/metrics`) and the renderers show.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{FeedState, StoreCounts};

/// How one feed's turn ended.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedResult {
    /// A body was parsed and stored.
    Stored {
        counts: StoreCounts,
        /// Entries dropped as repeats or unidentifiable.
        dropped: usize,
        repairs: Vec<&'static str>,
        /// The body was cut off: its complete entries were stored, and the feed counts as
        /// failing until a whole body arrives (`truncated after N entries: …`).
        truncated: Option<String>,
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

impl FeedResult {
    /// Whether the feed failed this round (a cut-off body did, though its entries were kept).
    pub fn failed(&self) -> bool {
        matches!(
            self,
            FeedResult::Failed(_)
                | FeedResult::Stored {
                    truncated: Some(_),
                    ..
                }
        )
    }

    /// New stories stored.
    pub fn new_stories(&self) -> usize {
        match self {
            FeedResult::Stored { counts, .. } => counts.new,
            _ => 0,
        }
    }
}

/// One feed's report.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedReport {
    pub name: String,
    pub url: String,
    pub result: FeedResult,
    /// Set when a permanent redirect moved the feed: `feeds.toml` should be updated.
    pub moved_to: Option<String>,
    /// When it is due again (`None`: never, or not replanned).
    pub next_due: Option<DateTime<Utc>>,
    pub state: FeedState,
}

/// The whole round.
#[derive(Debug, Clone)]
pub struct RoundReport {
    pub feeds: Vec<FeedReport>,
    pub elapsed: Duration,
}

impl RoundReport {
    /// Whether any story was stored new or changed (the outputs then need rewriting).
    pub fn stories_changed(&self) -> bool {
        self.feeds.iter().any(|f| {
            matches!(&f.result, FeedResult::Stored { counts, .. }
                if counts.new + counts.updated + counts.also_elsewhere > 0)
        })
    }

    /// Feeds fetched this round (skipped ones aside), and how many of them failed outright
    /// (nothing stored: a cut-off body whose complete entries were kept does not count here).
    pub fn failures(&self) -> (usize, usize) {
        let fetched = self
            .feeds
            .iter()
            .filter(|f| !matches!(f.result, FeedResult::Skipped(_)));
        let (mut n, mut failed) = (0, 0);
        for f in fetched {
            n += 1;
            failed += usize::from(matches!(f.result, FeedResult::Failed(_)));
        }
        (n, failed)
    }

    /// The round as the store keeps it (`/metrics`): skipped feeds are not counted.
    pub fn round(&self, source: &'static str, started_at: DateTime<Utc>) -> Round {
        let mut round = Round::start(source, started_at);
        round.duration = self.elapsed;
        for f in &self.feeds {
            round.add(&f.result);
        }
        round
    }
}

impl Round {
    /// A round starting at `started_at`, with nothing counted yet.
    pub fn start(source: &'static str, started_at: DateTime<Utc>) -> Round {
        Round {
            source,
            started_at,
            duration: Duration::ZERO,
            feeds: 0,
            failed: 0,
            new: 0,
        }
    }

    /// Counts one feed's result into the round (a skipped feed counts for nothing).
    pub fn add(&mut self, result: &FeedResult) {
        if matches!(result, FeedResult::Skipped(_)) {
            return;
        }
        self.feeds += 1;
        self.failed += usize::from(result.failed());
        self.new += result.new_stories();
    }
}

/// What `/metrics` reports beyond the feed states: counts the database keeps.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FetchStats {
    pub stories: i64,
    /// Recorded fetches by outcome (`new`, `not_modified`, `error`, …), over the whole log.
    pub fetches: Vec<(String, i64)>,
    /// Failed fetches by kind ([`crate::model::ErrorKind`]; `unknown` for fetches logged
    /// before kinds were recorded) and HTTP status (`None`: no HTTP answer).
    pub errors: Vec<(String, Option<i64>, i64)>,
    /// The last polling round, if any was recorded.
    pub last_round: Option<Round>,
}

/// One polling round: a `gleaner poll`, or a busy spell of the daemon.
#[derive(Debug, Clone, PartialEq)]
pub struct Round {
    /// `poll` or `daemon`.
    pub source: &'static str,
    pub started_at: DateTime<Utc>,
    pub duration: std::time::Duration,
    pub feeds: usize,
    pub failed: usize,
    pub new: usize,
}
