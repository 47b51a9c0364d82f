//! `gleaner import opml` and `gleaner export opml` through the real binary: a realistic
//! export into a commented feeds.toml, the round trip through an empty config, and a malformed
//! file that must leave feeds.toml byte-identical.

use crate::support::{Workspace, stderr, stdout};

const FEEDS_TOML: &str = r#"# The editor's feeds. Keep this comment.
[storage]
path = "gleaner.db"    # beside this file

[output]
sections = ["News", "Jobs", "Events", "Tools"]

# --- already here ---
[[feeds]]
name = "Julia Evans"
url = "https://jvns.ca/atom.xml"
section = "News"   # the best
"#;

/// As Feedly or Inoreader export it: a BOM, OPML 1.0, folders (one nested, one named like a
/// configured section in another case), a feed already in feeds.toml under another spelling,
/// a feed listed twice, a broken entry and an entity in a name.
const SUBSCRIPTIONS: &str = "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<opml version=\"1.0\">
  <head><title>Subscriptions in Feedly</title></head>
  <body>
    <outline text=\"tools\" title=\"tools\">
      <outline type=\"rss\" text=\"Rust Blog\" title=\"Rust Blog\" xmlUrl=\"https://blog.rust-lang.org/feed.xml\" htmlUrl=\"https://blog.rust-lang.org/\"/>
      <outline type=\"rss\" text=\"Kubernetes releases\" xmlurl=\"https://github.com/kubernetes/kubernetes/releases.atom\"/>
    </outline>
    <outline text=\"Reading\" title=\"Reading\">
      <outline text=\"SRE\" title=\"SRE\">
        <outline type=\"rss\" text=\"Ops &amp; Incidents\" xmlUrl=\"https://ops.example/rss?a=1&amp;b=2\"/>
      </outline>
      <outline type=\"rss\" title=\"Julia (again)\" xmlUrl=\"http://www.jvns.ca/atom.xml\"/>
    </outline>
    <outline type=\"rss\" text=\"Hacker News\" xmlUrl=\"https://hnrss.org/newest?points=200\"/>
    <outline type=\"rss\" text=\"Hacker News twice\" xmlUrl=\"https://hnrss.org/newest?points=200\"/>
    <outline type=\"rss\" text=\"Broken\" xmlUrl=\"feed://broken.example/rss\"/>
  </body>
</opml>
";

/// `(name, url, section)` of every feed `gleaner check`'s config holds, sorted.
fn feeds_of(ws: &Workspace) -> Vec<(String, String, Option<String>)> {
    let config = gleaner::config::Config::load(&ws.config_path()).unwrap();
    let mut feeds: Vec<_> = config
        .feeds
        .into_iter()
        .map(|f| (f.name, f.url.to_string(), f.section))
        .collect();
    feeds.sort();
    feeds
}

#[test]
fn import_a_realistic_opml_into_a_commented_config() {
    let ws = Workspace::new();
    ws.write_config_text(FEEDS_TOML);
    std::fs::write(ws.path("subscriptions.opml"), SUBSCRIPTIONS).unwrap();

    // A dry run shows what would happen and writes nothing.
    let out = ws.gleaner(&["import", "opml", "subscriptions.opml", "--dry-run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("4 would be added"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        std::fs::read_to_string(ws.config_path()).unwrap(),
        FEEDS_TOML
    );

    let out = ws.gleaner(&["import", "opml", "subscriptions.opml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "added \"Rust Blog\" <https://blog.rust-lang.org/feed.xml> in section \"Tools\"",
            "added \"Kubernetes releases\" <https://github.com/kubernetes/kubernetes/releases.atom> in section \"Tools\"",
            "added \"Ops & Incidents\" <https://ops.example/rss?a=1&b=2> in section \"Reading / SRE\"",
            "skipped \"Julia (again)\" <http://www.jvns.ca/atom.xml>: duplicate of \"Julia Evans\"",
            "added \"Hacker News\" <https://hnrss.org/newest?points=200>",
            "skipped \"Hacker News twice\" <https://hnrss.org/newest?points=200>: duplicate of \"Hacker News\"",
            "invalid \"Broken\" <feed://broken.example/rss>: key `url`: `feed://broken.example/rss` is not an http(s) URL (scheme `feed`)",
            "7 feeds in subscriptions.opml: 4 added, 2 skipped as duplicates, 1 invalid; feeds.toml updated",
        ],
        "{text}"
    );

    // The file as it was is a prefix of the new one: every comment and blank line kept.
    let new = std::fs::read_to_string(ws.config_path()).unwrap();
    assert!(new.starts_with(FEEDS_TOML), "{new}");
    assert!(
        new[FEEDS_TOML.len()..].starts_with("\n# Imported from subscriptions.opml"),
        "{new}"
    );
    let check = ws.gleaner(&["check"]);
    assert!(check.status.success(), "{}", stderr(&check));
    assert!(stdout(&check).contains("(valid)"), "{}", stdout(&check));

    let s = |v: &str| Some(v.to_string());
    assert_eq!(
        feeds_of(&ws),
        vec![
            (
                "Hacker News".into(),
                "https://hnrss.org/newest?points=200".into(),
                None
            ),
            (
                "Julia Evans".into(),
                "https://jvns.ca/atom.xml".into(),
                s("News")
            ),
            (
                "Kubernetes releases".into(),
                "https://github.com/kubernetes/kubernetes/releases.atom".into(),
                s("Tools")
            ),
            (
                "Ops & Incidents".into(),
                "https://ops.example/rss?a=1&b=2".into(),
                s("Reading / SRE")
            ),
            (
                "Rust Blog".into(),
                "https://blog.rust-lang.org/feed.xml".into(),
                s("Tools")
            ),
        ]
    );

    // Importing the same file again adds nothing and leaves the file byte-identical.
    let out = ws.gleaner(&["import", "opml", "subscriptions.opml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("0 added, 6 skipped as duplicates, 1 invalid; feeds.toml unchanged"),
        "{}",
        stdout(&out)
    );
    assert_eq!(std::fs::read_to_string(ws.config_path()).unwrap(), new);
}

#[test]
fn export_then_import_into_an_empty_config_round_trips() {
    let ws = Workspace::new();
    ws.write_config_text(FEEDS_TOML);
    std::fs::write(ws.path("subscriptions.opml"), SUBSCRIPTIONS).unwrap();
    let out = ws.gleaner(&["import", "opml", "subscriptions.opml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let before = feeds_of(&ws);

    // To stdout, and to a file with --output: the same document (but for dateCreated).
    let out = ws.gleaner(&["export", "opml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = stdout(&out);
    assert!(
        printed.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<opml version=\"2.0\">"),
        "{printed}"
    );
    assert!(printed.contains("<dateCreated>"), "{printed}");
    assert!(
        printed.contains("text=\"Ops &amp; Incidents\""),
        "{printed}"
    );
    assert!(
        printed.contains("<outline text=\"Reading / SRE\""),
        "{printed}"
    );
    let out = ws.gleaner(&["export", "opml", "--output", "out.opml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("5 feeds written to out.opml"),
        "{}",
        stdout(&out)
    );
    let written = std::fs::read_to_string(ws.path("out.opml")).unwrap();
    let body = |s: &str| s[s.find("<body>").unwrap()..].to_string();
    assert_eq!(body(&written), body(&printed));

    let empty = Workspace::new();
    empty.write_config_text("");
    std::fs::write(empty.path("export.opml"), &printed).unwrap();
    let out = empty.gleaner(&["import", "opml", "export.opml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("5 added, 0 skipped as duplicates, 0 invalid"),
        "{}",
        stdout(&out)
    );
    assert_eq!(feeds_of(&empty), before);
    let check = empty.gleaner(&["check"]);
    assert!(check.status.success(), "{}", stderr(&check));
}

#[test]
fn a_malformed_opml_is_a_clear_error_and_changes_nothing() {
    let ws = Workspace::new();
    ws.write_config_text(FEEDS_TOML);
    let cases = [
        (
            "truncated.opml",
            "<?xml version=\"1.0\"?>\n<opml version=\"2.0\">\n<body>\n<outline text=\"A\" xmlUrl=\"https://a.example/rss\"/>\n",
            "ends before </body>",
        ),
        (
            "mismatched.opml",
            "<opml version=\"2.0\">\n<body>\n  <outline text=\"A\">\n  </outlin>\n</body></opml>\n",
            "line 4",
        ),
        (
            "feed.xml",
            "<rss version=\"2.0\"><channel><title>x</title></channel></rss>",
            "not an OPML file: the root element is <rss>",
        ),
    ];
    for (file, contents, want) in cases {
        std::fs::write(ws.path(file), contents).unwrap();
        let out = ws.gleaner(&["import", "opml", file]);
        assert_eq!(out.status.code(), Some(1), "{file}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(err.starts_with(&format!("gleaner: {file}: ")), "{err}");
        assert!(err.contains(want), "{file}: {err}");
        assert_eq!(stdout(&out), "", "{file}");
        assert_eq!(
            std::fs::read(ws.config_path()).unwrap(),
            FEEDS_TOML.as_bytes(),
            "{file}: feeds.toml must be byte-identical"
        );
    }
    let out = ws.gleaner(&["import", "opml", "missing.opml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot read missing.opml"),
        "{}",
        stderr(&out)
    );

    // A broken feeds.toml is refused with its problems (exit 2), and stays as it is.
    let broken = "[fetch]\nper_host = 0\n";
    ws.write_config_text(broken);
    std::fs::write(ws.path("ok.opml"), SUBSCRIPTIONS).unwrap();
    let out = ws.gleaner(&["import", "opml", "ok.opml"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("per_host"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(ws.config_path()).unwrap(), broken);
}
