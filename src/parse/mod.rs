//! Feed bytes → [`ParsedFeed`]: charset, then feed-rs, then repair-and-retry.
//!
//! feed-rs reads RSS 0.9x/1.0/2.0, Atom and JSON Feed. It gets the raw bytes after
//! [`charset::decode`] (never a `text()` guess), its `sanitize` feature is off (gleaner owns one
//! HTML policy, in `clean`), and its id generator is replaced by one that returns nothing: its
//! fallback is a hash of link + title or a random UUID, and neither is an identity. When feed-rs
//! rejects a document, the [`repair`]s are applied and the parse is retried once; the error that
//! is reported is the original one.

pub mod charset;
pub mod repair;

use feed_rs::model::{Feed, FeedType, Link, Text};
use url::Url;

use crate::model::{ParsedFeed, RawEntry, RawText, TextKind};

/// Why a document could not be read as a feed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ParseError {
    #[error("empty response body")]
    Empty,
    #[error("not a feed: the server sent an HTML page{}", .0.as_deref().map(|t| format!(" ({t})")).unwrap_or_default())]
    HtmlPage(Option<String>),
    #[error("not a feed: {0}")]
    Invalid(String),
}

/// Parses a feed document. `base` resolves relative links (the URL the body came from).
pub fn parse(
    bytes: &[u8],
    content_type: Option<&str>,
    base: &Url,
) -> Result<ParsedFeed, ParseError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    if let Some(kind) = binary_kind(bytes) {
        return Err(ParseError::Invalid(format!(
            "the body is {kind}, not text (a compressed file served without Content-Encoding?)"
        )));
    }
    let decoded = charset::decode(bytes, content_type.and_then(charset_param));
    let mut text = decoded.text;
    if looks_like_html(&text) {
        return Err(ParseError::HtmlPage(content_type.map(str::to_string)));
    }
    let mut repairs = Vec::new();
    if decoded.repaired {
        repairs.push("charset");
    }

    // Atom 0.3 parses "successfully" into nothing: convert it before the first attempt.
    if let Some(converted) = repair::atom03_to_10(&text) {
        repairs.push("atom 0.3");
        text = converted.into();
    }
    let first = feed_rs_parse(&text, base);
    let feed = match first {
        Ok(feed) => feed,
        Err(original) => {
            let mut doc = text.into_owned();
            if original.starts_with(CRASHED)
                && let Some(fixed) = repair::space_around_emails(&doc)
            {
                repairs.push("emails");
                doc = fixed;
            }
            if doc.trim_start().starts_with('{') {
                if let Some(fixed) = repair::fix_json(&doc) {
                    repairs.push("json");
                    doc = fixed;
                }
            } else {
                if let Some(fixed) = repair::escape_bare_ampersands(&doc) {
                    repairs.push("references");
                    doc = fixed;
                }
                if let Some(fixed) = repair::fix_structure(&doc) {
                    repairs.push("structure");
                    doc = fixed;
                }
            }
            let retried = (repairs
                .iter()
                .any(|r| !matches!(*r, "charset" | "atom 0.3")))
            .then(|| feed_rs_parse(&doc, base).ok())
            .flatten();
            match retried {
                Some(feed) => feed,
                None => return Err(ParseError::Invalid(original)),
            }
        }
    };
    Ok(convert(feed, base, repairs))
}

/// feed-rs as gleaner runs it: links resolve against `base`, no sanitizing (gleaner owns
/// that), no generated ids (an empty id tells `dedup` the document gave none).
pub fn feed_rs_parser(base: &Url) -> feed_rs::parser::Parser {
    feed_rs::parser::Builder::new()
        .base_uri(Some(base.as_str()))
        .sanitize_content(false)
        .id_generator(|_, _, _| String::new())
        .build()
}

/// How the error of a document feed-rs panicked on starts.
const CRASHED: &str = "the feed parser crashed";

/// A panic inside feed-rs (or quick-xml under it) is caught and becomes this document's error:
/// feed-rs 3.0 has panicked on author texts (see [`repair::space_around_emails`]), and a panic
/// must cost one document, not a thread. (The default panic hook still prints it to stderr.)
fn feed_rs_parse(text: &str, base: &Url) -> Result<Feed, String> {
    let parsed = std::panic::catch_unwind(|| feed_rs_parser(base).parse(text.as_bytes())).map_err(
        |panic| {
            let what = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("a panic");
            format!("{CRASHED} on this document ({what})")
        },
    )?;
    parsed.map_err(|e| {
        let msg = e.to_string();
        // feed-rs says "no root element" for any document it does not recognise.
        if msg.ends_with("no root element") {
            format!("{msg} (expected <rss>, <feed>, <rdf:RDF> or a JSON Feed)")
        } else {
            msg
        }
    })
}

/// Recognises binary formats by their magic numbers.
fn binary_kind(bytes: &[u8]) -> Option<&'static str> {
    Some(match bytes {
        [0x1f, 0x8b, ..] => "gzip data",
        [0x78, 0x01 | 0x5e | 0x9c | 0xda, ..] => "zlib (deflate) data",
        [0x28, 0xb5, 0x2f, 0xfd, ..] => "zstd data",
        [b'P', b'K', 3, 4, ..] => "a zip archive",
        [b'%', b'P', b'D', b'F', ..] => "a PDF document",
        [0x89, b'P', b'N', b'G', ..] => "a PNG image",
        [0xff, 0xd8, 0xff, ..] => "a JPEG image",
        [b'G', b'I', b'F', b'8', ..] => "a GIF image",
        _ => return None,
    })
}

/// The `charset=` parameter of a Content-Type header.
fn charset_param(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"'))
    })
}

/// Whether the document's first markup is an HTML page rather than a feed.
fn looks_like_html(text: &str) -> bool {
    let mut rest = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    loop {
        if rest.starts_with("<?") {
            rest = rest.find("?>").map_or("", |i| &rest[i + 2..]);
        } else if rest.starts_with("<!--") {
            rest = rest.find("-->").map_or("", |i| &rest[i + 3..]);
        } else {
            break;
        }
        rest = rest.trim_start();
    }
    let head: String = rest
        .chars()
        .take(15)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html")
}

fn convert(feed: Feed, base: &Url, repairs: Vec<&'static str>) -> ParsedFeed {
    let format = match feed.feed_type {
        FeedType::Atom => "atom",
        FeedType::JSON => "json",
        FeedType::RSS0 => "rss0",
        FeedType::RSS1 => "rss1",
        FeedType::RSS2 => "rss2",
    };
    let site_url = main_link(&feed.links, base);
    let entries = feed
        .entries
        .into_iter()
        .map(|e| {
            let id = Some(e.id.trim().to_string()).filter(|s| !s.is_empty());
            // A guid that is a URL is the permalink when the item has no <link>.
            let link = main_link(&e.links, base).or_else(|| {
                id.as_deref()
                    .and_then(|i| Url::parse(i).ok())
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .map(String::from)
            });
            let content = e.content.and_then(|c| {
                let kind = kind_of(c.content_type.as_str());
                c.body.map(|text| RawText { text, kind })
            });
            RawEntry {
                id,
                title: e.title.map(raw_text),
                link,
                summary: e.summary.map(raw_text),
                content,
                published: e.published,
                updated: e.updated,
                authors: e
                    .authors
                    .into_iter()
                    .filter_map(|p| p.name)
                    .map(|n| n.trim().to_string())
                    .filter(|n| !n.is_empty())
                    .collect(),
                base: e.base,
            }
        })
        .collect();
    ParsedFeed {
        format: format.to_string(),
        title: feed.title.map(|t| t.content),
        site_url,
        ttl: feed.ttl,
        entries,
        repairs,
    }
}

fn raw_text(t: Text) -> RawText {
    RawText {
        kind: kind_of(t.content_type.as_str()),
        text: t.content,
    }
}

fn kind_of(media_type: &str) -> TextKind {
    let m = media_type.to_ascii_lowercase();
    if m.contains("html") {
        TextKind::Html
    } else {
        TextKind::Plain
    }
}

/// The entry's page: `rel="alternate"` or no rel, else any link that is not a feed plumbing link.
fn main_link(links: &[Link], base: &Url) -> Option<String> {
    let pick = links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or_else(|| {
            links.iter().find(|l| {
                !matches!(
                    l.rel.as_deref(),
                    Some("self" | "enclosure" | "edit" | "replies" | "hub" | "next" | "prev")
                )
            })
        })?;
    let href = pick.href.trim();
    if href.is_empty() {
        return None;
    }
    let url = base.join(href).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://blog.example/feed.xml").unwrap()
    }

    #[test]
    fn rss_without_guid_has_no_id_and_a_link() {
        let f = parse(
            b"<rss version=\"2.0\"><channel><title>T</title><item><title>A</title><link>/a</link></item></channel></rss>",
            None,
            &base(),
        )
        .unwrap();
        assert_eq!(f.format, "rss2");
        assert_eq!(f.entries[0].id, None);
        assert_eq!(f.entries[0].link.as_deref(), Some("https://blog.example/a"));
    }

    #[test]
    fn missing_rss_version_is_repaired() {
        let f = parse(
            b"<rss><channel><title>T</title><item><guid>1</guid><title>A</title></item></channel></rss>",
            None,
            &base(),
        )
        .unwrap();
        assert_eq!(f.entries.len(), 1);
        assert!(f.repairs.contains(&"structure"));
    }

    #[test]
    fn bare_ampersand_is_repaired() {
        let f = parse(
            b"<rss version=\"2.0\"><channel><item><title>AT&T</title></item></channel></rss>",
            None,
            &base(),
        )
        .unwrap();
        assert_eq!(f.entries[0].title.as_ref().unwrap().text, "AT&T");
    }

    #[test]
    fn html_pages_are_named() {
        let e = parse(
            b"<!DOCTYPE html><html><body>hi</body></html>",
            Some("text/html"),
            &base(),
        )
        .unwrap_err();
        assert_eq!(e, ParseError::HtmlPage(Some("text/html".into())));
        assert_eq!(
            parse(b"  \n", None, &base()).unwrap_err(),
            ParseError::Empty
        );
    }

    #[test]
    fn garbage_is_a_clear_error() {
        let e = parse(b"hello world", None, &base()).unwrap_err();
        assert!(e.to_string().starts_with("not a feed"), "{e}");
    }

    #[test]
    fn guid_url_is_the_link_when_there_is_none() {
        let f = parse(
            b"<rss version=\"2.0\"><channel><item><guid>https://x.example/p/1</guid></item></channel></rss>",
            None,
            &base(),
        )
        .unwrap();
        assert_eq!(f.entries[0].link.as_deref(), Some("https://x.example/p/1"));
    }

    /// Found by fuzzing (issue 6): this panicked inside quick-xml (via feed-rs), costing the feed.
    #[test]
    fn a_declaration_inside_an_item_does_not_panic() {
        let f = parse(
            b"<rss version=\"2.0\"><channel><title>x</title><item><title>t</title><?xml version=\"1.0\" encoding=\"iso-8859-1\"?></item></channel></rss>",
            None,
            &base(),
        )
        .unwrap();
        assert_eq!(f.entries[0].title.as_ref().unwrap().text, "t");
    }

    /// Found by fuzzing (issue 6): feed-rs 3.0 panicked when an author's address touched a
    /// multi-byte character; the document is read after spacing the address.
    #[test]
    fn an_author_address_touching_a_multibyte_character_does_not_panic() {
        for author in [
            "jane@example.com\u{2019}s desk",
            "Jane Doe, press office \u{ab}jane@example.com",
            "Jane \u{a0}mailto:jane@example.com",
        ] {
            let doc = format!(
                "<rss version=\"2.0\"><channel><title>x</title><managingEditor>{author}</managingEditor><item><title>t</title><author>{author}</author></item></channel></rss>"
            );
            let f = parse(doc.as_bytes(), None, &base()).unwrap();
            assert_eq!(f.entries[0].title.as_ref().unwrap().text, "t", "{author}");
            assert!(f.repairs.contains(&"emails"), "{author}");
        }
        assert_eq!(
            repair::space_around_emails(
                "a@b.example\u{2019}s, \u{ab}<[(c@d.example>])\u{bb} e@f.example"
            ),
            Some("a@b.example \u{2019}s, \u{ab} <[(c@d.example>]) \u{bb} e@f.example".into())
        );
        assert_eq!(
            repair::space_around_emails("plain a@b.example and @x"),
            None
        );
    }

    #[test]
    fn charset_param_is_read() {
        assert_eq!(
            charset_param("text/xml; charset=\"ISO-8859-1\""),
            Some("ISO-8859-1")
        );
        assert_eq!(charset_param("text/xml"), None);
    }
}
