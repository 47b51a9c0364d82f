//! `/metrics`: the Prometheus text exposition format (version 0.0.4) of what the database
//! knows — feeds by state, stories stored, fetches by outcome, failed fetches by kind and by
//! HTTP status, and the last polling round (how long it took, how many feeds, failures, new
//! stories).

use std::fmt::Write;

use crate::model::ErrorKind;
use crate::model::FetchStats;

/// Every state `gleaner status` shows, in its order; label values use `_` for spaces.
const STATES: &[&str] = &[
    "new",
    "ok",
    "failing",
    "backing off",
    "dead",
    "gone",
    "paused",
];

/// `states` holds one state word ([`crate::output::status::state_of`]) per configured feed.
pub fn render(states: &[&str], stats: &FetchStats) -> String {
    let mut out = String::new();
    out.push_str(
        "# HELP gleaner_feeds Configured feeds by state (as gleaner status shows them).\n",
    );
    out.push_str("# TYPE gleaner_feeds gauge\n");
    for s in STATES {
        let n = states.iter().filter(|x| *x == s).count();
        let _ = writeln!(
            out,
            "gleaner_feeds{{state=\"{}\"}} {n}",
            s.replace(' ', "_")
        );
    }
    out.push_str("# HELP gleaner_stories Stories stored.\n# TYPE gleaner_stories gauge\n");
    let _ = writeln!(out, "gleaner_stories {}", stats.stories);
    out.push_str(
        "# HELP gleaner_fetches_total Fetches recorded in the fetch log, by outcome.\n\
         # TYPE gleaner_fetches_total counter\n",
    );
    for (outcome, n) in &stats.fetches {
        let _ = writeln!(
            out,
            "gleaner_fetches_total{{outcome=\"{}\"}} {n}",
            label(outcome)
        );
    }
    out.push_str(
        "# HELP gleaner_fetch_errors_total Failed fetches by kind (dns, connect, tls, certificate, timeout, http, too_large, redirect, body, private, parse, invalid_url, internal, other; unknown: logged before kinds were kept).\n\
         # TYPE gleaner_fetch_errors_total counter\n",
    );
    let of_kind = |k: &str| -> i64 {
        stats
            .errors
            .iter()
            .filter(|(kind, _, _)| kind == k)
            .map(|(_, _, n)| n)
            .sum()
    };
    for kind in ErrorKind::ALL.iter().map(|k| k.as_str()).chain(
        // Kinds the log holds that this build does not name (older rows).
        stats
            .errors
            .iter()
            .map(|(k, _, _)| k.as_str())
            .filter(|k| !ErrorKind::ALL.iter().any(|x| x.as_str() == *k))
            .collect::<std::collections::BTreeSet<_>>(),
    ) {
        let _ = writeln!(
            out,
            "gleaner_fetch_errors_total{{kind=\"{}\"}} {}",
            label(kind),
            of_kind(kind)
        );
    }
    out.push_str(
        "# HELP gleaner_fetch_errors_by_status_total Failed fetches by HTTP status (\"none\": no HTTP answer, e.g. DNS, connect, TLS, timeout, body too large).\n\
         # TYPE gleaner_fetch_errors_by_status_total counter\n",
    );
    let mut by_status: std::collections::BTreeMap<Option<i64>, i64> = Default::default();
    for (_, status, n) in &stats.errors {
        *by_status.entry(*status).or_default() += n;
    }
    for (status, n) in by_status {
        let status = status.map_or_else(|| "none".to_string(), |s| s.to_string());
        let _ = writeln!(
            out,
            "gleaner_fetch_errors_by_status_total{{status=\"{status}\"}} {n}"
        );
    }
    if let Some(r) = &stats.last_round {
        let gauge = |out: &mut String, name: &str, help: &str, value: String| {
            let _ = write!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name}{{source=\"{}\"}} {value}\n",
                r.source
            );
        };
        gauge(
            &mut out,
            "gleaner_last_round_duration_seconds",
            "How long the last polling round took (a poll, or a busy spell of the daemon).",
            format!("{:.3}", r.duration.as_secs_f64()),
        );
        gauge(
            &mut out,
            "gleaner_last_round_timestamp_seconds",
            "When the last polling round started (Unix time).",
            r.started_at.timestamp().to_string(),
        );
        gauge(
            &mut out,
            "gleaner_last_round_feeds",
            "Feeds fetched in the last polling round.",
            r.feeds.to_string(),
        );
        gauge(
            &mut out,
            "gleaner_last_round_failed_feeds",
            "Feeds whose fetch failed in the last polling round.",
            r.failed.to_string(),
        );
        gauge(
            &mut out,
            "gleaner_last_round_new_stories",
            "New stories stored in the last polling round.",
            r.new.to_string(),
        );
    }
    out
}

/// A label value: backslash, quote and newline escaped (the format's only escapes).
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_state_and_the_counts() {
        let stats = FetchStats {
            stories: 7,
            fetches: vec![("error".into(), 2), ("new".into(), 3)],
            errors: vec![
                ("http".into(), Some(500), 1),
                ("timeout".into(), None, 2),
                ("unknown".into(), None, 1),
            ],
            last_round: Some(crate::model::Round {
                source: "daemon",
                started_at: chrono::DateTime::from_timestamp(1_764_000_000, 0).unwrap(),
                duration: std::time::Duration::from_millis(4150),
                feeds: 2000,
                failed: 3,
                new: 41,
            }),
        };
        insta::assert_snapshot!(render(&["ok", "ok", "backing off"], &stats));
    }
}
