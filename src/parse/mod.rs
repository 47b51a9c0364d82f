//! Feed bytes → [`ParsedFeed`]: charset, then the reader for the document's format.
//!
//! - The bytes become UTF-8 in [`charset::decode`] (never a `text()` guess).
//! - XML (RSS 0.9x/1.0/2.0, Atom 0.3/1.0) is read by [`xml`], gleaner's own streaming reader
//!   with feedparser's rules: extension elements, text constructs, `xml:base`, HTML entities,
//!   and a document cut off mid-way keeps its complete entries (issue 14).
//! - JSON Feed is read by feed-rs: its `sanitize` feature is off (gleaner owns one HTML policy,
//!   in `clean`) and its id generator returns nothing (its fallback is a hash of link + title
//!   or a random UUID, and neither is an identity). A JSON Feed it rejects is retried once
//!   after [`repair::fix_json`]; the error reported is the original one.
//! - Dates are read by [`date::parse`], in XML and JSON alike.

pub mod charset;
pub mod date;
pub mod mojibake;
pub mod repair;
pub mod xml;

use feed_rs::model::{Feed, Link, Text};
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
    let text = decoded.text;
    if looks_like_html(&text) {
        return Err(ParseError::HtmlPage(content_type.map(str::to_string)));
    }
    let mut feed = if text
        .trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n'])
        .starts_with('{')
    {
        read_json(&text, base)?
    } else {
        let utf8_source = decoded.encoding == encoding_rs::UTF_8;
        xml::read(&text, base, utf8_source).map_err(|e| match e {
            xml::XmlError::NotAFeed(root) => ParseError::Invalid(format!(
                "the document is <{root}>, not a feed (expected <rss>, <feed>, <rdf:RDF> or a JSON Feed)"
            )),
            xml::XmlError::Malformed(why) => {
                ParseError::Invalid(format!("unable to parse XML: {why}"))
            }
        })?
    };
    if decoded.repaired {
        feed.repairs.insert(0, "charset");
    }
    Ok(feed)
}

/// A JSON Feed through feed-rs, retried once after [`repair::fix_json`].
fn read_json(text: &str, base: &Url) -> Result<ParsedFeed, ParseError> {
    match feed_rs_parse(text, base) {
        Ok(feed) => Ok(convert(feed, base, Vec::new())),
        Err(original) => repair::fix_json(text)
            .and_then(|fixed| feed_rs_parse(&fixed, base).ok())
            .map(|feed| convert(feed, base, vec!["json"]))
            .ok_or(ParseError::Invalid(original)),
    }
}

/// feed-rs as gleaner runs it: links resolve against `base`, no sanitizing (gleaner owns
/// that), no generated ids (an empty id tells `dedup` the document gave none), gleaner's dates.
pub fn feed_rs_parser(base: &Url) -> feed_rs::parser::Parser {
    feed_rs::parser::Builder::new()
        .base_uri(Some(base.as_str()))
        .sanitize_content(false)
        .id_generator(|_, _, _| String::new())
        .timestamp_parser(date::parse)
        .build()
}

/// How the error of a document feed-rs panicked on starts.
const CRASHED: &str = "the feed parser crashed";

/// A panic inside feed-rs is caught and becomes this document's error: a panic must cost one
/// document, not a thread. (The default panic hook still prints it to stderr.)
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
    parsed.map_err(|e| e.to_string())
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

/// A JSON Feed as feed-rs read it → [`ParsedFeed`].
fn convert(feed: Feed, base: &Url, repairs: Vec<&'static str>) -> ParsedFeed {
    let site_url = main_link(&feed.links, base);
    let entries = feed
        .entries
        .into_iter()
        .map(|e| {
            let id = Some(e.id.trim().to_string()).filter(|s| !s.is_empty());
            // An id that is a URL is the permalink when the item has no url.
            let link = main_link(&e.links, base).or_else(|| {
                id.as_deref()
                    .and_then(|i| Url::parse(i).ok())
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .map(String::from)
            });
            let content = e.content.and_then(|c| {
                let kind = kind_of(c.content_type.as_str());
                c.body.map(|text| RawText::new(text, kind))
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
        format: "json".to_string(),
        title: feed.title.map(|t| t.content),
        site_url,
        ttl: feed.ttl,
        entries,
        repairs,
        truncated: None,
    }
}

fn raw_text(t: Text) -> RawText {
    RawText::new(t.content, kind_of(t.content_type.as_str()))
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
    fn rss_without_a_version_is_read() {
        let f = parse(
            b"<rss><channel><title>T</title><item><guid>1</guid><title>A</title></item></channel></rss>",
            None,
            &base(),
        )
        .unwrap();
        assert_eq!(f.entries.len(), 1);
        assert_eq!(f.entries[0].id.as_deref(), Some("1"));
    }

    #[test]
    fn bare_ampersand_is_read_as_a_character() {
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
    /// multi-byte character. gleaner's reader takes the name apart itself.
    #[test]
    fn an_author_address_touching_a_multibyte_character_is_read() {
        for (author, name) in [
            (
                "jane@example.com\u{2019}s desk",
                "jane@example.com\u{2019}s desk",
            ),
            (
                "Jane Doe, press office \u{ab}jane@example.com",
                "Jane Doe, press office \u{ab}jane@example.com",
            ),
            (
                "jane@example.com (Jane \u{e9}t\u{e9})",
                "Jane \u{e9}t\u{e9}",
            ),
        ] {
            let doc = format!(
                "<rss version=\"2.0\"><channel><title>x</title><managingEditor>{author}</managingEditor><item><title>t</title><author>{author}</author></item></channel></rss>"
            );
            let f = parse(doc.as_bytes(), None, &base()).unwrap();
            assert_eq!(f.entries[0].title.as_ref().unwrap().text, "t", "{author}");
            assert_eq!(f.entries[0].authors, [name], "{author}");
        }
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
