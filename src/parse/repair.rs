//! Repairs for real feeds that feed-rs rejects outright. Each returns `None` when it had
//! nothing to change, so the caller only re-parses when a repair did something.
//!
//! - bare `&` (as in `AT&T`) is escaped; XML requires `&amp;`, many publishers forget;
//! - `<rss>` without a `version`, or with one feed-rs does not know (0.90, 0.93, 0.94, 2.01 …),
//!   is read as RSS 2.0, which is a superset of the 0.9x dialects;
//! - an Atom text construct whose `type` is not `text`/`html`/`xhtml` (`text/plain`,
//!   `application/xhtml+xml`, `invalid` …) gets the nearest valid one, and `<content>` with
//!   both `src` and a body keeps the body;
//! - Atom 0.3 `mode="escaped"` content is marked `type="html"`;
//! - after feed-rs panicked: an e-mail address touching a non-ASCII character gets a space
//!   ([`space_around_emails`]).

pub use crate::text::escape_bare_ampersands;

use quick_xml::Writer;
use quick_xml::events::{BytesEnd, BytesStart, Event};
use quick_xml::reader::Reader;

/// Puts a space between an e-mail address and a non-ASCII character touching it
/// (`jane@example.com’s`, `«jane@example.com`). feed-rs 3.0 splits author texts into name and
/// address by slicing one byte past the address (`parse_person_name_email`), which panics inside
/// a multi-byte character (found by fuzzing, issue 6). Only a document feed-rs panicked on is
/// retried with this, so other documents stay byte for byte what the publisher wrote.
pub fn space_around_emails(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let local = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-');
    let domain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-');
    let mut cuts = Vec::new();
    for at in memchr::memchr_iter(b'@', bytes) {
        let mut start = at;
        while start > 0 && local(bytes[start - 1]) {
            start -= 1;
        }
        let mut end = at + 1;
        while end < bytes.len() && domain(bytes[end]) {
            end += 1;
        }
        if start == at || end == at + 1 {
            continue;
        }
        // feed-rs's pattern also takes a `mailto:` or `<[(` before and `>])` after.
        for prefix in ["mailto:", "<[("] {
            if text[..start].ends_with(prefix) {
                start -= prefix.len();
            }
        }
        if text[end..].starts_with(">])") {
            end += 3;
        }
        if start > 0 && bytes[start - 1] >= 0x80 {
            cuts.push(start);
        }
        if end < bytes.len() && bytes[end] >= 0x80 {
            cuts.push(end);
        }
    }
    if cuts.is_empty() {
        return None;
    }
    cuts.dedup();
    let mut out = String::with_capacity(text.len() + cuts.len());
    let mut copied = 0;
    for cut in cuts {
        out.push_str(&text[copied..cut]);
        out.push(' ');
        copied = cut;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

/// Rewrites root and text-construct attributes feed-rs cannot accept, and gives an `<rss>`
/// without a `<channel>` one.
pub fn fix_structure(text: &str) -> Option<String> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = false;
    let mut writer = Writer::new(Vec::with_capacity(text.len() + 64));
    let mut root: Option<String> = None;
    let mut changed = false;
    let mut depth = 0usize;
    // `<rss>` whose items sit directly under the root: wrap them in a channel.
    let mut wrap_channel = false;

    loop {
        let event = reader.read_event().ok()?;
        match event {
            Event::Eof => break,
            Event::Start(e) => {
                let was_root = root.is_none();
                let fixed = fix_element(&e, &mut root);
                changed |= fixed.is_some();
                writer.write_event(Event::Start(fixed.unwrap_or(e))).ok()?;
                if was_root && root.as_deref() == Some("rss") && !text.contains("<channel") {
                    wrap_channel = true;
                    changed = true;
                    writer
                        .write_event(Event::Start(BytesStart::new("channel")))
                        .ok()?;
                }
                depth += 1;
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                if depth == 0 && wrap_channel {
                    writer
                        .write_event(Event::End(BytesEnd::new("channel")))
                        .ok()?;
                }
                writer.write_event(Event::End(e)).ok()?;
            }
            Event::Empty(e) => {
                let was_root = root.is_none();
                let fixed = fix_element(&e, &mut root);
                changed |= fixed.is_some();
                if was_root && root.as_deref() == Some("rss") {
                    // `<rss/>`: an empty feed.
                    changed = true;
                    let start = fixed.unwrap_or(e);
                    let end = BytesEnd::new(start.name().as_ref().to_string());
                    writer.write_event(Event::Start(start)).ok()?;
                    writer
                        .write_event(Event::Empty(BytesStart::new("channel")))
                        .ok()?;
                    writer.write_event(Event::End(end)).ok()?;
                } else {
                    writer.write_event(Event::Empty(fixed.unwrap_or(e))).ok()?;
                }
            }
            other => writer.write_event(other).ok()?,
        }
    }
    if !changed {
        return None;
    }
    String::from_utf8(writer.into_inner()).ok()
}

/// Returns a corrected copy of the start tag, or `None` when it is fine.
fn fix_element<'a>(e: &BytesStart<'a>, root: &mut Option<String>) -> Option<BytesStart<'a>> {
    let qname = e.name().as_ref().to_ascii_lowercase();
    let local = e.local_name().as_ref().to_ascii_lowercase();
    let is_root = root.is_none();
    if is_root {
        *root = Some(local.clone());
    }
    let attr = |name: &str| -> Option<String> {
        e.attributes()
            .flatten()
            .find(|a| a.key.as_ref() == name)
            .map(|a| a.value.into_owned())
    };

    if is_root && local == "rss" {
        let version = attr("version");
        return match version.as_deref().map(str::trim) {
            Some("2.0" | "0.91" | "0.92") => None,
            _ => Some(replace_attrs(e, &[("version", Some("2.0"))])),
        };
    }
    // MediaRSS text elements: type is "plain" or "html".
    if matches!(
        qname.as_str(),
        "media:title" | "media:description" | "media:text"
    ) {
        let ty = attr("type")?;
        let good = if ty.contains("html") { "html" } else { "plain" };
        return (good != ty).then(|| replace_attrs(e, &[("type", Some(good))]));
    }
    if root.as_deref() != Some("feed") {
        return None;
    }
    match local.as_str() {
        "title" | "subtitle" | "summary" | "rights" | "tagline" | "copyright" | "info" => {
            let ty = attr("type")?;
            let good = text_construct_type(&ty);
            (good != ty).then(|| replace_attrs(e, &[("type", Some(good))]))
        }
        "content" => {
            let mode = attr("mode");
            let ty = attr("type");
            let has_src = attr("src").is_some();
            let mut changes: Vec<(&str, Option<&str>)> = Vec::new();
            if mode.as_deref() == Some("escaped")
                && ty.as_deref().is_none_or(|t| t.contains("html"))
            {
                changes.push(("type", Some("html")));
            } else if let Some(ty) = ty.as_deref() {
                if has_src && matches!(ty.trim(), "text" | "html" | "xhtml") {
                    // With src, type must be a MIME type; the default (HTML) is what was meant.
                    changes.push(("type", None));
                } else {
                    let good = content_type(ty);
                    if good != ty {
                        changes.push(("type", Some(good)));
                        if has_src {
                            // With its type repaired the body is what we read; src would reject it.
                            changes.push(("src", None));
                        }
                    }
                }
            }
            (!changes.is_empty()).then(|| replace_attrs(e, &changes))
        }
        _ => None,
    }
}

/// The Atom 0.3 namespace, which feed-rs does not read.
pub const ATOM_03_NS: &str = "http://purl.org/atom/ns#";

/// Rewrites an Atom 0.3 document as Atom 1.0: namespace, and the renamed elements
/// (`issued` → `published`, `modified` → `updated`, `tagline` → `subtitle`,
/// `copyright` → `rights`); `mode="escaped"` content becomes `type="html"`.
pub fn atom03_to_10(text: &str) -> Option<String> {
    if !text.contains(ATOM_03_NS) {
        return None;
    }
    let rename = |name: &str| -> Option<&'static str> {
        Some(match name {
            "issued" => "published",
            "modified" => "updated",
            "tagline" => "subtitle",
            "copyright" => "rights",
            _ => return None,
        })
    };
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = false;
    let mut writer = Writer::new(Vec::with_capacity(text.len() + 64));
    loop {
        let event = reader.read_event().ok()?;
        let event = match event {
            Event::Eof => break,
            Event::Start(e) => Event::Start(atom03_start(&e, rename)),
            Event::Empty(e) => Event::Empty(atom03_start(&e, rename)),
            Event::End(e) => match rename(e.local_name().as_ref()) {
                Some(new) => Event::End(BytesEnd::new(new)),
                None => Event::End(e),
            },
            other => other,
        };
        writer.write_event(event).ok()?;
    }
    String::from_utf8(writer.into_inner()).ok()
}

fn atom03_start<'a>(
    e: &BytesStart<'a>,
    rename: impl Fn(&str) -> Option<&'static str>,
) -> BytesStart<'a> {
    let local = e.local_name().as_ref().to_string();
    let mut out = match rename(&local) {
        Some(new) => BytesStart::new(new),
        None => e.to_owned(),
    };
    out.clear_attributes();
    let escaped = e
        .attributes()
        .flatten()
        .any(|a| a.key.as_ref() == "mode" && a.value == "escaped");
    for a in e.attributes().flatten() {
        match a.key.as_ref() {
            "xmlns" if a.value == ATOM_03_NS => {
                out.push_attribute(("xmlns", "http://www.w3.org/2005/Atom"));
            }
            "version" if local == "feed" => {}
            "mode" => {}
            "type" if local == "content" && escaped => out.push_attribute(("type", "html")),
            _ => out.push_attribute(a),
        }
    }
    out
}

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

fn text_construct_type(ty: &str) -> &'static str {
    let t = ty.trim().to_ascii_lowercase();
    match t.as_str() {
        "text" => "text",
        "html" | "text/html" => "html",
        "xhtml" => "xhtml",
        _ if t.contains("html") => "html",
        _ => "text",
    }
}

/// feed-rs accepts text/html/xhtml, `*/xml`, `* +xml` and any parseable MIME type here.
fn content_type(ty: &str) -> &str {
    let t = ty.trim();
    let is_mime = t
        .split_once('/')
        .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty() && !t.contains(char::is_whitespace));
    if matches!(t, "text" | "html" | "xhtml" | "text/html") || is_mime {
        return ty;
    }
    text_construct_type(t)
}

fn replace_attrs<'a>(e: &BytesStart<'a>, changes: &[(&str, Option<&str>)]) -> BytesStart<'a> {
    let mut out = e.to_owned();
    out.clear_attributes();
    let mut done = vec![false; changes.len()];
    for a in e.attributes().flatten() {
        match changes.iter().position(|(k, _)| *k == a.key.as_ref()) {
            Some(i) => {
                done[i] = true;
                if let Some(v) = changes[i].1 {
                    out.push_attribute((a.key.as_ref(), v));
                }
            }
            None => out.push_attribute(a),
        }
    }
    for (i, (k, v)) in changes.iter().enumerate() {
        if let (false, Some(v)) = (done[i], v) {
            out.push_attribute((*k, *v));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_version_is_repaired() {
        let fixed = fix_structure("<rss><channel><title>x</title></channel></rss>").unwrap();
        assert_eq!(
            fixed,
            "<rss version=\"2.0\"><channel><title>x</title></channel></rss>"
        );
        let fixed = fix_structure("<rss version='0.94' xmlns:a='b'><channel/></rss>").unwrap();
        assert_eq!(fixed, "<rss version=\"2.0\" xmlns:a=\"b\"><channel/></rss>");
        assert_eq!(fix_structure("<rss version=\"2.0\"><channel/></rss>"), None);
    }

    #[test]
    fn atom_types_are_repaired() {
        let fixed = fix_structure(
            "<feed><title type=\"text/plain\">a &amp; b</title><entry><content type=\"invalid\" src=\"x\">body</content></entry></feed>",
        )
        .unwrap();
        assert_eq!(
            fixed,
            "<feed><title type=\"text\">a &amp; b</title><entry><content type=\"text\">body</content></entry></feed>"
        );
        assert_eq!(
            fix_structure("<feed><content type=\"image/png\" src=\"x\"/></feed>"),
            None
        );
    }

    #[test]
    fn rss_without_channel_gets_one() {
        let fixed =
            fix_structure("<rss version=\"2.0\"><item><title>a</title></item></rss>").unwrap();
        assert_eq!(
            fixed,
            "<rss version=\"2.0\"><channel><item><title>a</title></item></channel></rss>"
        );
        let fixed = fix_structure("<rss/>").unwrap();
        assert_eq!(fixed, "<rss version=\"2.0\"><channel/></rss>");
    }

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

    #[test]
    fn atom_03_becomes_atom_10() {
        let fixed = atom03_to_10(
            r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><tagline>t</tagline><entry><issued>2004-01-01T00:00:00Z</issued><content type="text/html" mode="escaped">&lt;p&gt;x&lt;/p&gt;</content></entry></feed>"#,
        )
        .unwrap();
        assert_eq!(
            fixed,
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><subtitle>t</subtitle><entry><published>2004-01-01T00:00:00Z</published><content type="html">&lt;p&gt;x&lt;/p&gt;</content></entry></feed>"#
        );
        assert_eq!(
            atom03_to_10("<feed xmlns=\"http://www.w3.org/2005/Atom\"/>"),
            None
        );
    }

    #[test]
    fn atom_03_escaped_mode_becomes_html() {
        let fixed =
            fix_structure("<feed><content mode=\"escaped\">&lt;b&gt;x&lt;/b&gt;</content></feed>")
                .unwrap();
        assert!(fixed.contains("type=\"html\""), "{fixed}");
    }
}
