//! `out/curated.atom`: an Atom 1.0 feed (RFC 4287) of the stories the editor picked, newest
//! pick first. Ids are stable `tag:` URIs (`tag:<authority>,2026:story-<id>`), the blurb is the
//! summary, the section the category, and `<source>` names the feed the story came from. The
//! XML is written with quick-xml, which escapes every text and attribute value.

use chrono::{DateTime, SecondsFormat, Utc};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

/// The date in every `tag:` id gleaner mints (RFC 4151 needs one; it must never change).
pub const TAG_DATE: &str = "2026";

/// The feed as a whole.
#[derive(Debug, Clone)]
pub struct FeedInfo {
    pub title: String,
    pub tag_authority: String,
    pub link: Option<String>,
    /// When the newest entry was picked (or now, for an empty feed).
    pub updated: DateTime<Utc>,
}

/// One picked story.
#[derive(Debug, Clone)]
pub struct Entry {
    pub story_id: i64,
    pub title: String,
    pub url: Option<String>,
    pub also_at: Vec<String>,
    pub picked_at: DateTime<Utc>,
    pub published: Option<DateTime<Utc>>,
    /// The blurb, else the excerpt.
    pub summary: String,
    pub section: String,
    /// The origin feed: name, feed URL, site URL.
    pub origin: Option<(String, String, Option<String>)>,
}

pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The link, when it is http(s): no other scheme reaches a curated feed.
pub(crate) fn http(u: &str) -> Option<&str> {
    let l = u.trim().to_ascii_lowercase();
    (l.starts_with("https://") || l.starts_with("http://")).then_some(u.trim())
}

/// An entry's stable `tag:` id, the same in the Atom, RSS and JSON Feed versions.
pub(crate) fn entry_id(feed: &FeedInfo, e: &Entry) -> String {
    format!("tag:{},{TAG_DATE}:story-{}", feed.tag_authority, e.story_id)
}

/// Renders the curated feed. Characters XML 1.0 forbids are dropped from every text (quick-xml
/// escapes markup, not control characters).
pub fn render(feed: &FeedInfo, entries: &[Entry]) -> String {
    let x = crate::text::clean_control;
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let write = |w: &mut Writer<Vec<u8>>, e: Event| w.write_event(e).expect("writing to a Vec");
    write(
        &mut w,
        Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)),
    );
    write(
        &mut w,
        Event::Start(
            BytesStart::new("feed").with_attributes([("xmlns", "http://www.w3.org/2005/Atom")]),
        ),
    );
    let text = |w: &mut Writer<Vec<u8>>, name: &str, value: &str| {
        w.create_element(name)
            .write_text_content(BytesText::new(&x(value)))
            .expect("writing to a Vec");
    };
    text(
        &mut w,
        "id",
        &format!("tag:{},{TAG_DATE}:curated", feed.tag_authority),
    );
    text(&mut w, "title", &feed.title);
    text(&mut w, "updated", &rfc3339(feed.updated));
    w.create_element("author")
        .write_inner_content(|w| {
            w.create_element("name")
                .write_text_content(BytesText::new(&feed.title))?;
            Ok(())
        })
        .expect("writing to a Vec");
    if let Some(l) = feed.link.as_deref().and_then(http) {
        w.create_element("link")
            .with_attributes([("rel", "alternate"), ("href", l)])
            .write_empty()
            .expect("writing to a Vec");
    }
    w.create_element("generator")
        .with_attributes([
            ("uri", env!("CARGO_PKG_REPOSITORY")),
            ("version", env!("CARGO_PKG_VERSION")),
        ])
        .write_text_content(BytesText::new("gleaner"))
        .expect("writing to a Vec");

    for e in entries {
        write(&mut w, Event::Start(BytesStart::new("entry")));
        text(&mut w, "id", &entry_id(feed, e));
        w.create_element("title")
            .with_attribute(("type", "text"))
            .write_text_content(BytesText::new(&x(&e.title)))
            .expect("writing to a Vec");
        let link = e.url.as_deref().and_then(http);
        if let Some(u) = link {
            w.create_element("link")
                .with_attributes([("rel", "alternate"), ("type", "text/html"), ("href", u)])
                .write_empty()
                .expect("writing to a Vec");
        }
        for u in e.also_at.iter().filter_map(|u| http(u)) {
            w.create_element("link")
                .with_attributes([("rel", "related"), ("href", u)])
                .write_empty()
                .expect("writing to a Vec");
        }
        text(&mut w, "updated", &rfc3339(e.picked_at));
        if let Some(p) = e.published.filter(|p| *p <= e.picked_at) {
            text(&mut w, "published", &rfc3339(p));
        }
        if !e.summary.trim().is_empty() {
            w.create_element("summary")
                .with_attribute(("type", "text"))
                .write_text_content(BytesText::new(x(&e.summary).trim()))
                .expect("writing to a Vec");
        }
        if link.is_none() {
            // RFC 4287 §4.1.1: an entry without an alternate link must have content. Cleaned
            // like every other text: a control character in a blurb made the feed ill-formed.
            let body = if e.summary.is_empty() {
                &e.title
            } else {
                &e.summary
            };
            w.create_element("content")
                .with_attribute(("type", "text"))
                .write_text_content(BytesText::new(&x(body)))
                .expect("writing to a Vec");
        }
        w.create_element("category")
            .with_attributes([("term", x(&e.section).as_str())])
            .write_empty()
            .expect("writing to a Vec");
        if let Some((name, feed_url, site)) = &e.origin {
            write(&mut w, Event::Start(BytesStart::new("source")));
            if let Some(u) = http(feed_url) {
                text(&mut w, "id", u);
            }
            text(&mut w, "title", name);
            if let Some(u) = site.as_deref().and_then(http) {
                w.create_element("link")
                    .with_attributes([("rel", "alternate"), ("href", u)])
                    .write_empty()
                    .expect("writing to a Vec");
            }
            if let Some(u) = http(feed_url) {
                w.create_element("link")
                    .with_attributes([("rel", "self"), ("href", u)])
                    .write_empty()
                    .expect("writing to a Vec");
            }
            write(&mut w, Event::End(BytesEnd::new("source")));
        }
        write(&mut w, Event::End(BytesEnd::new("entry")));
    }
    write(&mut w, Event::End(BytesEnd::new("feed")));
    let mut s = String::from_utf8(w.into_inner()).expect("quick-xml writes UTF-8");
    s.push('\n');
    s
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    pub(crate) fn sample() -> (FeedInfo, Vec<Entry>) {
        let feed = FeedInfo {
            title: "DevOps Weekly picks".into(),
            tag_authority: "devopsweekly.example".into(),
            link: Some("https://devopsweekly.example/".into()),
            updated: t("2026-11-29T08:00:00Z"),
        };
        let entries = vec![
            Entry {
                story_id: 42,
                title: "<script>alert(1)</script> & \"quotes\" ]]> \u{e9}\u{1b}[31m\u{c}".into(),
                url: Some("https://blog.example/pg?a=1&b=2".into()),
                also_at: vec![
                    "https://mirror.example/pg".into(),
                    "javascript:alert(1)".into(),
                ],
                picked_at: t("2026-11-29T08:00:00Z"),
                published: Some(t("2026-11-27T10:00:00Z")),
                summary: "A blurb with <b>tags</b> & entities &amp; more.".into(),
                section: "News".into(),
                origin: Some((
                    "Acme <Eng>".into(),
                    "https://blog.example/feed.xml".into(),
                    Some("https://blog.example/".into()),
                )),
            },
            Entry {
                story_id: 7,
                title: "Added by hand".into(),
                url: None,
                also_at: vec![],
                picked_at: t("2026-11-28T08:00:00Z"),
                published: None,
                summary: "".into(),
                section: "Tools".into(),
                origin: None,
            },
        ];
        (feed, entries)
    }

    #[test]
    fn atom_snapshot() {
        let (feed, entries) = sample();
        insta::assert_snapshot!(render(&feed, &entries));
    }

    #[test]
    fn control_characters_never_reach_the_content_of_an_entry_without_a_link() {
        let (feed, mut entries) = sample();
        entries[1].summary = "a blurb \u{1}with\u{3} \u{1b}[31mcontrols\u{c}".into();
        let xml = render(&feed, &entries);
        assert!(!xml.chars().any(|c| c.is_control() && c != '\n'), "{xml:?}");
        let parsed = feed_rs::parser::parse(xml.as_bytes()).unwrap();
        let content = parsed.entries[1].content.as_ref().unwrap();
        assert_eq!(content.body.as_deref(), Some("a blurb with [31mcontrols"));
    }

    #[test]
    fn round_trips_through_feed_rs_with_hostile_text_intact_as_text() {
        let (feed, entries) = sample();
        let xml = render(&feed, &entries);
        let parsed = feed_rs::parser::parse(xml.as_bytes()).unwrap();
        assert_eq!(parsed.entries.len(), 2);
        let e = &parsed.entries[0];
        assert_eq!(e.id, "tag:devopsweekly.example,2026:story-42");
        assert_eq!(
            e.title.as_ref().unwrap().content,
            "<script>alert(1)</script> & \"quotes\" ]]> \u{e9}[31m"
        );
        assert_eq!(e.links[0].href, "https://blog.example/pg?a=1&b=2");
        assert_eq!(e.summary.as_ref().unwrap().content, entries[0].summary);
        assert_eq!(e.categories[0].term, "News");
        assert!(!xml.contains("javascript:"));
        assert!(!xml.contains("<script"));
    }
}
