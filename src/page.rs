//! What a web page says about itself, for `gleaner add URL`: its title and description from
//! `og:title`/`<title>` and `og:description`/`<meta name="description">`, and its canonical
//! link. Pure; html5ever's tokenizer reads the markup.

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
}

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
                    ("link", TagKind::StartTag)
                        if attr("rel").is_some_and(|r| r.eq_ignore_ascii_case("canonical")) =>
                    {
                        self.meta.borrow_mut().canonical = attr("href");
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
