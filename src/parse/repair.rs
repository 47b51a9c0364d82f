//! Repairs for JSON Feeds that feed-rs rejects outright. XML needs none here: gleaner's own
//! reader ([`super::xml`]) is lenient where feedparser is.

/// Fixes JSON Feeds feed-rs rejects: an `http://` or missing version, a missing title or
/// items list, and `author`/`authors` given as an object instead of a list.
pub fn fix_json(text: &str) -> Option<String> {
    let mut doc: serde_json::Value = serde_json::from_str(text).ok()?;
    let obj = doc.as_object_mut()?;
    let version = obj.get("version").and_then(|v| v.as_str()).unwrap_or("");
    let is_feed =
        obj.get("items").is_some_and(|i| i.is_array()) || version.contains("jsonfeed.org");
    if !is_feed {
        return None;
    }
    let mut changed = false;
    if !version.starts_with("https://jsonfeed.org/version/1") {
        obj.insert("version".into(), "https://jsonfeed.org/version/1.1".into());
        changed = true;
    }
    if !obj.get("title").is_some_and(|t| t.is_string()) {
        obj.insert("title".into(), "".into());
        changed = true;
    }
    if !obj.get("items").is_some_and(|i| i.is_array()) {
        obj.insert("items".into(), serde_json::Value::Array(Vec::new()));
        changed = true;
    }
    let mut wrap_authors = |o: &mut serde_json::Map<String, serde_json::Value>| {
        if let Some(a) = o.get_mut("authors").filter(|a| a.is_object()) {
            *a = serde_json::Value::Array(vec![a.take()]);
            changed = true;
        }
    };
    wrap_authors(obj);
    if let Some(items) = obj.get_mut("items").and_then(|i| i.as_array_mut()) {
        for item in items.iter_mut().filter_map(|i| i.as_object_mut()) {
            wrap_authors(item);
        }
    }
    changed.then(|| doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_feed_repairs() {
        let fixed = fix_json(
            r#"{"version":"http://jsonfeed.org/version/1","items":[{"id":"1","authors":{"name":"A"}}]}"#,
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&fixed).unwrap();
        assert_eq!(v["version"], "https://jsonfeed.org/version/1.1");
        assert_eq!(v["title"], "");
        assert_eq!(v["items"][0]["authors"][0]["name"], "A");
        assert_eq!(fix_json(r#"{"not":"a feed"}"#), None);
    }
}
