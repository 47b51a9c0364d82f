//! The weekly digest: the week's top candidates per section with counts of what was read, as
//! Markdown or as a standalone HTML page (inline CSS, no scripts, a Content-Security-Policy
//! that forbids them anyway). Everything from feeds is plain text here and escaped; links are
//! only ever http(s).

use std::fmt::Write;

use chrono::{DateTime, Utc};

use crate::candidates::Candidate;
use crate::model::Activity;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::candidates::Why;

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
}
