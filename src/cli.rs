//! The command line (clap derive). Raw arguments only; validation of the config is `config`'s.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Parser, Subcommand};

/// gleaner reads the feeds a newsletter editor follows, so the editor does not have to.
///
/// It polls the feeds listed in feeds.toml, keeps every story once (across feeds) in a SQLite
/// database, with safe HTML and a plain-text excerpt, and lists them for the editor.
#[derive(Debug, Parser)]
#[command(
    name = "gleaner",
    version,
    about,
    long_about,
    after_long_help = "Exit codes: 0 done; 1 failed (the message says why); 2 the config or the command line cannot be used (nothing was changed); 3 the database cannot be opened or written; 4 the polling round ran but every feed failed; 130 a second SIGINT/SIGTERM."
)]
pub struct Cli {
    /// The config file: feeds, fetch limits, database location.
    #[arg(long, global = true, value_name = "PATH", default_value = "feeds.toml")]
    pub config: PathBuf,

    /// The SQLite database; overrides [storage] path in the config. Created if missing.
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Log format on stderr (levels via RUST_LOG, e.g. RUST_LOG=gleaner=debug).
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fetch every configured feed once now and store what is new.
    ///
    /// Prints one line per feed (new N, updated N, unchanged (304), error: …) and a summary.
    /// Exits 0 when the pass ran, even if some feeds failed (their errors are printed and
    /// recorded on the feed); 4 when it ran but every feed it fetched failed (the network is
    /// down, or every server refused); 2 or 3 when the config or database is unusable.
    Poll(PollArgs),
    /// Run in the foreground: poll every feed on its own schedule until SIGINT/SIGTERM.
    ///
    /// Logs to stderr (info by default; RUST_LOG and --log-format json to change). The
    /// schedule lives in the database, so a restart resumes where it stopped; feeds new to the
    /// database are fetched at once. SIGHUP re-reads the config (an invalid file is rejected and
    /// the running config stays). SIGINT/SIGTERM lets in-flight feeds finish within the grace
    /// period ([daemon] grace, 10s), then exits 0; a second signal exits at once.
    /// With --serve, also serves the web desk (as `gleaner serve`) from the same process.
    Run(RunArgs),
    /// The editor's desk in a browser: candidates, picks, the draft, the digest, feeds.
    ///
    /// Listens on 127.0.0.1:8080 unless --listen says otherwise. A non-loopback address needs
    /// `[serve] token` in feeds.toml (the login); without one it refuses to start (exit 2).
    /// Also serves /curated.atom, /curated.rss, /curated.json, /healthz and /metrics. Prints
    /// "serving on http://ADDR" on stderr once it listens; SIGINT/SIGTERM stops it.
    Serve(ServeArgs),
    /// Per-feed health: state, last fetch, last HTTP status, failures, next due, last error.
    ///
    /// States: new, ok, failing (last fetch failed), backing off (failed twice or more, or the
    /// server asked us to wait), dead (failing for [schedule] dead_after), gone (HTTP 410).
    Status(StatusArgs),
    /// List stored stories, newest first.
    Entries(EntriesArgs),
    /// Validate the config and print what gleaner understood, with each feed's next run times.
    Check,
    /// Read feed documents from files and show what gleaner would store, storing nothing.
    ///
    /// For a feed that reads wrong: every entry's title, link, dates, author, excerpt and
    /// cleaned HTML as gleaner understands them, the repairs the document needed, the
    /// duplicates dropped, or why it cannot be read. Needs no config or database. `-` reads
    /// standard input. Exits 1 when a document cannot be read as a feed.
    Inspect(InspectArgs),
    /// The ranked candidates of the current window, by section, with why each one scored.
    ///
    /// The window runs from the last published issue (or [output] window_days back) to now.
    /// Also rewrites out/candidates.md and out/candidates.json (unless --as-of or --since is
    /// given, which only print).
    Candidates(CandidatesArgs),
    /// Pick a story for the next issue (ids come from `candidates`).
    Pick(PickArgs),
    /// Reject a story: it leaves the candidate list.
    Reject(RejectArgs),
    /// Take back an unpublished pick or reject.
    Unpick(IdArg),
    /// Set a story aside for later: it leaves the candidate list until the snooze ends.
    ///
    /// A week by default (--for, --until to say otherwise). It then comes back in the window
    /// where the snooze ends, however old it is, and ages from then. A pending pick or reject
    /// on it is taken back; picking or rejecting it ends the snooze.
    Snooze(SnoozeArgs),
    /// End a snooze now: the story is a candidate again.
    Unsnooze(IdArg),
    /// Stop polling feeds (by name) until `gleaner resume`; their stories stay.
    ///
    /// A paused feed is skipped by `run` and `poll` (`poll --feed NAME` still fetches it
    /// once); `status` shows it as paused. Kept in the database, not in feeds.toml.
    Pause(FeedNames),
    /// Poll paused feeds again; each is due at once.
    Resume(FeedNames),
    /// Add a source: find the feeds of a site or page and append one to feeds.toml.
    ///
    /// Tries the address itself, then the feeds the page declares (<link rel="alternate">),
    /// then common paths (/feed, /rss.xml, /atom.xml, /index.xml, …), and offers only what
    /// parses as a feed. The first one found is added unless --choose says otherwise;
    /// feeds.toml keeps its comments and layout. (To pick a single link that is in no feed,
    /// use `gleaner pick URL`.)
    Add(AddArgs),
    /// Apply the ticks of an edited candidates file: [x] picks, [-] rejects, [z] snoozes for a
    /// week; blurbs, reasons, sections.
    ///
    /// All or nothing: a malformed or duplicated marker is reported with its line and nothing
    /// is applied.
    Apply(ApplyArgs),
    /// Show every part of a story's score.
    Explain(ExplainArgs),
    /// Recompute every score (after changing [keywords] or [scoring]).
    Rescore,
    /// Write out/issue-N.md: the picks in the newsletter's shape.
    Draft(DraftArgs),
    /// Publish issue N: its picks become used links and the next window starts now.
    Publish(PublishArgs),
    /// The week's top candidates per section, with counts of what was read.
    Digest(DigestArgs),
    /// Import feeds from another reader (OPML), or the newsletter's past issues.
    ///
    /// `import opml FILE` appends new feeds at the end of feeds.toml; its comments and layout
    /// stay as they are, feeds already in the file are skipped and reported. `import issues
    /// FILE...` reads past issues: their links are never suggested again and their items teach
    /// the ranking what the editor picks.
    Import(ImportArgs),
    /// Write the configured feeds in a format other readers import (OPML).
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Also serve the web desk from the daemon's process (see `gleaner serve`).
    #[arg(long)]
    pub serve: bool,
    /// With --serve: the address to listen on.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN, requires = "serve", value_parser = parse_listen)]
    pub listen: std::net::SocketAddr,
}

/// Where `gleaner serve` listens by default: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on: IP:PORT, or localhost:PORT (port 0: any free port). Beyond
    /// loopback, `[serve] token` must be set.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN, value_parser = parse_listen)]
    pub listen: std::net::SocketAddr,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub format: ImportFormat,
}

#[derive(Debug, Subcommand)]
pub enum ImportFormat {
    /// Append the feeds of an OPML file (OPML 1.0 or 2.0) to feeds.toml.
    ///
    /// Every outline with an xmlUrl is a feed, named by its text (else title) attribute.
    /// Folders become sections: the outermost folder named like one of [output] sections
    /// (case-insensitively), else the folder path joined with " / "; feeds outside folders get
    /// none. Prints one line per feed — added, skipped (duplicate of "X": same URL as a feed
    /// already there, up to http/https, www., a trailing slash and tracking parameters) or
    /// invalid (why) — and a summary. A name already taken by another URL gets " (2)". The file
    /// is written only when the result is a valid config, atomically; a missing feeds.toml is
    /// created. Exits 0 when the OPML file was read (even if some feeds were skipped or
    /// invalid), 1 when it cannot be read or is not well-formed OPML (feeds.toml unchanged),
    /// 2 when feeds.toml itself has problems.
    Opml(ImportOpmlArgs),
    /// Read past issues of the newsletter: their links are never suggested again, and their
    /// items teach the ranking what the editor picks.
    ///
    /// Takes the Markdown `gleaner draft` writes (a `# … issue N` title, a date line, `##`
    /// section headings, each item a blurb paragraph and its link) and most Markdown archives,
    /// or the HTML of a sent issue or an archive page (`<h2>` sections, each paragraph or list
    /// item with a link an item). Every link goes into the ledger of used links; every item,
    /// its blurb, link and section, becomes an example the ranking learns from ([learning]).
    /// The issue number comes from the title, else the file name (issue-12.md); the date from
    /// the file, else its modification time. Importing the same files again changes nothing.
    /// Prints one line per file and what was new.
    Issues(ImportIssuesArgs),
}

#[derive(Debug, Args)]
pub struct ImportIssuesArgs {
    /// Past issues: Markdown or HTML files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Show what would be added without changing the database.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ImportOpmlArgs {
    /// The OPML file, e.g. an export from Feedly, Inoreader, NetNewsWire or Miniflux.
    pub file: PathBuf,
    /// Show what would be added and skipped without changing feeds.toml.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(subcommand)]
    pub format: ExportFormat,
}

#[derive(Debug, Subcommand)]
pub enum ExportFormat {
    /// Print the configured feeds as OPML 2.0: one folder per section, feeds without a
    /// section at the top level.
    ///
    /// `gleaner import opml` reads it back to the same feeds and sections.
    Opml(ExportOpmlArgs),
}

#[derive(Debug, Args)]
pub struct ExportOpmlArgs {
    /// Write to this file (atomically) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CandidatesArgs {
    /// Print JSON, ranked by score (highest first) across sections: id, title, url, also_at,
    /// sources, section, published, score, why, excerpt.
    #[arg(long)]
    pub json: bool,
    /// Start the window here instead of at the last published issue (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE", value_parser = parse_since)]
    pub since: Option<DateTime<Utc>>,
    /// Use this as "now" for the window and the recency decay, to replay a past week exactly.
    #[arg(long, value_name = "DATETIME", value_parser = parse_since)]
    pub as_of: Option<DateTime<Utc>>,
    /// Only this section.
    #[arg(long, value_name = "S")]
    pub section: Option<String>,
    /// At most this many candidates.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

#[derive(Debug, Args)]
pub struct IdArg {
    /// The story id (from `candidates`).
    pub id: i64,
}

#[derive(Debug, Args)]
pub struct PickArgs {
    /// The story id (from `candidates`), or the http(s) address of a page that is in no feed:
    /// gleaner fetches it for its title and description, stores it and picks it.
    #[arg(value_name = "ID|URL")]
    pub target: String,
    /// Put it in this section instead of the suggested one.
    #[arg(long, value_name = "S")]
    pub section: Option<String>,
    /// The two or three sentences that introduce it in the issue.
    #[arg(long, value_name = "TEXT")]
    pub blurb: Option<String>,
}

#[derive(Debug, Args)]
pub struct SnoozeArgs {
    /// The story id (from `candidates`).
    pub id: i64,
    /// For how long, e.g. 3d, 2weeks, 12h.
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration, conflicts_with = "until", default_value = "7d")]
    pub for_: std::time::Duration,
    /// Until this date (YYYY-MM-DD, UTC midnight) or time (RFC 3339).
    #[arg(long, value_name = "DATE", value_parser = parse_since)]
    pub until: Option<DateTime<Utc>>,
}

#[derive(Debug, Args)]
pub struct FeedNames {
    /// Feed names, as in feeds.toml (see `gleaner status`).
    #[arg(required = true, value_name = "NAME")]
    pub names: Vec<String>,
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    match humantime::parse_duration(s.trim()) {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err("a snooze must last longer than 0".into()),
        Err(e) => Err(format!(
            "`{s}` is not a duration like 3d, 2weeks or 12h: {e}"
        )),
    }
}

#[derive(Debug, Args)]
pub struct RejectArgs {
    /// The story id (from `candidates`).
    pub id: i64,
    /// Why, for the record.
    #[arg(long, value_name = "R")]
    pub reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The site or page (or the feed itself).
    pub url: String,
    /// Add the Nth feed found instead of the first.
    #[arg(long, value_name = "N")]
    pub choose: Option<usize>,
    /// The feed's name in feeds.toml (default: the feed's own title).
    #[arg(long)]
    pub name: Option<String>,
    /// Its editorial section.
    #[arg(long, value_name = "S")]
    pub section: Option<String>,
    /// Only show what was found; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The edited candidates file (usually out/candidates.md).
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    pub id: i64,
    /// Compute the recency decay at this time instead of now.
    #[arg(long, value_name = "DATETIME", value_parser = parse_since)]
    pub as_of: Option<DateTime<Utc>>,
}

#[derive(Debug, Args)]
pub struct DraftArgs {
    /// The issue number (default: the next one).
    #[arg(long, value_name = "N")]
    pub issue: Option<i64>,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The issue number.
    pub number: i64,
}

#[derive(Debug, Args)]
pub struct DigestArgs {
    /// The ISO week, e.g. 2014-W15 (default: the current week).
    #[arg(long, value_name = "YYYY-Www")]
    pub week: Option<String>,
    #[arg(long, value_enum, default_value = "md")]
    pub format: DigestFormatArg,
    /// Send the week's digest now on every channel of [digest] (e-mail, webhook) that has not
    /// had it, and record it: the daemon will not send that week again. A week already sent
    /// is not sent twice.
    #[arg(long)]
    pub send: bool,
    /// With --send: e-mail the digest to this address only (repeatable), as a one-off that is
    /// not recorded (a preview, or a copy for someone).
    #[arg(long, value_name = "ADDR", requires = "send")]
    pub to: Vec<String>,
    /// With --send: print what would be sent (headers, parts, webhook body) and send nothing.
    #[arg(long, requires = "send")]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DigestFormatArg {
    Md,
    Html,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print a JSON array: name, url, section, state, last_fetch, last_success, last_status,
    /// consecutive_failures, next_due, last_error, moved_to, retry_after, schedule, stories.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PollArgs {
    /// Only poll the feed with this name (repeatable).
    #[arg(long = "feed", value_name = "NAME")]
    pub feeds: Vec<String>,
    /// Also fetch feeds that are gone (410) or asked us to wait (Retry-After).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct EntriesArgs {
    /// Print JSON: id, title, url, canonical_url, sources, published, updated, excerpt,
    /// content_html (plus author, first_seen).
    #[arg(long)]
    pub json: bool,
    /// Only stories published on or after this date (YYYY-MM-DD, UTC) or time (RFC 3339).
    /// Undated stories count from when gleaner first saw them.
    #[arg(long, value_name = "DATE", value_parser = parse_since)]
    pub since: Option<DateTime<Utc>>,
    /// Only stories carried by the feed with this name.
    #[arg(long, value_name = "NAME")]
    pub feed: Option<String>,
    /// At most this many stories.
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Feed documents (RSS, Atom, RDF, JSON Feed); `-` for standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print one JSON object per document (JSON Lines): file, title, repairs, duplicates,
    /// error, and entries with key, title, url, canonical_url, published, updated, author,
    /// excerpt, content_html.
    #[arg(long)]
    pub json: bool,
    /// Read each document as if it was served with this Content-Type (its charset counts).
    #[arg(long, value_name = "TYPE")]
    pub content_type: Option<String>,
    /// The address the documents were fetched from: relative links resolve against it
    /// (default: the file's own file:// address, so relative links stay unresolved).
    #[arg(long, value_name = "URL", value_parser = parse_base)]
    pub base: Option<url::Url>,
}

fn parse_base(s: &str) -> Result<url::Url, String> {
    url::Url::parse(s.trim()).map_err(|e| format!("not an absolute URL: {e}"))
}

/// `IP:PORT`, or `localhost:PORT` for 127.0.0.1 (no other names: a listening address is
/// not looked up in DNS).
fn parse_listen(s: &str) -> Result<std::net::SocketAddr, String> {
    let s = s.trim();
    if let Some(port) = s
        .strip_prefix("localhost:")
        .or_else(|| s.strip_prefix("LOCALHOST:"))
    {
        let port: u16 = port
            .parse()
            .map_err(|_| format!("`{s}`: the port must be a number from 0 to 65535"))?;
        return Ok(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    }
    s.parse().map_err(|_| {
        format!("`{s}` is not an address like 127.0.0.1:8080, [::1]:8080 or localhost:8080")
    })
}

fn parse_since(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(d) = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    DateTime::parse_from_rfc3339(s.trim())
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| format!("`{s}` is not a date like 2014-04-07 or 2014-04-07T09:00:00Z"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn listen_takes_addresses_and_localhost() {
        assert_eq!(
            parse_listen("localhost:8080").unwrap().to_string(),
            "127.0.0.1:8080"
        );
        assert_eq!(parse_listen("[::1]:0").unwrap().to_string(), "[::1]:0");
        assert!(parse_listen("localhost:99999").is_err());
        assert!(parse_listen("example.com:80").is_err());
    }

    #[test]
    fn since_accepts_dates_and_times() {
        assert_eq!(
            parse_since("2014-04-07").unwrap().to_rfc3339(),
            "2014-04-07T00:00:00+00:00"
        );
        assert_eq!(
            parse_since("2014-04-07T09:30:00+02:00")
                .unwrap()
                .to_rfc3339(),
            "2014-04-07T07:30:00+00:00"
        );
        assert!(parse_since("last week").is_err());
    }
}
