//! The weekly digest's deliveries as people and Prometheus read them: a line per send, the
//! `gleaner status` section, and the `/metrics` gauges.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use crate::model::Delivery;
use crate::model::{SendReport, Sent};

fn at(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// One line per channel: `email: week 2026-W48 sent to a@example.org via smtp.example.org:587`.
pub fn outcome_line(o: &SendReport) -> String {
    let what = match &o.result {
        Sent::Sent(to) => format!("sent {to}"),
        Sent::Already(t) => format!("already sent at {}: not sent again", at(*t)),
        Sent::Failed {
            error,
            attempts,
            retry,
        } => {
            let again = retry.map_or(String::new(), |t| format!("; next attempt at {}", at(t)));
            format!("FAILED (attempt {attempts}): {error}{again}")
        }
        Sent::Preview(p) => format!("would send (dry run: nothing sent, nothing recorded):\n{p}"),
    };
    format!("{}: week {} {what}", o.channel, o.week)
}

/// The `gleaner status` section (empty without deliveries and without `[digest]`).
pub fn status(rows: &[Delivery], next: Option<DateTime<Utc>>) -> String {
    let mut out = String::new();
    if rows.is_empty() && next.is_none() {
        return out;
    }
    out.push_str("\ndigest deliveries:\n");
    for d in rows {
        let line = match d.state.as_str() {
            "sent" => format!("sent {}", d.sent_at.map(at).unwrap_or_default()),
            "failed" => format!(
                "FAILING after {} attempt{}: {}{}",
                d.attempts,
                if d.attempts == 1 { "" } else { "s" },
                d.last_error.as_deref().unwrap_or(""),
                d.next_attempt
                    .map(|t| format!("; next attempt {}", at(t)))
                    .unwrap_or_default()
            ),
            _ => format!(
                "sending since {} (interrupted sends are tried again at the next start)",
                d.last_attempt.map(at).unwrap_or_default()
            ),
        };
        let _ = writeln!(out, "  {} {:<8} {line}", d.week, d.channel);
    }
    if let Some(t) = next {
        let _ = writeln!(out, "  next digest check: {}", at(t));
    }
    out
}

/// Prometheus lines: per channel, the last week sent (as the send's time) and the attempts of
/// the failing deliveries.
pub fn metrics(rows: &[Delivery]) -> String {
    let mut out = String::new();
    out.push_str("# HELP gleaner_digest_last_sent_timestamp_seconds When the digest last went out, per channel.\n");
    out.push_str("# TYPE gleaner_digest_last_sent_timestamp_seconds gauge\n");
    let mut channels: Vec<&str> = rows.iter().map(|d| d.channel.as_str()).collect();
    channels.sort_unstable();
    channels.dedup();
    for c in &channels {
        if let Some(t) = rows
            .iter()
            .filter(|d| d.channel == *c)
            .filter_map(|d| d.sent_at)
            .max()
        {
            let _ = writeln!(
                out,
                "gleaner_digest_last_sent_timestamp_seconds{{channel=\"{c}\"}} {}",
                t.timestamp()
            );
        }
    }
    out.push_str("# HELP gleaner_digest_failing_attempts Attempts so far of digest deliveries that are failing, per channel and week.\n");
    out.push_str("# TYPE gleaner_digest_failing_attempts gauge\n");
    for d in rows.iter().filter(|d| d.state == "failed") {
        let _ = writeln!(
            out,
            "gleaner_digest_failing_attempts{{channel=\"{}\",week=\"{}\"}} {}",
            d.channel, d.week, d.attempts
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn status_and_metrics_show_sent_and_failing() {
        let rows = vec![
            Delivery {
                week: "2026-W48".into(),
                channel: "email".into(),
                state: "sent".into(),
                attempts: 1,
                last_attempt: Some(t("2026-11-30T08:00:00Z")),
                next_attempt: None,
                last_error: None,
                sent_at: Some(t("2026-11-30T08:00:01Z")),
            },
            Delivery {
                week: "2026-W48".into(),
                channel: "webhook".into(),
                state: "failed".into(),
                attempts: 3,
                last_attempt: Some(t("2026-11-30T08:07:00Z")),
                next_attempt: Some(t("2026-11-30T08:15:00Z")),
                last_error: Some("http://127.0.0.1:9/… answered 500".into()),
                sent_at: None,
            },
        ];
        let s = status(&rows, Some(t("2026-12-07T08:00:00Z")));
        assert!(
            s.contains("2026-W48 email    sent 2026-11-30 08:00:01 UTC"),
            "{s}"
        );
        assert!(s.contains("FAILING after 3 attempts: http://127.0.0.1:9/… answered 500; next attempt 2026-11-30 08:15:00 UTC"), "{s}");
        let m = metrics(&rows);
        assert!(
            m.contains("gleaner_digest_last_sent_timestamp_seconds{channel=\"email\"} 1796025601"),
            "{m}"
        );
        assert!(
            m.contains("gleaner_digest_failing_attempts{channel=\"webhook\",week=\"2026-W48\"} 3"),
            "{m}"
        );
        assert_eq!(status(&[], None), "");
    }
}
