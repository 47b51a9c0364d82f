//! `gleaner explain ID`: every part of a story's score, as arithmetic the editor can check.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use crate::model::PoolRow;
use crate::output::candidates::fmt_score;
use crate::score::Explanation;

/// Renders the explanation of one story's score at `as_of`. `woke`: when the story came back
/// from a snooze (it ages from then, not from its date).
pub fn render(
    row: &PoolRow,
    e: Option<&Explanation>,
    decay: f64,
    woke: Option<DateTime<Utc>>,
    section: &str,
    half_life: std::time::Duration,
    as_of: DateTime<Utc>,
) -> String {
    let s = &row.story;
    let mut out = String::new();
    let one = |t: &str| {
        t.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
    };
    let _ = writeln!(out, "#{} {}", s.id, one(&s.title));
    if let Some(u) = &s.url {
        let _ = writeln!(out, "{u}");
    }
    let sources = if s.sources.is_empty() {
        "added by the editor".to_string()
    } else {
        s.sources.join(", ")
    };
    let _ = writeln!(out, "sources: {}", one(&sources));
    let _ = writeln!(out, "section: {section}");
    let Some(e) = e else {
        out.push_str("not scored yet\n");
        return out;
    };
    out.push('\n');
    if e.terms.is_empty() {
        out.push_str("  no keyword matched\n");
    }
    let width = e
        .terms
        .iter()
        .map(|t| t.term.chars().count())
        .max()
        .unwrap_or(0)
        .max(13);
    for t in &e.terms {
        let feed = t
            .feed
            .as_deref()
            .map(|f| format!(" (keyword of {})", one(f)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:<width$}  {:<5}  {:>2} hit{}  {:>+9.3}{feed}",
            one(&t.term),
            t.field,
            t.hits,
            if t.hits == 1 { " " } else { "s" },
            t.contribution
        );
    }
    let _ = writeln!(
        out,
        "  {:<width$}  {:>27.3}",
        "keyword score", e.keyword_score
    );
    let _ = writeln!(
        out,
        "  × feed weight {} ({})",
        fmt_score(e.feed_weight),
        one(e.feed.as_deref().unwrap_or("-"))
    );
    let _ = writeln!(
        out,
        "  × host weight {} ({})",
        fmt_score(e.host_weight),
        e.host.as_deref().unwrap_or("-")
    );
    let _ = writeln!(
        out,
        "  + {} for being in {} feeds",
        fmt_score(e.multi_source_bonus),
        e.sources
    );
    let _ = writeln!(out, "  = base {:.3}", e.base);
    let date = s.published.unwrap_or(s.first_seen);
    let (from, what) = match woke {
        Some(w) => (w, "back from a snooze"),
        None => (date, "dated"),
    };
    let age_h = (as_of - from).num_minutes().max(0) as f64 / 60.0;
    let _ = writeln!(
        out,
        "  × recency decay {decay:.3} ({what} {}, {:.1} h before {}, half-life {})",
        from.format("%Y-%m-%d %H:%M"),
        age_h,
        as_of.format("%Y-%m-%d %H:%M UTC"),
        humantime::format_duration(half_life)
    );
    let _ = writeln!(out, "  = score {:.3}", crate::score::round(e.base * decay));
    if let Some(v) = &e.vetoed_by {
        let _ = writeln!(out, "\nvetoed by `{}`: hidden from the candidates", one(v));
    }
    if let Some(d) = &row.decision {
        let _ = writeln!(
            out,
            "\n{} on {}{}",
            match d.verdict {
                crate::model::Verdict::Pick => "picked",
                crate::model::Verdict::Reject => "rejected",
            },
            d.decided_at.format("%Y-%m-%d %H:%M UTC"),
            d.issue
                .map(|i| format!(", published in issue {i}"))
                .unwrap_or_default()
        );
    }
    out
}
