//! Past issues of the newsletter, as `gleaner import issues` reads them (issue 15): the
//! Markdown `gleaner draft` writes (and most newsletters' Markdown archives), or the HTML of a
//! sent issue or an archive page. Pure: text in, [`PastIssue`] out.
//!
//! - **Markdown.** `# …` is the issue's title (its number is read from `issue 12`, `#12` or
//!   `No. 12`); a line that is only a date is its date; `##`/`###` headings are sections;
//!   every paragraph or list item with an http(s) link is an item: its first link is the item's
//!   link, its text (links and Markdown markup taken out, `[text](url)` kept as `text`) the
//!   blurb. In `draft`'s shape the blurb paragraph and its link line are one item.
//! - **HTML.** `<h1>` is the title, `<h2>`–`<h4>` sections, and each paragraph, list item or
//!   table cell with an http(s) link and some text is an item. What newsletters put around the
//!   issue (unsubscribe and preference links, "view in browser", share buttons) is left out.
//!
//! The issue number falls back to the first number in the file's name (`issue-12.html`); the
//! date, to none (the caller decides).

use std::cell::RefCell;

use chrono::{DateTime, Utc};
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

/// One past issue.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PastIssue {
    pub number: Option<i64>,
    pub date: Option<DateTime<Utc>>,
    pub items: Vec<PastItem>,
}

/// One item of a past issue: its link and the editor's words about it.
#[derive(Debug, Clone, PartialEq)]
pub struct PastItem {
    pub section: Option<String>,
    pub url: String,
    /// Plain text.
    pub blurb: String,
}

/// Reads a past issue; `file_name` gives the issue number when the text does not. HTML is
/// told from Markdown by its first markup.
pub fn read(text: &str, file_name: &str) -> PastIssue {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let mut issue = if trimmed.starts_with('<') {
        html(trimmed)
    } else {
        markdown(trimmed)
    };
    if issue.number.is_none() {
        issue.number = first_number(file_name);
    }
    issue
}

fn markdown(text: &str) -> PastIssue {
    let mut issue = PastIssue::default();
    let mut section: Option<String> = None;
    let mut block: Vec<&str> = Vec::new();
    // A paragraph of text without a link: the blurb of a link alone on the next paragraph.
    let mut pending: Option<String> = None;
    let flush = |block: &mut Vec<&str>,
                 pending: &mut Option<String>,
                 section: &Option<String>,
                 issue: &mut PastIssue| {
        if block.is_empty() {
            return;
        }
        let joined = block.join("\n");
        block.clear();
        if links(&joined).is_empty() {
            *pending = Some(joined);
            return;
        }
        let before = pending.take();
        issue.items.extend(
            item(&joined, section)
                .or_else(|| before.and_then(|b| item(&format!("{b}\n{joined}"), section))),
        );
    };
    for line in text.lines() {
        let l = line.trim();
        if let Some(h) = l.strip_prefix('#') {
            flush(&mut block, &mut pending, &section, &mut issue);
            pending = None;
            let level = 1 + h.chars().take_while(|&c| c == '#').count();
            let heading = h.trim_start_matches('#').trim();
            if level == 1 {
                issue.number = issue.number.or_else(|| issue_number(heading));
            } else {
                section = Some(plain(heading)).filter(|s| !s.is_empty());
            }
        } else if l.is_empty() {
            flush(&mut block, &mut pending, &section, &mut issue);
        } else if issue.date.is_none() && issue.items.is_empty() && block.is_empty() && !has_link(l)
        {
            match crate::parse::date::parse(&plain(l)) {
                Some(d) => issue.date = Some(d),
                None => block.push(l),
            }
        } else if (l.starts_with("- ") || l.starts_with("* ")) && !block.is_empty() {
            // A new list item is a new item.
            flush(&mut block, &mut pending, &section, &mut issue);
            pending = None;
            block.push(l);
        } else {
            block.push(l);
        }
    }
    flush(&mut block, &mut pending, &section, &mut issue);
    issue
}

/// An item from a Markdown paragraph or list item: its first http(s) link and its text.
fn item(block: &str, section: &Option<String>) -> Option<PastItem> {
    let links = links(block);
    let url = links.first()?.clone();
    let mut text = block.to_string();
    // `[text](url)` → text; bare and `<…>` links → nothing.
    while let Some(start) = text.find("](") {
        let Some(open) = text[..start].rfind('[') else {
            break;
        };
        let Some(close) = text[start..].find(')') else {
            break;
        };
        let label = text[open + 1..start].to_string();
        text.replace_range(open..start + close + 1, &label);
    }
    for l in &links {
        text = text
            .replace(&format!("<{l}>"), " ")
            .replace(l.as_str(), " ");
    }
    let blurb = plain(&text);
    let blurb = blurb
        .trim_start_matches(crate::output::draft::NEEDS_EDIT)
        .trim_matches(|c: char| c.is_whitespace() || matches!(c, '-' | '*' | ':' | '—' | '–'))
        .to_string();
    (!blurb.is_empty()).then(|| PastItem {
        section: section.clone(),
        url,
        blurb,
    })
}

/// The http(s) links in a piece of Markdown, in order.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let lower = text.to_ascii_lowercase();
    let mut at = 0;
    while let Some(i) = lower[at..].find("http").map(|i| at + i) {
        let rest = &text[i..];
        let l = &lower[i..];
        if l.starts_with("http://") || l.starts_with("https://") {
            let end = rest
                .find(|c: char| c.is_whitespace() || matches!(c, ')' | '>' | '"' | '<' | ']'))
                .unwrap_or(rest.len());
            let u = rest[..end].trim_end_matches(['.', ',', ';', ':', '!', '?']);
            if url::Url::parse(u).is_ok() && !out.iter().any(|x: &String| x == u) {
                out.push(u.to_string());
            }
            at = i + end.max(1);
        } else {
            at = i + 4;
        }
    }
    out
}

fn has_link(line: &str) -> bool {
    !links(line).is_empty()
}

/// Markdown emphasis, code and escapes taken out, whitespace collapsed.
fn plain(text: &str) -> String {
    let t: String = text
        .chars()
        .filter(|c| !matches!(c, '*' | '_' | '`' | '\\'))
        .collect();
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `DevOps Weekly: issue 12`, `Issue #12`, `No. 12`, `#12` → 12.
fn issue_number(heading: &str) -> Option<i64> {
    let lower = heading.to_lowercase();
    for key in ["issue", "no.", "#", "nr.", "number"] {
        if let Some(i) = lower.find(key) {
            let rest = lower[i + key.len()..].trim_start_matches([' ', '#', ':', '.']);
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(n) = digits.parse() {
                return Some(n);
            }
        }
    }
    None
}

fn first_number(name: &str) -> Option<i64> {
    let start = name.find(|c: char| c.is_ascii_digit())?;
    name[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

/// Text of blocks that belong to the newsletter's frame, not to the issue.
const FRAME: &[&str] = &[
    "unsubscribe",
    "view in browser",
    "view this email",
    "manage your subscription",
    "email preferences",
    "update your preferences",
    "forward to a friend",
    "share on twitter",
    "share on linkedin",
];

fn html(text: &str) -> PastIssue {
    let sink = HtmlSink::default();
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(text));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let mut issue = tokenizer.sink.issue.into_inner();
    if issue.date.is_none() {
        issue.date = tokenizer.sink.time.into_inner();
    }
    issue
}

#[derive(Default)]
struct HtmlSink {
    issue: RefCell<PastIssue>,
    section: RefCell<Option<String>>,
    /// Inside a heading: its level and text so far.
    heading: RefCell<Option<(u8, String)>>,
    /// Inside an item block (p, li, td, dd, blockquote): nesting and its text and links.
    block: RefCell<Option<(u32, String, Vec<String>)>>,
    /// A `<time datetime>` seen anywhere.
    time: RefCell<Option<DateTime<Utc>>>,
}

impl HtmlSink {
    fn end_block(&self) {
        let Some((_, text, links)) = self.block.borrow_mut().take() else {
            return;
        };
        let blurb = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if links.is_empty() {
            // A paragraph that is only a date, before the first item, dates the issue.
            let mut issue = self.issue.borrow_mut();
            if issue.date.is_none()
                && issue.items.is_empty()
                && (8..=60).contains(&blurb.len())
                && let Some(d) = crate::parse::date::parse(&blurb)
            {
                issue.date = Some(d);
            }
            return;
        }
        let lower = blurb.to_lowercase();
        if blurb.chars().count() < 20 || FRAME.iter().any(|f| lower.contains(f)) {
            return;
        }
        if let Some(url) = links.into_iter().next() {
            self.issue.borrow_mut().items.push(PastItem {
                section: self.section.borrow().clone(),
                url,
                blurb,
            });
        }
    }
}

const BLOCKS: &[&str] = &["p", "li", "td", "dd", "blockquote"];

impl TokenSink for HtmlSink {
    type Handle = ();
    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        match token {
            Token::TagToken(tag) => {
                let name = &*tag.name;
                let level = match name {
                    "h1" => Some(1),
                    "h2" => Some(2),
                    "h3" => Some(3),
                    "h4" => Some(4),
                    _ => None,
                };
                match tag.kind {
                    TagKind::StartTag => {
                        if matches!(name, "script" | "style") {
                            return TokenSinkResult::RawData(if name == "script" {
                                RawKind::ScriptData
                            } else {
                                RawKind::Rawtext
                            });
                        }
                        let attr = |n: &str| {
                            tag.attrs
                                .iter()
                                .find(|a| (*a.name.local).eq_ignore_ascii_case(n))
                                .map(|a| a.value.trim().to_string())
                        };
                        if let Some(l) = level {
                            self.end_block();
                            *self.heading.borrow_mut() = Some((l, String::new()));
                        } else if BLOCKS.contains(&name) {
                            let mut b = self.block.borrow_mut();
                            match b.as_mut() {
                                Some((depth, ..)) => *depth += 1,
                                None => *b = Some((1, String::new(), Vec::new())),
                            }
                        } else if name == "a"
                            && let Some(href) = attr("href")
                            && (href.starts_with("http://") || href.starts_with("https://"))
                            && let Some((_, _, links)) = self.block.borrow_mut().as_mut()
                        {
                            links.push(href);
                        } else if name == "time"
                            && let Some(d) =
                                attr("datetime").and_then(|d| crate::parse::date::parse(&d))
                        {
                            self.time.borrow_mut().get_or_insert(d);
                        } else if name == "br"
                            && let Some((_, text, _)) = self.block.borrow_mut().as_mut()
                        {
                            text.push(' ');
                        }
                    }
                    TagKind::EndTag => {
                        if level.is_some() {
                            if let Some((l, text)) = self.heading.borrow_mut().take() {
                                let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
                                let mut issue = self.issue.borrow_mut();
                                if l == 1 {
                                    issue.number = issue.number.or_else(|| issue_number(&text));
                                } else if !text.is_empty() {
                                    *self.section.borrow_mut() = Some(text);
                                }
                            }
                        } else if BLOCKS.contains(&name) {
                            let done = match self.block.borrow_mut().as_mut() {
                                Some((depth, ..)) => {
                                    *depth -= 1;
                                    *depth == 0
                                }
                                None => false,
                            };
                            if done {
                                self.end_block();
                            }
                        }
                    }
                }
            }
            Token::CharacterTokens(t) => {
                if let Some((_, text)) = self.heading.borrow_mut().as_mut() {
                    text.push_str(&t);
                } else if let Some((_, text, _)) = self.block.borrow_mut().as_mut() {
                    text.push_str(&t);
                } else if self.issue.borrow().date.is_none() && self.issue.borrow().items.is_empty()
                {
                    let line = t.trim();
                    if (8..=60).contains(&line.len())
                        && let Some(d) = crate::parse::date::parse(line)
                    {
                        self.issue.borrow_mut().date = Some(d);
                    }
                }
            }
            Token::EOFToken => self.end_block(),
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links_and_blurbs(i: &PastIssue) -> Vec<(&str, &str)> {
        i.items
            .iter()
            .map(|x| (x.url.as_str(), x.blurb.as_str()))
            .collect()
    }

    #[test]
    fn the_draft_shape_reads_back() {
        let md = "# DevOps Weekly: issue 42\n\nSunday 29 November 2026\n\n## News\n\nHow Acme cut its **Kubernetes** bill by half, with numbers.\nhttps://eng.acme.example/k8s-bill\n\n[EDIT] Postgres upgrades: zero downtime at scale.\nhttps://blog.example/pg https://mirror.example/pg\n\n## Tools\n\nA fast `kubectl` plugin for [logs](https://github.com/x/logs).\nhttps://github.com/x/logs\n";
        let i = read(md, "whatever.md");
        assert_eq!(i.number, Some(42));
        assert_eq!(i.date.unwrap().format("%Y-%m-%d").to_string(), "2026-11-29");
        assert_eq!(i.items.len(), 3, "{i:#?}");
        assert_eq!(i.items[0].section.as_deref(), Some("News"));
        assert_eq!(i.items[0].url, "https://eng.acme.example/k8s-bill");
        assert_eq!(
            i.items[0].blurb,
            "How Acme cut its Kubernetes bill by half, with numbers."
        );
        assert_eq!(i.items[1].url, "https://blog.example/pg");
        assert_eq!(
            i.items[1].blurb,
            "Postgres upgrades: zero downtime at scale."
        );
        assert_eq!(i.items[2].section.as_deref(), Some("Tools"));
        assert_eq!(i.items[2].url, "https://github.com/x/logs");
        assert_eq!(i.items[2].blurb, "A fast kubectl plugin for logs.");
    }

    #[test]
    fn markdown_lists_and_file_names() {
        let md = "## Jobs\n\n- [SRE at Acme](https://jobs.example/1): remote, EU hours.\n- [Platform lead](https://jobs.example/2) — Berlin.\n\nNo link here, just words.\n";
        let i = read(md, "archive/issue-117.md");
        assert_eq!(i.number, Some(117));
        assert_eq!(i.date, None);
        let got = links_and_blurbs(&i);
        assert_eq!(
            got,
            [
                ("https://jobs.example/1", "SRE at Acme: remote, EU hours."),
                ("https://jobs.example/2", "Platform lead — Berlin.")
            ]
        );
    }

    #[test]
    fn a_link_alone_after_its_blurb_paragraph_is_one_item() {
        let md = "# Issue 9\n\n## News\n\nA game day write-up, with the runbook.\n\nhttps://a.example/game-day\n\nWords that describe nothing.\n\n## Tools\n\n<https://github.com/x/kit>\n";
        let i = read(md, "x.md");
        let got = links_and_blurbs(&i);
        // The last paragraph of News is not carried into Tools: a bare link there has no blurb.
        assert_eq!(
            got,
            [(
                "https://a.example/game-day",
                "A game day write-up, with the runbook."
            )]
        );
    }

    #[test]
    fn a_sent_issue_in_html() {
        let html = r#"<!DOCTYPE html><html><body>
            <p><a href="https://news.example/view/42">View in browser</a></p>
            <h1>DevOps Weekly #42</h1><time datetime="2026-11-29T08:00:00Z">29 Nov</time>
            <h2>News</h2>
            <p>How Acme cut its <b>Kubernetes</b> bill by half. <a href="https://eng.acme.example/k8s-bill">Read more</a></p>
            <h2>Events</h2>
            <ul><li><a href="https://conf.example/cfp">SREcon CFP</a> closes on Friday, send talks.</li></ul>
            <p>You get this because you subscribed. <a href="https://news.example/unsubscribe">Unsubscribe</a></p>
            <script>var x = "<p><a href='https://evil.example'>not an item, a script</a></p>";</script>
            </body></html>"#;
        let i = read(html, "x.html");
        assert_eq!(i.number, Some(42));
        assert_eq!(i.date.unwrap().format("%Y-%m-%d").to_string(), "2026-11-29");
        assert_eq!(i.items.len(), 2, "{i:#?}");
        assert_eq!(i.items[0].section.as_deref(), Some("News"));
        assert_eq!(i.items[0].url, "https://eng.acme.example/k8s-bill");
        assert_eq!(
            i.items[0].blurb,
            "How Acme cut its Kubernetes bill by half. Read more"
        );
        assert_eq!(i.items[1].section.as_deref(), Some("Events"));
        assert_eq!(i.items[1].url, "https://conf.example/cfp");
    }
}
