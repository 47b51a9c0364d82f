//! The real binary: `check`, `poll`, `entries`, exit codes and messages.

use crate::support::{Route, Server, Workspace, rss, stderr, stdout};

#[test]
fn check_prints_what_it_understood() {
    let ws = Workspace::new();
    ws.write_config(
        "timeout = \"5s\"\nper_host = 1",
        &[(
            "High Scalability",
            "http://highscalability.com/blog/rss.xml",
        )],
    );
    let out = ws.gleaner(&["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("(valid)"), "{text}");
    assert!(text.contains("timeout 5s"), "{text}");
    assert!(text.contains("1 per host"), "{text}");
    assert!(text.contains("High Scalability"), "{text}");
    assert!(
        text.contains("http://highscalability.com/blog/rss.xml"),
        "{text}"
    );
}

#[test]
fn the_shipped_feeds_toml_is_valid() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = crate::support::run_in(dir, &["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("feeds:"));
}

#[test]
fn config_problems_are_reported_all_at_once_with_exit_code_2() {
    let ws = Workspace::new();
    std::fs::write(
        ws.config_path(),
        "[fetch]\ntimeout = \"soon\"\n[[feeds]]\nname = \"A\"\nurl = \"https://a.example/\"\ncolour = \"red\"\n[[feeds]]\nname = \"B\"\nurl = \"https://a.example/\"\n[[feeds]]\nname = \"C\"\nurl = \"not a url\"\n",
    )
    .unwrap();
    for cmd in ["check", "poll"] {
        let out = ws.gleaner(&[cmd]);
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        let err = stderr(&out);
        assert!(err.contains("4 problems"), "{err}");
        assert!(err.contains("[fetch]: key `timeout`"), "{err}");
        assert!(
            err.contains("feed \"A\": key `colour`: unknown key"),
            "{err}"
        );
        assert!(
            err.contains("feed \"B\": key `url`: duplicate feed URL"),
            "{err}"
        );
        assert!(
            err.contains("feed \"C\": key `url`: `not a url` is not a URL"),
            "{err}"
        );
    }
    assert!(!ws.db_path().exists(), "no database for an invalid config");

    std::fs::write(ws.config_path(), "[[feeds]\nname = \"x\"\n").unwrap();
    let out = ws.gleaner(&["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("line 1, column"), "{}", stderr(&out));

    let out = ws.gleaner(&["--config", "missing.toml", "poll"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot read missing.toml"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_unusable_database_is_exit_code_3() {
    let ws = Workspace::new();
    ws.write_config("", &[("A", "https://a.example/")]);
    std::fs::create_dir(ws.path("dir.db")).unwrap();
    let out = ws.gleaner(&["--db", "dir.db", "entries"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot open database dir.db"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn poll_then_entries_end_to_end() {
    let server = Server::start();
    let ws = Workspace::new();
    let good = server.route(
        "/good",
        Route::feed(rss(
            "Good",
            &[
                (
                    "1",
                    "Scaling Postgres",
                    "https://good.example/pg?utm_source=rss",
                    "<p>How we scaled <b>Postgres</b>.</p>",
                ),
                ("2", "Old news", "https://good.example/old", "<p>old</p>"),
            ],
        )),
    );
    let bad = server.route("/bad", Route::status(500, "x"));
    ws.write_config("", &[("Good Blog", &good), ("Flaky Blog", &bad)]);

    let out = ws.gleaner(&["poll"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("Good Blog: new 2\n"), "{text}");
    assert!(
        text.contains("Flaky Blog: error: HTTP 500 Internal Server Error\n"),
        "{text}"
    );
    assert!(text.contains("polled 2 feeds in"), "{text}");
    assert!(
        text.contains("2 new stories, 0 updated, 0 feeds unchanged, 1 failed"),
        "{text}"
    );
    assert!(ws.db_path().exists(), "database created next to feeds.toml");

    let out = ws.gleaner(&["entries", "--json", "--since", "2014-04-07"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 2);
    let pg = arr
        .iter()
        .find(|s| s["title"] == "Scaling Postgres")
        .unwrap();
    assert_eq!(pg["url"], "https://good.example/pg?utm_source=rss");
    assert_eq!(pg["canonical_url"], "https://good.example/pg");
    assert_eq!(pg["sources"], serde_json::json!(["Good Blog"]));
    assert_eq!(pg["published"], "2014-04-07T09:00:00Z");
    assert_eq!(pg["excerpt"], "How we scaled Postgres.");
    assert_eq!(pg["content_html"], "<p>How we scaled <b>Postgres</b>.</p>");
    assert!(pg.get("updated").is_some() && pg.get("id").is_some());

    let out = ws.gleaner(&["entries", "--json", "--since", "2014-04-08"]);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap(),
        serde_json::json!([])
    );
    let out = ws.gleaner(&["entries", "--since", "last week"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a date"), "{}", stderr(&out));

    let out = ws.gleaner(&["entries", "--feed", "Good Blog", "--limit", "1"]);
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains("[Good Blog]"), "{text}");

    // Second poll: nothing new; the failing feed still reported, exit still 0.
    let out = ws.gleaner(&["poll"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("Good Blog: unchanged"), "{text}");
    assert!(text.contains("no new stories: outputs unchanged"), "{text}");

    // --db overrides the config and creates a fresh database.
    let out = ws.gleaner(&["--db", "other/else.db", "entries", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap(),
        serde_json::json!([])
    );
    assert!(ws.path("other/else.db").exists());
}

#[test]
fn poll_one_feed_by_name_and_unknown_names() {
    let server = Server::start();
    let ws = Workspace::new();
    let a = server.route(
        "/a",
        Route::feed(rss("A", &[("1", "A one", "https://a.example/1", "x")])),
    );
    let b = server.route(
        "/b",
        Route::feed(rss("B", &[("1", "B one", "https://b.example/1", "x")])),
    );
    ws.write_config("", &[("A", &a), ("B", &b)]);
    let out = ws.gleaner(&["poll", "--feed", "B"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("B: new 1"));
    assert!(!stdout(&out).contains("A: "));
    assert_eq!(server.seen("/a").len(), 0);
    let out = ws.gleaner(&["poll", "--feed", "Nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no feed named \"Nope\""));
}

#[test]
fn help_explains_itself() {
    let ws = Workspace::new();
    let out = ws.gleaner(&["--help"]);
    let text = stdout(&out);
    for cmd in ["poll", "entries", "check", "--config", "--db"] {
        assert!(text.contains(cmd), "{text}");
    }
    let out = ws.gleaner(&["poll", "--help"]);
    assert!(stdout(&out).contains("Exits 0 when"));
}

#[test]
fn status_lists_configured_feeds_before_any_poll_without_writing_them() {
    let ws = Workspace::new();
    ws.write_config("", &[("Never polled", "https://n.example/feed")]);
    let out = ws.gleaner(&["status", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["name"], "Never polled");
    assert_eq!(v[0]["state"], "new");
    assert_eq!(v[0]["schedule"], "every 1h");
    let text = stdout(&ws.gleaner(&["status"]));
    assert!(text.contains("Never polled  new"), "{text}");
}

#[test]
fn inspect_shows_what_a_poll_would_store_and_stores_nothing() {
    let ws = Workspace::new();
    let feed = rss(
        "Blog",
        &[
            (
                "g1",
                "First &amp; best",
                "/posts/1",
                "<p>Hello <b>there</b></p>",
            ),
            (
                "g1",
                "First &amp; best, corrected",
                "/posts/1",
                "<p>Hello</p>",
            ),
        ],
    );
    std::fs::write(ws.path("feed.xml"), &feed).unwrap();
    std::fs::write(
        ws.path("page.html"),
        "<!DOCTYPE html><html><body>no</body></html>",
    )
    .unwrap();

    let out = ws.gleaner(&[
        "inspect",
        "--base",
        "https://blog.example/feed.xml",
        "feed.xml",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("feed: Blog"), "{text}");
    assert!(
        text.contains("1 entry (1 repeated or empty entry dropped)"),
        "{text}"
    );
    assert!(text.contains("[1] First & best, corrected"), "{text}");
    assert!(
        text.contains("url:       https://blog.example/posts/1"),
        "{text}"
    );
    // Nothing was opened or written: no config, no database.
    assert!(!ws.db_path().exists());

    // JSON, one object per document; a page that is not a feed is an error, exit 1.
    let out = ws.gleaner(&["inspect", "--json", "feed.xml", "page.html"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("1 of 2 documents could not be read as a feed"));
    let docs: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0]["duplicates"], 1);
    let e = &docs[0]["entries"][0];
    assert_eq!(e["key"], "id:g1");
    assert_eq!(e["title"], "First & best, corrected");
    assert_eq!(e["content_html"], "<p>Hello</p>");
    assert_eq!(e["published"], "2014-04-07T09:00:00Z");
    assert!(docs[1]["entries"].as_array().unwrap().is_empty());
    assert!(
        docs[1]["error"]
            .as_str()
            .unwrap()
            .starts_with("not a feed: the server sent an HTML page"),
        "{}",
        docs[1]
    );
    // Standard input, and a file that does not exist.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gleaner"))
        .args(["inspect", "--json", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(feed.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(stdout(&out).contains("\"key\":\"id:g1\""));
    let out = ws.gleaner(&["inspect", "missing.xml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot read missing.xml"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn gleaner_now_replays_a_past_week_decisions_included() {
    let server = Server::start();
    let ws = Workspace::new();
    let feed = rss(
        "Blog",
        &[
            (
                "g1",
                "Kubernetes at scale",
                "https://blog.example/1",
                "<p>kubernetes</p>",
            ),
            (
                "g2",
                "Terraform tips",
                "https://blog.example/2",
                "<p>terraform</p>",
            ),
        ],
    );
    let url = server.route("/feed", Route::feed(feed));
    ws.write_config("", &[("Blog", &url)]);
    // The stories are dated 2014-04-07: a week replayed "on its last evening".
    let at = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_gleaner"))
            .args(args)
            .current_dir(ws.dir.path())
            .env("RUST_LOG", "off")
            .env("GLEANER_NOW", "2014-04-08T18:00:00Z")
            .output()
            .unwrap()
    };
    assert!(at(&["poll"]).status.success());
    let list = |o: std::process::Output| -> Vec<serde_json::Value> {
        serde_json::from_slice::<serde_json::Value>(&o.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    };
    let before = list(at(&["candidates", "--json"]));
    assert_eq!(before.len(), 2, "{before:?}");
    let id = before[0]["id"].as_i64().unwrap().to_string();
    assert!(at(&["pick", &id]).status.success());
    // The pick was made "then", so the same replayed evening no longer lists it.
    let after = list(at(&["candidates", "--json"]));
    assert_eq!(after.len(), 1, "{after:?}");
    assert_ne!(after[0]["id"].as_i64().unwrap().to_string(), id);
    // Not a time: a clear error, exit 2.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gleaner"))
        .args(["candidates"])
        .current_dir(ws.dir.path())
        .env("GLEANER_NOW", "last tuesday")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("GLEANER_NOW=\"last tuesday\" is not an RFC 3339 time"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_round_in_which_every_feed_failed_exits_4_and_one_that_got_anything_exits_0() {
    let server = Server::start();
    let missing = server.route("/missing", Route::status(404, "no"));
    // A port nobody listens on: connection refused.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://127.0.0.1:{}/feed", l.local_addr().unwrap().port())
    };
    let ws = Workspace::new();
    ws.write_config("", &[("Missing", &missing), ("Closed", &closed)]);
    let out = ws.gleaner(&["poll"]);
    assert_eq!(out.status.code(), Some(4), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("every feed failed this round (2 of 2"),
        "{}",
        stderr(&out)
    );
    // Each failure was still reported and recorded on its feed.
    assert!(
        stdout(&out).contains("Missing: error: HTTP 404"),
        "{}",
        stdout(&out)
    );
    let status = stdout(&ws.gleaner(&["status"]));
    assert!(
        status.contains("Missing") && status.contains("Closed"),
        "{status}"
    );

    // One feed that works among them: the round is a success.
    let ok = server.route(
        "/ok",
        Route::feed(rss("Ok", &[("a", "A story", "https://ok.example/a", "x")])),
    );
    ws.write_config(
        "",
        &[("Missing", &missing), ("Closed", &closed), ("Ok", &ok)],
    );
    let out = ws.gleaner(&["poll"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
