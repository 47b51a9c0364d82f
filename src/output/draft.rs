//! `out/issue-N.md`: the issue draft in the newsletter's shape — the configured sections in
//! order, each picked item as its blurb (or its excerpt, marked as needing an edit) with its
//! link on the next line.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use crate::model::Sections;
use crate::output::candidates::inline;

/// An item of the draft.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftItem {
    pub section: String,
    pub title: String,
    pub blurb: Option<String>,
    pub excerpt: String,
    pub url: Option<String>,
    pub also_at: Vec<String>,
}

/// Marks prefilled text the editor still has to rewrite.
pub const NEEDS_EDIT: &str = "[EDIT]";

/// Renders the draft of issue `number`. Sections follow `sections`; items in other sections
/// come after them, in alphabetical order of section.
pub fn render(
    newsletter: &str,
    number: i64,
    date: DateTime<Utc>,
    sections: &[String],
    items: &[DraftItem],
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {newsletter}: issue {number}\n");
    let _ = writeln!(out, "{}", date.format("%A %-d %B %Y"));
    let mut any = false;
    for (section, here) in by_section(sections, items) {
        any = true;
        let _ = writeln!(out, "\n## {section}");
        for item in here {
            out.push('\n');
            match item
                .blurb
                .as_deref()
                .map(str::trim)
                .filter(|b| !b.is_empty())
            {
                Some(b) => {
                    let _ = writeln!(out, "{}", one_paragraph(b));
                }
                None => {
                    let text = if item.excerpt.is_empty() {
                        &item.title
                    } else {
                        &item.excerpt
                    };
                    // Feed text is escaped: it must not become links, images or HTML in the
                    // issue the editor sends out.
                    let _ = writeln!(
                        out,
                        "{NEEDS_EDIT} {}: {}",
                        inline(&item.title),
                        inline(text)
                    );
                }
            }
            let links = links_of(item);
            if !links.is_empty() {
                let _ = writeln!(out, "{}", links.join(" "));
            }
        }
    }
    if !any {
        out.push_str("\nNothing picked yet: `gleaner pick ID --blurb TEXT`, or tick items in out/candidates.md and run `gleaner apply`.\n");
    }
    out
}

/// The sections in issue order (the configured ones, then others alphabetically), each with
/// its items; empty sections left out.
fn by_section<'a>(
    sections: &'a [String],
    items: &'a [DraftItem],
) -> Vec<(&'a str, Vec<&'a DraftItem>)> {
    let mut order: Vec<&str> = sections.iter().map(String::as_str).collect();
    let mut extra: Vec<&str> = items
        .iter()
        .map(|i| i.section.as_str())
        .filter(|s| !sections.iter().any(|c| Sections::same(c, s)))
        .collect();
    extra.sort_unstable();
    extra.dedup();
    order.extend(extra);
    order
        .into_iter()
        .map(|section| {
            let here: Vec<&DraftItem> = items
                .iter()
                .filter(|i| Sections::same(&i.section, section))
                .collect();
            (section, here)
        })
        .filter(|(_, here)| !here.is_empty())
        .collect()
}

/// An item's http(s) links: its own, then "also at".
fn links_of(item: &DraftItem) -> Vec<&str> {
    let mut links: Vec<&str> = item.url.iter().map(String::as_str).collect();
    links.extend(item.also_at.iter().map(String::as_str));
    links.retain(|u| {
        let l = u.trim_start().to_ascii_lowercase();
        l.starts_with("https://") || l.starts_with("http://")
    });
    links
}

/// The same draft as an HTML fragment to paste into a newsletter editor (Substack,
/// Buttondown): a heading per section, a paragraph per item — the blurb or `[EDIT] title:
/// excerpt` — and its links.
///
/// The blurb is the editor's Markdown, so it is rendered: emphasis, strong, code and links
/// ([`blurb_html`]); pasting `**Helm 4**` into Substack should not show the asterisks. Feed
/// text (titles, excerpts) is never Markdown here: it is escaped as it is. The fragment is
/// pasted into another site and shown on the desk's /draft page as trusted HTML, so the
/// renderer owns its safety: every text and attribute is escaped, raw HTML in a blurb is shown
/// as text, only http(s) (and, in a blurb, mailto) links are links, and there is no `<img>`.
pub fn html(
    newsletter: &str,
    number: i64,
    date: DateTime<Utc>,
    sections: &[String],
    items: &[DraftItem],
) -> String {
    let e = |s: &str| crate::text::escape_html(&crate::text::clean_control(s));
    let mut out = String::new();
    let _ = writeln!(out, "<h1>{}: issue {number}</h1>", e(newsletter));
    let _ = writeln!(out, "<p>{}</p>", date.format("%A %-d %B %Y"));
    for (section, here) in by_section(sections, items) {
        let _ = writeln!(out, "<h2>{}</h2>", e(section));
        for item in here {
            let text = match item
                .blurb
                .as_deref()
                .map(str::trim)
                .filter(|b| !b.is_empty())
            {
                Some(b) => match blurb_html(b) {
                    // A blurb of only Markdown syntax (`---`) would leave an empty paragraph.
                    h if h.is_empty() => e(&one_paragraph(b)),
                    h => h,
                },
                None => {
                    let text = if item.excerpt.is_empty() {
                        &item.title
                    } else {
                        &item.excerpt
                    };
                    format!(
                        "{NEEDS_EDIT} <strong>{}</strong>: {}",
                        e(&item.title),
                        e(text)
                    )
                }
            };
            let links: Vec<String> = links_of(item)
                .into_iter()
                .map(|u| format!("<a href=\"{}\">{}</a>", e(u.trim()), e(u.trim())))
                .collect();
            if links.is_empty() {
                let _ = writeln!(out, "<p>{text}</p>");
            } else {
                let _ = writeln!(out, "<p>{text}<br>\n{}</p>", links.join(" "));
            }
        }
    }
    out
}

/// The editor's own text: kept as written (it may use Markdown), on one line.
fn one_paragraph(s: &str) -> String {
    crate::text::clean_control(s)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A blurb as inline HTML: its Markdown (CommonMark, no extensions) rendered to `<em>`,
/// `<strong>`, `<code>` and `<a>`, and nothing else.
///
/// What is parsed is the line the Markdown draft shows ([`one_paragraph`]), so the two copies
/// of the issue read alike. A line can still open a block (`# News`, `- item`, `> quote`,
/// `<div>`): blocks are flattened to their inline text, because the item is one `<p>` with
/// its links after a `<br>`. An ordered list keeps its number, so that a blurb starting with
/// `1986. A year…` reads as written.
///
/// Safety, since the result is pasted into another site and shown on the desk as is: raw
/// HTML (blocks and inline) is escaped as text, never passed through; a link is a link only
/// to http(s) or mailto (`[x](javascript:…)` is just `x`), and its URL is an escaped
/// attribute; an image is its alt text (no `<img>`: no tracking pixels, no `onerror`).
/// pulldown-cmark balances every start with its end, and only those pairs write tags, so
/// the result is well-formed.
fn blurb_html(blurb: &str) -> String {
    use pulldown_cmark::{Event, LinkType, Parser, Tag, TagEnd};
    let line = one_paragraph(blurb);
    let mut out = Inline::default();
    // For each open link, whether it was written as `<a>` (its URL was allowed).
    let mut links: Vec<bool> = Vec::new();
    // For each open list, the next item's number (`None` for bullets).
    let mut lists: Vec<Option<u64>> = Vec::new();
    for event in Parser::new(&line) {
        match event {
            Event::Text(t)
            | Event::Html(t)
            | Event::InlineHtml(t)
            | Event::InlineMath(t)
            | Event::DisplayMath(t)
            | Event::FootnoteReference(t) => out.text(&t),
            Event::Code(c) => {
                out.open("<code>");
                out.text(&c);
                out.close("</code>");
            }
            Event::SoftBreak | Event::HardBreak | Event::Rule => out.space(),
            Event::TaskListMarker(done) => out.text(if done { "[x]" } else { "[ ]" }),
            Event::Start(tag) => match tag {
                Tag::Emphasis => out.open("<em>"),
                Tag::Strong => out.open("<strong>"),
                Tag::CodeBlock(_) => {
                    out.space();
                    out.open("<code>");
                }
                Tag::Link {
                    link_type,
                    dest_url,
                    ..
                } => {
                    let href = match link_type {
                        LinkType::Email => format!("mailto:{dest_url}"),
                        _ => dest_url.to_string(),
                    };
                    let allowed = blurb_link(&href);
                    if allowed {
                        out.open(&format!(
                            "<a href=\"{}\">",
                            crate::text::escape_html(href.trim())
                        ));
                    }
                    links.push(allowed);
                }
                // Its alt text follows as text events.
                Tag::Image { .. } => {}
                Tag::List(start) => {
                    out.space();
                    lists.push(start);
                }
                Tag::Item => {
                    out.space();
                    if let Some(Some(n)) = lists.last_mut() {
                        out.text(&format!("{n}. "));
                        *n += 1;
                    }
                }
                // Paragraphs, headings, quotes, HTML blocks, …: only a word boundary.
                _ => out.space(),
            },
            Event::End(tag) => match tag {
                TagEnd::Emphasis => out.close("</em>"),
                TagEnd::Strong => out.close("</strong>"),
                TagEnd::CodeBlock => {
                    out.close("</code>");
                    out.space();
                }
                TagEnd::Link => {
                    if links.pop() == Some(true) {
                        out.close("</a>");
                    }
                }
                TagEnd::Image => {}
                TagEnd::List(_) => {
                    lists.pop();
                    out.space();
                }
                _ => out.space(),
            },
        }
    }
    out.html
}

/// Whether a blurb may link to `url`: http(s) and mailto only (no `javascript:`, `data:`,
/// `file:` or relative links, which would point into the site the issue is pasted into).
fn blurb_link(url: &str) -> bool {
    let l = url.trim_start().to_ascii_lowercase();
    l.starts_with("https://") || l.starts_with("http://") || l.starts_with("mailto:")
}

/// Inline HTML being written: text escaped, runs of whitespace as one space, none at the
/// ends. A space pending before an opening tag goes before it (`a <em>b</em>`, not
/// `a<em> b</em>`); one pending after a closing tag stays pending.
#[derive(Default)]
struct Inline {
    html: String,
    space: bool,
}

impl Inline {
    fn text(&mut self, s: &str) {
        for (i, word) in s.split(char::is_whitespace).enumerate() {
            if i > 0 {
                self.space = true;
            }
            if !word.is_empty() {
                self.flush_space();
                self.html.push_str(&crate::text::escape_html(word));
            }
        }
    }

    fn space(&mut self) {
        self.space = true;
    }

    fn open(&mut self, tag: &str) {
        self.flush_space();
        self.html.push_str(tag);
    }

    fn close(&mut self, tag: &str) {
        self.html.push_str(tag);
    }

    fn flush_space(&mut self) {
        if self.space && !self.html.is_empty() {
            self.html.push(' ');
        }
        self.space = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draft_snapshot() {
        let item = |section: &str, title: &str, blurb: Option<&str>| DraftItem {
            section: section.into(),
            title: title.into(),
            blurb: blurb.map(str::to_string),
            excerpt: format!("Excerpt of {title}."),
            url: Some(format!(
                "https://example.com/{}",
                title.to_lowercase().replace(' ', "-")
            )),
            also_at: vec![],
        };
        let mut with_also = item(
            "News",
            "Scaling Postgres",
            Some(
                "Acme explains how they\nscaled Postgres to 40 TB. Worth it for the vacuum section alone.",
            ),
        );
        with_also.also_at = vec!["https://mirror.example/pg".into()];
        let md = render(
            "DevOps Weekly",
            42,
            DateTime::parse_from_rfc3339("2026-11-29T08:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            &[
                "News".into(),
                "Jobs".into(),
                "Events".into(),
                "Tools".into(),
            ],
            &[
                item(
                    "Tools",
                    "Helm 4",
                    Some("Helm 4 is out, with a new plugin system."),
                ),
                with_also,
                item("News", "Incident review", None),
                item(
                    "Culture",
                    "On-call health",
                    Some("A thoughtful piece on sustainable on-call."),
                ),
            ],
        );
        insta::assert_snapshot!(md);
    }

    /// A News item titled "T" with this blurb and nothing else.
    fn blurbed(blurb: &str) -> DraftItem {
        DraftItem {
            section: "News".into(),
            title: "T".into(),
            blurb: Some(blurb.into()),
            excerpt: String::new(),
            url: None,
            also_at: vec![],
        }
    }

    #[test]
    fn feed_text_in_the_draft_is_escaped() {
        let item = DraftItem {
            section: "News".into(),
            title: "Evil <img src=x onerror=alert(1)> \u{1b}[31m".into(),
            blurb: None,
            excerpt: "[click](javascript:alert(1)) *bold*".into(),
            url: Some("javascript:alert(2)".into()),
            also_at: vec!["https://ok.example/".into()],
        };
        let md = render("N", 1, Utc::now(), &["News".into()], &[item]);
        assert!(md.contains("[EDIT] Evil &lt;img src=x onerror=alert(1)&gt;  \\[31m: \\[click\\](javascript:alert(1)) \\*bold\\*\nhttps://ok.example/\n"), "{md}");
        assert!(!md.contains("javascript:alert(2)"), "{md}");
    }

    #[test]
    fn the_html_draft_escapes_everything_and_links_only_http() {
        let item = DraftItem {
            section: "News <b>".into(),
            title: "Evil <img src=x onerror=alert(1)>".into(),
            blurb: None,
            excerpt: "\"quoted\" & <script>alert(1)</script>".into(),
            url: Some("javascript:alert(2)".into()),
            also_at: vec!["https://ok.example/?a=1&b=\"2\"".into()],
        };
        let mut blurbed = item.clone();
        blurbed.blurb = Some("Mine: <i>really</i>\nworth it".into());
        blurbed.url = Some("https://two.example/".into());
        blurbed.also_at.clear();
        let mut markdown = blurbed.clone();
        markdown.blurb = Some(
            "**Kubernetes 1.35** is _out_, see [the notes](https://k8s.io/x?a=1&b=2) and `kubectl`; [not a link](javascript:alert(3))".into(),
        );
        let date = DateTime::parse_from_rfc3339("2026-11-29T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let html = html(
            "Ops & Co",
            3,
            date,
            &["Tools".into()],
            &[item, blurbed, markdown],
        );
        insta::assert_snapshot!(html);
        assert!(!html.contains("<img") && !html.contains("<script") && !html.contains("<i>"));
        assert!(!html.contains("javascript:"), "{html}");
    }

    #[test]
    fn a_blurb_renders_its_inline_markdown() {
        assert_eq!(
            blurb_html(
                "**Kubernetes 1.35** is *out*, run `kubectl  get` and see [the notes](https://k8s.io/x?a=1&b=\"2\")\nor <ed@example.org>"
            ),
            "<strong>Kubernetes 1.35</strong> is <em>out</em>, run <code>kubectl get</code> and see <a href=\"https://k8s.io/x?a=1&amp;b=&quot;2&quot;\">the notes</a> or <a href=\"mailto:ed@example.org\">ed@example.org</a>"
        );
        assert_eq!(
            blurb_html("AT&amp;T & \\*not emphasis\\*, it's <https://ok.example/>"),
            "AT&amp;T &amp; *not emphasis*, it&#39;s <a href=\"https://ok.example/\">https://ok.example/</a>"
        );
    }

    #[test]
    fn raw_html_in_a_blurb_is_text() {
        for (blurb, shown) in [
            (
                "Mine <script>alert(1)</script> ok",
                "Mine &lt;script&gt;alert(1)&lt;/script&gt; ok",
            ),
            (
                "<img src=x onerror=alert(1)> at the start is an HTML block",
                "&lt;img src=x onerror=alert(1)&gt; at the start is an HTML block",
            ),
            (
                "<div onclick=\"x()\">block</div>",
                "&lt;div onclick=&quot;x()&quot;&gt;block&lt;/div&gt;",
            ),
            ("a <!-- hidden --> b", "a &lt;!-- hidden --&gt; b"),
            (
                "![pixel <b>](https://track.example/p.gif) seen",
                "pixel &lt;b&gt; seen",
            ),
            (
                "[![logo](https://x.example/l.png)](https://x.example/)",
                "<a href=\"https://x.example/\">logo</a>",
            ),
        ] {
            let html = blurb_html(blurb);
            assert_eq!(html, shown, "{blurb}");
            assert!(!html.contains("<img") && !html.contains("<script") && !html.contains("<div"));
        }
    }

    #[test]
    fn only_http_and_mailto_blurb_links_are_links() {
        for blurb in [
            "[x](javascript:alert(1))",
            "[x](JavaScript:alert(1))",
            "[x](jav&#x61;script:alert(1))",
            "[x](data:text/html,hi)",
            "[x](/relative)",
            "[x](file:///etc/passwd)",
            "[x][r]\n\n[r]: javascript:alert(1)",
            "<javascript:alert(1)>",
        ] {
            let html = blurb_html(blurb);
            assert!(!html.contains("<a"), "{blurb}: {html}");
            assert!(
                !html.contains("javascript:alert(1)") || !html.contains("href"),
                "{html}"
            );
        }
        assert_eq!(blurb_html("[x](javascript:alert(1))"), "x");
        assert_eq!(blurb_html("<javascript:alert(1)>"), "javascript:alert(1)");
        assert_eq!(
            blurb_html("[x](HTTPS://ok.example/)"),
            "<a href=\"HTTPS://ok.example/\">x</a>"
        );
    }

    #[test]
    fn a_blurb_with_blocks_stays_one_paragraph() {
        for (blurb, shown) in [
            (
                "# Big news\nfrom **Acme**",
                "Big news from <strong>Acme</strong>",
            ),
            ("- one\n- two *three*", "one - two <em>three</em>"),
            ("> quoted", "quoted"),
            ("1986. A year of *UNIX*", "1986. A year of <em>UNIX</em>"),
            ("Setext\n===", "Setext ==="),
            ("```\ncode\n```", "<code>code</code>"),
            ("a\n\n---\n\nb", "a --- b"),
        ] {
            assert_eq!(blurb_html(blurb), shown, "{blurb:?}");
        }
        let mut item = blurbed("## Heading\n\n- a\n- b\n\n    code");
        item.url = Some("https://ok.example/".into());
        let out = html("N", 1, Utc::now(), &["News".into()], &[item]);
        let body = &out[out.find("<h2>").unwrap()..];
        assert_eq!(
            body,
            "<h2>News</h2>\n<p>Heading - a - b code<br>\n<a href=\"https://ok.example/\">https://ok.example/</a></p>\n"
        );
        assert!(!out.contains("<ul") && !out.contains("<li") && !out.contains("<pre"));
        // Markdown syntax alone would leave nothing: the blurb is shown as written.
        let item = blurbed("---");
        let out = html("N", 1, Utc::now(), &["News".into()], &[item]);
        assert!(out.ends_with("<h2>News</h2>\n<p>---</p>\n"), "{out}");
    }

    #[test]
    fn the_markdown_draft_keeps_the_blurb_as_written() {
        let item = blurbed("**Kubernetes 1.35** is out, see [the notes](https://k8s.io/x)");
        let md = render("N", 1, Utc::now(), &["News".into()], &[item]);
        assert!(
            md.contains("\n**Kubernetes 1.35** is out, see [the notes](https://k8s.io/x)\n"),
            "{md}"
        );
    }

    #[test]
    fn an_empty_draft_says_how_to_pick() {
        let md = render("N", 1, Utc::now(), &["News".into()], &[]);
        assert!(md.contains("Nothing picked yet"));
    }
}
