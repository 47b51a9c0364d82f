//! `gleaner entries`: stored stories as JSON or as a readable list.

use super::one_line;
use std::fmt::Write;

use crate::model::StoryView;

/// A JSON array of stories (pretty-printed, one object per story).
pub fn json(stories: &[StoryView]) -> String {
    let mut s = serde_json::to_string_pretty(stories).expect("stories serialize");
    s.push('\n');
    s
}

/// Two lines per story: id, date and title; then link and sources.
pub fn text(stories: &[StoryView]) -> String {
    let mut out = String::new();
    for s in stories {
        let date = s
            .published
            .unwrap_or(s.first_seen)
            .format("%Y-%m-%d")
            .to_string();
        let _ = writeln!(out, "#{:<6} {date}  {}", s.id, one_line(&s.title));
        let link = s.url.as_deref().unwrap_or("(no link)");
        let _ = writeln!(out, "        {link}  [{}]", s.sources.join(", "));
    }
    if stories.is_empty() {
        out.push_str("no stories\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn story() -> StoryView {
        StoryView {
            id: 7,
            title: "Scaling \u{1b}[31mlogs".into(),
            url: Some("https://blog.example/p?utm_source=x".into()),
            canonical_url: Some("https://blog.example/p".into()),
            sources: vec!["Blog".into(), "Aggregator".into()],
            published: Some(Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap()),
            updated: None,
            excerpt: "About logs.".into(),
            content_html: "<p>About logs.</p>".into(),
            author: None,
            first_seen: Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap(),
        }
    }

    #[test]
    fn json_has_the_contract_fields() {
        let v: serde_json::Value = serde_json::from_str(&json(&[story()])).unwrap();
        let o = &v[0];
        for key in [
            "id",
            "title",
            "url",
            "canonical_url",
            "sources",
            "published",
            "updated",
            "excerpt",
            "content_html",
        ] {
            assert!(o.get(key).is_some(), "missing {key}");
        }
        assert_eq!(o["published"], "2026-11-20T08:00:00Z");
        assert_eq!(o["sources"][1], "Aggregator");
        assert!(o["updated"].is_null());
    }

    #[test]
    fn text_is_two_lines_per_story_without_control_chars() {
        let t = text(&[story()]);
        assert_eq!(
            t,
            "#7      2026-11-20  Scaling  [31mlogs\n        https://blog.example/p?utm_source=x  [Blog, Aggregator]\n"
        );
        assert_eq!(text(&[]), "no stories\n");
    }
}
