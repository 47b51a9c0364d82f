//! The happy paths of ingest: formats, encodings, compression, relative links, conditional
//! GET, updates and cross-feed dedup — all over real HTTP into a real SQLite file.

use std::io::Write;

use gleaner::model::FeedResult;

use crate::support::{Route, Server, Workspace, result_of, rss};

fn new_count(r: &FeedResult) -> usize {
    match r {
        FeedResult::Stored { counts, .. } => counts.new,
        other => panic!("expected stored stories, got {other:?}"),
    }
}

#[tokio::test]
async fn every_format_and_encoding_in_one_pass() {
    let server = Server::start();
    let ws = Workspace::new();
    let mut feeds: Vec<(&str, String, &str)> = Vec::new();

    let rss091 = "<rss version=\"0.91\"><channel><title>R</title><link>https://r091.example/</link><description>d</description><language>en</language><item><title>RSS 0.91 item</title><link>https://rss.example/0.91</link><description>x</description></item></channel></rss>";
    feeds.push((
        "rss091",
        server.route("/rss091", Route::feed(rss091)),
        "RSS 0.91 item",
    ));
    let rss092 = rss091.replace("0.91", "0.92");
    feeds.push((
        "rss092",
        server.route("/rss092", Route::feed(rss092)),
        "RSS 0.92 item",
    ));
    let rss094 = rss091.replace("0.91", "0.94");
    feeds.push((
        "rss094",
        server.route("/rss094", Route::feed(rss094)),
        "RSS 0.94 item",
    ));
    let rss201 = rss091.replace("0.91", "2.01");
    feeds.push((
        "rss201",
        server.route("/rss201", Route::feed(rss201)),
        "RSS 2.01 item",
    ));
    let rss_noversion = rss091
        .replace(" version=\"0.91\"", "")
        .replace("0.91", "none")
        .replace("RSS none item", "RSS without version");
    feeds.push((
        "rss-noversion",
        server.route("/rss-nv", Route::feed(rss_noversion)),
        "RSS without version",
    ));
    let rss2 = rss(
        "R2",
        &[("g1", "RSS 2.0 item", "https://r2.example/1", "<p>body</p>")],
    );
    feeds.push((
        "rss2",
        server.route("/rss2", Route::feed(rss2)),
        "RSS 2.0 item",
    ));
    let rdf = r#"<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><channel rdf:about="https://rdf.example/"><title>RDF</title><link>https://rdf.example/</link><description>d</description><items><rdf:Seq><rdf:li rdf:resource="https://rdf.example/1"/></rdf:Seq></items></channel><item rdf:about="https://rdf.example/1"><title>RSS 1.0 item</title><link>https://rdf.example/1</link><description>x</description></item></rdf:RDF>"#;
    feeds.push((
        "rss1",
        server.route("/rdf", Route::typed(rdf, "application/rdf+xml")),
        "RSS 1.0 item",
    ));
    let atom = r#"<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>urn:a</id><updated>2024-01-01T00:00:00Z</updated><entry><title type="html">Atom &lt;b&gt;1.0&lt;/b&gt; item</title><id>urn:a:1</id><link href="https://atom.example/1"/><updated>2024-01-01T00:00:00Z</updated><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>xhtml body</p></div></content></entry></feed>"#;
    feeds.push((
        "atom",
        server.route("/atom", Route::typed(atom, "application/atom+xml")),
        "Atom 1.0 item",
    ));
    let atom03 = r#"<?xml version="1.0" encoding="utf-8"?><feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>A03</title><entry><title>Atom 0.3 item</title><link rel="alternate" type="text/html" href="https://a03.example/1"/><id>tag:a03.example,2004:1</id><issued>2004-01-01T00:00:00Z</issued><content type="text/html" mode="escaped">&lt;p&gt;escaped&lt;/p&gt;</content></entry></feed>"#;
    feeds.push((
        "atom03",
        server.route("/atom03", Route::typed(atom03, "application/atom+xml")),
        "Atom 0.3 item",
    ));
    let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[{"id":"j1","url":"https://json.example/1","title":"JSON Feed item","content_html":"<p>json</p>"}]}"#;
    feeds.push((
        "json",
        server.route("/json", Route::typed(json, "application/feed+json")),
        "JSON Feed item",
    ));

    // ISO-8859-1 declared in the prolog.
    let mut latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><title>L</title><item><guid>l1</guid><title>Caf\xe9 cr\xe8me</title><link>https://latin1.example/1</link></item></channel></rss>".to_vec();
    feeds.push((
        "latin1",
        server.route(
            "/latin1",
            Route::typed(std::mem::take(&mut latin1), "text/xml"),
        ),
        "Café crème",
    ));
    // windows-1252 named only by the HTTP header; smart quotes live in 0x80–0x9f.
    let cp1252 = b"<rss version=\"2.0\"><channel><title>W</title><item><guid>w1</guid><title>\x93Quoted\x94 \x96 dash</title><link>https://cp1252.example/1</link></item></channel></rss>".to_vec();
    feeds.push((
        "cp1252",
        server.route(
            "/cp1252",
            Route::typed(cp1252, "application/rss+xml; charset=windows-1252"),
        ),
        "\u{201c}Quoted\u{201d} \u{2013} dash",
    ));
    // UTF-16 with a BOM.
    let utf16_doc = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><rss version=\"2.0\"><channel><title>U</title><item><guid>u1</guid><title>Ünïcödé UTF-16</title><link>https://utf16.example/1</link></item></channel></rss>";
    let mut utf16 = vec![0xff, 0xfe];
    utf16.extend(utf16_doc.encode_utf16().flat_map(|u| u.to_le_bytes()));
    feeds.push((
        "utf16",
        server.route("/utf16", Route::typed(utf16, "application/xml")),
        "Ünïcödé UTF-16",
    ));
    // UTF-8 with one stray invalid byte: kept, the byte read as Windows-1252 (as feedparser).
    let stray = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>S</title><item><guid>s1</guid><title>Stra\xc3\x9fe \xff byte</title><link>https://stray.example/1</link></item></channel></rss>".to_vec();
    feeds.push((
        "stray-byte",
        server.route("/stray", Route::feed(stray)),
        "Straße \u{ff} byte",
    ));
    // HTML entities XML does not know, left literal by the parser, decoded in titles.
    let entities = "<rss version=\"2.0\"><channel><title>E</title><item><guid>e1</guid><title>Caf&amp;eacute; &amp;amp; more</title><link>https://entities.example/1</link></item></channel></rss>";
    feeds.push((
        "entities",
        server.route("/entities", Route::feed(entities)),
        "Café & more",
    ));

    let cfg: Vec<(&str, &str)> = feeds.iter().map(|(n, u, _)| (*n, u.as_str())).collect();
    ws.write_config("", &cfg);
    let round = ws.poll().await;

    for (name, _, _) in &feeds {
        assert_eq!(new_count(result_of(&round, name)), 1, "feed {name}");
    }
    let stories = ws.stories().await;
    for (name, _, title) in &feeds {
        let s = stories
            .iter()
            .find(|s| s.sources.iter().any(|src| src == name))
            .unwrap_or_else(|| panic!("no story from {name}"));
        assert_eq!(s.title, *title, "feed {name}");
    }
    let by = |n: &str| stories.iter().find(|s| s.sources == [n]).unwrap().clone();
    assert!(
        by("atom").content_html.contains("<p>xhtml body</p>"),
        "{}",
        by("atom").content_html
    );
    assert_eq!(by("atom03").url.as_deref(), Some("https://a03.example/1"));
    assert_eq!(by("json").excerpt, "json");
    // Repairs are reported on the feed's line.
    match result_of(&round, "stray-byte") {
        FeedResult::Stored { repairs, .. } => assert_eq!(repairs, &["charset"]),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn compressed_responses_are_decoded() {
    let server = Server::start();
    let ws = Workspace::new();
    let body = rss(
        "C",
        &[("c1", "Compressed item", "https://c.example/1", "x")],
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body.as_bytes()).unwrap();
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    zlib.write_all(body.as_bytes()).unwrap();
    let mut br = Vec::new();
    brotli::BrotliCompress(&mut body.as_bytes(), &mut br, &Default::default()).unwrap();
    let mut cfg = Vec::new();
    for (enc, bytes) in [
        ("gzip", gz.finish().unwrap()),
        ("deflate", zlib.finish().unwrap()),
        ("br", br),
    ] {
        let url = server.route(
            &format!("/{enc}"),
            Route::Raw {
                status: 200,
                headers: vec![
                    ("Content-Type".into(), "application/rss+xml".into()),
                    ("Content-Encoding".into(), enc.into()),
                ],
                body: bytes,
            },
        );
        cfg.push((enc, url));
    }
    let cfg: Vec<(&str, &str)> = cfg.iter().map(|(n, u)| (*n, u.as_str())).collect();
    ws.write_config("", &cfg);
    let round = ws.poll().await;
    // The same story in three feeds: one new, two known from elsewhere.
    let total: usize = ["gzip", "deflate", "br"]
        .iter()
        .map(|n| match result_of(&round, n) {
            FeedResult::Stored { counts, .. } => counts.new + counts.also_elsewhere,
            other => panic!("{n}: {other:?}"),
        })
        .sum();
    assert_eq!(total, 3);
    let seen = server.seen("/br");
    let accept = seen[0].headers.get("accept-encoding").unwrap();
    for enc in ["gzip", "br", "deflate"] {
        assert!(accept.contains(enc), "accept-encoding {accept}");
    }
}

#[tokio::test]
async fn xml_base_and_relative_links_resolve() {
    let server = Server::start();
    let ws = Workspace::new();
    let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://base.example/blog/"><title>B</title><id>urn:b</id><updated>2024-01-01T00:00:00Z</updated>
<entry xml:base="https://media.example/2024/"><title>Based</title><id>urn:b:1</id><updated>2024-01-01T00:00:00Z</updated><link href="post-1.html"/><content type="html">&lt;p&gt;&lt;img src="pic.png" alt="p"&gt; &lt;a href="../other.html"&gt;other&lt;/a&gt;&lt;/p&gt;</content></entry></feed>"#;
    let atom_url = server.route("/atom", Route::typed(atom, "application/atom+xml"));
    let rel = r#"<rss version="2.0"><channel><title>R</title><item><guid>r1</guid><title>Relative</title><link>/posts/2</link><description>&lt;img src="/img/a.png"&gt;&lt;a href="next"&gt;next&lt;/a&gt;</description></item></channel></rss>"#;
    let rel_url = server.route("/feeds/rel.xml", Route::feed(rel));
    ws.write_config("", &[("based", &atom_url), ("relative", &rel_url)]);
    ws.poll().await;
    let stories = ws.stories().await;
    let based = stories.iter().find(|s| s.title == "Based").unwrap();
    assert_eq!(
        based.url.as_deref(),
        Some("https://media.example/2024/post-1.html")
    );
    assert!(
        based
            .content_html
            .contains("src=\"https://media.example/2024/pic.png\""),
        "{}",
        based.content_html
    );
    assert!(
        based
            .content_html
            .contains("href=\"https://media.example/other.html\""),
        "{}",
        based.content_html
    );
    let relative = stories.iter().find(|s| s.title == "Relative").unwrap();
    let origin = format!("http://{}", server.addr);
    assert_eq!(
        relative.url.as_deref(),
        Some(format!("{origin}/posts/2").as_str())
    );
    assert!(
        relative
            .content_html
            .contains(&format!("src=\"{origin}/img/a.png\"")),
        "{}",
        relative.content_html
    );
    assert!(
        relative
            .content_html
            .contains(&format!("href=\"{origin}/posts/next\"")),
        "{}",
        relative.content_html
    );
}

#[tokio::test]
async fn second_poll_sends_validators_and_gets_304() {
    let server = Server::start();
    let ws = Workspace::new();
    let body = rss("V", &[("v1", "Validated", "https://v.example/1", "x")]);
    let etag_url = server.route(
        "/etag",
        Route::Feed {
            body: body.clone().into_bytes(),
            content_type: "application/rss+xml".into(),
            etag: Some("\"v1\"".into()),
            last_modified: None,
        },
    );
    let lm = "Mon, 07 Apr 2014 09:00:00 GMT";
    let lm_url = server.route(
        "/lm",
        Route::Feed {
            body: body
                .replace("v1", "v2")
                .replace("v.example", "lm.example")
                .into_bytes(),
            content_type: "application/rss+xml".into(),
            etag: None,
            last_modified: Some(lm.into()),
        },
    );
    ws.write_config("", &[("etag", &etag_url), ("lm", &lm_url)]);
    let first = ws.poll().await;
    assert_eq!(new_count(result_of(&first, "etag")), 1);
    let second = ws.poll().await;
    assert_eq!(result_of(&second, "etag"), &FeedResult::NotModified);
    assert_eq!(result_of(&second, "lm"), &FeedResult::NotModified);
    let seen = server.seen("/etag");
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].headers.get("if-none-match"), None);
    assert_eq!(
        seen[1].headers.get("if-none-match").map(String::as_str),
        Some("\"v1\"")
    );
    let seen = server.seen("/lm");
    assert_eq!(
        seen[1].headers.get("if-modified-since").map(String::as_str),
        Some(lm)
    );
    assert!(
        seen[0]
            .headers
            .get("user-agent")
            .unwrap()
            .starts_with("gleaner/")
    );
    // The 304 is recorded on the feed row and in the log.
    let store = ws.store().await;
    let (status, failures): (i64, i64) =
        sqlx::query_as("SELECT last_status, consecutive_failures FROM feeds WHERE name = 'etag'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!((status, failures), (304, 0));
    let outcomes: Vec<String> = sqlx::query_scalar(
        "SELECT l.outcome FROM fetch_log l JOIN feeds f ON f.id = l.feed_id WHERE f.name = 'etag' ORDER BY l.id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(outcomes, ["new", "not_modified"]);
}

#[tokio::test]
async fn a_server_ignoring_validators_costs_no_parse_until_the_body_changes() {
    let server = Server::start();
    let ws = Workspace::new();
    // Always 200 with the same ETag, as some servers do.
    let raw = |body: String| Route::Raw {
        status: 200,
        headers: vec![
            ("Content-Type".into(), "application/rss+xml".into()),
            ("ETag".into(), "\"same\"".into()),
        ],
        body: body.into_bytes(),
    };
    let one = rss("S", &[("s1", "First", "https://s.example/1", "x")]);
    let url = server.route("/same", raw(one.clone()));
    ws.write_config("", &[("same", &url)]);
    assert_eq!(new_count(result_of(&ws.poll().await, "same")), 1);
    assert_eq!(result_of(&ws.poll().await, "same"), &FeedResult::SameBody);
    let two = rss(
        "S",
        &[
            ("s1", "First", "https://s.example/1", "x"),
            ("s2", "Second", "https://s.example/2", "y"),
        ],
    );
    server.route("/same", raw(two));
    assert_eq!(new_count(result_of(&ws.poll().await, "same")), 1);
    assert_eq!(ws.stories().await.len(), 2);
}

#[tokio::test]
async fn a_changed_entry_is_an_update_not_a_new_story() {
    let server = Server::start();
    let ws = Workspace::new();
    let v1 = rss(
        "U",
        &[(
            "post-1",
            "Original title",
            "https://u.example/1",
            "<p>first draft</p>",
        )],
    );
    let url = server.route("/u", Route::feed(v1));
    ws.write_config("", &[("u", &url)]);
    ws.poll().await;
    let before = ws.stories().await;
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].updated, None);

    let v2 = rss(
        "U",
        &[(
            "post-1",
            "Corrected title",
            "https://u.example/1",
            "<p>final text</p>",
        )],
    );
    server.route("/u", Route::feed(v2));
    let round = ws.poll().await;
    match result_of(&round, "u") {
        FeedResult::Stored { counts, .. } => {
            assert_eq!((counts.new, counts.updated), (0, 1));
        }
        other => panic!("{other:?}"),
    }
    let after = ws.stories().await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].id, before[0].id);
    assert_eq!(after[0].title, "Corrected title");
    assert_eq!(after[0].excerpt, "final text");
    assert!(after[0].updated.is_some());
    // Polling the same content again changes nothing.
    let round = ws.poll().await;
    match result_of(&round, "u") {
        FeedResult::Stored { counts, .. } => assert_eq!((counts.new, counts.updated), (0, 0)),
        FeedResult::SameBody => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_same_story_in_three_feeds_is_one_story_with_three_sources() {
    let server = Server::start();
    let ws = Workspace::new();
    let a = rss(
        "A",
        &[(
            "a-1",
            "Shared post",
            "https://www.blog.example/post/?utm_source=rss&utm_medium=feed",
            "<p>full text</p>",
        )],
    );
    let b = rss(
        "B",
        &[(
            "b-77",
            "Shared post (via B)",
            "http://blog.example/post?fbclid=XYZ",
            "<p>teaser</p>",
        )],
    );
    let c = rss(
        "C",
        &[(
            "c-x",
            "Shared post",
            "https://blog.example/post#comments",
            "",
        )],
    );
    let ua = server.route("/a", Route::feed(a));
    let ub = server.route("/b", Route::feed(b));
    let uc = server.route("/c", Route::feed(c));
    ws.write_config(
        "concurrency = 1",
        &[("Blog A", &ua), ("Aggregator B", &ub), ("Digest C", &uc)],
    );
    ws.poll().await;
    let stories = ws.stories().await;
    assert_eq!(stories.len(), 1, "{stories:#?}");
    let s = &stories[0];
    assert_eq!(
        s.canonical_url.as_deref(),
        Some("https://blog.example/post")
    );
    let mut sources = s.sources.clone();
    sources.sort();
    assert_eq!(sources, ["Aggregator B", "Blog A", "Digest C"]);
    // A second pass adds nothing.
    ws.poll().await;
    assert_eq!(ws.stories().await.len(), 1);
}

#[tokio::test]
async fn hostile_html_is_neutralized() {
    let server = Server::start();
    let ws = Workspace::new();
    let hostile = r#"<p>Real text</p><script>alert(1)</script><img src="x.png" onerror="alert(2)"><a href="javascript:alert(3)">click</a><iframe src="https://evil.example/frame"></iframe><svg onload="alert(4)"><circle r="1"/></svg><img src="https://track.example/p.gif" width="1" height="1"><a href="https://ok.example/">ok</a><iframe src="https://www.youtube.com/embed/xyz"></iframe>"#;
    let body = rss(
        "H",
        &[(
            "h1",
            "&lt;b&gt;Hostile&lt;/b&gt; title &lt;script&gt;x()&lt;/script&gt;",
            "https://h.example/1",
            hostile,
        )],
    );
    let url = server.route("/h", Route::feed(body));
    ws.write_config("", &[("hostile", &url)]);
    ws.poll().await;
    let s = &ws.stories().await[0];
    let html = &s.content_html;
    assert_eq!(
        crate::support::markup::findings(html),
        Vec::<String>::new(),
        "{html}"
    );
    for gone in [
        "<script",
        "onerror",
        "javascript:",
        "evil.example",
        "<svg",
        "onload",
        "track.example",
    ] {
        assert!(!html.contains(gone), "{gone} survived: {html}");
    }
    assert!(html.contains("<p>Real text</p>"), "{html}");
    assert!(
        html.contains("href=\"https://ok.example/\" rel=\"noopener noreferrer\""),
        "{html}"
    );
    assert!(
        html.contains("youtube.com/embed/xyz") && html.contains("sandbox="),
        "{html}"
    );
    // Escaped markup in an RSS title is read as HTML (it has closing tags) and reduced to text.
    assert_eq!(s.title, "Hostile title");
    assert!(!s.excerpt.contains("alert"), "{}", s.excerpt);
}

#[tokio::test]
async fn entries_without_guid_or_link_are_not_duplicated_on_every_poll() {
    // feed-rs would invent a random UUID for these; gleaner keys them on title + date.
    let server = Server::start();
    let ws = Workspace::new();
    let body = r#"<rss version="2.0"><channel><title>N</title>
<item><title>No guid, no link</title><description>first</description><pubDate>Tue, 08 Apr 2014 10:00:00 GMT</pubDate></item>
<item><title>No guid, has link</title><link>https://n.example/2</link></item>
<item><description>Neither title nor date, only a body</description></item>
</channel></rss>"#;
    let url = server.route(
        "/n",
        Route::Raw {
            status: 200,
            headers: vec![("Content-Type".into(), "application/rss+xml".into())],
            body: body.as_bytes().to_vec(),
        },
    );
    ws.write_config("", &[("n", &url)]);
    assert_eq!(new_count(result_of(&ws.poll().await, "n")), 3);
    // Force a re-parse of the same document: a changed byte outside the entries.
    server.route(
        "/n",
        Route::Raw {
            status: 200,
            headers: vec![("Content-Type".into(), "application/rss+xml".into())],
            body: body
                .replace("<title>N</title>", "<title>N2</title>")
                .into_bytes(),
        },
    );
    match result_of(&ws.poll().await, "n") {
        FeedResult::Stored { counts, .. } => assert_eq!((counts.new, counts.unchanged), (0, 3)),
        other => panic!("{other:?}"),
    }
    let stories = ws.stories().await;
    assert_eq!(stories.len(), 3);
    assert!(
        stories
            .iter()
            .any(|s| s.title == "Neither title nor date, only a body")
    );
}

#[tokio::test]
async fn literal_entities_never_become_markup() {
    let server = Server::start();
    let ws = Workspace::new();
    // Undeclared HTML entities (left literal by the XML parser) and double-escaped script.
    let body = r#"<rss version="2.0"><channel><title>E</title><item><guid>1</guid><title>&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt; &amp;hellip;</title><link>https://e.example/1</link><description>&amp;lt;img src=x onerror=alert(1)&amp;gt; caf&eacute;</description></item></channel></rss>"#;
    let url = server.route("/e", Route::feed(body));
    ws.write_config("", &[("e", &url)]);
    ws.poll().await;
    let s = &ws.stories().await[0];
    // The title is the text the publisher meant, as text.
    assert_eq!(s.title, "<script>alert(1)</script> …");
    assert_eq!(
        crate::support::markup::findings(&s.content_html),
        Vec::<String>::new()
    );
    assert!(
        s.content_html
            .contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{}",
        s.content_html
    );
    assert!(s.content_html.contains("café"), "{}", s.content_html);
}

#[tokio::test]
async fn entries_of_one_feed_sharing_a_page_stay_apart() {
    // A changelog linking each release to an anchor on one page: the canonical URLs are equal,
    // the GUIDs are not. Regression: the second release used to be merged into the first.
    let server = Server::start();
    let ws = Workspace::new();
    let body = rss(
        "Changelog",
        &[
            (
                "v1.0",
                "Release 1.0",
                "https://tool.example/changelog#v1.0",
                "<p>first</p>",
            ),
            (
                "v1.1",
                "Release 1.1",
                "https://tool.example/changelog#v1.1",
                "<p>second</p>",
            ),
        ],
    );
    let url = server.route("/changelog", Route::feed(body));
    ws.write_config("", &[("Changelog", &url)]);
    let round = ws.poll().await;
    match result_of(&round, "Changelog") {
        FeedResult::Stored { counts, .. } => {
            assert_eq!((counts.new, counts.also_elsewhere), (2, 0))
        }
        other => panic!("{other:?}"),
    }
    let mut titles: Vec<String> = ws.stories().await.into_iter().map(|s| s.title).collect();
    titles.sort();
    assert_eq!(titles, ["Release 1.0", "Release 1.1"]);
}

#[tokio::test]
async fn an_aggregator_changing_its_copy_never_overwrites_the_original() {
    // hnrss-style descriptions carry live point counts; the blog post is the story.
    let server = Server::start();
    let ws = Workspace::new();
    let blog = rss(
        "Blog",
        &[(
            "post",
            "The post",
            "https://blog.example/post",
            "<p>The full article text.</p>",
        )],
    );
    let hn = |points: u32| {
        rss(
            "HN",
            &[(
                "hn-1",
                "The post",
                "https://blog.example/post",
                &format!("<p>Points: {points}</p>"),
            )],
        )
    };
    let ub = server.route("/blog", Route::feed(blog));
    let uh = server.route("/hn", Route::feed(hn(10)));
    ws.write_config("concurrency = 1", &[("Blog", &ub), ("HN", &uh)]);
    ws.poll().await;
    server.route("/hn", Route::feed(hn(250)));
    let round = ws.poll().await;
    match result_of(&round, "HN") {
        FeedResult::Stored { counts, .. } => assert_eq!(counts.updated, 0),
        other => panic!("{other:?}"),
    }
    let stories = ws.stories().await;
    assert_eq!(stories.len(), 1);
    assert_eq!(stories[0].content_html, "<p>The full article text.</p>");
    assert_eq!(stories[0].updated, None);
}

#[tokio::test]
async fn a_publisher_adding_guids_later_does_not_duplicate_its_stories() {
    let server = Server::start();
    let ws = Workspace::new();
    let no_guid = r#"<rss version="2.0"><channel><title>R</title><item><title>Post</title><link>https://r.example/post</link></item></channel></rss>"#;
    let url = server.route("/r", Route::feed(no_guid));
    ws.write_config("", &[("R", &url)]);
    ws.poll().await;
    let with_guid = no_guid.replace("<item>", "<item><guid>urn:r:1</guid>");
    server.route("/r", Route::feed(with_guid));
    let round = ws.poll().await;
    match result_of(&round, "R") {
        FeedResult::Stored { counts, .. } => {
            assert_eq!((counts.new, counts.also_elsewhere), (0, 0))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(ws.stories().await.len(), 1);
}

#[tokio::test]
async fn the_publishers_own_feed_takes_over_a_story_an_aggregator_brought_first() {
    let server = Server::start();
    let ws = Workspace::new();
    let hn = rss(
        "HN",
        &[(
            "hn-9",
            "The post",
            "https://blog.example/post?utm_source=hn",
            "<p>Points: 12</p>",
        )],
    );
    let blog = rss(
        "Blog",
        &[(
            "post",
            "The post",
            "https://blog.example/post",
            "<p>The full article text.</p>",
        )],
    )
    .replace(
        "<link>https://example.com/</link>",
        "<link>https://blog.example/</link>",
    );
    let uh = server.route("/hn", Route::feed(hn));
    let ub = server.route("/blog", Route::feed(blog));
    ws.write_config("", &[("HN", &uh)]);
    ws.poll().await;
    assert_eq!(ws.stories().await[0].content_html, "<p>Points: 12</p>");
    ws.write_config("", &[("HN", &uh), ("Blog", &ub)]);
    ws.poll().await;
    let stories = ws.stories().await;
    assert_eq!(stories.len(), 1);
    assert_eq!(stories[0].content_html, "<p>The full article text.</p>");
    assert_eq!(stories[0].url.as_deref(), Some("https://blog.example/post"));
}
