//! `feeds.toml` → a validated [`Config`], with every problem reported at once.
//!
//! Parsing is separate from reading the file ([`Config::parse`] takes the text), so tests need no
//! files. The TOML is read twice: once as a plain table (syntax errors carry line and column) and
//! once with spans, so that semantic problems (unknown keys, bad URLs, duplicates) can name the
//! line, the feed and the key. All problems are collected before returning.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::model::Sections;
use crate::schedule::{Policy, Schedule};

mod digest;
pub use digest::{
    DigestSettings, EmailSettings, PasswordSource, Security, WebhookFormat, WebhookSettings,
    WeekRule,
};
use toml::Spanned;
use url::Url;

/// Everything gleaner understood from `feeds.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub storage: Storage,
    pub fetch: FetchSettings,
    /// `[schedule]`: the default schedule, jitter and when a failing feed is dead.
    pub schedule: Policy,
    pub daemon: DaemonSettings,
    /// `[keywords]` and `[scoring]`.
    pub scoring: ScoringSettings,
    /// `[learning]`: the ranking learned from the editor's decisions and past issues.
    pub learning: LearningSettings,
    /// `[output]`: where and how the editorial outputs are written.
    pub output: OutputSettings,
    /// `[serve]`: the web desk (`gleaner serve`).
    pub serve: ServeSettings,
    /// `[digest]`: when and where the daemon sends the weekly digest; `None`: it does not.
    pub digest: Option<DigestSettings>,
    pub feeds: Vec<FeedConfig>,
}

/// `[serve]`: who may use the web desk, and for how long a login lasts.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeSettings {
    /// The login token. Required to listen on a non-loopback address; when set, every page
    /// asks for it (also on loopback).
    pub token: Option<Secret>,
    /// `session_idle`: a login unused this long is over.
    pub session_idle: Duration,
    /// `session_max`: a login is over this long after it began, however much it is used (a
    /// stolen cookie stops working by then too).
    pub session_max: Duration,
}

impl Default for ServeSettings {
    fn default() -> Self {
        ServeSettings {
            token: None,
            session_idle: Duration::from_secs(12 * 3600),
            session_max: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// A secret from the config: kept out of `Debug` output (and so out of logs).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The secret itself, for a constant-time comparison.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl Config {
    /// Whether `name` is a section of the newsletter: a configured one, or one a feed names.
    pub fn knows_section(&self, name: &str) -> bool {
        self.output.sections.find(name).is_some()
            || self.feeds.iter().any(|f| {
                f.section
                    .as_deref()
                    .is_some_and(|s| Sections::same(s, name))
            })
    }

    /// The schedule a feed follows: its own, else the default.
    pub fn schedule_of<'a>(&'a self, feed: &'a FeedConfig) -> &'a Schedule {
        feed.schedule.as_ref().unwrap_or(&self.schedule.default)
    }
}

/// `[learning]`: how much the ranking learned from the editor's picks, rejects and past issues
/// counts (see `learn`).
#[derive(Debug, Clone, PartialEq)]
pub struct LearningSettings {
    /// Off: the ranking is the keyword score alone.
    pub enabled: bool,
    /// Multiplies the learned contribution (at most ±`learn::BOUND` points at 1.0).
    pub weight: f64,
}

impl Default for LearningSettings {
    fn default() -> Self {
        LearningSettings {
            enabled: true,
            weight: 1.0,
        }
    }
}

/// How stories are scored against the editor's keywords.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoringSettings {
    /// `[keywords]`: phrase (or `prefix*`) → weight; negative weights push stories down.
    pub keywords: Vec<(String, f64)>,
    /// Terms that hide a story whatever its score.
    pub veto: Vec<String>,
    /// A term in the title counts this much (once).
    pub title_weight: f64,
    /// A term in the body counts this much per hit, up to `body_cap` hits.
    pub body_weight: f64,
    pub body_cap: u32,
    /// Recency decay: a story's score halves every `half_life`.
    pub half_life: Duration,
    /// Added per feed beyond the first that carried the story.
    pub multi_source_bonus: f64,
    /// Per-host multipliers (`[scoring.hosts]`), matched on the story's host and its parents.
    pub hosts: Vec<(String, f64)>,
}

impl Default for ScoringSettings {
    fn default() -> Self {
        ScoringSettings {
            keywords: Vec::new(),
            veto: Vec::new(),
            title_weight: 3.0,
            body_weight: 1.0,
            body_cap: 3,
            half_life: Duration::from_secs(3 * 24 * 3600),
            multi_source_bonus: 1.0,
            hosts: Vec::new(),
        }
    }
}

/// Where the editorial outputs go and what shape they take.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputSettings {
    /// Resolved against the directory of feeds.toml when relative (default `out`).
    pub dir: PathBuf,
    /// The newsletter's sections, in issue order.
    pub sections: Sections,
    /// Candidates shown per section.
    pub per_section: usize,
    /// Without a published issue, the candidate window is this many days.
    pub window_days: u32,
    /// Events and Jobs links may come back as candidates this long after being used.
    pub repeat_days: u32,
    /// Entries in `curated.atom`.
    pub curated_size: usize,
    /// The newsletter's name (draft heading, feed title).
    pub title: String,
    /// The authority in `tag:` ids of the curated feed (a domain or email you control).
    pub tag_authority: String,
    /// The newsletter's home page, linked from the curated feed.
    pub link: Option<Url>,
}

impl OutputSettings {
    fn with_dir(dir: PathBuf) -> OutputSettings {
        OutputSettings {
            dir,
            sections: Sections::new(
                ["News", "Jobs", "Events", "Tools"]
                    .map(String::from)
                    .to_vec(),
            ),
            per_section: 15,
            window_days: 7,
            repeat_days: 30,
            curated_size: 50,
            title: "gleaner picks".into(),
            tag_authority: "gleaner.invalid".into(),
            link: None,
        }
    }
}

/// `[daemon]`: the life cycle of `gleaner run`.
#[derive(Debug, Clone, PartialEq)]
pub struct DaemonSettings {
    /// After SIGINT/SIGTERM, how long in-flight feeds may take to finish.
    pub grace: Duration,
}

impl Default for DaemonSettings {
    fn default() -> Self {
        DaemonSettings {
            grace: Duration::from_secs(10),
        }
    }
}

/// `[storage]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Storage {
    /// The SQLite file, resolved against the directory of `feeds.toml` when relative.
    pub path: PathBuf,
}

/// `[fetch]`: limits for every HTTP request.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchSettings {
    /// Total time for one feed, redirects and body included.
    pub timeout: Duration,
    /// Time to establish a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Largest body accepted, counted after decompression.
    pub max_bytes: u64,
    /// Feeds fetched at the same time.
    pub concurrency: usize,
    /// Requests in flight to one host at the same time.
    pub per_host: usize,
    /// Minimum gap between the starts of two requests to one host (zero: off).
    pub host_delay: Duration,
    /// `allow_private = true`: every feed may reach loopback, private and link-local
    /// addresses. Off by default: a feed configured at a public address may not be led into
    /// private space by a redirect or by what its name resolves to (see `fetch::reach`).
    pub allow_private: bool,
    /// The configured URLs of the feeds that set `allow_private = true` themselves. Kept here,
    /// with the other fetch limits, so that every fetch can look its feed up.
    pub private_feeds: HashSet<Url>,
    /// `proxy`: an HTTP(S) proxy every request goes through. The proxy then resolves the
    /// names, so only literal addresses and private-use names can be checked here.
    pub proxy: Option<Url>,
}

impl Default for FetchSettings {
    fn default() -> Self {
        FetchSettings {
            timeout: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(10),
            max_bytes: 15 * 1024 * 1024,
            concurrency: 16,
            per_host: 2,
            host_delay: Duration::from_secs(1),
            allow_private: false,
            private_feeds: HashSet::new(),
            proxy: None,
        }
    }
}

/// One `[[feeds]]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedConfig {
    pub name: String,
    pub url: Url,
    /// Editorial section (News, Tools, Events, Jobs or any name).
    pub section: Option<String>,
    /// Its own schedule (`every` or `cron`); `None` follows `[schedule]`.
    pub schedule: Option<Schedule>,
    /// Multiplies the keyword score of its stories (default 1).
    pub weight: f64,
    /// Extra keywords that apply to this feed's stories only.
    pub keywords: Vec<(String, f64)>,
    /// `allow_private = true`: this feed may reach private addresses even though its URL is
    /// public (a redirect into an intranet, a name that resolves to one).
    pub allow_private: bool,
}

/// Every problem found in a config file.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigErrors {
    pub problems: Vec<Problem>,
}

/// One problem, located as precisely as the file allows.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// 1-based line and column.
    pub line_col: Option<(usize, usize)>,
    /// What the problem is about: `feed "High Scalability"`, `[fetch]`, …
    pub context: Option<String>,
    /// The key, when one is to blame.
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((line, col)) = self.line_col {
            write!(f, "line {line}, column {col}: ")?;
        }
        if let Some(context) = &self.context {
            write!(f, "{context}: ")?;
        }
        if let Some(key) = &self.key {
            write!(f, "key `{}`: ", display_key(key))?;
        }
        f.write_str(&self.message)
    }
}

/// A key as it would be written in the file: bare when TOML allows, quoted otherwise.
fn display_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_string()
    } else {
        format!("{key:?}")
    }
}

/// serde's words for TOML's: editors write arrays and tables, not sequences and maps.
fn toml_words(message: &str) -> String {
    message
        .replace("a sequence", "an array")
        .replace("a map", "a table")
        .replace("expected i64", "expected an integer")
        .replace("expected f64", "expected a number")
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        writeln!(
            f,
            "{n} problem{} in the config:",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            writeln!(f, "  - {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Reading the file failed, or its contents are invalid.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {errors}")]
    Invalid { path: PathBuf, errors: ConfigErrors },
}

const TOP_KEYS: &[&str] = &[
    "storage", "fetch", "schedule", "daemon", "keywords", "scoring", "learning", "output",
    "github", "serve", "digest", "feeds",
];
const LEARNING_KEYS: &[&str] = &["enabled", "weight"];
const SERVE_KEYS: &[&str] = &["token", "session_idle", "session_max"];
/// The shortest `[serve] token` accepted: it is the only thing between the network and the
/// editor's desk when `gleaner serve` listens beyond loopback.
pub const MIN_TOKEN_LEN: usize = 16;
const GITHUB_KEYS: &[&str] = &["base"];
/// What `github = "owner/repo"` follows, by `github_kind`.
const GITHUB_KINDS: &[&str] = &["releases", "tags", "commits"];
const SCORING_KEYS: &[&str] = &[
    "title_weight",
    "body_weight",
    "body_cap",
    "half_life",
    "multi_source_bonus",
    "veto",
    "hosts",
];
const OUTPUT_KEYS: &[&str] = &[
    "dir",
    "sections",
    "per_section",
    "window_days",
    "repeat_days",
    "curated_size",
    "title",
    "tag_authority",
    "link",
];
const SCHEDULE_KEYS: &[&str] = &["every", "cron", "timezone", "jitter", "dead_after"];
const DAEMON_KEYS: &[&str] = &["grace"];
const STORAGE_KEYS: &[&str] = &["path"];
const FETCH_KEYS: &[&str] = &[
    "timeout",
    "connect_timeout",
    "max_bytes",
    "concurrency",
    "per_host",
    "host_delay",
    "allow_private",
    "proxy",
];
const FEED_KEYS: &[&str] = &[
    "name",
    "url",
    "section",
    "every",
    "cron",
    "timezone",
    "weight",
    "keywords",
    "allow_private",
    "github",
    "github_kind",
    "github_user",
];

#[derive(Deserialize)]
struct RawDoc {
    storage: Option<Spanned<toml::Table>>,
    fetch: Option<Spanned<toml::Table>>,
    schedule: Option<Spanned<toml::Table>>,
    daemon: Option<Spanned<toml::Table>>,
    keywords: Option<Spanned<toml::Table>>,
    scoring: Option<Spanned<toml::Table>>,
    learning: Option<Spanned<toml::Table>>,
    output: Option<Spanned<toml::Table>>,
    github: Option<Spanned<toml::Table>>,
    serve: Option<Spanned<toml::Table>>,
    digest: Option<Spanned<toml::Table>>,
    #[serde(default)]
    feeds: Vec<Spanned<toml::Table>>,
}

impl Config {
    /// Reads and validates the config file.
    pub fn load(path: &Path) -> Result<Config, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
            path: path.to_owned(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::parse(&text, base).map_err(|errors| LoadError::Invalid {
            path: path.to_owned(),
            errors,
        })
    }

    /// Validates config text. Relative paths are resolved against `base_dir`.
    pub fn parse(text: &str, base_dir: &Path) -> Result<Config, ConfigErrors> {
        let mut v = Validator {
            text,
            problems: Vec::new(),
        };

        // Pass 1: syntax, and keys at the top level. Only the keys are kept: a config of
        // 20,000 feeds parses into tens of megabytes of values.
        let top_keys: Vec<String> = match toml::from_str::<toml::Table>(text) {
            Ok(t) => t.into_iter().map(|(k, _)| k).collect(),
            Err(e) => return Err(v.toml_error(&e, None)),
        };
        for key in &top_keys {
            if !TOP_KEYS.contains(&key.as_str()) {
                v.problems.push(Problem {
                    // A key before the first table has a line; an unknown `[table]` has none.
                    line_col: v
                        .key_offset(0, key)
                        .filter(|&at| !text[..at].lines().any(|l| l.trim_start().starts_with('[')))
                        .or_else(|| v.table_offset(key))
                        .map(|at| v.line_col(at)),
                    context: None,
                    key: Some(key.clone()),
                    message: unknown_key_message(key, TOP_KEYS),
                });
            }
        }
        // Pass 2: the same document with spans, for locations.
        let raw: RawDoc = match toml::from_str(text) {
            Ok(r) => r,
            Err(e) => {
                let mut errors = v.toml_error(&e, None);
                errors.problems.splice(0..0, v.problems);
                return Err(errors);
            }
        };

        let storage = v.storage(raw.storage.as_ref(), base_dir);
        let mut fetch = v.fetch(raw.fetch.as_ref());
        let schedule = v.schedule(raw.schedule.as_ref());
        let daemon = v.daemon(raw.daemon.as_ref());
        let scoring = v.scoring(raw.keywords.as_ref(), raw.scoring.as_ref());
        let learning = v.learning(raw.learning.as_ref());
        let output = v.output(raw.output.as_ref(), base_dir);
        let github = v.github(raw.github.as_ref());
        let serve = v.serve(raw.serve.as_ref());
        let digest = v.digest(raw.digest.as_ref(), base_dir);
        let feeds = v.feeds(&raw.feeds, &github);
        fetch.private_feeds = feeds
            .iter()
            .filter(|f| f.allow_private)
            .map(|f| f.url.clone())
            .collect();

        if v.problems.is_empty() {
            Ok(Config {
                storage,
                fetch,
                schedule,
                daemon,
                scoring,
                learning,
                output,
                serve,
                digest,
                feeds,
            })
        } else {
            Err(ConfigErrors {
                problems: v.problems,
            })
        }
    }
}

struct Validator<'a> {
    text: &'a str,
    problems: Vec<Problem>,
}

#[derive(Deserialize)]
struct RawGithub {
    base: Option<String>,
}

#[derive(Deserialize)]
struct RawLearning {
    enabled: Option<bool>,
    weight: Option<f64>,
}

#[derive(Deserialize)]
struct RawServe {
    token: Option<String>,
    session_idle: Option<toml::Value>,
    session_max: Option<toml::Value>,
}

#[derive(Deserialize)]
struct RawStorage {
    path: Option<PathBuf>,
}

#[derive(Deserialize)]
struct RawSchedule {
    every: Option<String>,
    cron: Option<String>,
    timezone: Option<String>,
    jitter: Option<toml::Value>,
    dead_after: Option<toml::Value>,
}

#[derive(Deserialize)]
struct RawScoring {
    title_weight: Option<f64>,
    body_weight: Option<f64>,
    body_cap: Option<i64>,
    half_life: Option<toml::Value>,
    multi_source_bonus: Option<f64>,
    veto: Option<Vec<String>>,
    hosts: Option<toml::Table>,
}

#[derive(Deserialize)]
struct RawOutput {
    dir: Option<PathBuf>,
    sections: Option<Vec<String>>,
    per_section: Option<i64>,
    window_days: Option<i64>,
    repeat_days: Option<i64>,
    curated_size: Option<i64>,
    title: Option<String>,
    tag_authority: Option<String>,
    link: Option<String>,
}

#[derive(Deserialize)]
struct RawDaemon {
    grace: Option<toml::Value>,
}

#[derive(Deserialize)]
struct RawFetch {
    timeout: Option<toml::Value>,
    connect_timeout: Option<toml::Value>,
    host_delay: Option<toml::Value>,
    max_bytes: Option<toml::Value>,
    concurrency: Option<i64>,
    per_host: Option<i64>,
    allow_private: Option<bool>,
    proxy: Option<String>,
}

#[derive(Deserialize)]
struct RawFeed {
    name: Option<String>,
    url: Option<String>,
    section: Option<String>,
    every: Option<String>,
    cron: Option<String>,
    timezone: Option<String>,
    weight: Option<f64>,
    keywords: Option<toml::Table>,
    allow_private: Option<bool>,
    github: Option<String>,
    github_kind: Option<String>,
    github_user: Option<String>,
}

impl Validator<'_> {
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before
            .rfind('\n')
            .map_or(before.len(), |i| before.len() - i - 1)
            + 1;
        (line, col)
    }

    /// Where `key = …` is written in the table that starts at `table_start`: the spans cover
    /// whole tables, and a problem with a key is easier to fix when it names the key's own
    /// line. `None` (then the table's line is used) when the key is not written on a line of
    /// its own in that table, e.g. inside an inline table.
    fn key_offset(&self, table_start: usize, key: &str) -> Option<usize> {
        let start = table_start.min(self.text.len());
        let mut pos = start;
        for (i, line) in self.text[start..].split_inclusive('\n').enumerate() {
            let trimmed = line.trim_start();
            if i > 0 && trimmed.starts_with('[') {
                return None; // the next table
            }
            let lead = line.len() - trimmed.len();
            let rest = [format!("\"{key}\""), format!("'{key}'"), key.to_string()]
                .into_iter()
                .find_map(|k| trimmed.strip_prefix(k.as_str()));
            if let Some(rest) = rest
                && rest.trim_start().starts_with('=')
            {
                return Some(pos + lead);
            }
            pos += line.len();
        }
        None
    }

    fn toml_error(&self, e: &toml::de::Error, context: Option<String>) -> ConfigErrors {
        let line_col = e.span().map(|s| self.line_col(s.start));
        let key = e.span().and_then(|s| self.key_of_line(s.start));
        ConfigErrors {
            problems: vec![Problem {
                line_col,
                context,
                key,
                message: toml_words(e.message().trim()),
            }],
        }
    }

    /// The key written on the line holding `offset`: `name` of `name = …` or of `[name]` /
    /// `[[name]]`, when the line starts with one.
    fn key_of_line(&self, offset: usize) -> Option<String> {
        let offset = offset.min(self.text.len());
        let start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line = self.text[start..].lines().next().unwrap_or("").trim();
        let key = if let Some(header) = line.strip_prefix('[') {
            let header = header.trim_start_matches('[');
            header.split([']', '#']).next().unwrap_or("")
        } else {
            line.split(['=', ' ', '\t', '#']).next().unwrap_or("")
        };
        let key = key.trim().trim_matches(['"', '\'']);
        (!key.is_empty() && !key.contains(['"', '\'', '{', '}'])).then(|| key.to_string())
    }

    /// Where the header of the top-level table `name` is written (`[name]`, `[[name]]`,
    /// `[name.sub]`).
    fn table_offset(&self, name: &str) -> Option<usize> {
        let mut pos = 0;
        for line in self.text.split_inclusive('\n') {
            let trimmed = line.trim_start();
            let header = trimmed.trim_start_matches('[');
            if header.len() < trimmed.len()
                && let Some(rest) = header.trim_start().strip_prefix(name)
                && rest.trim_start().starts_with([']', '.'])
            {
                return Some(pos + line.len() - trimmed.len());
            }
            pos += line.len();
        }
        None
    }

    fn push(&mut self, offset: usize, context: &str, key: Option<&str>, message: String) {
        let at = key
            .and_then(|k| self.key_offset(offset, k))
            .unwrap_or(offset);
        self.problems.push(Problem {
            line_col: Some(self.line_col(at)),
            context: Some(context.to_string()),
            key: key.map(str::to_string),
            message,
        });
    }

    /// Flags unknown keys, then deserializes the table into `T`.
    fn section<T: for<'de> Deserialize<'de>>(
        &mut self,
        table: &Spanned<toml::Table>,
        known: &[&str],
        context: &str,
    ) -> Option<T> {
        self.section_at(table.get_ref(), table.span().start, known, context)
    }

    /// [`Self::section`] for a table without a span of its own (a sub-table), located at
    /// `offset`.
    fn section_at<T: for<'de> Deserialize<'de>>(
        &mut self,
        table: &toml::Table,
        offset: usize,
        known: &[&str],
        context: &str,
    ) -> Option<T> {
        for key in table.keys() {
            if !known.contains(&key.as_str()) {
                self.push(offset, context, Some(key), unknown_key_message(key, known));
            }
        }
        // Drop unknown keys (already reported) so the typed pass reports only type errors.
        let known_only: toml::Table = table
            .iter()
            .filter(|(k, _)| known.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        match known_only.clone().try_into::<T>() {
            Ok(t) => Some(t),
            Err(e) => {
                // Every field is optional, so the first key that fails alone is the culprit.
                let culprit = known_only.into_iter().find_map(|(k, v)| {
                    toml::Table::from_iter([(k.clone(), v)])
                        .try_into::<T>()
                        .err()
                        .map(|e| (k, e))
                });
                match culprit {
                    Some((k, e)) => {
                        self.push(offset, context, Some(&k), toml_words(e.message().trim()))
                    }
                    None => self.push(offset, context, None, toml_words(e.message().trim())),
                }
                None
            }
        }
    }

    fn storage(&mut self, raw: Option<&Spanned<toml::Table>>, base_dir: &Path) -> Storage {
        let default = PathBuf::from("gleaner.db");
        let path = match raw {
            Some(t) => match self
                .section::<RawStorage>(t, STORAGE_KEYS, "[storage]")
                .and_then(|s| s.path)
            {
                Some(p) if p.as_os_str().to_string_lossy().trim().is_empty() => {
                    self.push(
                        t.span().start,
                        "[storage]",
                        Some("path"),
                        "is empty: name the database file, e.g. \"gleaner.db\"".into(),
                    );
                    default
                }
                Some(p) => p,
                None => default,
            },
            None => default,
        };
        let path = if path.is_relative() {
            base_dir.join(path)
        } else {
            path
        };
        Storage { path }
    }

    fn fetch(&mut self, raw: Option<&Spanned<toml::Table>>) -> FetchSettings {
        let mut out = FetchSettings::default();
        let Some(table) = raw else { return out };
        let Some(f) = self.section::<RawFetch>(table, FETCH_KEYS, "[fetch]") else {
            return out;
        };
        let at = table.span().start;
        let ctx = "[fetch]";
        if let Some(s) = f.timeout {
            match duration_value(&s) {
                Ok(d) => out.timeout = d,
                Err(m) => self.push(at, ctx, Some("timeout"), m),
            }
        }
        match f.connect_timeout {
            Some(s) => match duration_value(&s) {
                Ok(d) if d > out.timeout => self.push(
                    at,
                    ctx,
                    Some("connect_timeout"),
                    format!(
                        "{} is longer than timeout ({}), which bounds the whole request",
                        humantime::format_duration(d),
                        humantime::format_duration(out.timeout)
                    ),
                ),
                Ok(d) => out.connect_timeout = d,
                Err(m) => self.push(at, ctx, Some("connect_timeout"), m),
            },
            // Unset: never longer than the total timeout.
            None => out.connect_timeout = out.connect_timeout.min(out.timeout),
        }
        if let Some(v) = f.host_delay {
            match duration_value(&v).or_else(|e| match &v {
                toml::Value::String(s) if s.trim() == "0s" || s.trim() == "0" => Ok(Duration::ZERO),
                toml::Value::Integer(0) => Ok(Duration::ZERO),
                _ => Err(e),
            }) {
                Ok(d) => out.host_delay = d,
                Err(m) => self.push(at, ctx, Some("host_delay"), m),
            }
        }
        if let Some(v) = f.max_bytes {
            match parse_bytes(&v) {
                Ok(n) => out.max_bytes = n,
                Err(m) => self.push(at, ctx, Some("max_bytes"), m),
            }
        }
        for (key, value, slot) in [
            ("concurrency", f.concurrency, &mut out.concurrency),
            ("per_host", f.per_host, &mut out.per_host),
        ] {
            if let Some(n) = value {
                match usize::try_from(n) {
                    Ok(n) if (1..=1024).contains(&n) => *slot = n,
                    _ => self.push(
                        at,
                        ctx,
                        Some(key),
                        format!("must be between 1 and 1024, got {n}"),
                    ),
                }
            }
        }
        out.allow_private = f.allow_private.unwrap_or(false);
        if let Some(p) = f.proxy {
            match Url::parse(p.trim()) {
                Ok(u)
                    if matches!(u.scheme(), "http" | "https")
                        && u.host().is_some()
                        && matches!(u.path(), "" | "/")
                        && u.query().is_none() =>
                {
                    out.proxy = Some(u)
                }
                Ok(u) if !matches!(u.scheme(), "http" | "https") => self.push(
                    at,
                    ctx,
                    Some("proxy"),
                    format!(
                        "`{p}`: only http and https proxies are supported (scheme `{}`)",
                        u.scheme()
                    ),
                ),
                Ok(_) => self.push(
                    at,
                    ctx,
                    Some("proxy"),
                    format!("`{p}` is not a proxy address like \"http://127.0.0.1:3128\""),
                ),
                Err(e) => self.push(at, ctx, Some("proxy"), format!("`{p}` is not a URL: {e}")),
            }
        }
        out
    }

    fn schedule(&mut self, raw: Option<&Spanned<toml::Table>>) -> Policy {
        let mut out = Policy::default();
        let Some(table) = raw else { return out };
        let Some(s) = self.section::<RawSchedule>(table, SCHEDULE_KEYS, "[schedule]") else {
            return out;
        };
        let at = table.span().start;
        let ctx = "[schedule]";
        if s.every.is_some() || s.cron.is_some() || s.timezone.is_some() {
            match Schedule::parse(s.every.as_deref(), s.cron.as_deref(), s.timezone.as_deref()) {
                Ok(d) => out.default = d,
                Err(m) => {
                    let key = if s.cron.is_some() { "cron" } else { "every" };
                    self.push(at, ctx, Some(key), m)
                }
            }
        }
        if let Some(j) = s.jitter {
            match parse_fraction(&j) {
                Ok(f) => out.jitter = f,
                Err(m) => self.push(at, ctx, Some("jitter"), m),
            }
        }
        if let Some(d) = s.dead_after {
            match duration_value(&d) {
                Ok(d) => out.dead_after = d,
                Err(m) => self.push(at, ctx, Some("dead_after"), m),
            }
        }
        out
    }

    /// `phrase = weight` pairs, as in `[keywords]`, `[scoring.hosts]` and per-feed keywords.
    fn weights(
        &mut self,
        table: &toml::Table,
        at: usize,
        ctx: &str,
        terms: bool,
    ) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        for (k, v) in table {
            let weight = match v {
                toml::Value::Integer(i) => *i as f64,
                toml::Value::Float(f) if f.is_finite() => *f,
                other => {
                    self.push(
                        at,
                        ctx,
                        Some(k),
                        format!("expected a number (the weight), got {other}"),
                    );
                    continue;
                }
            };
            if terms && let Err(m) = crate::text::check_term(k) {
                self.push(at, ctx, Some(k), m);
                continue;
            }
            out.push((k.clone(), weight));
        }
        out
    }

    fn scoring(
        &mut self,
        keywords: Option<&Spanned<toml::Table>>,
        raw: Option<&Spanned<toml::Table>>,
    ) -> ScoringSettings {
        let mut out = ScoringSettings::default();
        if let Some(k) = keywords {
            out.keywords = self.weights(k.get_ref(), k.span().start, "[keywords]", true);
        }
        let Some(table) = raw else { return out };
        let Some(s) = self.section::<RawScoring>(table, SCORING_KEYS, "[scoring]") else {
            return out;
        };
        let at = table.span().start;
        let ctx = "[scoring]";
        for (key, value, slot) in [
            ("title_weight", s.title_weight, &mut out.title_weight),
            ("body_weight", s.body_weight, &mut out.body_weight),
            (
                "multi_source_bonus",
                s.multi_source_bonus,
                &mut out.multi_source_bonus,
            ),
        ] {
            match value {
                Some(v) if v.is_finite() && v >= 0.0 => *slot = v,
                Some(v) => self.push(at, ctx, Some(key), format!("must be zero or more, got {v}")),
                None => {}
            }
        }
        if let Some(c) = s.body_cap {
            match u32::try_from(c) {
                Ok(c) => out.body_cap = c,
                Err(_) => self.push(
                    at,
                    ctx,
                    Some("body_cap"),
                    format!("must be zero or more, got {c}"),
                ),
            }
        }
        if let Some(h) = s.half_life {
            match duration_value(&h) {
                Ok(d) => out.half_life = d,
                Err(m) => self.push(at, ctx, Some("half_life"), m),
            }
        }
        for term in s.veto.unwrap_or_default() {
            match crate::text::check_term(&term) {
                Ok(()) => out.veto.push(term),
                Err(m) => self.push(at, ctx, Some("veto"), m),
            }
        }
        if let Some(hosts) = s.hosts {
            out.hosts = self
                .weights(&hosts, at, "[scoring.hosts]", false)
                .into_iter()
                .map(|(h, w)| (h.trim().trim_start_matches("www.").to_ascii_lowercase(), w))
                .collect();
            for (h, w) in &out.hosts {
                if *w < 0.0 {
                    self.push(
                        at,
                        "[scoring.hosts]",
                        Some(h),
                        "a host weight multiplies; use 0 to mute a host".into(),
                    );
                }
            }
        }
        out
    }

    fn output(&mut self, raw: Option<&Spanned<toml::Table>>, base_dir: &Path) -> OutputSettings {
        let mut out = OutputSettings::with_dir(base_dir.join("out"));
        let Some(table) = raw else { return out };
        let Some(o) = self.section::<RawOutput>(table, OUTPUT_KEYS, "[output]") else {
            return out;
        };
        let at = table.span().start;
        let ctx = "[output]";
        if let Some(d) = o.dir {
            out.dir = if d.is_relative() { base_dir.join(d) } else { d };
        }
        if let Some(sections) = o.sections {
            let cleaned: Vec<String> = sections.iter().map(|s| s.trim().to_string()).collect();
            if cleaned.is_empty() || cleaned.iter().any(String::is_empty) {
                self.push(
                    at,
                    ctx,
                    Some("sections"),
                    "must list section names, none empty".into(),
                );
            } else {
                out.sections = Sections::new(cleaned);
            }
        }
        for (key, value, slot) in [
            ("per_section", o.per_section, &mut out.per_section),
            ("curated_size", o.curated_size, &mut out.curated_size),
        ] {
            match value.map(usize::try_from) {
                Some(Ok(n)) if n >= 1 => *slot = n,
                Some(_) => self.push(
                    at,
                    ctx,
                    Some(key),
                    format!("must be 1 or more, got {}", value.unwrap_or_default()),
                ),
                None => {}
            }
        }
        for (key, value, slot) in [
            ("window_days", o.window_days, &mut out.window_days),
            ("repeat_days", o.repeat_days, &mut out.repeat_days),
        ] {
            match value.map(u32::try_from) {
                Some(Ok(n)) => *slot = n,
                Some(Err(_)) => self.push(
                    at,
                    ctx,
                    Some(key),
                    format!("must be zero or more, got {}", value.unwrap_or_default()),
                ),
                None => {}
            }
        }
        if let Some(t) = o.title.filter(|t| !t.trim().is_empty()) {
            out.title = t.trim().to_string();
        }
        if let Some(a) = o.tag_authority {
            let a = a.trim();
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || c == ',') {
                self.push(
                    at,
                    ctx,
                    Some("tag_authority"),
                    format!("`{a}` is not a domain name or email address"),
                );
            } else {
                out.tag_authority = a.to_string();
            }
        }
        if let Some(l) = o.link {
            match Url::parse(l.trim()) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => out.link = Some(u),
                _ => self.push(
                    at,
                    ctx,
                    Some("link"),
                    format!("`{l}` is not an http(s) URL"),
                ),
            }
        }
        out
    }

    fn daemon(&mut self, raw: Option<&Spanned<toml::Table>>) -> DaemonSettings {
        let mut out = DaemonSettings::default();
        let Some(table) = raw else { return out };
        let Some(d) = self.section::<RawDaemon>(table, DAEMON_KEYS, "[daemon]") else {
            return out;
        };
        if let Some(g) = d.grace {
            match duration_value(&g) {
                Ok(g) => out.grace = g,
                Err(m) => self.push(table.span().start, "[daemon]", Some("grace"), m),
            }
        }
        out
    }

    fn learning(&mut self, raw: Option<&Spanned<toml::Table>>) -> LearningSettings {
        let mut out = LearningSettings::default();
        let Some(table) = raw else { return out };
        let Some(l) = self.section::<RawLearning>(table, LEARNING_KEYS, "[learning]") else {
            return out;
        };
        if let Some(e) = l.enabled {
            out.enabled = e;
        }
        match l.weight {
            Some(w) if !w.is_finite() || w < 0.0 => self.push(
                table.span().start,
                "[learning]",
                Some("weight"),
                format!("is {w}: use 0 or more (0 is the same as enabled = false)"),
            ),
            Some(w) => out.weight = w,
            None => {}
        }
        out
    }

    fn serve(&mut self, raw: Option<&Spanned<toml::Table>>) -> ServeSettings {
        let mut out = ServeSettings::default();
        let Some(table) = raw else { return out };
        let Some(s) = self.section::<RawServe>(table, SERVE_KEYS, "[serve]") else {
            return out;
        };
        let at = table.span().start;
        match s.token {
            Some(t) if t.trim().is_empty() => self.push(
                at,
                "[serve]",
                Some("token"),
                "is empty: set a long random token (e.g. `openssl rand -hex 24`), or remove the key to serve on loopback only".into(),
            ),
            Some(t) if t.chars().count() < MIN_TOKEN_LEN => self.push(
                at,
                "[serve]",
                Some("token"),
                format!(
                    "is {} characters: use at least {MIN_TOKEN_LEN} (e.g. `openssl rand -hex 24`)",
                    t.chars().count()
                ),
            ),
            Some(t) => out.token = Some(Secret::new(t)),
            None => {}
        }
        for (key, raw, slot) in [
            ("session_idle", s.session_idle, &mut out.session_idle),
            ("session_max", s.session_max, &mut out.session_max),
        ] {
            let Some(v) = raw else { continue };
            // The cookie's Max-Age is in whole seconds: less than one would delete it.
            match duration_value(&v) {
                Ok(d) if d < Duration::from_secs(1) => self.push(
                    at,
                    "[serve]",
                    Some(key),
                    format!("is {}: use at least 1s", humantime::format_duration(d)),
                ),
                Ok(d) => *slot = d,
                Err(m) => self.push(at, "[serve]", Some(key), m),
            }
        }
        out
    }

    /// `[github] base`: where the `github` shorthands point (GitHub Enterprise Server serves
    /// the same feeds under its own address). Always ends with `/`.
    fn github(&mut self, raw: Option<&Spanned<toml::Table>>) -> Url {
        let default = Url::parse("https://github.com/").expect("a valid URL");
        let Some(table) = raw else { return default };
        let Some(g) = self.section::<RawGithub>(table, GITHUB_KEYS, "[github]") else {
            return default;
        };
        let Some(base) = g.base else { return default };
        let with_slash = if base.trim().ends_with('/') {
            base.trim().to_string()
        } else {
            format!("{}/", base.trim())
        };
        match Url::parse(&with_slash) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => u,
            _ => {
                self.push(
                    table.span().start,
                    "[github]",
                    Some("base"),
                    format!("`{base}` is not an http(s) URL like \"https://github.example.com\""),
                );
                default
            }
        }
    }

    fn feeds(&mut self, raw: &[Spanned<toml::Table>], github_base: &Url) -> Vec<FeedConfig> {
        let mut out = Vec::new();
        let mut by_url: HashMap<Url, String> = HashMap::new();
        let mut by_name: HashMap<String, usize> = HashMap::new();
        for (i, table) in raw.iter().enumerate() {
            let at = table.span().start;
            // Name the feed even when its entry is broken.
            let label = match table.get_ref().get("name").and_then(|v| v.as_str()) {
                Some(name) => format!("feed \"{name}\""),
                None => format!("feed #{}", i + 1),
            };
            let Some(f) = self.section::<RawFeed>(table, FEED_KEYS, &label) else {
                continue;
            };
            let github = match github_feed(&f, github_base) {
                Ok(g) => g,
                Err((key, m)) => {
                    self.push(at, &label, Some(key), m);
                    continue;
                }
            };
            let name = match (f.name.map(|n| n.trim().to_string()), &github) {
                (Some(n), _) if !n.is_empty() => n,
                (None, Some((_, derived))) => derived.clone(),
                _ => {
                    self.push(at, &label, Some("name"), "missing or empty".into());
                    continue;
                }
            };
            let url = match (f.url.as_deref().map(str::trim), github) {
                (None, Some((url, _))) => url,
                (Some(_), Some(_)) => {
                    self.push(
                        at,
                        &label,
                        Some("url"),
                        "set either url or a github shorthand (github, github_user), not both"
                            .into(),
                    );
                    continue;
                }
                (None | Some(""), None) => {
                    self.push(
                        at,
                        &label,
                        Some("url"),
                        "missing or empty: every feed needs the URL of its feed".into(),
                    );
                    continue;
                }
                (Some(s), None) => match Url::parse(s) {
                    Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => u,
                    Ok(u) => {
                        self.push(
                            at,
                            &label,
                            Some("url"),
                            format!("`{s}` is not an http(s) URL (scheme `{}`)", u.scheme()),
                        );
                        continue;
                    }
                    Err(e) => {
                        self.push(at, &label, Some("url"), format!("`{s}` is not a URL: {e}"));
                        continue;
                    }
                },
            };
            let schedule = if f.every.is_some() || f.cron.is_some() || f.timezone.is_some() {
                match Schedule::parse(f.every.as_deref(), f.cron.as_deref(), f.timezone.as_deref())
                {
                    Ok(s) => Some(s),
                    Err(m) => {
                        let key = if f.cron.is_some() {
                            "cron"
                        } else if f.every.is_some() {
                            "every"
                        } else {
                            "timezone"
                        };
                        self.push(at, &label, Some(key), m);
                        continue;
                    }
                }
            } else {
                None
            };
            let section = match f.section.map(|s| s.trim().to_string()) {
                Some(s) if s.is_empty() => {
                    self.push(at, &label, Some("section"), "is empty".into());
                    None
                }
                other => other,
            };
            if let Some(first) = by_url.get(&url) {
                self.push(
                    at,
                    &label,
                    Some("url"),
                    format!("duplicate feed URL {url}, already used by feed \"{first}\""),
                );
                continue;
            }
            if let Some(&first) = by_name.get(&name) {
                self.push(
                    at,
                    &label,
                    Some("name"),
                    format!("duplicate feed name, already used by feed #{}", first + 1),
                );
                continue;
            }
            let weight = match f.weight {
                Some(w) if w.is_finite() && w >= 0.0 => w,
                Some(w) => {
                    self.push(
                        at,
                        &label,
                        Some("weight"),
                        format!("must be zero or more, got {w}"),
                    );
                    continue;
                }
                None => 1.0,
            };
            let keywords = match &f.keywords {
                Some(k) => self.weights(k, at, &format!("{label}: keywords"), true),
                None => Vec::new(),
            };
            by_url.insert(url.clone(), name.clone());
            by_name.insert(name.clone(), i);
            out.push(FeedConfig {
                name,
                url,
                section,
                schedule,
                weight,
                keywords,
                allow_private: f.allow_private.unwrap_or(false),
            });
        }
        out
    }
}

/// The feed URL and default name a `github = "owner/repo"` (with `github_kind`) or
/// `github_user = "name"` shorthand stands for, or the key and message of what is wrong.
fn github_feed(f: &RawFeed, base: &Url) -> Result<Option<(Url, String)>, (&'static str, String)> {
    let owner_ok = |s: &str| {
        (1..=39).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let repo_ok = |s: &str| {
        (1..=100).contains(&s.len())
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    let join = |path: String| base.join(&path).map_err(|e| ("github", e.to_string()));
    match (
        f.github.as_deref().map(str::trim),
        f.github_user.as_deref().map(str::trim),
    ) {
        (Some(_), Some(_)) => Err((
            "github_user",
            "set github (a repository) or github_user (a person's activity), not both".into(),
        )),
        (None, None) => match &f.github_kind {
            Some(_) => Err((
                "github_kind",
                "applies only with github = \"owner/repo\"".into(),
            )),
            None => Ok(None),
        },
        (None, Some(user)) => {
            if f.github_kind.is_some() {
                return Err((
                    "github_kind",
                    "applies only with github = \"owner/repo\"".into(),
                ));
            }
            if !owner_ok(user) {
                return Err((
                    "github_user",
                    format!("`{user}` is not a GitHub user name (letters, digits and -)"),
                ));
            }
            Ok(Some((
                join(format!("{user}.atom"))?,
                format!("{user} on GitHub"),
            )))
        }
        (Some(repo), None) => {
            let Some((owner, name)) = repo
                .split_once('/')
                .filter(|(o, r)| owner_ok(o) && repo_ok(r))
            else {
                return Err((
                    "github",
                    format!("`{repo}` is not a repository like \"owner/repo\""),
                ));
            };
            let kind = f.github_kind.as_deref().map_or("releases", str::trim);
            if !GITHUB_KINDS.contains(&kind) {
                return Err((
                    "github_kind",
                    format!(
                        "must be one of {}, got `{kind}`",
                        GITHUB_KINDS
                            .iter()
                            .map(|k| format!("\"{k}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            Ok(Some((
                join(format!("{owner}/{name}/{kind}.atom"))?,
                format!("{owner}/{name} {kind}"),
            )))
        }
    }
}

fn unknown_key_message(key: &str, known: &[&str]) -> String {
    let best = known
        .iter()
        .map(|k| (strsim::jaro_winkler(key, k), *k))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((score, k)) if score > 0.8 => format!("unknown key (did you mean `{k}`?)"),
        _ => format!("unknown key (expected one of: {})", known.join(", ")),
    }
}

/// `"20s"`, `"1m 30s"`, `"500ms"` (humantime).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    match humantime::parse_duration(s.trim()) {
        Ok(d) if d.is_zero() => Err("must be longer than zero".into()),
        Ok(d) => Ok(d),
        Err(e) => Err(format!(
            "`{s}` is not a duration like \"20s\" or \"2m\": {e}"
        )),
    }
}

/// `"25%"`, or a fraction between 0 and 1.
fn parse_fraction(v: &toml::Value) -> Result<f64, String> {
    let f = match v {
        toml::Value::String(s) => match s.trim().strip_suffix('%') {
            Some(p) => p.trim().parse::<f64>().map(|p| p / 100.0).map_err(|_| ()),
            None => Err(()),
        }
        .map_err(|_| format!("`{s}` is not a percentage like \"25%\""))?,
        toml::Value::Float(f) => *f,
        toml::Value::Integer(0) => 0.0,
        other => return Err(format!("expected a percentage like \"25%\", got {other}")),
    };
    if (0.0..=1.0).contains(&f) {
        Ok(f)
    } else {
        Err(format!("must be between 0% and 100%, got {}%", f * 100.0))
    }
}

/// A duration string, or a whole number of seconds.
fn duration_value(v: &toml::Value) -> Result<Duration, String> {
    match v {
        toml::Value::String(s) => parse_duration(s),
        toml::Value::Integer(n) if *n > 0 => Ok(Duration::from_secs(*n as u64)),
        other => Err(format!("expected a duration like \"20s\", got {other}")),
    }
}

/// `"15MiB"`, `"500 KB"` or a plain number of bytes.
fn parse_bytes(v: &toml::Value) -> Result<u64, String> {
    let n = match v {
        toml::Value::Integer(n) => u64::try_from(*n).map_err(|_| format!("{n} is negative"))?,
        toml::Value::String(s) => s
            .trim()
            .parse::<bytesize::ByteSize>()
            .map_err(|e| format!("`{s}` is not a size like \"15MiB\": {e}"))?
            .as_u64(),
        other => return Err(format!("expected a size like \"15MiB\", got {other}")),
    };
    if n < 1024 {
        return Err(format!("{n} bytes is too small to hold a feed"));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Config, ConfigErrors> {
        Config::parse(s, Path::new("/etc/gleaner"))
    }

    #[test]
    fn serve_token_is_validated_and_kept_out_of_debug() {
        let c = parse("[serve]\ntoken = \"0123456789abcdef0123\"\n").unwrap();
        assert_eq!(
            c.serve.token.as_ref().map(Secret::expose),
            Some("0123456789abcdef0123")
        );
        assert!(!format!("{c:?}").contains("0123456789abcdef"));
        assert_eq!(parse("").unwrap().serve.token, None);
        let problems: Vec<String> = parse("[serve]\ntoken = \" \"\npasword = \"x\"\n")
            .unwrap_err()
            .problems
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems
                .iter()
                .any(|p| p.contains("line 3") && p.contains("[serve]: key `pasword`: unknown key"))
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("line 2") && p.contains("key `token`: is empty"))
        );
        let short = parse("[serve]\ntoken = \"abc\"\n").unwrap_err();
        assert!(
            short.problems[0].to_string().contains("at least 16"),
            "{short:?}"
        );
    }

    #[test]
    fn serve_session_lengths_are_durations_of_a_second_or_more() {
        let c = parse("[serve]\nsession_idle = \"2s\"\nsession_max = \"30d\"\n").unwrap();
        assert_eq!(c.serve.session_idle, Duration::from_secs(2));
        assert_eq!(c.serve.session_max, Duration::from_secs(30 * 24 * 3600));
        let d = parse("").unwrap().serve;
        assert_eq!(d.session_idle, Duration::from_secs(12 * 3600));
        assert_eq!(d.session_max, Duration::from_secs(7 * 24 * 3600));
        let problems: Vec<String> =
            parse("[serve]\nsession_max = \"soon\"\nsession_idle = \"500ms\"\n")
                .unwrap_err()
                .problems
                .iter()
                .map(|p| p.to_string())
                .collect();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems.iter().any(|p| p.contains("line 2")
                && p.contains("key `session_max`: `soon` is not a duration")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("line 3")
                && p.contains("key `session_idle`: is 500ms: use at least 1s")),
            "{problems:?}"
        );
    }

    #[test]
    fn documented_example_parses_with_defaults() {
        let c = parse(
            r#"
[storage]
path = "gleaner.db"
[fetch]
timeout = "20s"
max_bytes = "15MiB"
concurrency = 16
per_host = 2
[[feeds]]
name = "High Scalability"
url = "http://highscalability.com/blog/rss.xml"
section = "News"
"#,
        )
        .unwrap();
        assert_eq!(c.storage.path, PathBuf::from("/etc/gleaner/gleaner.db"));
        assert_eq!(c.fetch, FetchSettings::default());
        assert_eq!(c.feeds.len(), 1);
        assert_eq!(c.feeds[0].section.as_deref(), Some("News"));
        assert_eq!(c.feeds[0].url.host_str(), Some("highscalability.com"));
    }

    #[test]
    fn empty_config_is_valid() {
        let c = parse("").unwrap();
        assert!(c.feeds.is_empty());
        assert_eq!(c.storage.path, PathBuf::from("/etc/gleaner/gleaner.db"));
    }

    #[test]
    fn syntax_error_has_line_and_column() {
        let e = parse("[storage]\npath = \"x.db\"\n[[feeds]\nname = 1\n").unwrap_err();
        assert_eq!(e.problems.len(), 1);
        assert_eq!(e.problems[0].line_col.map(|l| l.0), Some(3));
    }

    #[test]
    fn github_shorthands_become_feed_urls_with_default_names() {
        let c = parse(
            "[[feeds]]\ngithub = \"rust-lang/rust\"\n[[feeds]]\ngithub = \"tokio-rs/tokio\"\ngithub_kind = \"tags\"\nname = \"Tokio tags\"\n[[feeds]]\ngithub = \"feed-rs/feed-rs\"\ngithub_kind = \"commits\"\n[[feeds]]\ngithub_user = \"octocat\"\n",
        )
        .unwrap();
        let got: Vec<(&str, &str)> = c
            .feeds
            .iter()
            .map(|f| (f.name.as_str(), f.url.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "rust-lang/rust releases",
                    "https://github.com/rust-lang/rust/releases.atom"
                ),
                ("Tokio tags", "https://github.com/tokio-rs/tokio/tags.atom"),
                (
                    "feed-rs/feed-rs commits",
                    "https://github.com/feed-rs/feed-rs/commits.atom"
                ),
                ("octocat on GitHub", "https://github.com/octocat.atom"),
            ]
        );
        // GitHub Enterprise Server: the same paths under its own address.
        let c = parse(
            "[github]\nbase = \"https://git.corp.example/gh\"\n[[feeds]]\ngithub = \"a/b\"\n",
        )
        .unwrap();
        assert_eq!(
            c.feeds[0].url.as_str(),
            "https://git.corp.example/gh/a/b/releases.atom"
        );
    }

    #[test]
    fn broken_github_shorthands_name_their_key() {
        for (feed, key, says) in [
            (
                "github = \"rust\"",
                "github",
                "not a repository like \"owner/repo\"",
            ),
            ("github = \"a/b/c\"", "github", "not a repository"),
            ("github = \"a/..\"", "github", "not a repository"),
            (
                "github = \"a/b\"\ngithub_kind = \"issues\"",
                "github_kind",
                "got `issues`",
            ),
            (
                "github_kind = \"tags\"\nurl = \"https://x.example/\"\nname = \"x\"",
                "github_kind",
                "applies only",
            ),
            (
                "github = \"a/b\"\ngithub_user = \"c\"",
                "github_user",
                "not both",
            ),
            (
                "github_user = \"no spaces\"",
                "github_user",
                "not a GitHub user name",
            ),
            (
                "github = \"a/b\"\nurl = \"https://x.example/\"",
                "url",
                "not both",
            ),
        ] {
            let e = parse(&format!("[[feeds]]\n{feed}\n")).unwrap_err();
            assert_eq!(e.problems.len(), 1, "{feed}: {e}");
            let p = &e.problems[0];
            assert_eq!(p.key.as_deref(), Some(key), "{feed}: {e}");
            assert!(p.message.contains(says), "{feed}: {e}");
            assert!(p.line_col.is_some(), "{feed}: {e}");
        }
        let e = parse("[github]\nbase = \"ftp://x\"\n").unwrap_err();
        assert_eq!(e.problems[0].key.as_deref(), Some("base"), "{e}");
    }

    #[test]
    fn all_problems_reported_at_once() {
        let e = parse(
            r#"
colour = "blue"
[fetch]
timout = "5s"
max_bytes = "lots"
[[feeds]]
name = "A"
url = "https://a.example/feed"
sectoin = "News"
[[feeds]]
name = "B"
url = "not a url"
[[feeds]]
name = "C"
url = "https://a.example/feed"
[[feeds]]
name = "D"
url = "ftp://d.example/feed"
"#,
        )
        .unwrap_err();
        let text = e.to_string();
        let expect = [
            "key `colour`: unknown key",
            "[fetch]: key `timout`: unknown key (did you mean `timeout`?)",
            "[fetch]: key `max_bytes`: `lots` is not a size",
            "feed \"A\": key `sectoin`: unknown key (did you mean `section`?)",
            "feed \"B\": key `url`: `not a url` is not a URL",
            "feed \"C\": key `url`: duplicate feed URL https://a.example/feed, already used by feed \"A\"",
            "feed \"D\": key `url`: `ftp://d.example/feed` is not an http(s) URL",
        ];
        for want in expect {
            assert!(text.contains(want), "missing {want:?} in:\n{text}");
        }
        assert_eq!(e.problems.len(), expect.len(), "{text}");
        // Problems with a key carry the key's own line.
        let a = e
            .problems
            .iter()
            .find(|p| p.key.as_deref() == Some("sectoin"));
        assert_eq!(a.unwrap().line_col.unwrap().0, 9);
        let line_of = |needle: &str| {
            e.problems
                .iter()
                .find(|p| p.to_string().contains(needle))
                .and_then(|p| p.line_col)
                .map(|(line, _)| line)
        };
        assert_eq!(line_of("key `colour`"), Some(2));
        assert_eq!(line_of("key `timout`"), Some(4));
        assert_eq!(line_of("`not a url`"), Some(12));
        assert_eq!(line_of("duplicate feed URL"), Some(15));
    }

    #[test]
    fn wrong_types_name_the_feed() {
        let e = parse("[[feeds]]\nname = \"X\"\nurl = 42\n").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("feed \"X\""), "{text}");
        assert!(text.contains("invalid type"), "{text}");
    }

    #[test]
    fn missing_name_and_duplicate_names() {
        let e = parse(
            "[[feeds]]\nurl = \"https://x.example/\"\n[[feeds]]\nname=\"Y\"\nurl=\"https://y.example/a\"\n[[feeds]]\nname=\"Y\"\nurl=\"https://y.example/b\"\n",
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("feed #1: key `name`: missing"), "{text}");
        assert!(text.contains("duplicate feed name"), "{text}");
    }

    #[test]
    fn sizes_and_durations() {
        let c = parse("[fetch]\ntimeout = 7\n").unwrap();
        assert_eq!(c.fetch.timeout, Duration::from_secs(7));
        assert!(parse("[fetch]\ntimeout = -1\n").is_err());
        let c = parse("[fetch]\ntimeout = \"1m 30s\"\nmax_bytes = 2048\n").unwrap();
        assert_eq!(c.fetch.timeout, Duration::from_secs(90));
        assert_eq!(c.fetch.max_bytes, 2048);
        let c = parse("[fetch]\ntimeout = \"2s\"\nmax_bytes = \"1 MB\"\n").unwrap();
        assert_eq!(c.fetch.connect_timeout, Duration::from_secs(2));
        assert_eq!(c.fetch.max_bytes, 1_000_000);
        assert!(parse("[fetch]\nconcurrency = 0\n").is_err());
        assert!(parse("[fetch]\ntimeout = \"0s\"\n").is_err());
    }

    #[test]
    fn private_network_opt_ins_and_proxy() {
        let c = parse(
            r#"
[fetch]
proxy = "http://127.0.0.1:3128"
[[feeds]]
name = "Intranet"
url = "http://wiki.corp.example/feed"
allow_private = true
[[feeds]]
name = "Public"
url = "https://blog.example/feed"
"#,
        )
        .unwrap();
        assert!(!c.fetch.allow_private);
        assert_eq!(
            c.fetch.proxy.as_ref().map(Url::as_str),
            Some("http://127.0.0.1:3128/")
        );
        assert!(c.feeds[0].allow_private && !c.feeds[1].allow_private);
        let only: Vec<&str> = c.fetch.private_feeds.iter().map(Url::as_str).collect();
        assert_eq!(only, ["http://wiki.corp.example/feed"]);
        assert!(
            parse("[fetch]\nallow_private = true\n")
                .unwrap()
                .fetch
                .allow_private
        );

        let e = parse("[fetch]\nproxy = \"socks5://127.0.0.1:1080\"\nallow_private = \"yes\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("invalid type"), "{e}");
        let e = parse("[fetch]\nproxy = \"socks5://127.0.0.1:1080\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 2, column 1: [fetch]: key `proxy`: `socks5://127.0.0.1:1080`: only http and https proxies"),
            "{e}"
        );
        let e = parse("[fetch]\nproxy = \"http://proxy.example/path\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not a proxy address"), "{e}");
        let e =
            parse("[[feeds]]\nname = \"A\"\nurl = \"http://a.example/\"\nallow_privat = true\n")
                .unwrap_err()
                .to_string();
        assert!(e.contains("did you mean `allow_private`?"), "{e}");
    }
}
