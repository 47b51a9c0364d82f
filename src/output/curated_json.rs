//! `out/curated.json`: the picks as a JSON Feed 1.1 (https://jsonfeed.org/version/1.1), the
//! same entries as `curated.atom` (ids are the same `tag:` URIs). Texts are plain
//! (`content_text`, never `content_html`), links only http(s).

use serde_json::{Map, Value, json};

use crate::output::atom::{Entry, FeedInfo, entry_id, http, rfc3339};

/// Renders the curated feed as JSON Feed 1.1.
pub fn render(feed: &FeedInfo, entries: &[Entry]) -> String {
    let x = crate::text::clean_control;
    let items: Vec<Value> = entries
        .iter()
        .map(|e| {
            let mut item = Map::new();
            item.insert("id".into(), json!(entry_id(feed, e)));
            if let Some(u) = e.url.as_deref().and_then(http) {
                item.insert("url".into(), json!(u));
            }
            item.insert("title".into(), json!(x(&e.title)));
            // Every item needs content: the blurb (or excerpt), else the title.
            let body = if e.summary.trim().is_empty() {
                &e.title
            } else {
                &e.summary
            };
            item.insert("content_text".into(), json!(x(body).trim()));
            if !e.summary.trim().is_empty() {
                item.insert("summary".into(), json!(x(&e.summary).trim()));
            }
            if let Some(p) = e.published.filter(|p| *p <= e.picked_at) {
                item.insert("date_published".into(), json!(rfc3339(p)));
            }
            item.insert("date_modified".into(), json!(rfc3339(e.picked_at)));
            item.insert("tags".into(), json!([x(&e.section)]));
            if let Some((name, _, site)) = &e.origin {
                let mut author = Map::new();
                author.insert("name".into(), json!(x(name)));
                if let Some(u) = site.as_deref().and_then(http) {
                    author.insert("url".into(), json!(u));
                }
                item.insert("authors".into(), json!([author]));
            }
            Value::Object(item)
        })
        .collect();
    let mut doc = Map::new();
    doc.insert("version".into(), json!("https://jsonfeed.org/version/1.1"));
    doc.insert("title".into(), json!(x(&feed.title)));
    if let Some(l) = feed.link.as_deref().and_then(http) {
        doc.insert("home_page_url".into(), json!(l));
    }
    doc.insert(
        "description".into(),
        json!(format!("Stories picked for {}", x(&feed.title))),
    );
    doc.insert("items".into(), Value::Array(items));
    let mut s = serde_json::to_string_pretty(&Value::Object(doc)).expect("JSON values serialize");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::atom::tests::sample;

    #[test]
    fn json_feed_snapshot() {
        let (feed, entries) = sample();
        insta::assert_snapshot!(render(&feed, &entries));
    }

    #[test]
    fn parses_as_json_feed_with_hostile_text_as_text() {
        let (feed, entries) = sample();
        let json = render(&feed, &entries);
        let parsed = feed_rs::parser::parse(json.as_bytes()).unwrap();
        assert_eq!(parsed.entries.len(), 2);
        assert!(
            parsed.entries[0]
                .title
                .as_ref()
                .unwrap()
                .content
                .contains("<script>")
        );
        let v: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["version"], "https://jsonfeed.org/version/1.1");
        for item in v["items"].as_array().unwrap() {
            assert!(item.get("content_html").is_none());
            assert!(item["content_text"].as_str().is_some_and(|t| !t.is_empty()));
            assert!(
                !item["title"]
                    .as_str()
                    .unwrap()
                    .chars()
                    .any(char::is_control)
            );
        }
        // The javascript: also-at link and the link-less entry carry no unsafe URL.
        assert!(!json.contains("javascript:"));
    }
}
