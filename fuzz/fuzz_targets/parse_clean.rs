//! Feed bytes → `ingest::prepare` (charset, feed-rs with repairs, clean, dedup): what the poller
//! does with every body it fetches.
//!
//! Besides "never panics", it checks what the cleaning stage promises and can be checked
//! cheaply and soundly on its output:
//! - sanitized HTML has no script-capable element, no event handler, `style`, `id` or `class`
//!   attribute, and every URL attribute parses (as a browser would) to http, https or mailto;
//!   an iframe is an https embed from an allowed video host and is sandboxed;
//! - titles, excerpts and authors are plain text without control characters; a title is never
//!   empty; an excerpt is at most 300 characters and an ellipsis;
//! - a canonical URL is the canonical form of the entry's link, and canonical again.
//!
//! The first byte may choose a Content-Type (0x01–0x05), so charset parameters are fuzzed too.
#![no_main]

use std::sync::Once;

use gleaner::clean::{EXCERPT_CHARS, canonical, html::VIDEO_HOSTS};
use libfuzzer_sys::fuzz_target;
use url::Url;

const CONTENT_TYPES: &[&str] = &[
    "application/rss+xml; charset=utf-8",
    "text/xml; charset=iso-8859-1",
    "application/atom+xml; charset=\"windows-1251\"",
    "application/feed+json",
    "text/xml; charset=utf-16",
];

static HOOK: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    // libfuzzer-sys aborts on every panic, even one gleaner catches. feed-rs 3.0's author
    // splitting panics on a multi-byte neighbour of an address (JSON Feed is still read by
    // feed-rs): `parse` catches that and reports the document, so it is not a finding. Any other
    // panic still is.
    HOOK.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let known = info.location().is_some_and(|l| {
                l.file().contains("feed-rs") && l.file().ends_with("parser/util/mod.rs")
            });
            if !known {
                abort(info);
            }
        }));
    });
    let (content_type, body) = match data.first() {
        Some(&b @ 1..=5) => (Some(CONTENT_TYPES[usize::from(b) - 1]), &data[1..]),
        _ => (None, data),
    };
    let base = Url::parse("https://feed.example/blog/feed.xml").expect("base URL");
    let Ok(gleaner::model::Prepared { stories, feed, .. }) =
        gleaner::ingest::prepare(body, content_type, &base, None)
    else {
        return;
    };
    if let Some(t) = &feed.title {
        plain(t, "feed title");
    }
    for s in &stories {
        let e = &s.entry;
        assert!(!e.title.is_empty(), "empty title");
        plain(&e.title, "title");
        plain(&e.excerpt, "excerpt");
        assert!(
            e.excerpt.chars().count() <= EXCERPT_CHARS + 1,
            "excerpt of {} characters",
            e.excerpt.chars().count()
        );
        if let Some(a) = &e.author {
            plain(a, "author");
        }
        if let Some(c) = &e.canonical_url {
            let link = e.url.as_deref().expect("a canonical URL without a link");
            assert_eq!(canonical::canonicalize(link).as_deref(), Some(c.as_str()));
            assert_eq!(
                canonical::canonicalize(c).as_deref(),
                Some(c.as_str()),
                "canonical form is not canonical"
            );
        }
        check_html(&e.content_html);
    }
});

fn plain(s: &str, what: &str) {
    assert!(
        !s.chars().any(char::is_control),
        "{what} has a control character: {s:?}"
    );
}

/// Elements that run script, load plugins, submit, restyle the page or change how the rest of
/// the document parses: none may survive sanitizing.
const FORBIDDEN_TAGS: &[&str] = &[
    "script",
    "style",
    "object",
    "embed",
    "applet",
    "form",
    "input",
    "button",
    "select",
    "textarea",
    "option",
    "svg",
    "math",
    "base",
    "meta",
    "link",
    "frame",
    "frameset",
    "template",
    "noscript",
    "title",
    "xmp",
    "plaintext",
    "noembed",
    "noframes",
    "html",
    "head",
    "body",
    "portal",
    "slot",
    "dialog",
];

/// Attributes whose value is a URL a browser may load or navigate to.
const URL_ATTRS: &[&str] = &[
    "href",
    "src",
    "cite",
    "longdesc",
    "poster",
    "action",
    "formaction",
    "background",
    "data",
    "codebase",
];

/// Walks HTML as html5ever's serializer writes it (what ammonia returns): text never holds a
/// raw `<` (it is `&lt;`), every attribute value is double-quoted, and `iframe` is the only
/// raw-text element the policy allows.
fn check_html(html: &str) {
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('/') {
            let end = after
                .find('>')
                .unwrap_or_else(|| fail(html, "unclosed end tag"));
            let name = &after[..end];
            assert!(is_name(name), "odd end tag `{name}` in {html:?}");
            rest = &after[end + 1..];
            continue;
        }
        assert!(!rest.starts_with('!'), "comment or declaration in {html:?}");
        let name_len = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        let name = &rest[..name_len];
        assert!(is_name(name), "raw `<` in text of {html:?}");
        assert!(!FORBIDDEN_TAGS.contains(&name), "<{name}> in {html:?}");
        rest = &rest[name_len..];
        let mut attrs: Vec<(&str, String)> = Vec::new();
        loop {
            rest = rest.trim_start_matches(' ');
            if let Some(r) = rest.strip_prefix('>') {
                rest = r;
                break;
            }
            let n = rest
                .find(['=', ' ', '>'])
                .unwrap_or_else(|| fail(html, "unclosed tag"));
            let attr = &rest[..n];
            assert!(!attr.is_empty(), "empty attribute name in {html:?}");
            rest = &rest[n..];
            let value = match rest.strip_prefix("=\"") {
                Some(r) => {
                    let q = r.find('"').unwrap_or_else(|| fail(html, "unclosed value"));
                    rest = &r[q + 1..];
                    unescape_attr(&r[..q])
                }
                None => String::new(),
            };
            attrs.push((attr, value));
        }
        for (attr, value) in &attrs {
            let lower = attr.to_ascii_lowercase();
            assert!(
                !lower.starts_with("on")
                    && !matches!(lower.as_str(), "style" | "id" | "class" | "srcdoc"),
                "attribute `{attr}` on <{name}> in {html:?}"
            );
            if URL_ATTRS.contains(&lower.as_str()) {
                let scheme = Url::parse(value).map(|u| u.scheme().to_string());
                assert!(
                    matches!(scheme.as_deref(), Ok("http" | "https" | "mailto")),
                    "{attr}=\"{value}\" on <{name}> in {html:?}"
                );
            }
        }
        if name == "iframe" {
            let src = attrs.iter().find(|(a, _)| *a == "src");
            let embed = src.and_then(|(_, v)| Url::parse(v).ok()).is_some_and(|u| {
                u.scheme() == "https" && u.host_str().is_some_and(|h| VIDEO_HOSTS.contains(&h))
            });
            assert!(embed, "iframe without an allowed src in {html:?}");
            assert!(
                attrs.iter().any(|(a, _)| *a == "sandbox"),
                "iframe without sandbox in {html:?}"
            );
            // Raw text up to the end tag: inert in a browser, never markup.
            rest = match rest.find("</iframe") {
                Some(i) => &rest[i..],
                None => "",
            };
        }
    }
}

fn is_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// The three references html5ever's serializer writes in attribute values.
fn unescape_attr(v: &str) -> String {
    v.replace("&quot;", "\"")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

fn fail(html: &str, what: &str) -> ! {
    panic!("{what} in {html:?}")
}
