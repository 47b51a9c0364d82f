//! `gleaner status`: one row per configured feed — state, last fetch, last HTTP status,
//! consecutive failures, next due, last error — as a table or as JSON.
//!
//! States: `new` (never fetched), `ok`, `failing` (the last fetch failed), `backing off`
//! (failed twice or more in a row, or the server asked us to wait), `dead` (failing for
//! `dead_after`; still retried weekly), `gone` (410: not polled any more), `paused` (the
//! editor paused it: `gleaner pause`; not polled until `gleaner resume`).

use super::one_line;
use std::fmt::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::{FeedState, FeedStatus};

/// Adds the configured feeds the database has not seen yet (no poll or run since they were
/// added) as `new` rows, without writing anything: `status` is a reader.
pub fn with_unseen(
    mut rows: Vec<FeedStatus>,
    config: &crate::config::Config,
    now: DateTime<Utc>,
) -> Vec<FeedStatus> {
    for f in &config.feeds {
        if rows.iter().any(|r| r.row.url == f.url.as_str()) {
            continue;
        }
        rows.push(FeedStatus {
            row: crate::model::FeedRow {
                id: 0,
                name: f.name.clone(),
                url: f.url.to_string(),
                moved_to: None,
                section: f.section.clone(),
                etag: None,
                last_modified: None,
                body_hash: None,
                state: FeedState::Active,
                retry_after: None,
                consecutive_failures: 0,
                created_at: now,
                last_fetched_at: None,
                last_success_at: None,
                next_due: None,
                schedule: Some(config.schedule_of(f).to_string()),
                ttl_minutes: None,
                max_age_seconds: None,
                expires_at: None,
                paused_at: None,
            },
            last_status: None,
            last_error: None,
            stories: 0,
        });
    }
    rows
}

/// The state word for a feed at `now`.
pub fn state_of(s: &FeedStatus, now: DateTime<Utc>) -> &'static str {
    let r = &s.row;
    if r.paused_at.is_some() {
        return "paused";
    }
    match r.state {
        FeedState::Gone => "gone",
        FeedState::Dead => "dead",
        FeedState::Active if r.last_fetched_at.is_none() => "new",
        FeedState::Active if r.retry_after.is_some_and(|t| t > now) => "backing off",
        FeedState::Active if r.consecutive_failures >= 2 => "backing off",
        FeedState::Active if r.consecutive_failures == 1 => "failing",
        FeedState::Active => "ok",
    }
}

/// One feed's status as `status --json` prints it (and `gleaner serve` shows it).
#[derive(Serialize)]
pub struct Row<'a> {
    pub name: &'a str,
    pub url: &'a str,
    pub section: Option<&'a str>,
    pub state: &'static str,
    pub last_fetch: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_status: Option<i64>,
    pub consecutive_failures: i64,
    pub next_due: Option<DateTime<Utc>>,
    pub last_error: Option<&'a str>,
    /// Where a permanent redirect moved the feed (update feeds.toml).
    pub moved_to: Option<&'a str>,
    pub retry_after: Option<DateTime<Utc>>,
    pub schedule: Option<&'a str>,
    pub stories: i64,
    /// When the editor paused it (state `paused`).
    pub paused_at: Option<DateTime<Utc>>,
}

/// The rows of [`json`]: what every status view shows.
pub fn rows(feeds: &[FeedStatus], now: DateTime<Utc>) -> Vec<Row<'_>> {
    feeds.iter().map(|s| row(s, now)).collect()
}

fn row<'a>(s: &'a FeedStatus, now: DateTime<Utc>) -> Row<'a> {
    let r = &s.row;
    Row {
        name: &r.name,
        url: &r.url,
        section: r.section.as_deref(),
        state: state_of(s, now),
        last_fetch: r.last_fetched_at,
        last_success: r.last_success_at,
        last_status: s.last_status,
        consecutive_failures: r.consecutive_failures,
        // A feed never fetched (or replanned to NULL) is due now.
        next_due: match r.state {
            _ if r.paused_at.is_some() => None,
            FeedState::Gone => None,
            _ => Some(r.next_due.unwrap_or(now).max(now)),
        },
        last_error: s.last_error.as_deref(),
        moved_to: r.moved_to.as_deref(),
        retry_after: r.retry_after.filter(|t| *t > now),
        schedule: r.schedule.as_deref(),
        stories: s.stories,
        paused_at: r.paused_at,
    }
}

/// A JSON array, one object per feed.
pub fn json(feeds: &[FeedStatus], now: DateTime<Utc>) -> String {
    let rows: Vec<Row> = feeds.iter().map(|s| row(s, now)).collect();
    let mut out = serde_json::to_string_pretty(&rows).expect("status serializes");
    out.push('\n');
    out
}

/// An aligned table; notes (errors, moves) on an indented line under their feed.
pub fn text(feeds: &[FeedStatus], now: DateTime<Utc>) -> String {
    let rows: Vec<Row> = feeds.iter().map(|s| row(s, now)).collect();
    let when = |t: Option<DateTime<Utc>>| match t {
        Some(t) => relative(t, now),
        None => "-".to_string(),
    };
    let mut cells: Vec<[String; 6]> = vec![[
        "FEED".into(),
        "STATE".into(),
        "LAST FETCH".into(),
        "STATUS".into(),
        "FAILS".into(),
        "NEXT DUE".into(),
    ]];
    for r in &rows {
        cells.push([
            one_line(r.name),
            r.state.to_string(),
            when(r.last_fetch),
            r.last_status.map_or("-".into(), |s| s.to_string()),
            r.consecutive_failures.to_string(),
            match r.next_due {
                Some(t) if t <= now => "now".to_string(),
                None if r.paused_at.is_some() => "paused".to_string(),
                t => when(t),
            },
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|i| {
            cells
                .iter()
                .map(|c| c[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (i, c) in cells.iter().enumerate() {
        let line: Vec<String> = c
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
        if i == 0 {
            continue;
        }
        let r = &rows[i - 1];
        if let Some(to) = r.moved_to {
            let _ = writeln!(
                out,
                "    moved permanently to {to}: update its url in feeds.toml"
            );
        }
        if let Some(at) = r.paused_at {
            let _ = writeln!(
                out,
                "    paused {} (gleaner resume to poll it again)",
                relative(at, now)
            );
        }
        if let Some(e) = r.last_error.filter(|_| !matches!(r.state, "ok" | "paused")) {
            let _ = writeln!(out, "    last error: {}", one_line(e));
        }
    }
    if rows.is_empty() {
        out.push_str("no feeds configured\n");
    }
    out
}

/// "3m ago", "in 2h", "2026-11-20" for far times.
fn relative(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (t - now).num_seconds();
    let abs = secs.unsigned_abs();
    let amount = match abs {
        0..=59 => format!("{abs}s"),
        60..=3599 => format!("{}m", abs / 60),
        3600..=172_799 => format!("{}h", abs / 3600),
        _ => return t.format("%Y-%m-%d %H:%M").to_string(),
    };
    if secs <= 0 {
        format!("{amount} ago")
    } else {
        format!("in {amount}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FeedRow;

    fn status(state: FeedState, failures: i64, fetched: bool) -> FeedStatus {
        let now = now();
        FeedStatus {
            row: FeedRow {
                id: 1,
                name: "Blog".into(),
                url: "https://blog.example/feed".into(),
                moved_to: None,
                section: Some("News".into()),
                etag: None,
                last_modified: None,
                body_hash: None,
                state,
                retry_after: None,
                consecutive_failures: failures,
                created_at: now - chrono::Duration::days(3),
                last_fetched_at: fetched.then(|| now - chrono::Duration::minutes(3)),
                last_success_at: None,
                next_due: Some(now + chrono::Duration::hours(2)),
                schedule: Some("every 1h".into()),
                ttl_minutes: None,
                max_age_seconds: None,
                expires_at: None,
                paused_at: None,
            },
            last_status: fetched.then_some(500),
            last_error: (failures > 0).then(|| "HTTP 500 Internal Server Error".into()),
            stories: 4,
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-25T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn states() {
        let n = now();
        assert_eq!(state_of(&status(FeedState::Active, 0, false), n), "new");
        assert_eq!(state_of(&status(FeedState::Active, 0, true), n), "ok");
        assert_eq!(state_of(&status(FeedState::Active, 1, true), n), "failing");
        assert_eq!(
            state_of(&status(FeedState::Active, 3, true), n),
            "backing off"
        );
        assert_eq!(state_of(&status(FeedState::Dead, 40, true), n), "dead");
        assert_eq!(state_of(&status(FeedState::Gone, 0, true), n), "gone");
        let mut waiting = status(FeedState::Active, 0, true);
        waiting.row.retry_after = Some(n + chrono::Duration::minutes(30));
        assert_eq!(state_of(&waiting, n), "backing off");
        let mut paused = status(FeedState::Dead, 40, true);
        paused.row.paused_at = Some(n - chrono::Duration::hours(1));
        assert_eq!(state_of(&paused, n), "paused");
        let t = text(std::slice::from_ref(&paused), n);
        assert!(t.contains("Blog  paused"), "{t}");
        assert!(t.contains("    paused 1h ago"), "{t}");
        assert!(!t.contains("last error"), "{t}");
        assert_eq!(rows(std::slice::from_ref(&paused), n)[0].next_due, None);
    }

    #[test]
    fn table_and_json() {
        let n = now();
        let mut moved = status(FeedState::Active, 2, true);
        moved.row.moved_to = Some("https://new.example/feed".into());
        let t = text(&[moved.clone()], n);
        assert_eq!(
            t,
            "FEED  STATE        LAST FETCH  STATUS  FAILS  NEXT DUE\n\
             Blog  backing off  3m ago      500     2      in 2h\n    \
             moved permanently to https://new.example/feed: update its url in feeds.toml\n    \
             last error: HTTP 500 Internal Server Error\n"
        );
        let v: serde_json::Value = serde_json::from_str(&json(&[moved], n)).unwrap();
        let o = &v[0];
        assert_eq!(o["name"], "Blog");
        assert_eq!(o["state"], "backing off");
        assert_eq!(o["last_status"], 500);
        assert_eq!(o["consecutive_failures"], 2);
        assert_eq!(o["next_due"], "2026-11-25T14:00:00Z");
        assert_eq!(o["last_error"], "HTTP 500 Internal Server Error");
        assert_eq!(o["moved_to"], "https://new.example/feed");
    }
}
