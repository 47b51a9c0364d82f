//! The editorial wing's plain data: candidates and why they rank, what an import of past
//! issues found, and what became of each digest delivery.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// One entry of `why`: a matched term, or another factor of the score.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Why {
    Term {
        term: String,
        field: String,
        contribution: f64,
    },
    Factor {
        factor: String,
        value: f64,
    },
}

/// One candidate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// The story id: what `pick`, `reject` and `explain` take.
    pub id: i64,
    pub title: String,
    pub url: Option<String>,
    /// Other URLs of the same story (near-duplicates).
    pub also_at: Vec<String>,
    pub sources: Vec<String>,
    pub section: String,
    /// Publication date (first seen, for undated stories): what the decay is measured from.
    pub published: Option<DateTime<Utc>>,
    pub score: f64,
    pub why: Vec<Why>,
    pub excerpt: String,
    /// Ids of the near-duplicates grouped under this candidate.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also_ids: Vec<i64>,
}

/// The text of a story, read for the listed candidates alone.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Details {
    pub title: String,
    pub url: Option<String>,
    /// Feed names, first one first.
    pub sources: Vec<String>,
    pub excerpt: String,
    /// JSON of `score::Explanation`.
    pub explanation: Option<String>,
}

/// One delivery of a week's digest on one channel.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Delivery {
    pub week: String,
    pub channel: String,
    /// `sending` (under way, or interrupted by a crash), `sent` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub last_attempt: Option<DateTime<Utc>>,
    pub next_attempt: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// One file `gleaner import issues` read.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedFile {
    pub path: PathBuf,
    /// The issue and its date; `Err` says why the file gave nothing.
    pub issue: Result<(i64, DateTime<Utc>), String>,
    /// Items with an http(s) link and a blurb, by section (`None`: before any heading).
    pub sections: Vec<(Option<String>, usize)>,
}

/// What `gleaner import issues` found and stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportReport {
    pub files: Vec<ImportedFile>,
    /// Items read, over every file.
    pub items: usize,
    /// Distinct links read.
    pub links: usize,
    pub added: CatalogueCounts,
    pub dry_run: bool,
}

/// What an import added (or, in a dry run, would add).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CatalogueCounts {
    /// Issues new to the database.
    pub issues: usize,
    /// Items new to the catalogue.
    pub items: usize,
    /// Links new to the ledger.
    pub links: usize,
}

/// What one digest channel did.
#[derive(Debug, Clone, PartialEq)]
pub struct SendReport {
    pub channel: &'static str,
    pub week: String,
    pub result: Sent,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Sent {
    /// Sent now (to whom, for the report).
    Sent(String),
    /// Sent before: nothing was sent.
    Already(DateTime<Utc>),
    /// Failed; tried again at that time (when the delivery is recorded).
    Failed {
        error: String,
        attempts: i64,
        retry: Option<DateTime<Utc>>,
    },
    /// `--dry-run`: what would be sent.
    Preview(String),
}

/// A story set aside by the editor (snoozed or rejected), as the desk lists it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Shelved {
    pub id: i64,
    pub title: String,
    pub url: Option<String>,
    /// Snoozed: when it comes back. Rejected: when it was rejected.
    pub at: DateTime<Utc>,
    pub reason: Option<String>,
}
