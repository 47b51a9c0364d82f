//! `gleaner explain ID`: every part of a story's score, as arithmetic the editor can check.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use crate::learn::{Learned, describe};
use crate::model::PoolRow;
use crate::output::candidates::fmt_score;
use crate::score::Explanation;

/// What besides the stored score the explanation shows: the window and the decay, and what
/// was learned.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub decay: f64,
    /// When the story came back from a snooze (it ages from then, not from its date).
    pub woke: Option<DateTime<Utc>>,
    /// The candidate window's start: stories dated from it on do not decay.
    pub window_start: DateTime<Utc>,
    pub section: &'a str,
    pub half_life: std::time::Duration,
    /// What the learned model says of the story (scaled by the weight), and how many positive
    /// and negative examples it learned from; `None` when nothing was learned (yet).
    pub learned: Option<(&'a Learned, (usize, usize))>,
    pub learning_weight: f64,
}

/// Renders the explanation of one story's score.
pub fn render(row: &PoolRow, e: Option<&Explanation>, cx: &Context) -> String {
    let (decay, woke, section, half_life) = (cx.decay, cx.woke, cx.section, cx.half_life);
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
    let learned = match cx.learned {
        Some((l, (pos, neg))) => {
            let _ = writeln!(
                out,
                "  {} {:.3} learned from your decisions (weight {}; from {pos} positive and {neg} negative examples{})",
                if l.value < 0.0 { "-" } else { "+" },
                l.value.abs(),
                fmt_score(cx.learning_weight),
                if l.top.is_empty() {
                    ": nothing it knows is in this story"
                } else {
                    ""
                }
            );
            for (f, w) in &l.top {
                let _ = writeln!(out, "      {w:>+7.3}  {}", one(&describe(f)));
            }
            l.value
        }
        None => {
            out.push_str("  + 0 learned (no decisions or past issues to learn from yet)\n");
            0.0
        }
    };
    let date = s.published.unwrap_or(s.first_seen);
    let (from, what) = match woke {
        Some(w) => (w, "back from a snooze"),
        None => (date, "dated"),
    };
    let before_h = (cx.window_start - from).num_minutes().max(0) as f64 / 60.0;
    let when = if before_h == 0.0 {
        "inside the window, which starts".to_string()
    } else {
        format!("{before_h:.1} h before the window, which starts")
    };
    let _ = writeln!(
        out,
        "  × recency decay {decay:.3} ({what} {}, {when} {}; half-life {})",
        from.format("%Y-%m-%d %H:%M"),
        cx.window_start.format("%Y-%m-%d %H:%M UTC"),
        humantime::format_duration(half_life)
    );
    let _ = writeln!(
        out,
        "  = score {:.3}",
        crate::text::round((e.base + learned) * decay)
    );
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
