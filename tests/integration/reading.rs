//! Reading real feeds right (issue 14): one regression test per kind of misreading, each on a
//! small document of our own (`fixtures/reading/`), served from 127.0.0.1, polled by the real
//! binary and read back with `gleaner entries --json` (the contract fields).

use serde_json::Value;

use crate::support::{Route, Server, Workspace, stderr, stdout};

/// Serves `(name, fixture)` feeds, polls them once with `gleaner poll`, and returns the poll's
/// output with the stored stories (`entries --json`).
fn poll_fixtures(feeds: &[(&str, &str)]) -> (Workspace, Server, String, Vec<Value>) {
    let server = Server::start();
    let ws = Workspace::new();
    let urls: Vec<(String, String)> = feeds
        .iter()
        .map(|(name, file)| {
            let body = fixture(file);
            let kind = if file.ends_with(".rdf") {
                "application/rdf+xml"
            } else {
                "application/rss+xml"
            };
            let url = server.route(&format!("/{file}"), Route::typed(body, kind));
            (name.to_string(), url)
        })
        .collect();
    let cfg: Vec<(&str, &str)> = urls.iter().map(|(n, u)| (n.as_str(), u.as_str())).collect();
    ws.write_config("", &cfg);
    let out = ws.gleaner(&["poll"]);
    assert!(out.status.success(), "poll: {}", stderr(&out));
    let report = stdout(&out);
    let entries = entries(&ws);
    (ws, server, report, entries)
}

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/integration/fixtures/reading")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn entries(ws: &Workspace) -> Vec<Value> {
    let out = ws.gleaner(&["entries", "--json"]);
    assert!(out.status.success(), "entries: {}", stderr(&out));
    serde_json::from_str::<Value>(&stdout(&out))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// The story whose link is `url`.
fn story<'a>(entries: &'a [Value], url: &str) -> &'a Value {
    entries
        .iter()
        .find(|e| e["url"] == url)
        .unwrap_or_else(|| panic!("no story at {url} in {entries:#?}"))
}

fn text<'a>(e: &'a Value, field: &str) -> &'a str {
    e[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {e:#}"))
}

#[test]
fn dates_as_real_feeds_write_them_are_read_and_non_dates_are_none() {
    let (_ws, _server, _, entries) = poll_fixtures(&[("dates", "dates.xml")]);
    let published =
        |n: u32| story(&entries, &format!("https://dates.example/{n}"))["published"].clone();
    assert_eq!(published(1), "2004-07-09T00:16:58Z"); // `-00:20` is west of UTC
    assert_eq!(published(2), "2004-01-26T21:31:00Z"); // ET = UTC−5 (feedparser's table)
    assert_eq!(published(3), "2023-04-01T03:19:00Z"); // Los Angeles in daylight time
    assert_eq!(published(4), "2018-03-13T09:22:49Z");
    assert_eq!(published(5), "2020-11-16T13:16:28Z");
    assert_eq!(published(6), "2010-01-01T19:48:21Z"); // the date wins over a wrong weekday
    assert_eq!(published(7), "2036-01-01T00:00:00Z"); // the future stays as given
    assert!(published(8).is_null(), "{}", published(8));
}

#[test]
fn extension_elements_give_titles_texts_dates_and_authors() {
    let (_ws, _server, _, entries) = poll_fixtures(&[("ext", "extensions.xml")]);
    let dc = story(&entries, "https://ext.example/dc");
    assert_eq!(text(dc, "title"), "Only a Dublin Core title");
    assert_eq!(text(dc, "excerpt"), "Only a Dublin Core description");
    assert_eq!(
        text(dc, "content_html"),
        "Only a <b>Dublin Core</b> description"
    );
    assert_eq!(dc["published"], "2024-03-01T10:00:00Z");
    assert_eq!(dc["author"], "Ada Lovelace");

    let terms = story(&entries, "https://ext.example/dcterms");
    assert_eq!(terms["published"], "2024-03-02T09:00:00Z");
    assert_eq!(terms["updated"], "2024-03-05T08:00:00Z");
    let created = story(&entries, "https://ext.example/created");
    assert_eq!(created["published"], "2024-03-03T00:00:00Z");

    let itunes = story(&entries, "https://ext.example/itunes");
    assert_eq!(text(itunes, "excerpt"), "Only an iTunes summary");
    assert_eq!(itunes["author"], "Grace Hopper");

    let media = story(&entries, "https://ext.example/media");
    assert_eq!(text(media, "title"), "Only a Media RSS title");
    assert_eq!(
        text(media, "content_html"),
        "Only a <i>Media RSS</i> description"
    );

    let body = story(&entries, "https://ext.example/body");
    assert_eq!(text(body, "content_html"), "<p>Body in <em>XHTML</em></p>");
    let full = story(&entries, "https://ext.example/fullitem");
    assert_eq!(text(full, "content_html"), "<p>Full item text</p>");
}

/// The issue's own example: the editor's Pinboard bookmarks showed `<b>` tags as text.
#[test]
fn a_pinboard_bookmarks_feed_reads_descriptions_as_html_and_keeps_items_without_a_link() {
    let (_ws, _server, _, entries) = poll_fixtures(&[("bookmarks", "pinboard.rdf")]);
    assert_eq!(entries.len(), 2, "{entries:#?}");
    let one = story(&entries, "https://x.example/one");
    assert_eq!(
        text(one, "content_html"),
        "Hello <b>bold</b> and <a href=\"http://x.example/\" rel=\"noopener noreferrer\">link</a>"
    );
    assert_eq!(text(one, "excerpt"), "Hello bold and link");
    assert_eq!(one["author"], "editor");
    assert_eq!(one["published"], "2026-11-30T08:15:00Z");
    // No <link>: its rdf:about is its link (and its identity).
    let two = story(&entries, "https://x.example/two");
    assert_eq!(text(two, "title"), "A bookmark without a link element");
    assert_eq!(two["published"], "2026-11-30T09:00:00Z");
}

#[test]
fn rss_2_inside_a_default_namespace_is_read() {
    let (_ws, _server, _, entries) = poll_fixtures(&[("ns", "rss2-namespace.xml")]);
    let e = story(&entries, "https://ns.example/1");
    assert_eq!(text(e, "title"), "Read although namespaced");
    assert_eq!(text(e, "content_html"), "Its <em>description</em>");
    assert_eq!(e["published"], "2026-12-02T10:00:00Z");
    // "address (Name)" gives the name.
    assert_eq!(e["author"], "Nora Newsdesk");
}

#[test]
fn atom_0_3_inline_xhtml_and_base64_content_and_a_root_xml_base() {
    let (_ws, _server, report, entries) = poll_fixtures(&[("atom03", "atom03.xml")]);
    assert!(report.contains("atom03: new 2"), "{report}");
    // xml:base on the root resolves the entry links and the links inside the content.
    let inline = story(&entries, "https://atom03.example/blog/posts/inline");
    assert_eq!(
        text(inline, "content_html"),
        "<div><p>Inline <b>XHTML</b> with <a href=\"https://atom03.example/blog/images/\" rel=\"noopener noreferrer\">a relative link</a></p></div>"
    );
    assert_eq!(inline["published"], "2004-01-01T10:00:00Z");
    let b64 = story(&entries, "https://atom03.example/blog/posts/base64");
    assert_eq!(
        text(b64, "content_html"),
        "<p>Decoded <strong>from base64</strong></p>"
    );
    assert_eq!(b64["author"], "Bea Base");
    assert_eq!(b64["published"], "2004-01-02T10:00:00Z");
}

#[test]
fn windows_1252_bytes_and_double_encoded_utf8_are_repaired() {
    let (_ws, _server, _, entries) = poll_fixtures(&[("enc", "encodings.xml")]);
    assert_eq!(
        text(story(&entries, "https://enc.example/1"), "title"),
        "don\u{2019}t stop at na\u{ef}ve"
    );
    let double = story(&entries, "https://enc.example/2");
    assert_eq!(text(double, "title"), "Wait for it\u{2026}");
    assert_eq!(text(double, "excerpt"), "Caf\u{e9} cr\u{e8}me");
}

#[test]
fn one_guid_on_one_page_is_one_story_and_the_later_updated_version_wins() {
    let (ws, _server, report, entries) = poll_fixtures(&[("events", "duplicate-guid.xml")]);
    assert!(
        report.contains("events: new 6, 2 repeated or empty entries skipped"),
        "{report}"
    );
    let titles: Vec<&str> = entries.iter().map(|e| text(e, "title")).collect();
    // By `updated`: the rescheduled version, although it comes first.
    assert!(
        titles.contains(&"DevOpsDays (moved to 14 May)"),
        "{titles:?}"
    );
    assert!(!titles.contains(&"DevOpsDays (7 May)"), "{titles:?}");
    // Without dates: the later one in the document.
    assert!(
        titles.contains(&"SREcon (listed again, later in the document)"),
        "{titles:?}"
    );
    assert!(!titles.contains(&"SREcon (first listing)"), "{titles:?}");
    // Stories that share only a link stay two stories, as before.
    assert!(titles.contains(&"Two talks, one page: first"), "{titles:?}");
    assert!(
        titles.contains(&"Two talks, one page: second"),
        "{titles:?}"
    );
    // One guid on two different pages (a template bug) is not one story.
    assert!(titles.contains(&"A job ad"), "{titles:?}");
    assert!(
        titles.contains(&"Another job ad, same guid, its own page"),
        "{titles:?}"
    );
    assert_eq!(entries.len(), 6);
    // Polling the same document again stores nothing twice.
    let again = ws.gleaner(&["poll", "--force"]);
    assert!(again.status.success());
    assert_eq!(self::entries(&ws).len(), 6);
}

#[test]
fn a_cut_off_body_keeps_its_complete_entries_and_the_next_poll_repairs_it() {
    let server = Server::start();
    let ws = Workspace::new();
    let whole = fixture("complete.xml");
    let cut_at = whole
        .windows(b"cut right here".len())
        .position(|w| w == b"cut right here")
        .unwrap();
    // A complete HTTP response whose document stops in the middle of the third item (a CMS
    // that died while writing it), with the ETag of the feed's current version.
    let cut = Route::Feed {
        body: whole[..cut_at].to_vec(),
        content_type: "application/rss+xml".into(),
        etag: Some("\"v1\"".into()),
        last_modified: None,
    };
    let url = server.route("/feed", cut);
    ws.write_config("", &[("cut", &url)]);

    let out = ws.gleaner(&["poll"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = stdout(&out);
    assert!(
        report.contains(
            "cut: new 2; error: truncated after 2 entries: the document ends inside <description>"
        ),
        "{report}"
    );
    assert!(report.contains("1 failed"), "{report}");
    let titles: Vec<String> = entries(&ws)
        .iter()
        .map(|e| text(e, "title").to_string())
        .collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
    let status = status_of(&ws, "cut");
    assert!(
        status["last_error"]
            .as_str()
            .is_some_and(|e| e.starts_with("truncated after 2 entries")),
        "{status:#}"
    );
    assert_eq!(status["consecutive_failures"], 1);

    // The publisher's next answer is whole, under the same ETag: gleaner did not keep the cut
    // body's validators, so it is fetched (not answered 304) and read.
    server.route(
        "/feed",
        Route::Feed {
            body: whole.clone(),
            content_type: "application/rss+xml".into(),
            etag: Some("\"v1\"".into()),
            last_modified: None,
        },
    );
    let out = ws.gleaner(&["poll", "--force"]);
    let report = stdout(&out);
    assert!(report.contains("cut: new 2"), "{report}");
    assert!(!report.contains("error"), "{report}");
    assert_eq!(entries(&ws).len(), 4);
    let status = status_of(&ws, "cut");
    assert!(status["last_error"].is_null(), "{status:#}");
    assert_eq!(status["consecutive_failures"], 0);
    // And now its validators are kept: the third poll is a 304.
    let out = ws.gleaner(&["poll", "--force"]);
    assert!(
        stdout(&out).contains("cut: unchanged (304)"),
        "{}",
        stdout(&out)
    );
}

fn status_of(ws: &Workspace, name: &str) -> Value {
    let out = ws.gleaner(&["status", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let all: Value = serde_json::from_str(&stdout(&out)).unwrap();
    all.as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no {name} in {all:#}"))
}
