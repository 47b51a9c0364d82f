//! The lines `gleaner poll` prints: one per feed, then a summary.

use std::fmt::Write;

use crate::model::{FeedReport, FeedResult, RoundReport};

/// `<name>: <outcome>` for one feed.
pub fn feed_line(r: &FeedReport) -> String {
    let outcome = match &r.result {
        FeedResult::Stored {
            counts,
            dropped,
            repairs,
            truncated,
        } => {
            let mut s = if counts.new == 0 && counts.updated == 0 {
                "unchanged".to_string()
            } else {
                let mut parts = Vec::new();
                if counts.new > 0 {
                    parts.push(format!("new {}", counts.new));
                }
                if counts.updated > 0 {
                    parts.push(format!("updated {}", counts.updated));
                }
                parts.join(", ")
            };
            if counts.also_elsewhere > 0 {
                let _ = write!(
                    s,
                    ", {} already known from other feeds",
                    counts.also_elsewhere
                );
            }
            if *dropped > 0 {
                let _ = write!(s, ", {dropped} repeated or empty entries skipped");
            }
            if !repairs.is_empty() {
                let _ = write!(s, " (repaired: {})", repairs.join(", "));
            }
            if let Some(why) = truncated {
                let _ = write!(s, "; error: {why}");
            }
            s
        }
        FeedResult::SameBody => "unchanged (same content)".to_string(),
        FeedResult::NotModified => "unchanged (304)".to_string(),
        FeedResult::Gone => {
            "gone (410): the publisher removed this feed; it will not be polled again".to_string()
        }
        FeedResult::RetryLater { status, until } => {
            let status = status.map(|s| format!(" (HTTP {s})")).unwrap_or_default();
            match until {
                Some(t) => format!(
                    "retry later{status}: not before {}",
                    t.format("%Y-%m-%d %H:%M UTC")
                ),
                None => format!("retry later{status}"),
            }
        }
        FeedResult::Failed(e) => format!("error: {e}"),
        FeedResult::Skipped(why) => format!("skipped: {why}"),
    };
    let mut line = format!("{}: {outcome}", r.name);
    if let Some(to) = &r.moved_to {
        let _ = write!(
            line,
            " [moved permanently to {to}: update its url in feeds.toml]"
        );
    }
    line
}

/// The closing summary.
pub fn summary(round: &RoundReport) -> String {
    let (mut new, mut updated, mut unchanged, mut failed, mut skipped, mut other) =
        (0, 0, 0, 0, 0, 0);
    for f in &round.feeds {
        match &f.result {
            FeedResult::Stored {
                counts, truncated, ..
            } => {
                new += counts.new;
                updated += counts.updated;
                if truncated.is_some() {
                    failed += 1;
                } else if counts.new == 0 && counts.updated == 0 {
                    unchanged += 1;
                }
            }
            FeedResult::SameBody | FeedResult::NotModified => unchanged += 1,
            FeedResult::Failed(_) => failed += 1,
            FeedResult::Skipped(_) => skipped += 1,
            FeedResult::Gone | FeedResult::RetryLater { .. } => other += 1,
        }
    }
    let polled = round.feeds.len() - skipped;
    let mut s = format!(
        "polled {polled} feed{} in {:.1}s: {new} new {}, {updated} updated, {unchanged} feed{} unchanged, {failed} failed",
        if polled == 1 { "" } else { "s" },
        round.elapsed.as_secs_f64(),
        if new == 1 { "story" } else { "stories" },
        if unchanged == 1 { "" } else { "s" },
    );
    if other > 0 {
        let _ = write!(s, ", {other} gone or asking to retry later");
    }
    if skipped > 0 {
        let _ = write!(s, ", {skipped} skipped");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StoreCounts;
    use std::time::Duration;

    fn report(result: FeedResult) -> FeedReport {
        FeedReport {
            name: "High Scalability".into(),
            url: "http://highscalability.com/blog/rss.xml".into(),
            result,
            moved_to: None,
            next_due: None,
            state: crate::model::FeedState::Active,
        }
    }

    #[test]
    fn lines_name_the_feed_and_outcome() {
        let stored = report(FeedResult::Stored {
            counts: StoreCounts {
                new: 12,
                updated: 1,
                also_elsewhere: 2,
                unchanged: 3,
            },
            dropped: 0,
            repairs: vec!["markup"],
            truncated: None,
        });
        assert_eq!(
            feed_line(&stored),
            "High Scalability: new 12, updated 1, 2 already known from other feeds (repaired: markup)"
        );
        let cut = report(FeedResult::Stored {
            counts: StoreCounts {
                new: 2,
                ..Default::default()
            },
            dropped: 0,
            repairs: vec![],
            truncated: Some("truncated after 2 entries: the document ends inside <item>".into()),
        });
        assert_eq!(
            feed_line(&cut),
            "High Scalability: new 2; error: truncated after 2 entries: the document ends inside <item>"
        );
        assert_eq!(
            feed_line(&report(FeedResult::NotModified)),
            "High Scalability: unchanged (304)"
        );
        assert_eq!(
            feed_line(&report(FeedResult::Failed(
                "HTTP 500 Internal Server Error".into()
            ))),
            "High Scalability: error: HTTP 500 Internal Server Error"
        );
        let mut moved = report(FeedResult::NotModified);
        moved.moved_to = Some("https://new.example/feed".into());
        assert!(feed_line(&moved).contains("moved permanently to https://new.example/feed"));
    }

    #[test]
    fn summary_counts() {
        let round = RoundReport {
            feeds: vec![
                report(FeedResult::Stored {
                    counts: StoreCounts {
                        new: 3,
                        ..Default::default()
                    },
                    dropped: 0,
                    repairs: vec![],
                    truncated: None,
                }),
                report(FeedResult::NotModified),
                report(FeedResult::Failed("x".into())),
                report(FeedResult::Skipped("y".into())),
            ],
            elapsed: Duration::from_millis(1500),
        };
        assert_eq!(
            summary(&round),
            "polled 3 feeds in 1.5s: 3 new stories, 0 updated, 1 feed unchanged, 1 failed, 1 skipped"
        );
    }
}
