//! The one HTML policy: untrusted feed HTML → safe HTML, and HTML → plain text.
//!
//! [`sanitize`] is an explicit ammonia `Builder` (never `ammonia::clean`, whose defaults may
//! change under us):
//! - ammonia's default tag set (no script, style, object, embed, form, svg, math …) plus
//!   `iframe` whose `src` is an https embed on an allow-listed video host, always `sandbox`ed;
//! - no event handlers, no `style`, no `id`/`class`; URL schemes http, https and mailto only
//!   (`javascript:`, `data:`, `vbscript:` attributes are removed);
//! - relative URLs resolved against the entry's base (xml:base, entry link or feed URL);
//! - links get `rel="noopener noreferrer"`;
//! - tracking pixels (1×1 or 0-sized images, feedburner `~r/` and `~ff/` beacons, WordPress
//!   stats and similar) are removed, as are iframes left without an allowed `src`.
//!
//! [`text_of`] uses html5ever's tokenizer, so entities decode exactly as a browser would and
//! script/style bodies never leak into text.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::sync::LazyLock;

use ammonia::{Builder, UrlRelative};
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use url::Url;

/// Hosts whose https embeds are kept as sandboxed iframes.
pub const VIDEO_HOSTS: &[&str] = &[
    "www.youtube.com",
    "www.youtube-nocookie.com",
    "youtube.com",
    "player.vimeo.com",
    "www.dailymotion.com",
    "w.soundcloud.com",
    "player.twitch.tv",
    "www.slideshare.net",
    "speakerdeck.com",
];

/// Image hosts and paths that only exist to count readers.
const BEACONS: &[(&str, &str)] = &[
    ("feeds.feedburner.com", "/~r/"),
    ("feeds.feedburner.com", "/~ff/"),
    ("feedproxy.google.com", "/~r/"),
    ("feedproxy.google.com", "/~ff/"),
    ("feeds.feedblitz.com", "/~/i/"),
    ("pixel.wp.com", "/"),
    ("stats.wordpress.com", "/"),
    ("pixel.quantserve.com", "/"),
    ("feeds.wordpress.com", "/"),
    ("rss.feedsportal.com", "/"),
    ("pi.feedsportal.com", "/"),
    ("da.feedsportal.com", "/"),
    ("feedads.g.doubleclick.net", "/"),
    ("ad.doubleclick.net", "/"),
    ("www.facebook.com", "/tr"),
];

thread_local! {
    /// The base for relative URLs of the document being sanitized on this thread.
    static BASE: RefCell<Option<Url>> = const { RefCell::new(None) };
}

static POLICY: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut b = Builder::default();
    b.add_tags(["iframe"])
        .add_tag_attributes(
            "iframe",
            ["src", "width", "height", "allowfullscreen", "title"],
        )
        .set_tag_attribute_value(
            "iframe",
            "sandbox",
            "allow-scripts allow-same-origin allow-popups allow-presentation",
        )
        .set_tag_attribute_value(
            "iframe",
            "referrerpolicy",
            "strict-origin-when-cross-origin",
        )
        .set_tag_attribute_value("iframe", "loading", "lazy")
        .set_tag_attribute_value("img", "loading", "lazy")
        .url_schemes(["http", "https", "mailto"].into())
        .link_rel(Some("noopener noreferrer"))
        .strip_comments(true)
        .url_relative(UrlRelative::Custom(Box::new(resolve_relative)))
        // The filter sees values before relative URLs are resolved, so it resolves them itself
        // (a protocol-relative `//www.youtube.com/embed/…` is an embed, `//feeds.feedburner…`
        // a beacon).
        .attribute_filter(|element, attribute, value| match (element, attribute) {
            ("iframe", "src") => absolute(value)
                .filter(is_allowed_embed)
                .map(|u| Cow::Owned(u.into())),
            ("img", "src") | ("a", "href")
                if might_be_beacon(value) && absolute(value).is_some_and(|u| is_beacon(&u)) =>
            {
                None
            }
            _ => Some(Cow::Borrowed(value)),
        });
    b
});

fn resolve_relative(url: &str) -> Option<Cow<'_, str>> {
    BASE.with(|base| {
        let base = base.borrow();
        let resolved = base.as_ref()?.join(url).ok()?;
        matches!(resolved.scheme(), "http" | "https").then(|| Cow::Owned(resolved.into()))
    })
}

/// `value` as an absolute URL, resolved against the current base when relative.
fn absolute(value: &str) -> Option<Url> {
    match Url::parse(value.trim()) {
        Ok(u) => Some(u),
        Err(url::ParseError::RelativeUrlWithoutBase) => BASE.with(|b| {
            b.borrow()
                .as_ref()
                .and_then(|base| base.join(value.trim()).ok())
        }),
        Err(_) => None,
    }
}

fn is_allowed_embed(url: &Url) -> bool {
    url.scheme() == "https" && url.host_str().is_some_and(|h| VIDEO_HOSTS.contains(&h))
}

/// A cheap test that rules out most URLs before one is parsed (every `img` and `a` goes
/// through the filter). For a plain `scheme://host/…` or `//host/…` the host is read off the
/// text; a value without a scheme resolves to the base's host. Anything the URL parser might
/// rewrite into another host (percent-escapes, backslashes, tabs and newlines, user info,
/// non-ASCII that IDNA maps, a scheme without `//`, an empty host) takes the full check.
fn might_be_beacon(value: &str) -> bool {
    let v = value.trim();
    if !v.is_ascii() || v.contains(['%', '\\', '\t', '\n', '\r', '@']) {
        return true;
    }
    let is_beacon_host = |h: &str| BEACONS.iter().any(|(bh, _)| h.eq_ignore_ascii_case(bh));
    let Some(slashes) = v.find("//") else {
        if v.contains(':') {
            return true; // `http:host/…`, or a colon in a relative path
        }
        return BASE.with(|b| {
            b.borrow()
                .as_ref()
                .and_then(|u| u.host_str())
                .is_some_and(is_beacon_host)
        });
    };
    let scheme = &v[..slashes];
    let plain_scheme = scheme.is_empty()
        || scheme.strip_suffix(':').is_some_and(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        });
    if !plain_scheme {
        return true;
    }
    let host = v[slashes + 2..]
        .split(['/', '?', '#', ':'])
        .next()
        .unwrap_or("");
    host.is_empty() || is_beacon_host(host)
}

fn is_beacon(url: &Url) -> bool {
    let host = url.host_str().unwrap_or("");
    BEACONS
        .iter()
        .any(|(h, p)| host.eq_ignore_ascii_case(h) && url.path().starts_with(p))
}

/// Sanitizes untrusted HTML; relative URLs resolve against `base` (or are dropped without one).
pub fn sanitize(html: &str, base: Option<&Url>) -> String {
    BASE.with(|b| *b.borrow_mut() = base.cloned());
    let clean = POLICY.clean(html).to_string();
    BASE.with(|b| *b.borrow_mut() = None);
    drop_pixels_and_empty_frames(&clean)
}

pub use crate::text::escape_html as escape;

/// Plain text from HTML: tags dropped (block tags become spaces), entities decoded, script and
/// style bodies skipped, whitespace collapsed.
pub fn text_of(html: &str) -> String {
    let sink = TextSink::default();
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    collapse_whitespace(&tokenizer.sink.text.into_inner())
}

/// [`text_of`] for HTML that [`sanitize`] wrote, in one pass without a tokenizer: every text
/// that gleaner scores or excerpts goes through here, so it is on the hot path of a round.
///
/// html5ever's serializer (which ammonia uses) writes text with exactly four references
/// (`&amp;`, `&lt;`, `&gt;`, `&nbsp;`), double-quotes every attribute value and lower-cases
/// tag names; the policy leaves `iframe` as the only raw-text element. Anything outside that
/// shape (another reference, a comment, a raw-text element the policy does not allow) is
/// handed to [`text_of`], so the result is always what `text_of` gives (tested on the
/// corpora: `sanitized_text_matches_the_tokenizer`).
pub fn text_of_sanitized(html: &str) -> String {
    fast_text(html).unwrap_or_else(|| text_of(html))
}

fn fast_text(html: &str) -> Option<String> {
    let bytes = html.as_bytes();
    if memchr::memchr(0, bytes).is_some() {
        return None; // the tokenizer drops NUL characters
    }
    let mut out = Collapser::with_capacity(html.len() / 2);
    let mut i = 0;
    while i < bytes.len() {
        let Some(at) = memchr::memchr2(b'<', b'&', &bytes[i..]) else {
            out.text(&html[i..]);
            break;
        };
        out.text(&html[i..i + at]);
        i += at;
        let rest = &html[i..];
        if bytes[i] == b'&' {
            let (text, len) = [
                ("&amp;", "&"),
                ("&lt;", "<"),
                ("&gt;", ">"),
                ("&nbsp;", "\u{a0}"),
                ("&quot;", "\""),
            ]
            .iter()
            .find(|(r, _)| rest.starts_with(r))
            .map(|(r, t)| (*t, r.len()))?;
            out.text(text);
            i += len;
            continue;
        }
        // A tag: `<name …>` or `</name>`.
        let end = tag_end(rest);
        let inner = rest[1..end].trim_end_matches('>');
        let closing = inner.starts_with('/');
        let name_start = usize::from(closing);
        let name_len = inner[name_start..]
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(inner.len() - name_start);
        let name = &inner[name_start..name_start + name_len];
        if name.is_empty() || name.bytes().any(|b| b.is_ascii_uppercase()) {
            return None; // `<!--`, `<!DOCTYPE`, or not the serializer's output
        }
        match name {
            "iframe" if !closing => {
                // Raw text up to the end tag, which `text_of` skips.
                let after = &html[i + end..];
                i = match after.find("</iframe>") {
                    Some(k) => i + end + k + "</iframe>".len(),
                    None => bytes.len(),
                };
                continue;
            }
            "script" | "style" | "textarea" | "title" | "xmp" | "noembed" | "noframes"
            | "noscript" | "template" | "plaintext" => return None,
            _ => {}
        }
        if is_block(name) {
            out.space();
        }
        i += end;
    }
    Some(out.finish())
}

/// Plain text from text that is meant to be plain but may carry HTML entity references
/// (a feed that escapes twice leaves `&eacute;` and friends literal): references decode,
/// nothing else changes.
pub fn plain_text(text: &str) -> String {
    if !text.contains(['&', '\0']) {
        // No reference to decode: what the tokenizer would give, without it.
        return collapse_whitespace(text);
    }
    let lt_escaped = text.replace('<', "&lt;");
    let escaped = crate::text::escape_bare_ampersands(&lt_escaped).unwrap_or(lt_escaped);
    text_of(&escaped)
}

/// Collapses whitespace; control characters (a decoded `&#x1b;`) count as whitespace, so they
/// never reach a terminal, a Markdown file or an XML document.
fn collapse_whitespace(s: &str) -> String {
    let mut c = Collapser::with_capacity(s.len());
    c.text(s);
    c.finish()
}

/// Writes text with whitespace collapsed as it comes (see [`collapse_whitespace`]): one pass,
/// byte by byte for ASCII, with no intermediate string.
struct Collapser {
    out: Vec<u8>,
    pending_space: bool,
}

impl Collapser {
    fn with_capacity(n: usize) -> Collapser {
        Collapser {
            out: Vec::with_capacity(n),
            pending_space: false,
        }
    }

    /// A word boundary (a block tag).
    fn space(&mut self) {
        self.pending_space = !self.out.is_empty();
    }

    fn text(&mut self, s: &str) {
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b < 0x80 {
                i += 1;
                // ASCII whitespace and controls (DEL included) separate words.
                if b <= b' ' || b == 0x7f {
                    self.space();
                } else {
                    if self.pending_space {
                        self.out.push(b' ');
                        self.pending_space = false;
                    }
                    self.out.push(b);
                }
                continue;
            }
            let c = s[i..].chars().next().expect("on a character boundary");
            let len = c.len_utf8();
            if c.is_whitespace() || c.is_control() || matches!(c, '\u{fffe}' | '\u{ffff}') {
                self.space();
            } else {
                if self.pending_space {
                    self.out.push(b' ');
                    self.pending_space = false;
                }
                self.out.extend_from_slice(&bytes[i..i + len]);
            }
            i += len;
        }
    }

    fn finish(self) -> String {
        // Only whole characters of `&str`s were copied.
        String::from_utf8(self.out).expect("collapsing keeps UTF-8 intact")
    }
}

/// The first `max` characters of `text`, cut at a word boundary, with an ellipsis when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    let at = cut.rfind(' ').filter(|i| *i > max / 2).unwrap_or(cut.len());
    format!(
        "{}…",
        cut[..at].trim_end_matches([' ', ',', ';', ':', '.', '-'])
    )
}

#[derive(Default)]
struct TextSink {
    text: RefCell<String>,
    /// Inside script/style/… until the matching end tag.
    skipping: RefCell<Option<html5ever::LocalName>>,
    last_was_space: Cell<bool>,
}

impl TokenSink for TextSink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        match token {
            Token::CharacterTokens(t) if self.skipping.borrow().is_none() => {
                self.text.borrow_mut().push_str(&t);
                self.last_was_space.set(false);
            }
            Token::TagToken(tag) => {
                let name = &*tag.name;
                if tag.kind == TagKind::EndTag {
                    let mut skipping = self.skipping.borrow_mut();
                    if skipping.as_ref() == Some(&tag.name) {
                        *skipping = None;
                    }
                } else if self.skipping.borrow().is_none() {
                    let (skip, raw) = match name {
                        "script" => (true, Some(RawKind::ScriptData)),
                        "style" | "iframe" | "noembed" | "noframes" | "xmp" => {
                            (true, Some(RawKind::Rawtext))
                        }
                        "textarea" | "title" => (false, Some(RawKind::Rcdata)),
                        "template" | "noscript" => (true, None),
                        _ => (false, None),
                    };
                    if skip {
                        *self.skipping.borrow_mut() = Some(tag.name.clone());
                    }
                    if let Some(kind) = raw {
                        return TokenSinkResult::RawData(kind);
                    }
                }
                if is_block(name) && !self.last_was_space.get() {
                    self.text.borrow_mut().push(' ');
                    self.last_was_space.set(true);
                }
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "br"
            | "div"
            | "li"
            | "ul"
            | "ol"
            | "dl"
            | "dt"
            | "dd"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "blockquote"
            | "pre"
            | "table"
            | "tr"
            | "td"
            | "th"
            | "hr"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "figure"
            | "figcaption"
            | "img"
    )
}

/// Removes `<img>` tags that are tracking pixels or lost their `src`, and `<iframe>`s whose
/// `src` was not allowed. Works on ammonia's serialized output, where every `<` opens a tag and
/// every attribute value is double-quoted with `"` escaped.
fn drop_pixels_and_empty_frames(html: &str) -> String {
    if !html.contains("<img") && !html.contains("<iframe") {
        return html.to_string();
    }
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let tag = &rest[start..];
        let end = tag_end(tag);
        let (name, attrs) = parse_tag(&tag[..end]);
        let drop = match name {
            "img" => is_pixel(&attrs),
            "iframe" => !attrs.iter().any(|(k, _)| *k == "src"),
            _ => false,
        };
        if !drop {
            out.push_str(&tag[..end]);
            rest = &tag[end..];
        } else if name == "iframe" {
            let after = &tag[end..];
            rest = match after.find("</iframe>") {
                Some(i) => &after[i + "</iframe>".len()..],
                None => "",
            };
        } else {
            rest = &tag[end..];
        }
    }
    out.push_str(rest);
    out
}

/// Length of the tag starting at `tag[0] == '<'`, honouring quoted attribute values.
fn tag_end(tag: &str) -> usize {
    let bytes = tag.as_bytes();
    let mut i = 1;
    let mut in_quote = false;
    while i < bytes.len() {
        let Some(at) = memchr::memchr2(b'"', b'>', &bytes[i..]) else {
            break;
        };
        i += at;
        match bytes[i] {
            b'"' => in_quote = !in_quote,
            _ if !in_quote => return i + 1,
            _ => {}
        }
        i += 1;
    }
    tag.len()
}

/// Tag name and `name="value"` attributes of a serialized start tag.
fn parse_tag(tag: &str) -> (&str, Vec<(&str, &str)>) {
    let inner = tag.trim_start_matches('<').trim_end_matches('>');
    let name_end = inner
        .find(|c: char| c.is_whitespace() || c == '/')
        .unwrap_or(inner.len());
    let name = &inner[..name_end];
    let mut attrs = Vec::new();
    let mut rest = &inner[name_end..];
    while let Some(eq) = rest.find("=\"") {
        let key = rest[..eq].trim();
        let value_start = eq + 2;
        let Some(len) = rest[value_start..].find('"') else {
            break;
        };
        attrs.push((key, &rest[value_start..value_start + len]));
        rest = &rest[value_start + len + 1..];
    }
    (name, attrs)
}

fn is_pixel(attrs: &[(&str, &str)]) -> bool {
    let get = |k: &str| attrs.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
    if get("src").is_none_or(|s| s.trim().is_empty()) {
        return true;
    }
    let size =
        |k: &str| get(k).and_then(|v| v.trim().trim_end_matches("px").trim().parse::<f32>().ok());
    match (size("width"), size("height")) {
        (Some(w), Some(h)) => w <= 1.0 && h <= 1.0,
        (Some(d), None) | (None, Some(d)) => d <= 0.0,
        (None, None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://blog.example/posts/one.html").unwrap()
    }

    fn clean(html: &str) -> String {
        sanitize(html, Some(&base()))
    }

    #[test]
    fn scripts_handlers_and_dangerous_urls_are_removed() {
        let out = clean(
            r#"<p onclick="x()">hi<script>alert(1)</script></p><a href="javascript:alert(1)">j</a><img src="data:image/png;base64,AAAA" onerror="alert(1)"><svg onload="alert(1)"><circle/></svg><form action="/x"><input></form><object data="x"></object><embed src="x"><style>p{}</style>"#,
        );
        for bad in [
            "script",
            "onclick",
            "onerror",
            "onload",
            "javascript",
            "data:",
            "svg",
            "form",
            "input",
            "object",
            "embed",
            "style",
        ] {
            assert!(!out.contains(bad), "{bad} survived in {out}");
        }
        assert!(out.contains("<p>hi</p>"), "{out}");
    }

    #[test]
    fn relative_urls_resolve_against_the_base() {
        let out = clean(r#"<a href="two.html">2</a><img src="/img/a.png" alt="a">"#);
        assert!(
            out.contains(r#"href="https://blog.example/posts/two.html""#),
            "{out}"
        );
        assert!(
            out.contains(r#"src="https://blog.example/img/a.png""#),
            "{out}"
        );
        assert!(out.contains(r#"rel="noopener noreferrer""#), "{out}");
        // Without a base, relative URLs cannot be made safe and are dropped.
        let out = sanitize(r#"<a href="two.html">2</a>"#, None);
        assert!(!out.contains("href"), "{out}");
    }

    #[test]
    fn iframes_only_from_video_hosts_and_sandboxed() {
        let out = clean(
            r#"<iframe src="https://www.youtube.com/embed/abc" width="560"></iframe><iframe src="https://evil.example/x">inner</iframe><iframe src="http://www.youtube.com/embed/abc"></iframe>"#,
        );
        assert_eq!(out.matches("<iframe").count(), 1, "{out}");
        assert!(out.contains("youtube.com/embed/abc"), "{out}");
        assert!(out.contains("sandbox=\""), "{out}");
        assert!(!out.contains("evil"), "{out}");
        assert!(!out.contains("inner"), "{out}");
    }

    #[test]
    fn protocol_relative_embeds_are_kept_and_protocol_relative_beacons_dropped() {
        let out = clean(
            r#"<iframe src="//www.youtube.com/embed/abc"></iframe><img src="//feeds.feedburner.com/~r/x/~4/y"><img src="//cdn.example/a.png">"#,
        );
        assert!(
            out.contains(r#"src="https://www.youtube.com/embed/abc""#),
            "{out}"
        );
        assert!(!out.contains("feedburner"), "{out}");
        assert!(out.contains(r#"src="https://cdn.example/a.png""#), "{out}");
    }

    #[test]
    fn the_beacon_prefilter_never_misses_a_beacon() {
        let b = base();
        BASE.with(|x| *x.borrow_mut() = Some(b.clone()));
        for v in [
            "http://feeds.feedburner.com/~r/x",
            "https://FEEDS.FEEDBURNER.COM/~r/x",
            "//feeds.feedburner.com/~ff/y",
            "http://feeds.feedburner.com:80/~r/x",
            "http:feeds.feedburner.com/~r/x",
            "http:/\\feeds.feedburner.com/~r/x",
            "http://%66eeds.feedburner.com/~r/x",
            "http://fee\tds.feedburner.com/~r/x",
            "http://user@feeds.feedburner.com/~r/x",
            "http://ｆeeds.feedburner.com/~r/x",
            "http:///feeds.feedburner.com/~r/x",
            "https://pixel.wp.com/g.gif",
            " https://stats.wordpress.com/b.gif ",
            "https://cdn.example/a.png",
            "/img/a.png",
            "a.png",
            "mailto:x@example.com",
            "data:image/png;base64,AAAA",
        ] {
            let slow = absolute(v).is_some_and(|u| is_beacon(&u));
            assert!(
                !slow || might_be_beacon(v),
                "{v} is a beacon the prefilter missed"
            );
        }
        // A relative image in a feed served from a beacon host resolves to that host.
        BASE.with(|x| *x.borrow_mut() = Url::parse("http://feeds.feedburner.com/Blog").ok());
        assert!(might_be_beacon("/~r/Blog/~4/x"));
        BASE.with(|x| *x.borrow_mut() = None);
        assert!(!might_be_beacon("https://cdn.example/a.png"));
    }

    #[test]
    fn tracking_pixels_and_feedburner_beacons_are_dropped() {
        let out = clean(
            r#"<p>text</p><img src="https://t.example/p.gif" width="1" height="1"><img src="http://feeds.feedburner.com/~r/Blog/~4/abc" height="1" width="1" alt=""><img src="https://pixel.wp.com/b.gif?host=x"><img src="https://cdn.example/photo.jpg" width="640" height="480"><a href="http://feeds.feedburner.com/~ff/Blog?a=x"><img src="http://feeds.feedburner.com/~ff/Blog?d=y" border="0"></a>"#,
        );
        assert_eq!(out.matches("<img").count(), 1, "{out}");
        assert!(out.contains("photo.jpg"), "{out}");
        assert!(!out.contains("feedburner"), "{out}");
    }

    #[test]
    fn text_of_decodes_entities_and_skips_scripts() {
        assert_eq!(
            text_of("<p>Caf&eacute; &amp; bar</p><script>alert('x')</script><p>next&nbsp;one</p>"),
            "Café & bar next one"
        );
        assert_eq!(text_of("a<br>b<style>p{}</style>c"), "a bc");
    }

    #[test]
    fn collapsing_whitespace_keeps_words_and_drops_controls() {
        let reference = |s: &str| {
            s.split(|c: char| {
                c.is_whitespace() || c.is_control() || matches!(c, '\u{fffe}' | '\u{ffff}')
            })
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
        };
        for s in [
            "",
            " ",
            "a",
            " a  b\t\nc ",
            "x\u{1b}y\u{7f}z",
            "é\u{a0}ü\u{2003}ß",
            "\u{85}nel",
            "a\u{fffe}b\u{ffff}c",
            "\u{b}v\u{c}f",
            "日本 語\u{3000}x",
            "  trailing\u{200b}  ",
        ] {
            assert_eq!(collapse_whitespace(s), reference(s), "{s:?}");
        }
    }

    #[test]
    fn control_characters_never_survive_into_text() {
        assert_eq!(text_of("a&#x1b;[31mb&#12;c\u{7}d"), "a [31mb c d");
        assert_eq!(plain_text("x\u{1b}y"), "x y");
    }

    #[test]
    fn plain_text_keeps_markup_literal_but_decodes_references() {
        assert_eq!(
            plain_text("Why <div> soup & AT&T &eacute;"),
            "Why <div> soup & AT&T é"
        );
        assert_eq!(plain_text("&lt;script&gt;"), "<script>");
        for t in [
            "a < b > c",
            " spaced\r\n\tout ",
            "x\u{1b}y",
            "nul\0here",
            "a<b>c</b>",
        ] {
            let slow = text_of(&t.replace('<', "&lt;"));
            assert_eq!(plain_text(t), slow, "{t:?}");
        }
    }

    #[test]
    fn sanitized_text_is_what_the_tokenizer_reads() {
        for html in [
            "<p>Caf&eacute; &amp; bar &lt;tag&gt;&nbsp;x</p><p>next</p>",
            r#"<a href="https://x.example/?a=1&amp;b=2" title="a > b">link</a> after<br>line"#,
            r#"<iframe src="https://www.youtube.com/embed/x">raw <b>text</b></iframe>tail"#,
            "<pre><code>if a &lt; b &amp;&amp; c &gt; d {}\n</code></pre>",
            "<ul><li>one</li><li>two</li></ul><img src=\"https://x.example/a.png\">z",
            "plain &#39;quoted&#39; text",
            "a&#x1b;b\u{7}c",
            "<!-- kept? --><p>x</p>",
            "",
        ] {
            let cleaned = clean(html);
            assert_eq!(text_of_sanitized(&cleaned), text_of(&cleaned), "{cleaned}");
            // Also on input that is not the serializer's: the fallback answers.
            assert_eq!(text_of_sanitized(html), text_of(html), "{html}");
        }
    }

    #[test]
    fn truncate_cuts_at_words() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("one two three four", 12), "one two…");
    }
}
