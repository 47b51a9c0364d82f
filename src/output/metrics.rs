//! `/metrics`: the Prometheus text exposition format (version 0.0.4) of what the database
//! knows — feeds by state, stories stored, fetches by outcome, failed fetches by HTTP status.
//! How long a round took is not stored anywhere, so it is not reported.

use std::fmt::Write;

use crate::store::FetchStats;

/// Every state `gleaner status` shows, in its order; label values use `_` for spaces.
const STATES: &[&str] = &["new", "ok", "failing", "backing off", "dead", "gone"];

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
        "# HELP gleaner_fetch_errors_total Failed fetches by HTTP status (\"none\": no HTTP answer, e.g. DNS, connect, TLS, timeout, body too large).\n\
         # TYPE gleaner_fetch_errors_total counter\n",
    );
    for (status, n) in &stats.errors {
        let status = status.map_or_else(|| "none".to_string(), |s| s.to_string());
        let _ = writeln!(out, "gleaner_fetch_errors_total{{status=\"{status}\"}} {n}");
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
            errors: vec![(None, 1), (Some(500), 1)],
        };
        insta::assert_snapshot!(render(&["ok", "ok", "backing off"], &stats));
    }
}
