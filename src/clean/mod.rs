//! Parsed entry → [`CleanEntry`]: plain-text title, sanitized HTML, plain-text excerpt,
//! absolute and canonical URLs. Everything a later stage renders comes from here.

pub mod canonical;
pub mod html;

use url::Url;

use crate::model::{CleanEntry, RawEntry, RawText, TextKind};

/// Length of the plain-text excerpt, in characters.
pub const EXCERPT_CHARS: usize = 300;

/// Cleans one entry. `feed_url` is the URL the feed was fetched from.
pub fn clean_entry(raw: &RawEntry, feed_url: &Url) -> CleanEntry {
    clean_entry_with_text(raw, feed_url).0
}

/// [`clean_entry`], and the plain text of the sanitized body
/// ([`html::text_of_sanitized`] of `content_html`), which scoring reads: computed once here.
pub fn clean_entry_with_text(raw: &RawEntry, feed_url: &Url) -> (CleanEntry, String) {
    let url = raw.link.clone();
    // The link is parsed once, for its canonical form and as the base of relative URLs.
    let trimmed = url.as_deref().map(str::trim);
    let parsed = trimmed.and_then(|u| Url::parse(u).ok());
    let canonical_url = parsed.clone().and_then(canonical::canonicalize_url);

    // Relative URLs in the HTML resolve against xml:base, else the entry's page, else the feed.
    let base = raw
        .base
        .as_deref()
        .and_then(|b| feed_url.join(b).ok())
        .or_else(|| match (url.as_deref(), trimmed) {
            (Some(u), Some(t)) if u == t => parsed,
            (Some(u), _) => Url::parse(u).ok(),
            _ => None,
        })
        .unwrap_or_else(|| feed_url.clone());

    let content = non_empty(&raw.content);
    let summary = non_empty(&raw.summary);
    let body = content.or(summary);
    let content_html = body.map(|t| to_safe_html(t, &base)).unwrap_or_default();
    let body_text = html::text_of_sanitized(&content_html);
    // The summary is the author's own teaser when there is one besides the body; else the
    // body's opening. (An HTML summary that *is* the body is read from its sanitized form.)
    let teaser = match (content, summary) {
        (Some(_), Some(s)) => Some(s),
        (None, Some(s)) if s.kind == TextKind::Plain => Some(s),
        _ => None,
    };
    let excerpt_source = teaser
        .map(to_text)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| body_text.clone());
    let excerpt = html::truncate(&excerpt_source, EXCERPT_CHARS);

    let title = raw
        .title
        .as_ref()
        .map(title_text)
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| fallback_title(&excerpt, url.as_deref()));

    let author = (!raw.authors.is_empty()).then(|| {
        raw.authors
            .iter()
            .map(|a| html::plain_text(a))
            .collect::<Vec<_>>()
            .join(", ")
    });

    let entry = CleanEntry {
        title,
        url,
        canonical_url,
        author,
        published: raw.published.or(raw.updated),
        // "Updated" means changed afterwards: one date given as both is not an update.
        updated: raw
            .updated
            .filter(|u| raw.published.is_some_and(|p| p != *u)),
        excerpt,
        content_html,
    };
    (entry, body_text)
}

fn non_empty(t: &Option<RawText>) -> Option<&RawText> {
    t.as_ref().filter(|t| !t.text.trim().is_empty())
}

/// How much of an entry's HTML body is read: more than any story a newsletter links to, and a
/// bound on the sanitizer's worst case (html5ever's serializer searches a text node once per
/// `&` in it: a 15 MiB node of `&amp;` cost minutes of a core; 256 KiB costs at most ~0.06 s).
pub const MAX_HTML_BYTES: usize = 256 * 1024;

/// How deep an HTML body may nest elements and still be read as HTML: html5ever checks the
/// open elements at every tag, so a body of 50,000 nested `<div>`s cost 4 s of a core (found
/// by fuzzing, issue 14). No article nests anywhere near this; a body that does is read as
/// its text.
pub const MAX_HTML_DEPTH: usize = 256;

fn to_safe_html(t: &RawText, base: &Url) -> String {
    match t.kind {
        TextKind::Html => {
            let html = within_limit(&t.text);
            if nests_deeper_than(html, MAX_HTML_DEPTH) {
                return paragraphs(&html::text_of(html));
            }
            html::sanitize(html, Some(base))
        }
        TextKind::Plain => paragraphs(&t.text),
    }
}

/// Plain text as HTML paragraphs (blank lines apart), escaped, line breaks kept.
fn paragraphs(text: &str) -> String {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>", html::escape(p).replace('\n', "<br>")))
        .collect()
}

/// Whether the elements of `html` nest deeper than `limit`, by a scan of its tags: void
/// elements and those whose end tag HTML lets authors leave out (`p`, `li`, `td` …) do not
/// count, so only a pathological body exceeds any reasonable limit.
fn nests_deeper_than(html: &str, limit: usize) -> bool {
    const NOT_NESTING: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "tbody",
        "thead", "tfoot", "colgroup", "rb", "rt", "rp", "optgroup",
    ];
    let bytes = html.as_bytes();
    let mut depth = 0usize;
    for at in memchr::memchr_iter(b'<', bytes) {
        let rest = &bytes[at + 1..];
        let (closing, name_at) = match rest.first() {
            Some(b'/') => (true, 1),
            Some(c) if c.is_ascii_alphabetic() => (false, 0),
            _ => continue,
        };
        let name_len = rest[name_at..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        let name = &rest[name_at..name_at + name_len];
        if NOT_NESTING
            .iter()
            .any(|n| name.eq_ignore_ascii_case(n.as_bytes()))
        {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
        } else {
            let self_closed = rest[name_len..]
                .iter()
                .position(|&c| c == b'>')
                .is_some_and(|end| end > 0 && rest[name_len + end - 1] == b'/');
            if !self_closed {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
        }
    }
    false
}

/// The first [`MAX_HTML_BYTES`] of an HTML body, cut before the last tag that starts in them
/// (so that no tag is cut in half), else at a character boundary.
fn within_limit(html: &str) -> &str {
    if html.len() <= MAX_HTML_BYTES {
        return html;
    }
    let mut end = MAX_HTML_BYTES;
    while !html.is_char_boundary(end) {
        end -= 1;
    }
    match html[..end].rfind('<') {
        Some(tag) if tag > end / 2 => &html[..tag],
        _ => &html[..end],
    }
}

/// Plain text needs no sanitizing: `text_of` keeps only character data (never script or
/// style bodies), and the result is text that every renderer escapes.
fn to_text(t: &RawText) -> String {
    match t.kind {
        TextKind::Html => html::text_of(&t.text),
        TextKind::Plain => html::plain_text(&t.text),
    }
}

/// Titles are plain text. HTML titles lose their tags; in plain titles, entity references the
/// XML parser left literal (`&eacute;`) are decoded, and `<` stays a character — unless the
/// "plain" title carries closing tags of inline HTML (`Using <code>async</code>`), as RSS titles
/// often do, in which case it is read as HTML (feedparser does the same).
fn title_text(t: &RawText) -> String {
    match t.kind {
        TextKind::Html => html::text_of(&t.text),
        TextKind::Plain if looks_like_html(&t.text) => html::text_of(&t.text),
        TextKind::Plain => html::plain_text(&t.text),
    }
}

/// Whether a "plain" title is really HTML: it has an inline element opened and closed
/// (`<code>…</code>`). A lone `</b>`, or script and style, never count.
fn looks_like_html(text: &str) -> bool {
    const INLINE: &[&str] = &[
        "a", "abbr", "b", "big", "cite", "code", "del", "em", "i", "ins", "kbd", "mark", "q", "s",
        "small", "span", "strong", "sub", "sup", "tt", "u",
    ];
    if !text.contains("</") {
        return false; // nothing closed: the common case, decided without allocating
    }
    let lower = text.to_ascii_lowercase();
    INLINE.iter().any(|tag| {
        let close = format!("</{tag}>");
        let Some(end) = lower.find(&close) else {
            return false;
        };
        let open = format!("<{tag}");
        lower[..end]
            .match_indices(&open)
            .any(|(i, _)| matches!(lower.as_bytes().get(i + open.len()), Some(b'>' | b' ')))
    })
}

fn fallback_title(excerpt: &str, url: Option<&str>) -> String {
    if !excerpt.is_empty() {
        return html::truncate(excerpt, 80);
    }
    url.map_or_else(|| "(untitled)".to_string(), str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed() -> Url {
        Url::parse("https://blog.example/feed.xml").unwrap()
    }

    fn text(kind: TextKind, s: &str) -> Option<RawText> {
        Some(RawText::new(s, kind))
    }

    #[test]
    fn html_title_becomes_text_and_content_is_sanitized() {
        let raw = RawEntry {
            title: text(
                TextKind::Html,
                "<b>Big</b> &amp; <i>bold</i><script>x</script>",
            ),
            link: Some("https://www.blog.example/p/1/?utm_source=rss".into()),
            content: text(
                TextKind::Html,
                "<p>Hello <img src=\"a.png\"></p><script>bad()</script>",
            ),
            ..Default::default()
        };
        let c = clean_entry(&raw, &feed());
        assert_eq!(c.title, "Big & bold");
        assert_eq!(c.canonical_url.as_deref(), Some("https://blog.example/p/1"));
        assert!(
            c.content_html
                .contains("https://www.blog.example/p/1/a.png"),
            "{}",
            c.content_html
        );
        assert!(!c.content_html.contains("script"));
        assert_eq!(c.excerpt, "Hello");
    }

    #[test]
    fn xml_base_wins_over_the_link() {
        let raw = RawEntry {
            link: Some("https://blog.example/p/1".into()),
            base: Some("https://cdn.example/media/".into()),
            content: text(TextKind::Html, "<img src=\"x.png\">"),
            ..Default::default()
        };
        let c = clean_entry(&raw, &feed());
        assert!(
            c.content_html.contains("https://cdn.example/media/x.png"),
            "{}",
            c.content_html
        );
    }

    #[test]
    fn plain_text_content_is_escaped_never_markup() {
        let raw = RawEntry {
            title: text(
                TextKind::Plain,
                "&lt;script&gt;alert(1)&lt;/script&gt; &eacute;",
            ),
            summary: text(TextKind::Plain, "<script>alert(1)</script>\n\nsecond"),
            ..Default::default()
        };
        let c = clean_entry(&raw, &feed());
        assert_eq!(c.title, "<script>alert(1)</script> é");
        assert_eq!(
            c.content_html,
            "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p><p>second</p>"
        );
        assert_eq!(c.excerpt, "<script>alert(1)</script> second");
    }

    #[test]
    fn plain_titles_with_inline_markup_are_read_as_html() {
        let t = |s: &str| title_text(&text(TextKind::Plain, s).unwrap());
        assert_eq!(t("Using <code>async</code> in Rust"), "Using async in Rust");
        assert_eq!(t("Why <div> soup is bad"), "Why <div> soup is bad");
        assert_eq!(t("a < b && c > d"), "a < b && c > d");
        assert_eq!(
            t("x <script>alert(1)</script> y"),
            "x <script>alert(1)</script> y"
        );
        assert_eq!(t("R&D </b> results"), "R&D </b> results");
        assert_eq!(t("Closing </script> safely"), "Closing </script> safely");
        assert_eq!(t("<a href=\"/x\">Link</a> title"), "Link title");
    }

    #[test]
    fn missing_title_falls_back_to_text_then_url() {
        let raw = RawEntry {
            summary: text(TextKind::Html, "<p>Only a body here.</p>"),
            ..Default::default()
        };
        assert_eq!(clean_entry(&raw, &feed()).title, "Only a body here.");
        let raw = RawEntry {
            link: Some("https://blog.example/x".into()),
            ..Default::default()
        };
        assert_eq!(clean_entry(&raw, &feed()).title, "https://blog.example/x");
    }

    #[test]
    fn html_bodies_are_read_up_to_a_limit_never_mid_tag() {
        let body = format!("<p>{}</p>", "word &amp; ".repeat(60_000));
        let raw = RawEntry {
            content: text(TextKind::Html, &body),
            ..Default::default()
        };
        let c = clean_entry(&raw, &feed());
        assert!(
            c.content_html.len() <= MAX_HTML_BYTES + 64,
            "{}",
            c.content_html.len()
        );
        assert!(c.content_html.starts_with("<p>word &amp; word"));
        let tags = format!("{}<b>x</b>", "<i>é</i>".repeat(40_000));
        let cut = within_limit(&tags);
        assert!(
            cut.len() <= MAX_HTML_BYTES && cut.ends_with("</i>"),
            "{}",
            &cut[cut.len() - 20..]
        );
        assert_eq!(within_limit("<p>short</p>"), "<p>short</p>");
    }

    #[test]
    fn bodies_nested_beyond_reason_are_read_as_text() {
        let deep = format!("{}deep text", "<div>".repeat(MAX_HTML_DEPTH + 1));
        let raw = RawEntry {
            content: text(TextKind::Html, &deep),
            ..Default::default()
        };
        assert_eq!(clean_entry(&raw, &feed()).content_html, "<p>deep text</p>");
        // Unclosed paragraphs and list items, void and self-closed elements do not nest.
        let flat = format!(
            "{}<div><b>kept</b></div>",
            "<p>para<br><img src=a.png/><li>item<span/>".repeat(2 * MAX_HTML_DEPTH)
        );
        assert!(!nests_deeper_than(&flat, MAX_HTML_DEPTH));
        assert!(nests_deeper_than(&"<span>".repeat(300), MAX_HTML_DEPTH));
        assert!(!nests_deeper_than(
            &"<span></span>".repeat(300),
            MAX_HTML_DEPTH
        ));
    }

    #[test]
    fn excerpt_is_bounded() {
        let long = "word ".repeat(500);
        let raw = RawEntry {
            content: text(TextKind::Html, &format!("<p>{long}</p>")),
            ..Default::default()
        };
        let c = clean_entry(&raw, &feed());
        assert!(c.excerpt.chars().count() <= EXCERPT_CHARS + 1);
        assert!(c.excerpt.ends_with('…'));
    }
}
