//! `out/issue-N.md`: the issue draft in the newsletter's shape — the configured sections in
//! order, each picked item as its blurb (or its excerpt, marked as needing an edit) with its
//! link on the next line.

use std::fmt::Write;

use chrono::{DateTime, Utc};

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
        .filter(|s| !sections.iter().any(|c| c.eq_ignore_ascii_case(s)))
        .collect();
    extra.sort_unstable();
    extra.dedup();
    order.extend(extra);
    order
        .into_iter()
        .map(|section| {
            let here: Vec<&DraftItem> = items
                .iter()
                .filter(|i| i.section.eq_ignore_ascii_case(section))
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
/// Buttondown): a heading per section, a paragraph per item — the blurb (as plain text: the
/// Markdown in it is not converted) or `[EDIT] title: excerpt` — and its links. Every text is
/// escaped; only http(s) links are links.
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
                Some(b) => e(&one_paragraph(b)),
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
        let date = DateTime::parse_from_rfc3339("2026-11-29T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let html = html("Ops & Co", 3, date, &["Tools".into()], &[item, blurbed]);
        insta::assert_snapshot!(html);
        assert!(!html.contains("<img") && !html.contains("<script") && !html.contains("<i>"));
        assert!(!html.contains("javascript:"), "{html}");
    }

    #[test]
    fn an_empty_draft_says_how_to_pick() {
        let md = render("N", 1, Utc::now(), &["News".into()], &[]);
        assert!(md.contains("Nothing picked yet"));
    }
}
