//! Appending `[[feeds]]` entries to an existing feeds.toml without disturbing it.
//!
//! The file is the editor's: its comments, blank lines and order stay exactly as they are. New
//! entries are rendered with `toml_edit` (so names and URLs are quoted and escaped as TOML
//! wants) and appended at the end of the file, after a blank line and an optional comment: the
//! old text is a byte-for-byte prefix of the new one (a newline is added if the file did not
//! end with one; a CRLF file gets CRLF lines). Nothing is written unless the whole new text
//! passes [`Config::parse`]; the write is atomic (temp file + rename, `output::atomic_write`).
//!
//! Per feed ([`Outcome`]): a feed whose URL is already in the file — the same URL as the config
//! sees it (parsed: scheme and host case, default port), or the same canonical URL
//! (`clean::canonical`: http ≡ https, `www.`, trailing `/`, tracking parameters) — or listed
//! earlier in the same batch is skipped as a duplicate of that feed. A feed whose name is taken
//! by a feed with another URL is added under a free name: "Blog (2)", "Blog (3)" … (two
//! subscriptions called "Blog" are two feeds; refusing one would lose it). A feed the config
//! would refuse (not an http(s) URL, an empty name) is reported invalid with the config's own
//! message, and the others are still added.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use url::Url;

use crate::clean::canonical::canonicalize_url;
use crate::config::{Config, ConfigErrors, Problem};

/// A feed to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFeed {
    pub name: String,
    pub url: String,
    pub section: Option<String>,
}

/// What happened to one feed.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Appended under `name` (differs from the requested name when that was taken).
    Added { name: String, renamed: bool },
    /// Its URL is already the URL of feed `of` (in the file, or added earlier in this batch).
    Duplicate { of: String },
    /// The config would refuse it: why.
    Invalid { reason: String },
}

/// One feed and its outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub feed: NewFeed,
    pub outcome: Outcome,
}

/// The new text and what happened to every feed, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub struct Appended {
    pub text: String,
    pub reports: Vec<Report>,
}

impl Appended {
    pub fn added(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Added { .. }))
    }
    pub fn duplicates(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Duplicate { .. }))
    }
    pub fn invalid(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Invalid { .. }))
    }
    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.reports.iter().filter(|r| f(&r.outcome)).count()
    }
}

/// Why nothing could be appended.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The file as it is does not pass `Config::parse`: fix it first.
    #[error("{0}")]
    Invalid(ConfigErrors),
    /// `feeds` is an inline array or a plain table: `[[feeds]]` cannot follow it.
    #[error(
        "`feeds` is written as {0}, so [[feeds]] tables cannot be appended: write the feeds as [[feeds]] tables first"
    )]
    NotTables(&'static str),
    /// The new text would not pass `Config::parse` (a bug if it happens: every feed was
    /// checked on its own).
    #[error("the feeds.toml with the new feeds would not be valid, so nothing was written: {0}")]
    WouldBreak(ConfigErrors),
}

/// Reading, checking or writing the file failed.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Append { path: PathBuf, source: AppendError },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Appends `feeds` to the config text `text` (relative paths in it resolve against
/// `base_dir`). `note`, when given, is written as a `# ` comment line above the new entries.
/// Pure: the caller writes the result.
pub fn append(
    text: &str,
    base_dir: &Path,
    feeds: &[NewFeed],
    note: Option<&str>,
) -> Result<Appended, AppendError> {
    let config = Config::parse(text, base_dir).map_err(AppendError::Invalid)?;
    // The config parsed, so toml_edit (the same TOML 1.0) reads it too; what matters is how
    // `feeds` is written.
    if let Ok(doc) = text.parse::<toml_edit::DocumentMut>() {
        match doc.as_table().get("feeds") {
            None | Some(toml_edit::Item::ArrayOfTables(_)) => {}
            Some(toml_edit::Item::Value(toml_edit::Value::Array(a))) if a.is_empty() => {
                return Err(AppendError::NotTables("an empty inline array (feeds = [])"));
            }
            Some(toml_edit::Item::Value(_)) => {
                return Err(AppendError::NotTables("an inline array (feeds = [ … ])"));
            }
            Some(_) => return Err(AppendError::NotTables("a table")),
        }
    }

    let mut by_url: HashMap<Url, String> = HashMap::new();
    let mut by_canonical: HashMap<String, String> = HashMap::new();
    let mut by_text: HashMap<String, String> = HashMap::new();
    let mut names: HashSet<String> = HashSet::new();
    for f in &config.feeds {
        remember(&mut by_url, &mut by_canonical, &f.url, &f.name);
        names.insert(f.name.clone());
    }
    // The URLs as written, trimmed: a URL the config stores differently still matches itself.
    if let Ok(doc) = text.parse::<toml_edit::DocumentMut>()
        && let Some(feeds) = doc
            .as_table()
            .get("feeds")
            .and_then(|f| f.as_array_of_tables())
    {
        for t in feeds.iter() {
            if let (Some(u), Some(n)) = (
                t.get("url").and_then(|v| v.as_str()),
                t.get("name").and_then(|v| v.as_str()),
            ) {
                by_text.insert(u.trim().to_string(), n.trim().to_string());
            }
        }
    }

    let mut reports = Vec::with_capacity(feeds.len());
    let mut entries: Vec<String> = Vec::new();
    for feed in feeds {
        let feed = NewFeed {
            name: feed.name.trim().to_string(),
            url: feed.url.trim().to_string(),
            section: feed
                .section
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        };
        let outcome = match check_alone(&feed, base_dir) {
            Err(reason) => Outcome::Invalid { reason },
            Ok(url) => {
                let dup = by_text
                    .get(&feed.url)
                    .or_else(|| by_url.get(&url))
                    .or_else(|| canonicalize_url(url.clone()).and_then(|c| by_canonical.get(&c)));
                match dup {
                    Some(of) => Outcome::Duplicate { of: of.clone() },
                    None => {
                        let name = free_name(&feed.name, &names);
                        names.insert(name.clone());
                        remember(&mut by_url, &mut by_canonical, &url, &name);
                        by_text.insert(feed.url.clone(), name.clone());
                        entries.push(entry(&name, &feed.url, feed.section.as_deref()));
                        Outcome::Added {
                            renamed: name != feed.name,
                            name,
                        }
                    }
                }
            }
        };
        reports.push(Report { feed, outcome });
    }

    if entries.is_empty() {
        return Ok(Appended {
            text: text.to_string(),
            reports,
        });
    }
    let mut block = String::new();
    if let Some(note) = note {
        for line in note.lines() {
            block.push_str(&format!("# {line}\n").replace("# \n", "#\n"));
        }
    }
    block.push_str(&entries.join("\n"));
    let mut tail = String::new();
    if !text.is_empty() {
        if !text.ends_with('\n') {
            tail.push('\n');
        }
        if !(text.ends_with("\n\n") || text.ends_with("\n\r\n")) {
            tail.push('\n'); // a blank line between the file and what is added
        }
    }
    tail.push_str(&block);
    if text.contains("\r\n") {
        tail = tail.replace('\n', "\r\n");
    }
    let out = format!("{text}{tail}");
    Config::parse(&out, base_dir).map_err(AppendError::WouldBreak)?;
    Ok(Appended { text: out, reports })
}

fn remember(
    by_url: &mut HashMap<Url, String>,
    by_canonical: &mut HashMap<String, String>,
    url: &Url,
    name: &str,
) {
    by_url
        .entry(url.clone())
        .or_insert_with(|| name.to_string());
    if let Some(c) = canonicalize_url(url.clone()) {
        by_canonical.entry(c).or_insert_with(|| name.to_string());
    }
}

/// The feed on its own, through the config's validation: its URL as the config would store
/// it, or the config's message.
fn check_alone(feed: &NewFeed, base_dir: &Path) -> Result<Url, String> {
    let text = entry(&feed.name, &feed.url, feed.section.as_deref());
    match Config::parse(&text, base_dir) {
        Ok(c) => c
            .feeds
            .into_iter()
            .next()
            .map(|f| f.url)
            .ok_or_else(|| "not a feed".to_string()),
        Err(e) => Err(e
            .problems
            .into_iter()
            .map(|p| {
                Problem {
                    line_col: None,
                    context: None,
                    ..p
                }
                .to_string()
            })
            .collect::<Vec<_>>()
            .join("; ")),
    }
}

/// `name`, or `name (2)`, `name (3)` … whichever is free first.
fn free_name(name: &str, taken: &HashSet<String>) -> String {
    if !taken.contains(name) {
        return name.to_string();
    }
    (2..)
        .map(|n| format!("{name} ({n})"))
        .find(|n| !taken.contains(n))
        .expect("some number is free")
}

/// One `[[feeds]]` entry, as toml_edit writes it.
fn entry(name: &str, url: &str, section: Option<&str>) -> String {
    let mut table = toml_edit::Table::new();
    table.insert("name", toml_edit::value(name));
    table.insert("url", toml_edit::value(url));
    if let Some(s) = section {
        table.insert("section", toml_edit::value(s));
    }
    let mut feeds = toml_edit::ArrayOfTables::new();
    feeds.push(table);
    let mut doc = toml_edit::DocumentMut::new();
    doc.insert("feeds", toml_edit::Item::ArrayOfTables(feeds));
    doc.to_string()
}

/// Appends `feeds` to the config file at `path` and writes it (unless `dry_run`). A missing
/// file is treated as empty and created. A symlink is followed: its target is rewritten, with
/// its permissions kept.
pub fn append_to_file(
    path: &Path,
    feeds: &[NewFeed],
    note: Option<&str>,
    dry_run: bool,
) -> Result<Appended, FileError> {
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let text = match std::fs::read_to_string(&target) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(FileError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let appended = append(&text, base, feeds, note).map_err(|source| FileError::Append {
        path: path.to_path_buf(),
        source,
    })?;
    if !dry_run && appended.text != text {
        let permissions = std::fs::metadata(&target).ok().map(|m| m.permissions());
        crate::output::atomic_write(&target, &appended.text).map_err(|source| {
            FileError::Write {
                path: path.to_path_buf(),
                source,
            }
        })?;
        if let Some(p) = permissions {
            let _ = std::fs::set_permissions(&target, p);
        }
    }
    Ok(appended)
}

/// The line `gleaner import` prints for one feed.
pub fn report_line(r: &Report, dry_run: bool) -> String {
    let name = &r.feed.name;
    let url = &r.feed.url;
    match &r.outcome {
        Outcome::Added {
            name: added,
            renamed,
        } => {
            let verb = if dry_run { "would add" } else { "added" };
            let mut line = format!("{verb} \"{added}\" <{url}>");
            if let Some(s) = &r.feed.section {
                line.push_str(&format!(" in section \"{s}\""));
            }
            if *renamed {
                line.push_str(&format!(" (renamed: a feed called \"{name}\" exists)"));
            }
            line
        }
        Outcome::Duplicate { of } => {
            format!("skipped \"{name}\" <{url}>: duplicate of \"{of}\"")
        }
        Outcome::Invalid { reason } => format!("invalid \"{name}\" <{url}>: {reason}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# The editor's feeds.\n\n[storage]\npath = \"gleaner.db\"   # beside this file\n\n[output]\nsections = [\"News\", \"Tools\"]\n\n# --- blogs ---\n[[feeds]]\nname = \"Julia Evans\"\nurl = \"https://jvns.ca/atom.xml\"\nsection = \"News\"   # always good\n\n[[feeds]]\nname = \"Releases\"\nurl = \"https://github.com/rust-lang/rust/releases.atom\"\n[feeds.keywords]\nrust = 2\n# the end\n";

    fn new(name: &str, url: &str, section: Option<&str>) -> NewFeed {
        NewFeed {
            name: name.into(),
            url: url.into(),
            section: section.map(String::from),
        }
    }

    fn base() -> &'static Path {
        Path::new("/srv/gleaner")
    }

    #[test]
    fn appends_at_the_end_keeping_every_byte_of_the_file() {
        let a = append(
            FILE,
            base(),
            &[
                new(
                    "Rust Blog",
                    "https://blog.rust-lang.org/feed.xml",
                    Some("Tools"),
                ),
                new(
                    "Quote \"and\" backslash \\",
                    "https://q.example/rss?a=1&b=2",
                    None,
                ),
            ],
            Some("Imported from subs.opml."),
        )
        .unwrap();
        assert!(a.text.starts_with(FILE), "{}", a.text);
        assert_eq!(
            &a.text[FILE.len()..],
            "\n# Imported from subs.opml.\n[[feeds]]\nname = \"Rust Blog\"\nurl = \"https://blog.rust-lang.org/feed.xml\"\nsection = \"Tools\"\n\n[[feeds]]\nname = 'Quote \"and\" backslash \\'\nurl = \"https://q.example/rss?a=1&b=2\"\n"
        );
        let config = Config::parse(&a.text, base()).unwrap();
        let names: Vec<&str> = config.feeds.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Julia Evans",
                "Releases",
                "Rust Blog",
                "Quote \"and\" backslash \\"
            ]
        );
        // The per-feed keywords of the last old feed stay its own.
        assert_eq!(config.feeds[1].keywords, vec![("rust".to_string(), 2.0)]);
        assert!(config.feeds[2].keywords.is_empty());
        assert_eq!(config.feeds[2].section.as_deref(), Some("Tools"));
        assert_eq!(a.added(), 2);
    }

    #[test]
    fn no_trailing_newline_empty_file_and_crlf() {
        let text = "[storage]\npath = \"x.db\"";
        let a = append(text, base(), &[new("A", "https://a.example/", None)], None).unwrap();
        assert_eq!(
            a.text,
            "[storage]\npath = \"x.db\"\n\n[[feeds]]\nname = \"A\"\nurl = \"https://a.example/\"\n"
        );

        let a = append("", base(), &[new("A", "https://a.example/", None)], None).unwrap();
        assert_eq!(
            a.text,
            "[[feeds]]\nname = \"A\"\nurl = \"https://a.example/\"\n"
        );

        let crlf = "# windows\r\n[storage]\r\npath = \"x.db\"\r\n";
        let a = append(
            crlf,
            base(),
            &[new("A", "https://a.example/", None)],
            Some("new"),
        )
        .unwrap();
        assert!(a.text.starts_with(crlf));
        assert_eq!(
            &a.text[crlf.len()..],
            "\r\n# new\r\n[[feeds]]\r\nname = \"A\"\r\nurl = \"https://a.example/\"\r\n"
        );
        assert!(!a.text.replace("\r\n", "").contains('\n'));
    }

    #[test]
    fn duplicates_by_url_are_skipped_and_names_made_unique() {
        let a = append(
            FILE,
            base(),
            &[
                // The same URL as the config sees it (host case, default port) …
                new("Julia again", "  https://JVNS.ca:443/atom.xml ", None),
                // … and canonically (http, www., trailing slash, tracking parameters).
                new(
                    "Julia http",
                    "http://www.jvns.ca/atom.xml/?utm_source=x",
                    None,
                ),
                new("Fresh", "https://fresh.example/rss", None),
                new("Fresh copy", "https://fresh.example/rss", None),
                // A taken name with another URL gets a free one.
                new("Julia Evans", "https://other.example/rss", None),
                new("Julia Evans", "https://third.example/rss", None),
            ],
            None,
        )
        .unwrap();
        let outcomes: Vec<&Outcome> = a.reports.iter().map(|r| &r.outcome).collect();
        let dup = |of: &str| Outcome::Duplicate { of: of.into() };
        let added = |name: &str, renamed| Outcome::Added {
            name: name.into(),
            renamed,
        };
        assert_eq!(
            outcomes,
            vec![
                &dup("Julia Evans"),
                &dup("Julia Evans"),
                &added("Fresh", false),
                &dup("Fresh"),
                &added("Julia Evans (2)", true),
                &added("Julia Evans (3)", true),
            ]
        );
        let config = Config::parse(&a.text, base()).unwrap();
        assert_eq!(config.feeds.len(), 5);
        assert_eq!(
            report_line(&a.reports[0], false),
            "skipped \"Julia again\" <https://JVNS.ca:443/atom.xml>: duplicate of \"Julia Evans\""
        );
        assert_eq!(
            report_line(&a.reports[4], false),
            "added \"Julia Evans (2)\" <https://other.example/rss> (renamed: a feed called \"Julia Evans\" exists)"
        );
    }

    #[test]
    fn invalid_feeds_are_reported_with_the_configs_words_and_the_rest_added() {
        let a = append(
            FILE,
            base(),
            &[
                new("Gopher", "gopher://g.example/", None),
                new("Relative", "/feed.xml", None),
                new("   ", "https://noname.example/", None),
                new("Good", "https://good.example/", Some("  ")),
            ],
            None,
        )
        .unwrap();
        let reasons: Vec<String> = a
            .reports
            .iter()
            .map(|r| match &r.outcome {
                Outcome::Invalid { reason } => reason.clone(),
                other => format!("{other:?}"),
            })
            .collect();
        assert!(
            reasons[0].contains("not an http(s) URL (scheme `gopher`)"),
            "{reasons:?}"
        );
        assert!(
            reasons[1].contains("`/feed.xml` is not a URL"),
            "{reasons:?}"
        );
        assert!(
            reasons[2].starts_with("key `name`: missing or empty"),
            "{reasons:?}"
        );
        // A blank section is no section, not an error.
        assert_eq!(reasons[3], "Added { name: \"Good\", renamed: false }");
        assert_eq!((a.added(), a.invalid(), a.duplicates()), (1, 3, 0));
        assert!(a.text.starts_with(FILE));
        assert!(!a.text.contains("section = \"\""));
    }

    #[test]
    fn nothing_to_add_leaves_the_text_alone_and_broken_files_are_refused() {
        let a = append(
            FILE,
            base(),
            &[new("J", "https://jvns.ca/atom.xml", None)],
            Some("x"),
        )
        .unwrap();
        assert_eq!(a.text, FILE);

        let broken = "[fetch]\nper_host = 0\n";
        match append(
            broken,
            base(),
            &[new("A", "https://a.example/", None)],
            None,
        ) {
            Err(AppendError::Invalid(e)) => {
                assert!(e.to_string().contains("per_host"), "{e}")
            }
            other => panic!("{other:?}"),
        }
        let inline = "feeds = [{ name = \"A\", url = \"https://a.example/\" }]\n";
        match append(
            inline,
            base(),
            &[new("B", "https://b.example/", None)],
            None,
        ) {
            Err(AppendError::NotTables(what)) => assert!(what.contains("inline array")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn append_to_file_writes_atomically_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feeds.toml");
        std::fs::write(&path, FILE).unwrap();
        let feeds = [new("A", "https://a.example/", None)];

        let dry = append_to_file(&path, &feeds, None, true).unwrap();
        assert_eq!(dry.added(), 1);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), FILE);

        let done = append_to_file(&path, &feeds, None, false).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), done.text);
        assert!(done.text.starts_with(FILE));

        // Through a symlink: the target is rewritten, the link stays a link.
        let link = dir.path().join("link.toml");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        append_to_file(&link, &[new("B", "https://b.example/", None)], None, false).unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains("https://b.example/")
        );

        // A missing file is created.
        let fresh = dir.path().join("new.toml");
        append_to_file(&fresh, &feeds, None, false).unwrap();
        assert!(Config::load(&fresh).unwrap().feeds.len() == 1);
    }
}
