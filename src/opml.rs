//! OPML 1.0/2.0 subscription lists: read the feeds out of one ([`parse`]), map its folders to
//! sections ([`section_for`]), and render the configured feeds as one ([`render`]).
//!
//! Reading is forgiving, as exporters are sloppy: attribute names in any case (`xmlUrl`,
//! `xmlurl`, `XMLURL`), the name from `text` else `title` (else the feed's host), `type` ignored
//! (an outline is a feed when it has an `xmlUrl`, whatever its `type` says), outlines without
//! `xmlUrl` but with children are folders, a BOM and non-UTF-8 charsets are decoded as feeds are
//! (`parse::charset`). A DOCTYPE is skipped and its entities are never expanded (no billion
//! laughs, no external entities): only XML's five and character references are.
//!
//! The section rule (README "Import and export (OPML)"): the outermost folder whose name is one
//! of `[output] sections` (case-insensitively) gives the section, spelled as configured;
//! otherwise the folders' names joined with " / " are the section; a feed outside any folder
//! has none. Rendering writes one folder per section, so an export imports back the same.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use quick_xml::Writer;
use quick_xml::XmlVersion;
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::reader::Reader;

use crate::config::FeedConfig;
use crate::feeds_file::NewFeed;
use crate::model::Sections;

/// What an OPML file lists, in document order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Document {
    /// `<head><title>`, when there is one.
    pub title: Option<String>,
    pub items: Vec<Item>,
}

/// One outline that is, or wants to be, a feed.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Feed(Feed),
    /// An outline marked as a feed (`type="rss"`, `"atom"`) that cannot be one.
    Invalid {
        name: String,
        reason: String,
    },
}

/// A feed outline.
#[derive(Debug, Clone, PartialEq)]
pub struct Feed {
    pub name: String,
    /// `xmlUrl` as written (entities decoded, trimmed).
    pub xml_url: String,
    /// `htmlUrl`, the site's home page.
    pub html_url: Option<String>,
    /// The names of the folders around it, outermost first.
    pub folders: Vec<String>,
}

/// Why a file could not be read as OPML at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OpmlError {
    #[error("line {line}, column {column}: not well-formed XML: {message}")]
    Xml {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("not an OPML file: the document is empty")]
    Empty,
    #[error("not an OPML file: the root element is <{0}>, not <opml>")]
    NotOpml(String),
    #[error("not an OPML file: <opml> has no <body>")]
    NoBody,
    #[error("not well-formed XML: the document ends before </{0}>")]
    Unclosed(String),
}

/// One open `<outline>` while reading.
struct Frame {
    /// Its name when it is a folder.
    folder: Option<String>,
    /// Reported when it closes without children (a `type="rss"` outline without `xmlUrl`).
    invalid_if_empty: Option<Item>,
    has_children: bool,
}

/// The attributes of an outline that matter, names matched case-insensitively.
#[derive(Default)]
struct OutlineAttrs {
    text: Option<String>,
    title: Option<String>,
    kind: Option<String>,
    xml_url: Option<Result<String, String>>,
    html_url: Option<String>,
}

/// Reads an OPML document from raw bytes.
pub fn parse(bytes: &[u8]) -> Result<Document, OpmlError> {
    let decoded = crate::parse::charset::decode(bytes, None);
    let text: &str = &decoded.text;
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let xml_error = |reader: &Reader<&[u8]>, e: &dyn std::fmt::Display| {
        let at = usize::try_from(reader.error_position()).unwrap_or(0);
        let (line, column) = line_col(text, at);
        OpmlError::Xml {
            line,
            column,
            message: e.to_string(),
        }
    };

    let mut doc = Document::default();
    // Element names open now (lower-cased local names), to know where an outline or text is.
    let mut open: Vec<String> = Vec::new();
    let mut frames: Vec<Frame> = Vec::new();
    let mut saw_root = false;
    let mut saw_body = false;
    let mut title = String::new();
    loop {
        let event = reader.read_event().map_err(|e| xml_error(&reader, &e))?;
        match event {
            Event::Eof => break,
            Event::Start(e) if !saw_root => {
                root(&e)?;
                saw_root = true;
                open.push("opml".into());
            }
            // `<opml/>`: no body, reported below.
            Event::Empty(e) if !saw_root => {
                root(&e)?;
                saw_root = true;
            }
            Event::Start(e) => {
                let name = local_name(&e);
                if name == "body" && open.len() == 1 {
                    saw_body = true;
                }
                if name == "outline" && in_body(&open) {
                    let frame = outline(&e, &mut frames, &mut doc.items);
                    frames.push(frame);
                }
                open.push(name);
            }
            Event::Empty(e) => {
                let name = local_name(&e);
                if name == "body" && open.len() == 1 {
                    saw_body = true;
                }
                if name == "outline" && in_body(&open) {
                    let frame = outline(&e, &mut frames, &mut doc.items);
                    if let Some(item) = frame.invalid_if_empty {
                        doc.items.push(item);
                    }
                }
            }
            Event::End(_) => {
                if let Some(name) = open.pop()
                    && name == "outline"
                    && in_body(&open)
                    && let Some(frame) = frames.pop()
                    && !frame.has_children
                    && let Some(item) = frame.invalid_if_empty
                {
                    doc.items.push(item);
                }
            }
            Event::Text(t) if is_head_title(&open) => {
                title.push_str(&t.xml_content(XmlVersion::Implicit1_0));
            }
            Event::CData(t) if is_head_title(&open) => {
                title.push_str(&t.xml_content(XmlVersion::Implicit1_0));
            }
            Event::GeneralRef(r) if is_head_title(&open) => {
                let name = r.xml_content(XmlVersion::Implicit1_0);
                match r.resolve_char_ref() {
                    Ok(Some(c)) => title.push(c),
                    _ => match quick_xml::escape::resolve_predefined_entity(&name) {
                        Some(s) => title.push_str(s),
                        None => title.push_str(&format!("&{name};")),
                    },
                }
            }
            // DOCTYPE, comments, processing instructions, other text: nothing to read. A
            // DOCTYPE's entities are never expanded.
            _ => {}
        }
    }
    if let Some(name) = open.last() {
        return Err(OpmlError::Unclosed(name.clone()));
    }
    if !saw_root {
        return Err(OpmlError::Empty);
    }
    if !saw_body {
        return Err(OpmlError::NoBody);
    }
    let title = collapse(&title);
    doc.title = (!title.is_empty()).then_some(title);
    Ok(doc)
}

fn root(e: &BytesStart) -> Result<(), OpmlError> {
    let name = local_name(e);
    if name == "opml" {
        Ok(())
    } else {
        Err(OpmlError::NotOpml(name))
    }
}

fn in_body(open: &[String]) -> bool {
    open.len() >= 2 && open[0] == "opml" && open[1] == "body"
}

fn is_head_title(open: &[String]) -> bool {
    open.len() == 3 && open[1] == "head" && open[2] == "title"
}

fn local_name(e: &BytesStart) -> String {
    e.local_name().as_ref().to_ascii_lowercase()
}

/// Reads an outline: a feed is recorded in `items`; the frame says what it is while open.
fn outline(e: &BytesStart, frames: &mut [Frame], items: &mut Vec<Item>) -> Frame {
    if let Some(parent) = frames.last_mut() {
        parent.has_children = true;
    }
    let a = attrs(e);
    let label = a
        .text
        .clone()
        .filter(|t| !t.is_empty())
        .or_else(|| a.title.clone().filter(|t| !t.is_empty()));
    let folders: Vec<String> = frames.iter().filter_map(|f| f.folder.clone()).collect();
    match a.xml_url {
        Some(Ok(url)) if !url.is_empty() => {
            let name = label.unwrap_or_else(|| fallback_name(&url, a.html_url.as_deref()));
            items.push(Item::Feed(Feed {
                name,
                xml_url: url,
                html_url: a.html_url,
                folders,
            }));
            Frame {
                folder: None,
                invalid_if_empty: None,
                has_children: false,
            }
        }
        Some(Err(reason)) => {
            items.push(Item::Invalid {
                name: label.unwrap_or_else(|| "(no name)".into()),
                reason: format!("xmlUrl: {reason}"),
            });
            Frame {
                folder: None,
                invalid_if_empty: None,
                has_children: false,
            }
        }
        _ => {
            let feedish = a.kind.as_deref().is_some_and(|k| {
                matches!(k.to_ascii_lowercase().as_str(), "rss" | "atom" | "feed")
            });
            Frame {
                folder: label.clone(),
                invalid_if_empty: feedish.then(|| Item::Invalid {
                    name: label.unwrap_or_else(|| "(no name)".into()),
                    reason: "a feed outline without xmlUrl".into(),
                }),
                has_children: false,
            }
        }
    }
}

fn attrs(e: &BytesStart) -> OutlineAttrs {
    let mut out = OutlineAttrs::default();
    for a in e.attributes().with_checks(false).flatten() {
        let key = a.key.local_name().as_ref().to_ascii_lowercase();
        match key.as_str() {
            "text" => out.text = Some(collapse(&value_or_raw(&a))),
            "title" => out.title = Some(collapse(&value_or_raw(&a))),
            "type" => out.kind = Some(value_or_raw(&a).trim().to_string()),
            "xmlurl" => out.xml_url = Some(value(&a).map(|v| v.trim().to_string())),
            "htmlurl" => {
                out.html_url = value(&a)
                    .ok()
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
            }
            _ => {}
        }
    }
    out
}

/// An attribute's value with XML's five entities and character references decoded; any other
/// entity (one a DOCTYPE declares, or an HTML one like `&nbsp;`) is an error, never expanded.
fn value(a: &Attribute) -> Result<String, String> {
    a.normalized_value(XmlVersion::Implicit1_0)
        .map(Cow::into_owned)
        .map_err(|e| {
            // "at 19..23: unrecognized entity `boom`": the offset is within the value.
            let m = e.to_string();
            let m = match m.split_once(": ") {
                Some((at, rest)) if at.starts_with("at ") => rest.to_string(),
                _ => m,
            };
            format!("{m} (only XML's own entities are decoded)")
        })
}

/// For names: decoded when possible, else as written.
fn value_or_raw(a: &Attribute) -> String {
    value(a).unwrap_or_else(|_| a.value.to_string())
}

/// Whitespace runs (newlines in a long title) become one space.
fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A name for a feed outline that has neither `text` nor `title`: the site's or the feed's host.
fn fallback_name(xml_url: &str, html_url: Option<&str>) -> String {
    html_url
        .into_iter()
        .chain([xml_url])
        .find_map(|u| {
            url::Url::parse(u).ok().and_then(|u| {
                u.host_str()
                    .map(|h| h.trim_start_matches("www.").to_string())
            })
        })
        .unwrap_or_else(|| xml_url.to_string())
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |i| before.len() - i - 1)
        + 1;
    (line, column)
}

/// The section of a feed in `folders` (outermost first), given the configured sections: the
/// outermost folder that names a configured section (case-insensitively; spelled as
/// configured), else the whole folder path joined with " / ", else none.
pub fn section_for(folders: &[String], sections: &[String]) -> Option<String> {
    let folders: Vec<&str> = folders
        .iter()
        .map(|f| f.trim())
        .filter(|f| !f.is_empty())
        .collect();
    for f in &folders {
        if let Some(s) = sections.iter().find(|s| Sections::same(s, f)) {
            return Some(s.clone());
        }
    }
    (!folders.is_empty()).then(|| folders.join(" / "))
}

/// The document's items as feeds to append (with their sections), or as `(name, why)` when
/// an outline cannot be a feed.
pub fn new_feeds(doc: &Document, sections: &[String]) -> Vec<Result<NewFeed, (String, String)>> {
    doc.items
        .iter()
        .map(|item| match item {
            Item::Feed(f) => Ok(NewFeed {
                name: f.name.clone(),
                url: f.xml_url.clone(),
                section: section_for(&f.folders, sections),
            }),
            Item::Invalid { name, reason } => Err((name.clone(), reason.clone())),
        })
        .collect()
}

/// Renders feeds as an OPML 2.0 document: one folder outline per section (configured sections
/// first, in their order, then the others in the order feeds use them), feeds without a section
/// at the top level, before the folders. Every name and URL is escaped by quick-xml; characters
/// XML 1.0 forbids are dropped.
pub fn render(
    feeds: &[FeedConfig],
    sections: &[String],
    title: &str,
    now: DateTime<Utc>,
) -> String {
    let x = crate::text::clean_control;
    let mut order: Vec<String> = Vec::new();
    for s in sections {
        if feeds
            .iter()
            .any(|f| f.section.as_deref() == Some(s.as_str()))
        {
            order.push(s.clone());
        }
    }
    for f in feeds {
        if let Some(s) = &f.section
            && !order.contains(s)
        {
            order.push(s.clone());
        }
    }

    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let ok = "writing to a Vec";
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))
        .expect(ok);
    w.write_event(Event::Start(
        BytesStart::new("opml").with_attributes([("version", "2.0")]),
    ))
    .expect(ok);
    w.create_element("head")
        .write_inner_content(|w| {
            w.create_element("title")
                .write_text_content(BytesText::new(&x(title)))?;
            w.create_element("dateCreated")
                .write_text_content(BytesText::new(&now.to_rfc2822()))?;
            w.create_element("docs")
                .write_text_content(BytesText::new("https://opml.org/spec2.opml"))?;
            Ok(())
        })
        .expect(ok);
    w.write_event(Event::Start(BytesStart::new("body")))
        .expect(ok);
    let feed = |w: &mut Writer<Vec<u8>>, f: &FeedConfig| {
        let name = x(&f.name);
        w.create_element("outline")
            .with_attributes([
                ("type", "rss"),
                ("text", name.as_str()),
                ("title", name.as_str()),
                ("xmlUrl", f.url.as_str()),
            ])
            .write_empty()
            .expect(ok);
    };
    for f in feeds.iter().filter(|f| f.section.is_none()) {
        feed(&mut w, f);
    }
    for s in &order {
        let name = x(s);
        w.write_event(Event::Start(
            BytesStart::new("outline")
                .with_attributes([("text", name.as_str()), ("title", name.as_str())]),
        ))
        .expect(ok);
        for f in feeds.iter().filter(|f| f.section.as_ref() == Some(s)) {
            feed(&mut w, f);
        }
        w.write_event(Event::End(BytesEnd::new("outline")))
            .expect(ok);
    }
    w.write_event(Event::End(BytesEnd::new("body"))).expect(ok);
    w.write_event(Event::End(BytesEnd::new("opml"))).expect(ok);
    let mut out = String::from_utf8(w.into_inner()).expect("quick-xml writes UTF-8");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feeds(doc: &Document) -> Vec<(&str, &str, Vec<&str>)> {
        doc.items
            .iter()
            .filter_map(|i| match i {
                Item::Feed(f) => Some((
                    f.name.as_str(),
                    f.xml_url.as_str(),
                    f.folders.iter().map(String::as_str).collect(),
                )),
                Item::Invalid { .. } => None,
            })
            .collect()
    }

    fn invalid(doc: &Document) -> Vec<(&str, &str)> {
        doc.items
            .iter()
            .filter_map(|i| match i {
                Item::Invalid { name, reason } => Some((name.as_str(), reason.as_str())),
                Item::Feed(_) => None,
            })
            .collect()
    }

    #[test]
    fn opml_1_0_with_case_variants_title_text_and_nesting() {
        let doc = parse(
            br#"<?xml version="1.0" encoding="ISO-8859-1"?>
<opml version="1.0"><head><title>Subs &amp; more</title></head><body>
<outline text="Blogs">
  <outline text="Rust" xmlurl="https://blog.rust-lang.org/feed.xml" htmlurl="https://blog.rust-lang.org/"/>
  <outline title="Only title" XMLURL=" https://t.example/rss "/>
  <outline text="Text wins" title="Title loses" xmlUrl="https://w.example/rss" type="atom"/>
  <outline text="Deeper"><outline text="Deep" xmlUrl="https://d.example/rss"></outline></outline>
</outline>
<outline text="Top" type="rss" xmlUrl="https://top.example/rss"/>
</body></opml>"#,
        )
        .unwrap();
        assert_eq!(doc.title.as_deref(), Some("Subs & more"));
        assert_eq!(
            feeds(&doc),
            vec![
                ("Rust", "https://blog.rust-lang.org/feed.xml", vec!["Blogs"]),
                ("Only title", "https://t.example/rss", vec!["Blogs"]),
                ("Text wins", "https://w.example/rss", vec!["Blogs"]),
                ("Deep", "https://d.example/rss", vec!["Blogs", "Deeper"]),
                ("Top", "https://top.example/rss", vec![]),
            ]
        );
        let Item::Feed(rust) = &doc.items[0] else {
            panic!("{:?}", doc.items[0])
        };
        assert_eq!(
            rust.html_url.as_deref(),
            Some("https://blog.rust-lang.org/")
        );
    }

    #[test]
    fn entities_bom_and_doctype_entities_not_expanded() {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(
            br#"<?xml version="1.0"?>
<!DOCTYPE opml [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
]>
<opml version="2.0"><body>
<outline text="Caf&#233; &lt;&amp;&gt; &quot;x&quot; &#x263A;" xmlUrl="https://c.example/rss?a=1&amp;b=2"/>
<outline text="Bomb &lol2;" xmlUrl="https://b.example/&lol2;"/>
</body></opml>"#,
        );
        let doc = parse(&bytes).unwrap();
        assert_eq!(
            feeds(&doc),
            vec![("Café <&> \"x\" ☺", "https://c.example/rss?a=1&b=2", vec![])]
        );
        let bad = invalid(&doc);
        assert_eq!(bad.len(), 1, "{bad:?}");
        // The name keeps the entity as written; the URL is refused, never expanded.
        assert_eq!(bad[0].0, "Bomb &lol2;");
        assert!(bad[0].1.contains("lol2"), "{}", bad[0].1);
        assert!(!format!("{doc:?}").contains("lollol"));
    }

    #[test]
    fn folders_without_xml_url_and_feed_outlines_without_one() {
        let doc = parse(
            br#"<opml version="2.0"><head/><body>
<outline text="Empty folder"/>
<outline text="A link" type="link" url="https://l.example/"/>
<outline text="No URL" type="rss"/>
<outline text="No URL either" type="RSS"></outline>
<outline text="Blank URL" type="rss" xmlUrl="  "/>
<outline type="rss" xmlUrl="https://www.named-by-host.example/feed"/>
<outline text="" title="" xmlUrl="https://x.example/f" htmlUrl="https://www.site.example/"/>
<outline text="Folder">
  <outline text="Feed with children" xmlUrl="https://p.example/rss">
    <outline text="Child" xmlUrl="https://c.example/rss"/>
  </outline>
</outline>
</body></opml>"#,
        )
        .unwrap();
        assert_eq!(
            feeds(&doc),
            vec![
                (
                    "named-by-host.example",
                    "https://www.named-by-host.example/feed",
                    vec![]
                ),
                ("site.example", "https://x.example/f", vec![]),
                (
                    "Feed with children",
                    "https://p.example/rss",
                    vec!["Folder"]
                ),
                ("Child", "https://c.example/rss", vec!["Folder"]),
            ]
        );
        assert_eq!(
            invalid(&doc),
            vec![
                ("No URL", "a feed outline without xmlUrl"),
                ("No URL either", "a feed outline without xmlUrl"),
                ("Blank URL", "a feed outline without xmlUrl"),
            ]
        );
    }

    #[test]
    fn malformed_and_foreign_documents_are_errors() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "empty"),
            (b"   \n", "empty"),
            (
                b"<rss version=\"2.0\"><channel/></rss>",
                "root element is <rss>",
            ),
            (b"<opml version=\"2.0\"><head/></opml>", "no <body>"),
            (b"<opml/>", "no <body>"),
            (b"<opml><body><outline text=\"a\"></body></opml>", "line 1"),
            (
                b"<opml>\n<body>\n<outline text=\"a\" xmlUrl=\"https://a/\"/>\n",
                "ends before </body>",
            ),
            (
                b"<opml><body><outline text=\"a></body></opml>",
                "not well-formed",
            ),
        ];
        for (input, want) in cases {
            let err = parse(input).unwrap_err().to_string();
            assert!(
                err.contains(want),
                "{:?}: {err}",
                String::from_utf8_lossy(input)
            );
        }
        let err = parse(b"<opml>\n<body>\n  <outline></outlin>\n</body></opml>").unwrap_err();
        assert!(
            matches!(err, OpmlError::Xml { line: 3, .. }),
            "the line of the mismatch: {err}"
        );
    }

    #[test]
    fn section_rule() {
        let sections: Vec<String> = ["News", "Jobs", "Events", "Tools"]
            .map(String::from)
            .to_vec();
        let s = |folders: &[&str]| {
            section_for(
                &folders.iter().map(|f| f.to_string()).collect::<Vec<_>>(),
                &sections,
            )
        };
        assert_eq!(s(&[]), None);
        assert_eq!(s(&["tools"]).as_deref(), Some("Tools"));
        assert_eq!(s(&["Tech", "Rust"]).as_deref(), Some("Tech / Rust"));
        // The outermost configured section wins, wherever it is in the path.
        assert_eq!(s(&["Work", "JOBS", "News"]).as_deref(), Some("Jobs"));
        assert_eq!(s(&[" ", "Blogs "]).as_deref(), Some("Blogs"));
    }

    fn feed(name: &str, url: &str, section: Option<&str>) -> FeedConfig {
        FeedConfig {
            name: name.into(),
            url: url::Url::parse(url).unwrap(),
            section: section.map(String::from),
            schedule: None,
            weight: 1.0,
            keywords: Vec::new(),
            allow_private: false,
        }
    }

    #[test]
    fn render_groups_by_section_escapes_and_reads_back() {
        let feeds = vec![
            feed("Tools feed", "https://t.example/rss", Some("Tools")),
            feed(
                "Q&A <\"quoted\"> 'x'\u{1}",
                "https://q.example/rss?a=1&b=2",
                None,
            ),
            feed("Own", "https://o.example/rss", Some("Tech / Rust")),
            feed("News feed", "https://n.example/rss", Some("News")),
        ];
        let sections: Vec<String> = ["News", "Tools"].map(String::from).to_vec();
        let now = DateTime::parse_from_rfc3339("2026-04-07T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let text = render(&feeds, &sections, "Ops & <Weekly>", now);
        assert_eq!(
            text,
            r#"<?xml version="1.0" encoding="utf-8"?>
<opml version="2.0">
  <head>
    <title>Ops &amp; &lt;Weekly&gt;</title>
    <dateCreated>Tue, 7 Apr 2026 09:00:00 +0000</dateCreated>
    <docs>https://opml.org/spec2.opml</docs>
  </head>
  <body>
    <outline type="rss" text="Q&amp;A &lt;&quot;quoted&quot;&gt; &apos;x&apos;" title="Q&amp;A &lt;&quot;quoted&quot;&gt; &apos;x&apos;" xmlUrl="https://q.example/rss?a=1&amp;b=2"/>
    <outline text="News" title="News">
      <outline type="rss" text="News feed" title="News feed" xmlUrl="https://n.example/rss"/>
    </outline>
    <outline text="Tools" title="Tools">
      <outline type="rss" text="Tools feed" title="Tools feed" xmlUrl="https://t.example/rss"/>
    </outline>
    <outline text="Tech / Rust" title="Tech / Rust">
      <outline type="rss" text="Own" title="Own" xmlUrl="https://o.example/rss"/>
    </outline>
  </body>
</opml>
"#
        );
        let back = parse(text.as_bytes()).unwrap();
        assert_eq!(back.title.as_deref(), Some("Ops & <Weekly>"));
        let mut got: Vec<(String, String, Option<String>)> = new_feeds(&back, &sections)
            .into_iter()
            .map(|f| f.unwrap())
            .map(|f| (f.name, f.url, f.section))
            .collect();
        let mut want: Vec<(String, String, Option<String>)> = feeds
            .iter()
            .map(|f| {
                (
                    crate::text::clean_control(&f.name),
                    f.url.to_string(),
                    f.section.clone(),
                )
            })
            .collect();
        got.sort();
        want.sort();
        assert_eq!(got, want);
    }
}
