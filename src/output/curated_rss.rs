//! `out/curated.rss`: the picks as RSS 2.0, for readers that want RSS; the same entries as
//! `curated.atom`. RSS readers render `<description>` (and many an item's `<title>`) as HTML,
//! so the plain texts are HTML-escaped before quick-xml escapes them for XML: they read as the
//! text they are (the browser test checks this with feedparser).

use chrono::{DateTime, Utc};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::output::atom::{Entry, FeedInfo, entry_id, http};

fn rfc2822(t: DateTime<Utc>) -> String {
    t.to_rfc2822()
}

/// Renders the curated feed as RSS 2.0.
pub fn render(feed: &FeedInfo, entries: &[Entry]) -> String {
    let x = crate::text::clean_control;
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let write = |w: &mut Writer<Vec<u8>>, e: Event| w.write_event(e).expect("writing to a Vec");
    let text = |w: &mut Writer<Vec<u8>>, name: &str, value: &str| {
        w.create_element(name)
            .write_text_content(BytesText::new(&x(value)))
            .expect("writing to a Vec");
    };
    write(
        &mut w,
        Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)),
    );
    write(
        &mut w,
        Event::Start(BytesStart::new("rss").with_attributes([("version", "2.0")])),
    );
    write(&mut w, Event::Start(BytesStart::new("channel")));
    text(&mut w, "title", &feed.title);
    // RSS 2.0 requires a channel link; without a configured one, the feed's own tag URI
    // is not a web page, so an empty link would be wrong: use the newest pick's page.
    let link = feed
        .link
        .as_deref()
        .and_then(http)
        .or_else(|| entries.iter().find_map(|e| e.url.as_deref().and_then(http)))
        .unwrap_or("");
    text(&mut w, "link", link);
    text(
        &mut w,
        "description",
        &format!("Stories picked for {}", feed.title),
    );
    text(&mut w, "lastBuildDate", &rfc2822(feed.updated));
    text(&mut w, "generator", "gleaner");
    for e in entries {
        write(&mut w, Event::Start(BytesStart::new("item")));
        // Readers treat an item's title as HTML too (feedparser does): escaped like the
        // description, so "<form>" in a title reads as text.
        text(&mut w, "title", &crate::text::escape_html(&x(&e.title)));
        if let Some(u) = e.url.as_deref().and_then(http) {
            text(&mut w, "link", u);
        }
        let body = if e.summary.trim().is_empty() {
            &e.title
        } else {
            &e.summary
        };
        text(
            &mut w,
            "description",
            &crate::text::escape_html(x(body).trim()),
        );
        w.create_element("guid")
            .with_attribute(("isPermaLink", "false"))
            .write_text_content(BytesText::new(&entry_id(feed, e)))
            .expect("writing to a Vec");
        text(&mut w, "pubDate", &rfc2822(e.picked_at));
        text(&mut w, "category", &e.section);
        if let Some((name, feed_url, _)) = &e.origin
            && let Some(u) = http(feed_url)
        {
            w.create_element("source")
                .with_attribute(("url", u))
                .write_text_content(BytesText::new(&x(name)))
                .expect("writing to a Vec");
        }
        write(&mut w, Event::End(BytesEnd::new("item")));
    }
    write(&mut w, Event::End(BytesEnd::new("channel")));
    write(&mut w, Event::End(BytesEnd::new("rss")));
    let mut s = String::from_utf8(w.into_inner()).expect("quick-xml writes UTF-8");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::atom::tests::sample;

    #[test]
    fn rss_snapshot() {
        let (feed, entries) = sample();
        insta::assert_snapshot!(render(&feed, &entries));
    }

    #[test]
    fn a_reader_sees_the_blurb_as_text_never_as_markup() {
        let (feed, entries) = sample();
        let xml = render(&feed, &entries);
        let parsed = feed_rs::parser::parse(xml.as_bytes()).unwrap();
        assert_eq!(parsed.entries.len(), 2);
        // The description a reader gets (XML-unescaped) is HTML that shows the text.
        let d = &parsed.entries[0].summary.as_ref().unwrap().content;
        assert!(
            d.contains("&lt;b&gt;tags&lt;/b&gt; &amp; entities &amp;amp; more."),
            "{d}"
        );
        assert!(!d.contains("<b>"));
        let t = &parsed.entries[0].title.as_ref().unwrap().content;
        assert!(
            t.starts_with("&lt;script&gt;alert(1)&lt;/script&gt; &amp; "),
            "{t}"
        );
        assert!(!xml.contains("javascript:"));
        assert!(!xml.chars().any(|c| c.is_control() && c != '\n'));
    }
}
