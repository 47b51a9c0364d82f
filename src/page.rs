//! What a web page says about itself: its title and description from `og:title`/`<title>` and
//! `og:description`/`<meta name="description">`, its canonical link (for `gleaner pick URL`),
//! and the feeds it declares with `<link rel="alternate">` (for `gleaner add URL`). Pure;
//! html5ever's tokenizer reads the markup.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

/// A page's own description of itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageMeta {
    pub title: Option<String>,
    pub description: Option<String>,
    pub canonical: Option<String>,
    pub published: Option<String>,
    /// `<link rel="alternate">` to a feed, in page order, as written (relative or not).
    pub feeds: Vec<FeedLink>,
}

/// A feed a page declares.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedLink {
    pub href: String,
    pub title: Option<String>,
    /// `application/rss+xml`, `application/atom+xml`, `application/feed+json`, …
    pub mime: String,
}

/// The `type`s of `<link rel="alternate">` that name a feed.
const FEED_TYPES: &[&str] = &[
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rdf+xml",
    "application/rss",
    "text/xml",
];

#[derive(Default)]
struct Sink {
    meta: RefCell<PageMeta>,
    og_title: RefCell<Option<String>>,
    og_description: RefCell<Option<String>>,
    in_title: RefCell<bool>,
    /// The first `<title>` outside `<svg>` is the page's; later ones are ignored.
    title_done: RefCell<bool>,
    svg_depth: RefCell<u32>,
    title_text: RefCell<String>,
}

impl TokenSink for Sink {
    type Handle = ();
    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        match token {
            Token::TagToken(tag) => {
                let attr = |n: &str| {
                    tag.attrs
                        .iter()
                        .find(|a| (*a.name.local).eq_ignore_ascii_case(n))
                        .map(|a| a.value.trim().to_string())
                };
                match (&*tag.name, tag.kind) {
                    // Script and style bodies are not markup: a "<title>" in a string is text.
                    ("script", TagKind::StartTag) => {
                        return TokenSinkResult::RawData(RawKind::ScriptData);
                    }
                    ("style", TagKind::StartTag) => {
                        return TokenSinkResult::RawData(RawKind::Rawtext);
                    }
                    ("svg", TagKind::StartTag) if !tag.self_closing => {
                        *self.svg_depth.borrow_mut() += 1
                    }
                    ("svg", TagKind::EndTag) => {
                        let mut d = self.svg_depth.borrow_mut();
                        *d = d.saturating_sub(1);
                    }
                    ("title", TagKind::StartTag) => {
                        let page_title =
                            *self.svg_depth.borrow() == 0 && !*self.title_done.borrow();
                        *self.in_title.borrow_mut() = page_title;
                        return TokenSinkResult::RawData(RawKind::Rcdata);
                    }
                    ("title", TagKind::EndTag) => {
                        if *self.in_title.borrow() {
                            *self.title_done.borrow_mut() = true;
                        }
                        *self.in_title.borrow_mut() = false;
                    }
                    ("meta", TagKind::StartTag) => {
                        let key = attr("property")
                            .or_else(|| attr("name"))
                            .unwrap_or_default()
                            .to_ascii_lowercase();
                        let content = attr("content").filter(|c| !c.is_empty());
                        match key.as_str() {
                            "og:title" | "twitter:title" => {
                                self.og_title
                                    .borrow_mut()
                                    .get_or_insert_with(|| content.clone().unwrap_or_default());
                            }
                            "og:description" | "twitter:description" => {
                                self.og_description
                                    .borrow_mut()
                                    .get_or_insert_with(|| content.clone().unwrap_or_default());
                            }
                            "description" => {
                                let mut m = self.meta.borrow_mut();
                                if m.description.is_none() {
                                    m.description = content;
                                }
                            }
                            "article:published_time" => self.meta.borrow_mut().published = content,
                            _ => {}
                        }
                    }
                    ("link", TagKind::StartTag) => {
                        let rel = attr("rel").unwrap_or_default().to_ascii_lowercase();
                        let mut rels = rel.split_ascii_whitespace();
                        if rels.clone().any(|r| r == "canonical") {
                            self.meta.borrow_mut().canonical = attr("href");
                        } else if rels.any(|r| r == "alternate")
                            && let Some(mime) = attr("type")
                                .map(|t| t.to_ascii_lowercase())
                                .filter(|t| FEED_TYPES.contains(&t.as_str()))
                            && let Some(href) = attr("href").filter(|h| !h.is_empty())
                        {
                            let title = attr("title").filter(|t| !t.is_empty());
                            let mut m = self.meta.borrow_mut();
                            if !m.feeds.iter().any(|f| f.href == href) {
                                m.feeds.push(FeedLink { href, title, mime });
                            }
                        }
                    }
                    _ => {}
                }
            }
            Token::CharacterTokens(t) if *self.in_title.borrow() => {
                self.title_text.borrow_mut().push_str(&t)
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// Reads a page's title, description and canonical link (plain text, whitespace collapsed).
pub fn extract(html: &str) -> PageMeta {
    let tok = Tokenizer::new(Sink::default(), TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let _ = tok.feed(&input);
    tok.end();
    let sink = tok.sink;
    let mut meta = sink.meta.into_inner();
    let collapse = |s: String| {
        Some(s.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|s| !s.is_empty())
    };
    meta.title = sink
        .og_title
        .into_inner()
        .and_then(collapse)
        .or_else(|| collapse(sink.title_text.into_inner()));
    meta.description = sink
        .og_description
        .into_inner()
        .and_then(collapse)
        .or(meta.description.and_then(collapse));
    meta
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_feeds_are_found_in_page_order_once() {
        let m = extract(
            r#"<html><head>
<link rel="stylesheet" href="/s.css">
<link rel="alternate" type="application/rss+xml" title="Posts" href="/feed.xml">
<LINK REL="Alternate" TYPE="application/atom+xml" href="https://blog.example/atom.xml">
<link rel="alternate" type="text/html" hreflang="de" href="/de/">
<link rel="alternate home" type="application/feed+json" title="" href="feed.json">
<link rel="alternate" type="application/rss+xml" href="/feed.xml">
<link rel="alternate" type="application/rss+xml" href="">
<script>document.write('<link rel="alternate" type="application/rss+xml" href="/fake">')</script>
</head><body></body></html>"#,
        );
        let got: Vec<(&str, Option<&str>, &str)> = m
            .feeds
            .iter()
            .map(|f| (f.href.as_str(), f.title.as_deref(), f.mime.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("/feed.xml", Some("Posts"), "application/rss+xml"),
                (
                    "https://blog.example/atom.xml",
                    None,
                    "application/atom+xml"
                ),
                ("feed.json", None, "application/feed+json"),
            ]
        );
    }

    #[test]
    fn og_tags_win_over_title_and_meta_description() {
        let m = extract(
            r#"<html><head><title> Page &amp; Title | Site </title>
<meta name="description" content="Plain description.">
<meta property="og:title" content="The Real Title">
<meta property="og:description" content="Open Graph description.">
<link rel="canonical" href="https://example.com/post"></head><body><script>var x = "<title>no</title>";</script></body></html>"#,
        );
        assert_eq!(m.title.as_deref(), Some("The Real Title"));
        assert_eq!(m.description.as_deref(), Some("Open Graph description."));
        assert_eq!(m.canonical.as_deref(), Some("https://example.com/post"));
    }

    #[test]
    fn only_the_pages_own_title_counts() {
        let m = extract(
            "<html><head><title>Real Title</title><script>document.title = '<title>no</title>'</script></head><body><svg><title>Close icon</title></svg><title>ignored</title></body></html>",
        );
        assert_eq!(m.title.as_deref(), Some("Real Title"));
    }

    #[test]
    fn falls_back_to_title_and_description() {
        let m = extract(
            "<title>Only &eacute; title</title><meta name=description content='  spaced   out '>",
        );
        assert_eq!(m.title.as_deref(), Some("Only é title"));
        assert_eq!(m.description.as_deref(), Some("spaced out"));
        assert_eq!(extract("no markup").title, None);
    }
}
