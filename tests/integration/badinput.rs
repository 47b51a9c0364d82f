//! Bad input from the editor: broken configs and broken command lines. Each gets one clear
//! message (the config file, the line, the key), a non-zero exit, and leaves the database
//! exactly as it was.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::support::{Route, Server, Workspace, rss, stderr};

/// A valid config with two feeds; `{A}` and `{B}` are their URLs.
const GOOD: &str = r#"[storage]
path = "gleaner.db"

[fetch]
timeout = "5s"
host_delay = "0s"
per_host = 4

[schedule]
every = "1h"

[keywords]
kubernetes = 3

[output]
sections = ["News", "Tools"]

[[feeds]]
name = "A"
url = "{A}"

[[feeds]]
name = "B"
url = "{B}"
section = "Tools"
"#;

/// One broken config: `edit` turns GOOD into it; the message must name `line` and `key`,
/// and say `says`.
struct Case {
    name: &'static str,
    edit: fn(&str) -> String,
    line: usize,
    key: &'static str,
    says: &'static str,
}

fn replace(from: &'static str, to: &'static str) -> impl Fn(&str) -> String {
    move |s: &str| {
        assert!(s.contains(from), "{from:?} not in the good config");
        s.replacen(from, to, 1)
    }
}

macro_rules! case {
    ($name:expr, $from:expr => $to:expr, line $line:expr, key $key:expr, $says:expr) => {
        Case {
            name: $name,
            edit: |s| replace($from, $to)(s),
            line: $line,
            key: $key,
            says: $says,
        }
    };
}

fn cases() -> Vec<Case> {
    vec![
        // Bad TOML.
        case!("unterminated string", "timeout = \"5s\"" => "timeout = \"5s", line 5, key "timeout", "string"),
        case!("missing equals", "per_host = 4" => "per_host 4", line 7, key "per_host", "expected"),
        case!("duplicate key", "per_host = 4" => "per_host = 4\nper_host = 5", line 8, key "per_host", "duplicate key"),
        case!("duplicate table", "[schedule]" => "[fetch]", line 9, key "fetch", "duplicate"),
        case!("unclosed table header", "[keywords]" => "[keywords", line 12, key "keywords", "expected"),
        case!("bare word value", "kubernetes = 3" => "kubernetes = high", line 13, key "kubernetes", "string"),
        // Unknown keys and tables.
        case!("unknown top-level key", "[storage]" => "colour = \"red\"\n[storage]", line 1, key "colour", "unknown key"),
        case!("unknown table", "[schedule]" => "[schedul]", line 9, key "schedul", "unknown"),
        case!("unknown key in [fetch]", "per_host = 4" => "per_hots = 4", line 7, key "per_hots", "did you mean `per_host`"),
        case!("unknown key in a feed", "name = \"A\"" => "name = \"A\"\nulr = \"x\"", line 20, key "ulr", "unknown key"),
        // Feeds.
        case!("feed without a url", "url = \"{A}\"\n" => "", line 18, key "url", "missing"),
        case!("feed url not a URL", "url = \"{A}\"" => "url = \"not a url\"", line 20, key "url", "not a URL"),
        case!("feed url with a bad scheme", "url = \"{A}\"" => "url = \"ftp://files.example/feed\"", line 20, key "url", "http"),
        case!("feed url empty", "url = \"{A}\"" => "url = \"\"", line 20, key "url", "URL"),
        case!("duplicate feed URL", "url = \"{B}\"" => "url = \"{A}\"", line 24, key "url", "duplicate feed URL"),
        case!("duplicate feed name", "name = \"B\"" => "name = \"A\"", line 23, key "name", "duplicate"),
        case!("feed name empty", "name = \"B\"" => "name = \"\"", line 23, key "name", "empty"),
        case!("negative feed weight", "section = \"Tools\"" => "section = \"Tools\"\nweight = -2", line 26, key "weight", "-2"),
        Case {
            name: "feeds not an array of tables",
            edit: |s| {
                format!(
                    "feeds = \"all of them\"\n{}",
                    &s[..s.find("[[feeds]]").unwrap()]
                )
            },
            line: 1,
            key: "feeds",
            says: "expected an array",
        },
        // Schedules.
        case!("cron minute out of range", "every = \"1h\"" => "cron = \"61 * * * *\"", line 10, key "cron", "61"),
        case!("cron with three fields", "every = \"1h\"" => "cron = \"* * *\"", line 10, key "cron", "field"),
        case!("cron with an unknown timezone", "every = \"1h\"" => "cron = \"0 9 * * 1 Mars/Olympus\"", line 10, key "cron", "Mars/Olympus"),
        case!("every and cron both set", "every = \"1h\"" => "every = \"1h\"\ncron = \"0 * * * *\"", line 11, key "cron", "every"),
        case!("feed cron garbage", "section = \"Tools\"" => "section = \"Tools\"\ncron = \"whenever\"", line 26, key "cron", "whenever"),
        // Durations.
        case!("duration with a bad unit", "timeout = \"5s\"" => "timeout = \"5 parsecs\"", line 5, key "timeout", "parsecs"),
        case!("duration zero", "timeout = \"5s\"" => "timeout = \"0s\"", line 5, key "timeout", "longer than zero"),
        case!("negative duration", "every = \"1h\"" => "every = \"-1h\"", line 10, key "every", "-1h"),
        case!("duration of the wrong type", "timeout = \"5s\"" => "timeout = true", line 5, key "timeout", "duration"),
        case!("jitter over 100%", "every = \"1h\"" => "every = \"1h\"\njitter = \"150%\"", line 11, key "jitter", "150%"),
        // Limits.
        case!("negative per_host", "per_host = 4" => "per_host = -1", line 7, key "per_host", "-1"),
        case!("zero per_host", "per_host = 4" => "per_host = 0", line 7, key "per_host", "0"),
        case!("negative concurrency", "per_host = 4" => "per_host = 4\nconcurrency = -16", line 8, key "concurrency", "-16"),
        case!("limit as a string", "per_host = 4" => "per_host = \"four\"", line 7, key "per_host", "four"),
        case!("max_bytes nonsense", "per_host = 4" => "per_host = 4\nmax_bytes = \"lots\"", line 8, key "max_bytes", "lots"),
        case!("negative per_section", "sections = [\"News\", \"Tools\"]" => "sections = [\"News\", \"Tools\"]\nper_section = -5", line 17, key "per_section", "-5"),
        // Keywords and output.
        case!("empty keyword", "kubernetes = 3" => "\"\" = 3", line 13, key "\"\"", "no letters or digits"),
        case!("blank keyword", "kubernetes = 3" => "\"   \" = 3", line 13, key "\"   \"", "no letters or digits"),
        case!("keyword weight not a number", "kubernetes = 3" => "kubernetes = \"very\"", line 13, key "kubernetes", "number"),
        case!("no sections", "sections = [\"News\", \"Tools\"]" => "sections = []", line 16, key "sections", "empty"),
        case!("empty storage path", "path = \"gleaner.db\"" => "path = \"\"", line 2, key "path", "empty"),
    ]
}

/// The database's files, hashed: nothing a failed command does may change them.
fn db_fingerprint(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let name = format!("gleaner.db{suffix}");
        if let Ok(bytes) = std::fs::read(dir.join(&name)) {
            out.push((name, format!("{:x}", Sha256::digest(&bytes))));
        }
    }
    out
}

fn with_urls(template: &str, (a, b): &(String, String)) -> String {
    template.replace("{A}", a).replace("{B}", b)
}

/// Every row of every table, as text: what the database holds, whatever its pages look like.
async fn db_contents(ws: &Workspace) -> Vec<String> {
    let store = ws.store().await;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let mut out = Vec::new();
    for t in tables {
        let cols: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT name FROM pragma_table_info('{t}')"
        )))
        .fetch_all(store.pool())
        .await
        .unwrap();
        let row = cols
            .iter()
            .map(|c| format!("quote(\"{c}\")"))
            .collect::<Vec<_>>()
            .join(" || ',' || ");
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT '{t}:' || {row} FROM \"{t}\" ORDER BY 1"
        )))
        .fetch_all(store.pool())
        .await
        .unwrap();
        out.extend(rows);
    }
    store.close().await;
    out
}

fn prepared_workspace() -> (Server, Workspace, (String, String)) {
    let server = Server::start();
    let ws = Workspace::new();
    let a = server.route(
        "/a",
        Route::feed(rss(
            "A",
            &[("a1", "Kubernetes at scale", "https://a.example/1", "x")],
        )),
    );
    let b = server.route(
        "/b",
        Route::feed(rss("B", &[("b1", "A tool", "https://b.example/1", "y")])),
    );
    let urls = (a, b);
    ws.write_config_text(&with_urls(GOOD, &urls));
    let out = ws.gleaner(&["poll"]);
    assert!(out.status.success(), "{}", stderr(&out));
    (server, ws, urls)
}

#[test]
fn at_least_thirty_broken_configs_each_get_one_clear_message_and_change_nothing() {
    let (_server, ws, urls) = prepared_workspace();
    let mut before = db_fingerprint(ws.dir.path());
    assert!(!before.is_empty(), "the good poll wrote no database");
    let cases = cases();
    assert!(cases.len() >= 30, "only {} cases", cases.len());
    let mut wrong = Vec::new();
    for case in &cases {
        let text = (case.edit)(GOOD);
        assert_ne!(text, GOOD, "{}: the edit changed nothing", case.name);
        ws.write_config_text(&with_urls(&text, &urls));
        for cmd in ["poll", "check"] {
            let out = ws.gleaner(&[cmd]);
            let err = stderr(&out);
            let mut bad = Vec::new();
            if out.status.code() != Some(2) {
                bad.push(format!("exit {:?}", out.status.code()));
            }
            if !err.contains("feeds.toml") {
                bad.push("no file name".to_string());
            }
            if !err.contains("1 problem in the config") {
                bad.push("not exactly one problem".to_string());
            }
            if !err.contains(&format!("line {}, ", case.line)) {
                bad.push(format!("no `line {}`", case.line));
            }
            if !err.contains(&format!("`{}`", case.key))
                && !err.contains(&format!("[{}]", case.key))
            {
                bad.push(format!("no key `{}`", case.key));
            }
            if !err.contains(case.says) {
                bad.push(format!("does not say {:?}", case.says));
            }
            if !out.stdout.is_empty() {
                bad.push("wrote to stdout".to_string());
            }
            if !bad.is_empty() {
                wrong.push(format!("{} ({cmd}): {}\n{err}", case.name, bad.join(", ")));
            }
        }
        if db_fingerprint(ws.dir.path()) != before {
            wrong.push(format!("{}: the database changed", case.name));
            ws.write_config_text(&with_urls(GOOD, &urls));
            before = db_fingerprint(ws.dir.path());
        }
    }
    eprintln!("bad input: {} broken configs checked", cases.len());
    assert!(
        wrong.is_empty(),
        "{} of {} cases:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
    // The good config still works afterwards, on the same database.
    ws.write_config_text(&with_urls(GOOD, &urls));
    let out = ws.gleaner(&["poll"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[tokio::test]
async fn broken_command_lines_get_a_clear_message_a_non_zero_exit_and_change_nothing() {
    let (_server, ws, _urls) = prepared_workspace();
    // One editor decision, so there is something to lose.
    let out = ws.gleaner(&["pick", "1", "--blurb", "Worth reading."]);
    assert!(out.status.success(), "{}", stderr(&out));
    let before = db_contents(&ws).await;
    assert!(
        before.iter().any(|r| r.contains("Worth reading.")),
        "{before:#?}"
    );
    let cases: &[(&[&str], &str)] = &[
        (&["frobnicate"], "unrecognized subcommand 'frobnicate'"),
        (&["pick"], "required arguments were not provided"),
        (&["pick", "abc"], "`abc` is neither a story id"),
        (&["pick", "999999"], "no story with id 999999"),
        (
            &["reject", "999999", "--reason", "x"],
            "no story with id 999999",
        ),
        (&["unpick", "999999"], "no story with id 999999"),
        (&["explain", "999999"], "no story with id 999999"),
        (
            &["pick", "1", "--section"],
            "a value is required for '--section",
        ),
        (
            &["entries", "--limit", "many"],
            "invalid value 'many' for '--limit",
        ),
        (
            &["entries", "--since", "yesterday"],
            "`yesterday` is not a date",
        ),
        (&["entries", "--feed", "Nope"], "no feed named \"Nope\""),
        (
            &["candidates", "--as-of", "tomorrow"],
            "`tomorrow` is not a date",
        ),
        (
            &["candidates", "--section", "Nope"],
            "no section named \"Nope\"",
        ),
        (
            &["digest", "--week", "2014-W99"],
            "`2014-W99` is not an ISO week",
        ),
        (
            &["digest", "--format", "pdf"],
            "invalid value 'pdf' for '--format",
        ),
        (&["publish", "0"], "issue numbers start at 1"),
        (&["apply", "missing.md"], "cannot read missing.md"),
        (
            &["poll", "--feed", "Nope"],
            "no feed named \"Nope\" in the config",
        ),
        (
            &["--config", "missing.toml", "poll"],
            "cannot read missing.toml",
        ),
        (&["pick", "not a url://"], "cannot pick not a url://"),
        (&["pick", "ftp://x.example/"], "only http and https links"),
        (&["status", "--bogus"], "unexpected argument '--bogus'"),
    ];
    let mut wrong = Vec::new();
    for (args, says) in cases {
        let out = ws.gleaner(args);
        let err = stderr(&out);
        if out.status.success() || !err.contains(says) {
            wrong.push(format!(
                "{args:?}: exit {:?}, wanted {says:?} in\n{err}",
                out.status.code()
            ));
        }
        if db_contents(&ws).await != before {
            wrong.push(format!("{args:?}: the database changed"));
        }
    }
    eprintln!("bad input: {} broken command lines checked", cases.len());
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
