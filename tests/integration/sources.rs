//! Ways of naming sources: the GitHub shorthands in feeds.toml, served here by a local
//! stand-in for GitHub (`[github] base`), as GitHub Enterprise Server would be.

use gleaner::model::FeedResult;

use crate::support::{Route, Server, Workspace, result_of};

/// A releases feed in GitHub's own shape: `(tag, title, html, updated)` entries.
fn releases(repo: &str, entries: &[(&str, &str, &str, &str)]) -> String {
    let mut s = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/" xml:lang="en-US">
  <id>tag:github.com,2008:https://github.com/{repo}/releases</id>
  <link type="text/html" rel="alternate" href="https://github.com/{repo}/releases"/>
  <link type="application/atom+xml" rel="self" href="https://github.com/{repo}/releases.atom"/>
  <title>Release notes from {repo}</title>
  <updated>2026-11-30T10:00:00Z</updated>
"#
    );
    for (tag, title, html, updated) in entries {
        s.push_str(&format!(
            r#"  <entry>
    <id>tag:github.com,2008:Repository/54878036/{tag}</id>
    <updated>{updated}</updated>
    <link rel="alternate" type="text/html" href="https://github.com/{repo}/releases/tag/{tag}"/>
    <title>{title}</title>
    <content type="html">{html}</content>
    <author><name>maintainer</name></author>
    <media:thumbnail height="30" width="30" url="https://avatars.githubusercontent.com/u/1?s=60&amp;v=4"/>
  </entry>
"#
        ));
    }
    s.push_str("</feed>\n");
    s
}

#[tokio::test]
async fn github_shorthands_follow_releases_and_an_edited_release_is_an_update() {
    let server = Server::start();
    let ws = Workspace::new();
    let v1 = (
        "tokio-1.47.0",
        "Tokio v1.47.0",
        "&lt;p&gt;Fixes a hang.&lt;/p&gt;",
        "2026-11-20T10:00:00Z",
    );
    let v2 = (
        "tokio-1.48.0",
        "Tokio v1.48.0",
        "&lt;p&gt;Adds io_uring.&lt;/p&gt;",
        "2026-11-30T10:00:00Z",
    );
    server.route(
        "/tokio-rs/tokio/releases.atom",
        Route::typed(
            releases("tokio-rs/tokio", &[v2, v1]),
            "application/atom+xml",
        ),
    );
    server.route(
        "/octocat.atom",
        Route::typed(
            releases(
                "octocat/Hello-World",
                &[("v1", "octocat released v1", "x", "2026-11-29T10:00:00Z")],
            ),
            "application/atom+xml",
        ),
    );
    ws.write_config_text(&format!(
        "[storage]\npath = \"gleaner.db\"\n[fetch]\nhost_delay = \"0s\"\n[github]\nbase = \"{}\"\n[[feeds]]\ngithub = \"tokio-rs/tokio\"\n[[feeds]]\ngithub_user = \"octocat\"\n",
        server.url("/")
    ));
    let check = ws.gleaner(&["check"]);
    let text = crate::support::stdout(&check);
    assert!(text.contains("tokio-rs/tokio releases"), "{text}");
    assert!(text.contains("/tokio-rs/tokio/releases.atom"), "{text}");

    let round = ws.poll().await;
    match result_of(&round, "tokio-rs/tokio releases") {
        FeedResult::Stored { counts, .. } => assert_eq!(counts.new, 2),
        other => panic!("{other:?}"),
    }
    match result_of(&round, "octocat on GitHub") {
        FeedResult::Stored { counts, .. } => assert_eq!(counts.new, 1),
        other => panic!("{other:?}"),
    }

    // The maintainers edit the newest release's title and notes: the same entry id, a later
    // `updated`. It is the same story, updated, not a new one.
    let edited = (
        "tokio-1.48.0",
        "Tokio v1.48.0 (io_uring is opt-in)",
        "&lt;p&gt;Adds io_uring, behind a feature flag.&lt;/p&gt;",
        "2026-12-01T08:00:00Z",
    );
    server.route(
        "/tokio-rs/tokio/releases.atom",
        Route::typed(
            releases("tokio-rs/tokio", &[edited, v1]),
            "application/atom+xml",
        ),
    );
    let round = ws.poll().await;
    match result_of(&round, "tokio-rs/tokio releases") {
        FeedResult::Stored { counts, .. } => {
            assert_eq!((counts.new, counts.updated), (0, 1), "{counts:?}")
        }
        other => panic!("{other:?}"),
    }
    let stories = ws.stories().await;
    assert_eq!(stories.len(), 3);
    let titles: Vec<&str> = stories.iter().map(|s| s.title.as_str()).collect();
    assert!(
        titles.contains(&"Tokio v1.48.0 (io_uring is opt-in)"),
        "{titles:?}"
    );
    assert!(!titles.contains(&"Tokio v1.48.0"), "{titles:?}");
}

fn page(head: &str) -> Route {
    Route::typed(
        format!(
            "<!DOCTYPE html><html><head><title>A blog</title>{head}</head><body><p>Hello</p></body></html>"
        ),
        "text/html; charset=utf-8",
    )
}

#[tokio::test]
async fn discovery_finds_declared_feeds_then_common_paths_and_offers_only_real_feeds() {
    use gleaner::discover::discover;
    use gleaner::model::How;
    let server = Server::start();
    let feed = crate::support::rss("The Blog", &[("1", "Post", "https://blog.example/1", "x")]);
    // A page that declares an RSS feed that works and an Atom feed that is gone.
    server.route(
        "/declares",
        page(r#"<link rel="alternate" type="application/rss+xml" title="Posts" href="/declared.xml"><link rel="alternate" type="application/atom+xml" href="missing.atom">"#),
    );
    server.route("/declared.xml", Route::feed(feed.clone()));
    // A page that declares nothing, on a site whose feed lives at a common path.
    server.route("/site/quiet", page(""));
    server.route("/rss.xml", Route::feed(feed.clone()));
    // A feed given directly.
    server.route("/direct.xml", Route::feed(feed.clone()));
    let config = gleaner::config::Config::parse("", std::path::Path::new(".")).unwrap();
    let fetcher = gleaner::ingest::Fetcher::new(&config.fetch).unwrap();
    let url = |p: &str| url::Url::parse(&server.url(p)).unwrap();

    let d = discover(&fetcher, &url("/declares")).await.unwrap();
    assert_eq!(d.found.len(), 1, "{d:?}");
    assert_eq!(d.found[0].url, url("/declared.xml"));
    assert_eq!(d.found[0].how, How::Declared);
    assert_eq!(d.found[0].title.as_deref(), Some("The Blog"));
    assert_eq!(
        (d.found[0].format.as_str(), d.found[0].entries),
        ("rss2", 1)
    );
    assert_eq!(d.rejected.len(), 1, "{d:?}");
    assert_eq!(d.rejected[0].0, url("/missing.atom"));
    assert!(d.rejected[0].1.contains("404"), "{d:?}");
    // Declared feeds were found: no common path was tried.
    assert!(server.seen("/feed").is_empty());

    let d = discover(&fetcher, &url("/site/quiet")).await.unwrap();
    assert_eq!(d.found.len(), 1, "{d:?}");
    assert_eq!(
        (d.found[0].url.clone(), d.found[0].how),
        (url("/rss.xml"), How::CommonPath)
    );
    // /feed came first and is not a feed; nothing after /rss.xml was tried.
    assert_eq!(d.rejected.len(), 1, "{d:?}");
    assert_eq!(d.rejected[0].0, url("/feed"));
    assert!(server.seen("/atom.xml").is_empty());

    let d = discover(&fetcher, &url("/direct.xml")).await.unwrap();
    assert_eq!((d.found.len(), d.found[0].how), (1, How::Given));
    assert_eq!(server.seen("/direct.xml").len(), 1);

    // Nothing anywhere: every common path tried, each rejected with its reason.
    let empty = Server::start();
    empty.route("/", page(""));
    let d = discover(&fetcher, &url::Url::parse(&empty.url("/")).unwrap())
        .await
        .unwrap();
    assert!(d.found.is_empty());
    assert_eq!(d.rejected.len(), gleaner::discover::COMMON_PATHS.len());

    let e = discover(&fetcher, &url("/no-such-page")).await.unwrap_err();
    assert!(e.to_string().contains("404"), "{e}");
}

#[test]
fn add_finds_a_sites_feed_and_appends_it_to_feeds_toml_keeping_the_file() {
    use crate::support::{stderr, stdout};
    let server = Server::start();
    let ws = Workspace::new();
    let rss = crate::support::rss("Ops Notes", &[("1", "Post", "https://ops.example/1", "x")]);
    let atom = r#"<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Ops Notes (Atom)</title><id>urn:x</id><updated>2026-11-30T00:00:00Z</updated><entry><title>Post</title><id>urn:1</id><link href="https://ops.example/1"/><updated>2026-11-30T00:00:00Z</updated></entry></feed>"#;
    server.route(
        "/blog/",
        page(r#"<link rel="alternate" type="application/rss+xml" href="/blog/rss.xml"><link rel="alternate" type="application/atom+xml" href="/blog/atom.xml">"#),
    );
    server.route("/blog/rss.xml", Route::feed(rss));
    server.route("/blog/atom.xml", Route::typed(atom, "application/atom+xml"));
    server.route("/empty/", page(""));
    let original = "# The editor's sources.\n[storage]\npath = \"gleaner.db\"  # beside this file\n\n[[feeds]]\nname = \"Existing\"\nurl = \"https://existing.example/feed\"\n";
    ws.write_config_text(original);
    let read = || std::fs::read_to_string(ws.config_path()).unwrap();
    let blog = server.url("/blog/");

    let out = ws.gleaner(&["add", &blog, "--dry-run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("found 2 feeds"), "{text}");
    assert!(text.contains("1. Ops Notes <"), "{text}");
    assert!(text.contains("2. Ops Notes (Atom) <"), "{text}");
    assert!(text.contains("would add \"Ops Notes\""), "{text}");
    assert!(!text.contains("added"), "{text}");
    assert_eq!(read(), original, "a dry run wrote");

    let out = ws.gleaner(&["add", &blog, "--section", "Tools"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let after = read();
    assert!(
        after.starts_with(original),
        "the file was not kept:\n{after}"
    );
    let tail = &after[original.len()..];
    assert!(tail.contains("name = \"Ops Notes\""), "{tail}");
    assert!(
        tail.contains(&format!("url = \"{}\"", server.url("/blog/rss.xml"))),
        "{tail}"
    );
    assert!(tail.contains("section = \"Tools\""), "{tail}");
    let check = ws.gleaner(&["check"]);
    assert!(check.status.success(), "{}", stderr(&check));

    // Again: already there, nothing written.
    let out = ws.gleaner(&["add", &blog]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("already there"), "{}", stdout(&out));
    assert_eq!(read(), after);

    // The second one, by number; a number out of range is an error.
    let out = ws.gleaner(&["add", &blog, "--choose", "5"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("there are 2 feeds"),
        "{}",
        stderr(&out)
    );
    let out = ws.gleaner(&["add", &blog, "--choose", "2", "--name", "Ops (Atom)"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(read().contains("name = \"Ops (Atom)\""));

    // A site without a feed: a clear error, the file unchanged.
    let before = read();
    let out = ws.gleaner(&["add", &server.url("/empty/")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no feed found for"),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("tried and not feeds:"),
        "{}",
        stdout(&out)
    );
    assert_eq!(read(), before);

    // And the added feeds are polled like any other.
    let out = ws.gleaner(&["poll"]);
    assert!(
        stdout(&out).contains("Ops Notes: new 1"),
        "{}",
        stdout(&out)
    );
}
