//! Plain data passed between the pipeline stages. No behaviour lives here.

use chrono::{DateTime, Utc};

mod discovery;
mod editorial;
mod fingerprint;
mod round;
mod sections;
pub use discovery::{Discovery, Found, How};
pub use editorial::{
    Candidate, CatalogueCounts, Delivery, Details, ImportReport, ImportedFile, SendReport, Sent,
    Shelved, Why,
};
pub use fingerprint::Fingerprint;
pub(crate) use fingerprint::{build as build_fingerprint, set as hash_set};
pub use round::{FeedReport, FeedResult, FetchStats, Round, RoundReport};
pub use sections::Sections;

/// A feed as the database knows it: identity, where to fetch it and what to send back.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedRow {
    pub id: i64,
    pub name: String,
    /// The URL from `feeds.toml`.
    pub url: String,
    /// Where a permanent redirect moved the feed; fetched instead of `url` when set.
    pub moved_to: Option<String>,
    pub section: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// SHA-256 of the last body parsed, so an unchanged body costs no parse.
    pub body_hash: Option<String>,
    pub state: FeedState,
    /// The publisher asked us not to come back before this time (429/503 Retry-After).
    pub retry_after: Option<DateTime<Utc>>,
    pub consecutive_failures: i64,
    pub created_at: DateTime<Utc>,
    pub last_fetched_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    /// When the scheduler wants it fetched; `None` means now.
    pub next_due: Option<DateTime<Utc>>,
    /// The schedule `next_due` was planned with (its display form).
    pub schedule: Option<String>,
    /// Publisher hints from earlier responses.
    pub ttl_minutes: Option<i64>,
    pub max_age_seconds: Option<i64>,
    pub expires_at: Option<DateTime<Utc>>,
    /// When the editor paused it (`gleaner pause`); `None`: not paused.
    pub paused_at: Option<DateTime<Utc>>,
}

impl FeedRow {
    /// The URL to request: the redirect target when the feed moved permanently.
    pub fn fetch_url(&self) -> &str {
        self.moved_to.as_deref().unwrap_or(&self.url)
    }
}

/// A feed's health, for `gleaner status`.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedStatus {
    pub row: FeedRow,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    /// Stories this feed carried.
    pub stories: i64,
}

/// Whether a feed is still polled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedState {
    Active,
    /// The server answered 410 Gone: not polled again unless forced.
    Gone,
    /// Failing for longer than `dead_after`: reported, still retried at the longest backoff.
    Dead,
}

impl FeedState {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedState::Active => "active",
            FeedState::Gone => "gone",
            FeedState::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> FeedState {
        match s {
            "gone" => FeedState::Gone,
            "dead" => FeedState::Dead,
            _ => FeedState::Active,
        }
    }
}

/// Whether a piece of feed text is markup or plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    Plain,
    Html,
}

/// Text from a feed, as the document gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct RawText {
    pub text: String,
    pub kind: TextKind,
    /// The `xml:base` in effect on the element it came from, when the document set one:
    /// relative URLs in its HTML resolve against it.
    pub base: Option<String>,
}

impl RawText {
    /// Text with no `xml:base` of its own.
    pub fn new(text: impl Into<String>, kind: TextKind) -> Self {
        RawText {
            text: text.into(),
            kind,
            base: None,
        }
    }
}

/// What the parser found in a feed document, before any cleaning.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParsedFeed {
    /// `rss2`, `atom`, `json`, …
    pub format: String,
    pub title: Option<String>,
    pub site_url: Option<String>,
    /// RSS `<ttl>` in minutes.
    pub ttl: Option<u32>,
    pub entries: Vec<RawEntry>,
    /// Repairs the document needed (`charset`, `markup`, `json` …).
    pub repairs: Vec<&'static str>,
    /// The document was cut off: what it says about where (`truncated after N entries: …`).
    /// The entries are those that were complete before the cut.
    pub truncated: Option<String>,
}

/// One entry as the document gave it. Links are absolute where the document allowed it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RawEntry {
    /// The document's own id (RSS guid, Atom id, JSON Feed id); never a generated one.
    pub id: Option<String>,
    pub title: Option<RawText>,
    pub link: Option<String>,
    pub summary: Option<RawText>,
    pub content: Option<RawText>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    pub authors: Vec<String>,
    /// `xml:base` in effect for the entry.
    pub base: Option<String>,
}

/// An entry after cleaning: safe HTML, plain-text title and excerpt, canonical URL.
#[derive(Debug, Clone, PartialEq)]
pub struct CleanEntry {
    /// Plain text, never empty.
    pub title: String,
    pub url: Option<String>,
    pub canonical_url: Option<String>,
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    /// Plain text, about 300 characters.
    pub excerpt: String,
    /// Sanitized HTML.
    pub content_html: String,
}

/// A cleaned entry with its identity: what the store writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Story {
    /// Identity within its feed: `id:…`, `url:…` or `hash:…`.
    pub key: String,
    /// Hash of the entry's content, dates excluded: a change means an update.
    pub content_hash: String,
    pub entry: CleanEntry,
    /// Its score as a story of this feed alone, computed while parsing (`story_id` is 0
    /// until the store assigns one); `None` leaves it to the next rescore.
    pub score: Option<ScoreRow>,
}

/// What happened when one feed was fetched, as the orchestrator hands it to the store.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchRecord {
    pub started_at: DateTime<Utc>,
    pub duration_ms: i64,
    /// HTTP status of the final response, when there was one.
    pub status: Option<u16>,
    /// New address after permanent redirects.
    pub moved_to: Option<String>,
    /// Body size in bytes, after decompression.
    pub bytes: Option<usize>,
    pub outcome: Outcome,
}

/// The result of one fetch, from the store's point of view.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A body was parsed into stories.
    Parsed {
        stories: Vec<Story>,
        validators: Validators,
        body_hash: String,
        feed: FeedMeta,
        /// The body was cut off (`truncated after N entries: …`): the stories are its
        /// complete entries. They are stored, but the feed is marked failing, and the body's
        /// validators and hash are not kept, so the next poll reads a whole body again.
        truncated: Option<String>,
    },
    /// A body arrived but was byte-for-byte the last one parsed.
    SameBody {
        validators: Validators,
        feed: FeedMeta,
    },
    /// 304 Not Modified.
    NotModified,
    /// 410 Gone.
    Gone,
    /// 429/503: not a failure of the feed; come back after `until` if the server said when.
    RetryLater { until: Option<DateTime<Utc>> },
    /// Anything that produced no stories: network, HTTP status, limits, parse errors.
    Failed { error: String, kind: ErrorKind },
}

/// What kind of failure a failed fetch was: `/metrics` counts them by this, the fetch log
/// keeps it (`fetch_log.error_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Dns,
    Connect,
    Tls,
    Certificate,
    Timeout,
    /// An HTTP error status (4xx/5xx other than 410, 429, 503).
    Http,
    TooLarge,
    Redirect,
    /// The body was cut short, reset or unreadable.
    Body,
    /// Refused: a public feed led towards a private address.
    Private,
    /// The body arrived but is not a feed gleaner can read.
    Parse,
    InvalidUrl,
    /// A bug in gleaner (a parser panicked).
    Internal,
    Other,
}

impl ErrorKind {
    /// Every kind, in the order `/metrics` lists them.
    pub const ALL: [ErrorKind; 14] = [
        ErrorKind::Dns,
        ErrorKind::Connect,
        ErrorKind::Tls,
        ErrorKind::Certificate,
        ErrorKind::Timeout,
        ErrorKind::Http,
        ErrorKind::TooLarge,
        ErrorKind::Redirect,
        ErrorKind::Body,
        ErrorKind::Private,
        ErrorKind::Parse,
        ErrorKind::InvalidUrl,
        ErrorKind::Internal,
        ErrorKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Dns => "dns",
            ErrorKind::Connect => "connect",
            ErrorKind::Tls => "tls",
            ErrorKind::Certificate => "certificate",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Http => "http",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::Redirect => "redirect",
            ErrorKind::Body => "body",
            ErrorKind::Private => "private",
            ErrorKind::Parse => "parse",
            ErrorKind::InvalidUrl => "invalid_url",
            ErrorKind::Internal => "internal",
            ErrorKind::Other => "other",
        }
    }
}

/// Validators to send back next time.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// Facts about the feed itself, from the document and the response headers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FeedMeta {
    pub title: Option<String>,
    pub site_url: Option<String>,
    pub ttl_minutes: Option<u32>,
    pub max_age_seconds: Option<u64>,
    /// HTTP `Expires`.
    pub expires_at: Option<DateTime<Utc>>,
}

/// What storing one feed's stories changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreCounts {
    /// Stories gleaner had never seen.
    pub new: usize,
    /// Known entries whose content changed.
    pub updated: usize,
    /// Entries new to this feed whose story another feed brought first.
    pub also_elsewhere: usize,
    /// Known entries, unchanged.
    pub unchanged: usize,
}

/// A stored story, ready to render.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoryView {
    pub id: i64,
    pub title: String,
    pub url: Option<String>,
    pub canonical_url: Option<String>,
    /// Names of the feeds that carried it, first one first.
    pub sources: Vec<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    pub excerpt: String,
    pub content_html: String,
    pub author: Option<String>,
    pub first_seen: DateTime<Utc>,
}

/// What scoring needs of a stored story.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreInput {
    pub story_id: i64,
    pub title: String,
    pub url: Option<String>,
    pub content_html: String,
    pub excerpt: String,
    /// Feed names, first one first.
    pub sources: Vec<String>,
    pub author: Option<String>,
    /// The rescore request's `seq`, when the story was queued.
    pub queued: Option<i64>,
}

/// A computed score, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRow {
    pub story_id: i64,
    pub version: String,
    pub sources: i64,
    pub base: f64,
    pub vetoed_by: Option<String>,
    pub simhash: u64,
    pub body_len: i64,
    /// JSON of `score::Explanation`.
    pub explanation: String,
    /// The title part of its near-duplicate fingerprint ([`Fingerprint::encode`]).
    pub print: Vec<u8>,
    /// The section its link and title suggest (`sections::suggest` without a feed section).
    pub section: String,
    /// What the learned ranking reads of it (`learn::features`).
    pub features: String,
}

/// A story of a candidate window as ranking sees it: numbers and its stored fingerprint, no
/// text (a window holds every story of two weeks; the listed ones are read afterwards).
#[derive(Debug, Clone, PartialEq)]
pub struct WindowRow {
    pub id: i64,
    /// Published, else first seen (Unix seconds): what the decay is measured from.
    pub date: i64,
    /// `None` until scored.
    pub base: Option<f64>,
    pub vetoed: bool,
    pub print: Fingerprint,
    /// The owning feed's configured section, else the suggested one.
    pub section: std::sync::Arc<str>,
    /// The editor's decision: when, and whether it was published in an issue.
    pub decided: Option<(i64, bool)>,
    /// The latest use of its canonical link in an issue up to the window's end: when, and
    /// whether it was in a section whose links may repeat (Events, Jobs).
    pub used: Option<(i64, bool)>,
    /// The editor's snooze: until when, and when it was set (Unix seconds).
    pub snooze: Option<(i64, i64)>,
    /// What the learned ranking reads of it (`learn::features`; empty until scored).
    pub features: Box<str>,
}

/// One example the learned ranking learns from (`learn`): a decided story, an item of an
/// imported past issue, or a story merely shown.
#[derive(Debug, Clone, PartialEq)]
pub struct LearningExample {
    /// Space-separated features (`learn::features`).
    pub features: String,
    /// The section it was (or would be) in.
    pub section: String,
    pub positive: bool,
    /// 1 for a decision or a past issue's item, less for a story merely shown.
    pub weight: f64,
    /// Its keyword score (the model learns what that gets wrong).
    pub base: f64,
}

/// The editor's decision on a story.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pick,
    Reject,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pick => "pick",
            Verdict::Reject => "reject",
        }
    }
}

/// A stored decision.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRow {
    pub story_id: i64,
    pub verdict: Verdict,
    pub section: Option<String>,
    pub blurb: Option<String>,
    pub reason: Option<String>,
    pub also_at: Vec<String>,
    pub decided_at: DateTime<Utc>,
    pub issue: Option<i64>,
}

/// A story in the candidate window, with its score and what the editor did with it.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolRow {
    pub story: StoryView,
    /// `None` until scored.
    pub base: Option<f64>,
    pub vetoed_by: Option<String>,
    pub simhash: u64,
    pub body_len: i64,
    pub explanation: Option<String>,
    /// What the learned ranking reads of it (`learn::features`).
    pub features: String,
    /// The section configured on the feed that owns the story.
    pub feed_section: Option<String>,
    pub decision: Option<DecisionRow>,
}

/// A picked story with everything the curated feed and the draft need.
#[derive(Debug, Clone, PartialEq)]
pub struct PickedRow {
    pub story: StoryView,
    pub decision: DecisionRow,
    /// The owning feed: name, URL, site URL.
    pub origin: Option<(String, String, Option<String>)>,
    pub feed_section: Option<String>,
}

/// What gleaner read in a period, for the digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Activity {
    pub feeds_polled: i64,
    pub fetches: i64,
    pub stories_seen: i64,
    /// Extra sources of stories seen (the same story from another feed).
    pub duplicates_collapsed: i64,
}

/// One body after parse → clean → dedup (→ score).
#[derive(Debug)]
pub struct Prepared {
    pub stories: Vec<Story>,
    pub feed: FeedMeta,
    /// Entries dropped: repeats of an earlier entry (the same id, or the same entry exactly),
    /// or entries with nothing to show.
    pub dropped: usize,
    /// Repairs the document needed.
    pub repairs: Vec<&'static str>,
    /// The document was cut off (`truncated after N entries: …`): the stories are the entries
    /// that were complete.
    pub truncated: Option<String>,
}
