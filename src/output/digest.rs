//! The weekly digest: the week's top candidates per section with counts of what was read, as
//! Markdown or as a standalone HTML page (inline CSS, no scripts, a Content-Security-Policy
//! that forbids them anyway). Everything from feeds is plain text here and escaped; links are
//! only ever http(s).

use std::fmt::Write;

use chrono::{DateTime, Utc};

use crate::model::Activity;
use crate::model::Candidate;
use crate::output::candidates::{fmt_score, inline, why_line, why_plain};
use crate::text::escape_html as esc;

/// Everything a digest shows.
#[derive(Debug, Clone)]
pub struct Digest {
    pub newsletter: String,
    /// `2014-W15`.
    pub week: String,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub activity: Activity,
    /// Near-duplicate stories folded into other candidates.
    pub near_duplicates: usize,
    /// Candidates per section, in section order, best first.
    pub sections: Vec<(String, Vec<Candidate>)>,
}

fn range(d: &Digest) -> String {
    format!(
        "{} to {}",
        d.since.format("%a %-d %b %Y"),
        (d.until - chrono::Duration::seconds(1)).format("%a %-d %b %Y")
    )
}

fn counts(d: &Digest) -> String {
    let a = &d.activity;
    format!(
        "{} feeds polled ({} fetches), {} stories seen, {} duplicates collapsed ({} from several feeds, {} near-duplicates)",
        a.feeds_polled,
        a.fetches,
        a.stories_seen,
        a.duplicates_collapsed as usize + d.near_duplicates,
        a.duplicates_collapsed,
        d.near_duplicates
    )
}

/// Only http(s) links are ever rendered.
fn safe_url(u: &str) -> Option<&str> {
    let lower = u.trim_start().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then_some(u.trim())
}

/// The digest as Markdown.
pub fn markdown(d: &Digest) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {} digest, week {}\n", inline(&d.newsletter), d.week);
    let _ = writeln!(out, "{}. {}.", range(d), counts(d));
    for (section, cands) in &d.sections {
        let _ = writeln!(out, "\n## {} ({})\n", inline(section), cands.len());
        for c in cands {
            let link = c.url.as_deref().and_then(safe_url);
            match link {
                Some(u) => {
                    let _ = writeln!(
                        out,
                        "- **{}** · {} · <{u}>",
                        inline(&c.title),
                        fmt_score(c.score)
                    );
                }
                None => {
                    let _ = writeln!(out, "- **{}** · {}", inline(&c.title), fmt_score(c.score));
                }
            }
            let _ = writeln!(
                out,
                "  {} · why: {}",
                inline(&c.sources.join(", ")),
                why_line(&c.why)
            );
            if !c.excerpt.is_empty() {
                let _ = writeln!(out, "  > {}", inline(&c.excerpt));
            }
        }
    }
    if d.sections.iter().all(|(_, c)| c.is_empty()) {
        out.push_str("\nNo candidates this week.\n");
    }
    out
}

const CSS: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}\
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #ddd}\
.meta{color:#666;font-size:.9rem}li{margin:1rem 0}.score{color:#666;font-size:.85rem}\
blockquote{margin:.3rem 0 0;color:#444;border-left:3px solid #ddd;padding-left:.7rem}a{color:#0645ad}";

/// The digest as a standalone HTML page.
pub fn html(d: &Digest) -> String {
    let title = format!("{} digest, week {}", d.newsletter, d.week);
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        esc(&title)
    );
    out.push_str(&html_body(d));
    out.push_str("</body>\n</html>\n");
    out
}

/// The digest's content as an HTML fragment (heading, counts, sections), every text escaped:
/// the body of [`html`], and what `gleaner serve` shows inside its own page.
pub fn html_body(d: &Digest) -> String {
    let title = format!("{} digest, week {}", d.newsletter, d.week);
    let mut out = String::new();
    let _ = writeln!(out, "<h1>{}</h1>", esc(&title));
    let _ = writeln!(
        out,
        "<p class=\"meta\">{}. {}.</p>",
        esc(&range(d)),
        esc(&counts(d))
    );
    for (section, cands) in &d.sections {
        let _ = writeln!(
            out,
            "<h2>{} <span class=\"score\">({})</span></h2>\n<ul>",
            esc(section),
            cands.len()
        );
        for c in cands {
            out.push_str("<li>");
            match c.url.as_deref().and_then(safe_url) {
                Some(u) => {
                    let _ = write!(
                        out,
                        "<a href=\"{}\" rel=\"noopener noreferrer\">{}</a>",
                        esc(u),
                        esc(&c.title)
                    );
                }
                None => out.push_str(&esc(&c.title)),
            }
            let _ = write!(
                out,
                " <span class=\"score\">{} · {} · why: {}</span>",
                esc(&fmt_score(c.score)),
                esc(&c.sources.join(", ")),
                esc(&why_plain(&c.why))
            );
            let also: Vec<String> = c
                .also_at
                .iter()
                .filter_map(|u| safe_url(u))
                .map(|u| {
                    format!(
                        "<a href=\"{}\" rel=\"noopener noreferrer\">{}</a>",
                        esc(u),
                        esc(u)
                    )
                })
                .collect();
            if !also.is_empty() {
                let _ = write!(
                    out,
                    "<br><span class=\"score\">also at {}</span>",
                    also.join(", ")
                );
            }
            if !c.excerpt.is_empty() {
                let _ = write!(out, "<blockquote>{}</blockquote>", esc(&c.excerpt));
            }
            out.push_str("</li>\n");
        }
        out.push_str("</ul>\n");
    }
    if d.sections.iter().all(|(_, c)| c.is_empty()) {
        out.push_str("<p>No candidates this week.</p>\n");
    }
    out
}

/// The subject of the digest's e-mail and the title of its webhook message.
pub fn subject(d: &Digest) -> String {
    format!("{}: candidate digest, week {}", d.newsletter, d.week)
}

/// Inline styles for the mail HTML: mail clients drop `<style>` blocks and `<head>`, so every
/// element carries its own (the markup [`html_body`] writes is gleaner's own, and feed text in
/// it is escaped, so these replacements cannot touch anything a feed wrote).
const MAIL_STYLES: &[(&str, &str)] = &[
    (
        "<h1>",
        "<h1 style=\"font-size:24px;margin:0 0 4px;font-family:Arial,Helvetica,sans-serif\">",
    ),
    (
        "<h2>",
        "<h2 style=\"font-size:19px;margin:24px 0 8px;border-bottom:1px solid #dddddd;font-family:Arial,Helvetica,sans-serif\">",
    ),
    (
        "<p class=\"meta\">",
        "<p style=\"color:#666666;font-size:14px;margin:0 0 8px\">",
    ),
    (
        "<span class=\"score\">",
        "<span style=\"color:#666666;font-size:13px\">",
    ),
    ("<li>", "<li style=\"margin:12px 0\">"),
    (
        "<blockquote>",
        "<blockquote style=\"margin:4px 0 0;color:#444444;border-left:3px solid #dddddd;padding-left:10px\">",
    ),
    (
        "<a href=",
        "<a style=\"color:#0645ad\" target=\"_blank\" href=",
    ),
];

/// The digest as the HTML part of an e-mail: the same content as [`html`], every style inline,
/// no `<style>`, no scripts (nor any other active content: feed text is escaped, links are only
/// http(s)), a table-free single column that every mail client renders.
pub fn mail_html(d: &Digest) -> String {
    let mut body = html_body(d);
    for (from, to) in MAIL_STYLES {
        body = body.replace(from, to);
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n</head>\n\
         <body style=\"margin:0;padding:16px;background:#ffffff\">\n\
         <div style=\"max-width:720px;margin:0 auto;font:16px/1.5 Arial,Helvetica,sans-serif;color:#222222\">\n\
         {body}</div>\n</body>\n</html>\n",
        esc(&subject(d))
    )
}

/// The digest as the JSON a webhook receives (`format = "json"`).
pub fn webhook_json(d: &Digest) -> serde_json::Value {
    let sections: Vec<serde_json::Value> = d
        .sections
        .iter()
        .map(|(name, cands)| {
            serde_json::json!({
                "name": name,
                "items": cands.iter().map(|c| serde_json::json!({
                    "id": c.id,
                    "title": c.title,
                    "url": c.url.as_deref().and_then(safe_url),
                    "also_at": c.also_at.iter().filter_map(|u| safe_url(u)).collect::<Vec<_>>(),
                    "sources": c.sources,
                    "published": c.published,
                    "score": c.score,
                    "excerpt": c.excerpt,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let a = &d.activity;
    serde_json::json!({
        "newsletter": d.newsletter,
        "week": d.week,
        "title": subject(d),
        "since": d.since,
        "until": d.until,
        "counts": {
            "feeds_polled": a.feeds_polled,
            "fetches": a.fetches,
            "stories_seen": a.stories_seen,
            "duplicates_collapsed": a.duplicates_collapsed as usize + d.near_duplicates,
        },
        "sections": sections,
        "text": markdown(d),
    })
}

/// Text as Slack's mrkdwn shows it literally: `&`, `<` and `>` escaped, as Slack asks.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The digest as a Slack-compatible message (`format = "slack"`): `{"text": …}` with
/// `<url|title>` links, which Discord's Slack endpoint, Matrix bridges and ntfy also read.
pub fn slack(d: &Digest) -> serde_json::Value {
    let mut text = format!(
        "*{}*\n{}. {}.\n",
        slack_escape(&subject(d)),
        range(d),
        counts(d)
    );
    for (section, cands) in &d.sections {
        let _ = write!(text, "\n*{} ({})*\n", slack_escape(section), cands.len());
        for c in cands {
            // A `|` or `>` in a URL would end Slack's link early.
            match c
                .url
                .as_deref()
                .and_then(safe_url)
                .filter(|u| !u.contains(['|', '>', '<', ' ']))
            {
                Some(u) => {
                    let _ = writeln!(
                        text,
                        "• <{u}|{}> ({})",
                        slack_escape(&c.title).replace('|', "¦"),
                        fmt_score(c.score)
                    );
                }
                None => {
                    let _ = writeln!(
                        text,
                        "• {} ({})",
                        slack_escape(&c.title),
                        fmt_score(c.score)
                    );
                }
            }
        }
    }
    if d.sections.iter().all(|(_, c)| c.is_empty()) {
        text.push_str("\nNo candidates this week.\n");
    }
    serde_json::json!({ "text": text })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Why;

    fn digest() -> Digest {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let cand = |id: i64, title: &str, url: &str| Candidate {
            id,
            title: title.into(),
            url: Some(url.into()),
            also_at: vec![
                "javascript:alert(1)".into(),
                "https://mirror.example/a".into(),
            ],
            sources: vec!["Blog <3".into()],
            section: "News".into(),
            published: Some(t("2014-04-08T10:00:00Z")),
            score: 7.5,
            why: vec![Why::Term {
                term: "postgres".into(),
                field: "title".into(),
                contribution: 9.0,
            }],
            excerpt: "An <img src=x onerror=alert(1)> excerpt & more".into(),
            also_ids: vec![],
        };
        Digest {
            newsletter: "DevOps Weekly".into(),
            week: "2014-W15".into(),
            since: t("2014-04-07T00:00:00Z"),
            until: t("2014-04-14T00:00:00Z"),
            activity: Activity {
                feeds_polled: 12,
                fetches: 300,
                stories_seen: 140,
                duplicates_collapsed: 9,
            },
            near_duplicates: 2,
            sections: vec![
                (
                    "News".into(),
                    vec![
                        cand(
                            1,
                            "<script>alert(1)</script> Postgres",
                            "https://blog.example/pg",
                        ),
                        cand(2, "Evil link", "javascript:alert(2)"),
                    ],
                ),
                ("Tools".into(), vec![]),
            ],
        }
    }

    #[test]
    fn markdown_snapshot() {
        insta::assert_snapshot!(markdown(&digest()));
    }

    #[test]
    fn html_snapshot_is_escaped_and_script_free() {
        let h = html(&digest());
        assert!(!h.contains("<script"), "{h}");
        assert!(!h.contains("javascript:alert(2)\""), "{h}");
        assert!(!h.contains("href=\"javascript"), "{h}");
        assert!(!h.contains("<img"), "{h}");
        insta::assert_snapshot!(h);
    }

    #[test]
    fn mail_html_is_inline_styled_escaped_and_script_free() {
        let h = mail_html(&digest());
        for bad in ["<script", "<style", "href=\"javascript", "<img", "class="] {
            assert!(!h.contains(bad), "{bad}: {h}");
        }
        assert!(h.contains("<h1 style="), "{h}");
        assert!(
            h.contains("&lt;script&gt;alert(1)&lt;/script&gt; Postgres"),
            "{h}"
        );
        assert!(h.contains(
            "<a style=\"color:#0645ad\" target=\"_blank\" href=\"https://blog.example/pg\""
        ));
    }

    #[test]
    fn webhook_bodies() {
        let j = webhook_json(&digest());
        assert_eq!(j["week"], "2014-W15");
        let items = j["sections"][0]["items"].as_array().unwrap();
        assert_eq!(items[0]["url"], "https://blog.example/pg");
        assert!(items[1]["url"].is_null(), "{j:#}");
        assert_eq!(
            items[0]["also_at"],
            serde_json::json!(["https://mirror.example/a"])
        );
        let t = slack(&digest())["text"].as_str().unwrap().to_string();
        assert!(
            t.contains(
                "• <https://blog.example/pg|&lt;script&gt;alert(1)&lt;/script&gt; Postgres> (7.5)"
            ),
            "{t}"
        );
        assert!(t.contains("• Evil link"), "{t}");
        assert!(!t.contains("javascript:"), "{t}");
    }
}
