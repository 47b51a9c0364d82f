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
mod github;
mod validate;

pub use digest::{
    DigestSettings, EmailSettings, PasswordSource, Security, WebhookFormat, WebhookSettings,
    WeekRule,
};
use toml::Spanned;
use url::Url;
use validate::{Validator, duration_value, unknown_key_message};

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
