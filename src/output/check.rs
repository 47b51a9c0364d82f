//! `gleaner check`: what gleaner understood from the config.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use crate::config::Config;

/// The `[digest]` lines: when, what, where, and `warnings` (what would stop a send now).
fn digest(config: &Config, now: DateTime<Utc>, warnings: &[String]) -> String {
    use crate::config::{PasswordSource, WeekRule};
    let Some(d) = &config.digest else {
        return "digest:   not sent (no [digest]; `gleaner digest` renders it on demand)\n".into();
    };
    let mut out = String::new();
    let next = d
        .when
        .next_after(now)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "never".into());
    let _ = writeln!(
        out,
        "digest:   {}, by `gleaner run`: {}, top {} per section; next send {next}",
        d.when_text,
        match d.week {
            WeekRule::Iso => "the ISO week just ended",
            WeekRule::Window => "the candidate window",
        },
        d.top.unwrap_or(config.output.per_section),
    );
    if let Some(e) = &d.email {
        let login = match (&e.username, &e.password) {
            (Some(u), Some(PasswordSource::Env(v))) => format!(", as {u} (password from ${v})"),
            (Some(u), Some(PasswordSource::File(f))) => {
                format!(", as {u} (password from {})", f.display())
            }
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  email:  {} → {} via {}:{} ({:?}){login}",
            e.from,
            e.to.join(", "),
            e.host,
            e.port,
            e.security
        );
    }
    if let Some(w) = &d.webhook {
        let _ = writeln!(
            out,
            "  webhook: {} ({:?}{})",
            crate::text::url_without_path(&w.url),
            w.format,
            w.secret_env
                .as_ref()
                .map(|v| format!(", signed with ${v}"))
                .unwrap_or_default()
        );
    }
    for problem in warnings {
        let _ = writeln!(out, "  warning: {problem}");
    }
    out
}

/// How many upcoming runs `check` shows per feed.
const UPCOMING: usize = 3;

/// A readable account of the config, with each feed's next run times after `now`, and the
/// warnings about the digest's channels (`deliver::problems`).
pub fn render(
    config: &Config,
    source: &str,
    db: &std::path::Path,
    now: DateTime<Utc>,
    digest_warnings: &[String],
) -> String {
    let f = &config.fetch;
    let p = &config.schedule;
    let mut out = String::new();
    let _ = writeln!(out, "config:   {source} (valid)");
    let _ = writeln!(out, "database: {}", db.display());
    let _ = writeln!(
        out,
        "fetch:    timeout {}, connect timeout {}, max body {}, {} at a time, {} per host, {} between requests to a host",
        humantime::format_duration(f.timeout),
        humantime::format_duration(f.connect_timeout),
        bytesize::ByteSize(f.max_bytes),
        f.concurrency,
        f.per_host,
        humantime::format_duration(f.host_delay),
    );
    let _ = writeln!(
        out,
        "network:  {}{}",
        if f.allow_private {
            "every feed may reach private addresses (allow_private)"
        } else {
            "public feeds may not reach private addresses"
        },
        f.proxy
            .as_ref()
            .map(|p| format!("; through proxy {p}"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "schedule: {} by default, jitter {:.0}%, dead after {} of failures",
        p.default,
        p.jitter * 100.0,
        humantime::format_duration(p.dead_after),
    );
    let sc = &config.scoring;
    let feed_terms: usize = config.feeds.iter().map(|f| f.keywords.len()).sum();
    let _ = writeln!(
        out,
        "scoring:  {} keywords (+{feed_terms} feed keywords), {} veto terms; title ×{}, body ×{} (at most {} hits), half-life {}, +{} per extra feed",
        sc.keywords.len(),
        sc.veto.len(),
        sc.title_weight,
        sc.body_weight,
        sc.body_cap,
        humantime::format_duration(sc.half_life),
        sc.multi_source_bonus,
    );
    let l = &config.learning;
    let _ = writeln!(
        out,
        "learning: {}",
        if l.enabled {
            format!(
                "on, weight {} (picks, rejects and imported past issues move the ranking)",
                l.weight
            )
        } else {
            "off (the ranking is the keyword score alone)".to_string()
        }
    );
    out.push_str(&digest(config, now, digest_warnings));
    let o = &config.output;
    let _ = writeln!(
        out,
        "output:   {} ({}; {} per section; curated feed of {})",
        o.dir.display(),
        o.sections.join(", "),
        o.per_section,
        o.curated_size,
    );
    let n = config.feeds.len();
    let _ = writeln!(out, "{n} feed{}:", if n == 1 { "" } else { "s" });
    let width = config
        .feeds
        .iter()
        .map(|f| f.name.chars().count())
        .max()
        .unwrap_or(0);
    for feed in &config.feeds {
        let section = feed.section.as_deref().unwrap_or("-");
        let _ = writeln!(out, "  {:<width$}  {:<8}  {}", feed.name, section, feed.url);
        if feed.allow_private && !f.allow_private {
            let _ = writeln!(out, "  {:<width$}  may reach private addresses", "");
        }
        let schedule = config.schedule_of(feed);
        let runs: Vec<String> = schedule
            .upcoming(now, UPCOMING)
            .iter()
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .collect();
        let _ = writeln!(
            out,
            "  {:<width$}  {schedule}; next: {}",
            "",
            runs.join(", ")
        );
        if schedule.is_aggressive(now) {
            let _ = writeln!(
                out,
                "  {:<width$}  warning: more often than every 5 minutes; publishers may block it",
                ""
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn lists_settings_and_feeds() {
        let c = Config::parse(
            "[[feeds]]\nname = \"A blog\"\nurl = \"https://a.example/feed\"\nsection = \"News\"\n[[feeds]]\nname = \"B\"\nurl = \"https://b.example/rss\"\nevery = \"1m\"\nallow_private = true\n",
            Path::new("."),
        )
        .unwrap();
        let now = DateTime::parse_from_rfc3339("2026-11-25T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let out = render(&c, "feeds.toml", Path::new("gleaner.db"), now, &[]);
        let want = [
            "config:   feeds.toml (valid)",
            "database: gleaner.db",
            "fetch:    timeout 20s, connect timeout 10s, max body 15.0 MiB, 16 at a time, 2 per host, 1s between requests to a host",
            "network:  public feeds may not reach private addresses",
            "schedule: every 1h by default, jitter 25%, dead after 30days of failures",
            "scoring:  0 keywords (+0 feed keywords), 0 veto terms; title ×3, body ×1 (at most 3 hits), half-life 3days, +1 per extra feed",
            "learning: on, weight 1 (picks, rejects and imported past issues move the ranking)",
            "digest:   not sent (no [digest]; `gleaner digest` renders it on demand)",
            "output:   ./out (News, Jobs, Events, Tools; 15 per section; curated feed of 50)",
            "2 feeds:",
            "  A blog  News      https://a.example/feed",
            "          every 1h; next: 2026-11-25 13:00:00 UTC, 2026-11-25 14:00:00 UTC, 2026-11-25 15:00:00 UTC",
            "  B       -         https://b.example/rss",
            "          may reach private addresses",
            "          every 1m; next: 2026-11-25 12:01:00 UTC, 2026-11-25 12:02:00 UTC, 2026-11-25 12:03:00 UTC",
            "          warning: more often than every 5 minutes; publishers may block it",
        ];
        assert_eq!(out.lines().collect::<Vec<_>>(), want);
    }
}
