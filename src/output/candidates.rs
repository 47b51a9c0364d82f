//! `out/candidates.md` and `out/candidates.json`, and the reading of an edited
//! `candidates.md` back (`gleaner apply`).
//!
//! Each item is one line `- [ ] **Title** · score <!-- gleaner:ID -->` followed by indented
//! lines: the link, sources/date/"also at", why, the excerpt, and `blurb:`. The editor ticks
//! `[x]` (pick), `[-]` (reject) or `[z]` (snooze for a week), may fill `blurb:` (or `reason:` for a reject) and may move an
//! item under another `## Section` heading; [`crate::desk::candidates_md::parse`] reads that back. Titles and excerpts are
//! escaped, so no feed text can forge a marker or a heading.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use crate::model::{Candidate, Why};

/// Renders the candidate list as Markdown.
pub fn markdown(cands: &[Candidate], since: DateTime<Utc>, as_of: DateTime<Utc>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Candidates {} to {}\n",
        since.format("%Y-%m-%d %H:%M"),
        as_of.format("%Y-%m-%d %H:%M UTC")
    );
    out.push_str(
        "Tick `[x]` to pick, `[-]` to reject or `[z]` to snooze for a week, write a blurb after `blurb:` (a reason after \
         `reason:`), move an item under another heading to change its section, then run \
         `gleaner apply` on this file. The hidden `gleaner:` markers map lines back to stories: \
         leave them as they are.\n",
    );
    if cands.is_empty() {
        out.push_str("\nNo candidates in this window.\n");
    }
    let mut section: Option<&str> = None;
    for c in cands {
        if section != Some(c.section.as_str()) {
            section = Some(&c.section);
            let n = cands.iter().filter(|x| x.section == c.section).count();
            let _ = writeln!(
                out,
                "\n## {}\n\n<!-- {n} candidates -->",
                inline(&c.section)
            );
        }
        let _ = writeln!(
            out,
            "\n- [ ] **{}** · {} <!-- gleaner:{} -->",
            inline(&c.title),
            fmt_score(c.score),
            c.id
        );
        if let Some(u) = &c.url {
            let _ = writeln!(out, "  <{u}>");
        }
        let mut meta = vec![if c.sources.is_empty() {
            "added by the editor".to_string()
        } else {
            inline(&c.sources.join(", "))
        }];
        if let Some(p) = c.published {
            meta.push(p.format("%Y-%m-%d").to_string());
        }
        if !c.also_at.is_empty() {
            let links: Vec<String> = c.also_at.iter().map(|u| format!("<{u}>")).collect();
            meta.push(format!("also at {}", links.join(", ")));
        }
        let _ = writeln!(out, "  {}", not_a_field(meta.join(" · ")));
        let why = why_line(&c.why);
        if !why.is_empty() {
            let _ = writeln!(out, "  why: {why}");
        }
        if !c.excerpt.is_empty() {
            let _ = writeln!(out, "  > {}", inline(&c.excerpt));
        }
        out.push_str("  blurb: \n");
    }
    out
}

/// A line of feed text that would read as one the editor writes (`blurb:` or `reason:`, which
/// [`parse`] takes at any indentation) gets its colon escaped: Markdown shows `\:` as `:`, and a
/// feed named `reason: …` no longer rejects with a reason, or keeps the file from being
/// rewritten as if it held edits (found by the round-trip property, issue 6).
fn not_a_field(line: String) -> String {
    let t = line.trim_start();
    let field = ["blurb", "reason"]
        .into_iter()
        .find(|f| t.strip_prefix(f).is_some_and(|r| r.starts_with(':')));
    match field {
        Some(f) => {
            let colon = line.len() - t.len() + f.len();
            format!("{}\\{}", &line[..colon], &line[colon..])
        }
        None => line,
    }
}

/// `term field +n, …, recency decay ×0.81`.
pub fn why_line(why: &[Why]) -> String {
    why_with(why, inline)
}

/// `why` in plain words, for HTML (the caller escapes) and other non-Markdown renderings.
pub fn why_plain(why: &[Why]) -> String {
    why_with(why, str::to_string)
}

fn why_with(why: &[Why], text: impl Fn(&str) -> String) -> String {
    why.iter()
        .map(|w| match w {
            Why::Term {
                term,
                field,
                contribution,
            } => format!("{} {field} {}", text(term), signed(*contribution)),
            Why::Factor { factor, value } if factor.starts_with("in ") => {
                format!("{} {}", text(factor), signed(*value))
            }
            Why::Factor { factor, value } => format!("{} ×{}", text(factor), fmt_score(*value)),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn signed(x: f64) -> String {
    if x < 0.0 {
        format!("−{}", fmt_score(-x))
    } else {
        format!("+{}", fmt_score(x))
    }
}

/// Scores with up to two decimals, no trailing zeros.
pub fn fmt_score(x: f64) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// Feed text inside one Markdown line: no line breaks, no HTML, no emphasis or link syntax.
pub fn inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '*' | '_' | '[' | ']' | '`' | '#' | '|' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The candidate list as JSON: ranked by `score`, highest first, across sections.
pub fn json(cands: &[Candidate]) -> String {
    // One list ranked by score, highest first, each item with its section (the Markdown keeps
    // the sections apart for reading). Stable: ties keep the section order, then newest.
    let mut ranked: Vec<&Candidate> = cands.iter().collect();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut s = serde_json::to_string_pretty(&ranked).expect("candidates serialize");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::fixtures::{cand, t};
    use super::*;

    #[test]
    fn why_reads_as_words_in_plain_text_and_escaped_in_markdown() {
        let why = vec![
            Why::Term {
                term: "deploy*".into(),
                field: "title".into(),
                contribution: 9.0,
            },
            Why::Term {
                term: "crypto".into(),
                field: "body".into(),
                contribution: -4.0,
            },
            Why::Factor {
                factor: "recency decay".into(),
                value: 0.81,
            },
        ];
        assert_eq!(
            why_plain(&why),
            "deploy* title +9, crypto body −4, recency decay ×0.81"
        );
        assert!(
            why_line(&why).starts_with("deploy\\* title +9"),
            "{}",
            why_line(&why)
        );
    }

    #[test]
    fn markdown_snapshot() {
        let md = markdown(
            &[
                cand(
                    1,
                    "News",
                    "Scaling <b>Postgres</b> **fast** <!-- gleaner:99 -->",
                ),
                cand(2, "News", "Second"),
                cand(3, "Tools", "Helm 4"),
            ],
            t("2026-11-18T09:00:00Z"),
            t("2026-11-25T09:00:00Z"),
        );
        insta::assert_snapshot!(md);
    }

    #[test]
    fn json_snapshot() {
        insta::assert_snapshot!(json(&[cand(7, "News", "T <b>")]));
    }

    #[test]
    fn json_has_the_contract_fields() {
        let v: serde_json::Value = serde_json::from_str(&json(&[cand(7, "News", "T")])).unwrap();
        let o = &v[0];
        for k in [
            "id",
            "title",
            "url",
            "also_at",
            "sources",
            "section",
            "published",
            "score",
            "why",
            "excerpt",
        ] {
            assert!(o.get(k).is_some(), "missing {k}");
        }
        assert_eq!(
            o["why"][0],
            serde_json::json!({"term": "kubernetes", "field": "title", "contribution": 9.0})
        );
        assert_eq!(
            o["why"][3],
            serde_json::json!({"factor": "recency decay", "value": 0.81})
        );
    }
}

/// Candidates for the tests here and in `desk::candidates_md`.
#[cfg(test)]
pub(crate) mod fixtures {
    use chrono::{DateTime, Utc};

    use crate::model::{Candidate, Why};

    pub(crate) fn cand(id: i64, section: &str, title: &str) -> Candidate {
        Candidate {
            id,
            title: title.into(),
            url: Some(format!("https://blog.example/{id}")),
            also_at: vec!["https://mirror.example/x".into()],
            sources: vec!["Blog".into(), "HN".into()],
            section: section.into(),
            published: Some(
                DateTime::parse_from_rfc3339("2026-11-20T08:00:00Z")
                    .unwrap()
                    .with_timezone(&Utc),
            ),
            score: 12.3456,
            why: vec![
                Why::Term {
                    term: "kubernetes".into(),
                    field: "title".into(),
                    contribution: 9.0,
                },
                Why::Term {
                    term: "crypto".into(),
                    field: "body".into(),
                    contribution: -4.0,
                },
                Why::Factor {
                    factor: "in 2 feeds".into(),
                    value: 1.0,
                },
                Why::Factor {
                    factor: "recency decay".into(),
                    value: 0.81,
                },
            ],
            excerpt: "How we scaled.".into(),
            also_ids: vec![],
        }
    }

    pub(crate) fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }
}
