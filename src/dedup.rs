//! Identity within a feed, and change detection.
//!
//! An entry's key is, in order of preference: the document's own id (`id:`), its canonical
//! link (`url:`), or a hash of title + date (`hash:`). Generated ids (feed-rs makes them for
//! JSON Feed) are never used (see `parse`). Identity *across* feeds is the canonical URL, resolved by the store.
//!
//! The content hash covers title, link, summary, content and authors, and not the dates: a
//! feed that bumps `<updated>` on every request does not make every entry an update.

use std::collections::{HashMap, HashSet};

use sha2::{Digest, Sha256};

use crate::model::{CleanEntry, RawEntry, Story};

/// Keys longer than this are hashed, so a hostile id cannot bloat the database.
const MAX_KEY_BYTES: usize = 512;

/// A short, stable hex digest (128 bits of SHA-256) of the given parts.
pub fn digest<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0x1f]);
    }
    crate::text::hex(&h.finalize()[..16])
}

/// The digest of a whole response body.
pub fn body_digest(bytes: &[u8]) -> String {
    crate::text::hex(&Sha256::digest(bytes)[..16])
}

/// The hash that decides whether a known entry changed.
pub fn content_hash(raw: &RawEntry) -> String {
    let authors = raw.authors.join("\x1e");
    digest([
        text(&raw.title),
        raw.link.as_deref().unwrap_or(""),
        text(&raw.summary),
        text(&raw.content),
        &authors,
    ])
}

fn text(t: &Option<crate::model::RawText>) -> &str {
    t.as_ref().map_or("", |t| t.text.as_str())
}

/// Candidate keys for an entry, strongest first.
fn candidate_keys(raw: &RawEntry, canonical_url: Option<&str>) -> Vec<String> {
    let mut keys = Vec::with_capacity(3);
    if let Some(id) = raw.id.as_deref() {
        keys.push(bounded("id:", id));
    }
    if let Some(url) = canonical_url {
        keys.push(bounded("url:", url));
    }
    let title = raw.title.as_ref().map_or("", |t| t.text.trim());
    let date = raw.published.or(raw.updated).map(|d| d.to_rfc3339());
    if !title.is_empty() || date.is_some() {
        keys.push(format!(
            "hash:{}",
            digest([title, date.as_deref().unwrap_or("")])
        ));
    } else if raw.summary.is_some() || raw.content.is_some() || !raw.authors.is_empty() {
        keys.push(format!("hash:{}", content_hash(raw)));
    }
    keys
}

fn bounded(prefix: &str, value: &str) -> String {
    if value.len() <= MAX_KEY_BYTES {
        format!("{prefix}{value}")
    } else {
        format!("{prefix}sha:{}", digest([value]))
    }
}

/// Pairs each entry with its key and hash. Of the entries that share an id (an RSS `guid`,
/// an Atom `id`) and a page, only the latest version is kept: the one updated last, else the
/// last in the document (calendars and aggregators list an item's old version beside the
/// rescheduled one; see [`superseded_versions`]). Entries that repeat an earlier entry exactly
/// are dropped; entries that reuse a key with other content get their next-best key; entries
/// with nothing to identify them are dropped. Returns the stories and how many were dropped.
pub fn identify(raws: &[RawEntry], cleaned: Vec<CleanEntry>) -> (Vec<Story>, usize) {
    let (stories, dropped) = identify_indexed(raws, cleaned);
    (stories.into_iter().map(|(_, s)| s).collect(), dropped)
}

/// [`identify`], with each story's index among the entries.
pub fn identify_indexed(
    raws: &[RawEntry],
    cleaned: Vec<CleanEntry>,
) -> (Vec<(usize, Story)>, usize) {
    let superseded = superseded_versions(raws, &cleaned);
    let mut seen_keys = HashSet::new();
    let mut seen_exact = HashSet::new();
    let mut stories = Vec::with_capacity(raws.len());
    let mut dropped = 0;
    for (i, (raw, entry)) in raws.iter().zip(cleaned).enumerate() {
        if superseded.contains(&i) {
            dropped += 1;
            continue;
        }
        let hash = content_hash(raw);
        let keys = candidate_keys(raw, entry.canonical_url.as_deref());
        if keys
            .first()
            .is_some_and(|k| !seen_exact.insert((k.clone(), hash.clone())))
        {
            dropped += 1;
            continue;
        }
        match keys.into_iter().find(|k| !seen_keys.contains(k)) {
            Some(key) => {
                seen_keys.insert(key.clone());
                stories.push((
                    i,
                    Story {
                        key,
                        content_hash: hash,
                        entry,
                        score: None,
                    },
                ));
            }
            None => dropped += 1,
        }
    }
    (stories, dropped)
}

/// The entries that are older versions of another entry of the same document: same id and
/// the same page (canonical link, or none). Of each such set the one updated last (else
/// published last), else the last in the document, is kept.
///
/// An id does not make versions of entries whose links differ: feeds that put one id on every
/// item (a template bug Miniflux also meets, fluentboards.com's) list different stories, and
/// they keep their own keys as before. Nor does an id that every entry of a document shares
/// (three or more): it identifies nothing.
fn superseded_versions(raws: &[RawEntry], cleaned: &[CleanEntry]) -> HashSet<usize> {
    let mut groups: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (i, raw) in raws.iter().enumerate() {
        if let Some(id) = raw.id.as_deref() {
            let page = cleaned[i].canonical_url.as_deref().unwrap_or("");
            groups.entry((id, page)).or_default().push(i);
        }
    }
    let everyone = raws.len() >= 3;
    let version = |i: usize| (raws[i].updated.or(raws[i].published), i);
    let mut superseded = HashSet::new();
    for members in groups.values().filter(|m| m.len() > 1) {
        if everyone && members.len() == raws.len() {
            continue;
        }
        let latest = members.iter().copied().max_by_key(|&i| version(i));
        superseded.extend(members.iter().copied().filter(|&i| Some(i) != latest));
    }
    superseded
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RawText, TextKind};

    fn entry(id: Option<&str>, title: &str, link: Option<&str>) -> RawEntry {
        RawEntry {
            id: id.map(str::to_string),
            title: Some(RawText::new(title, TextKind::Plain)),
            link: link.map(str::to_string),
            ..Default::default()
        }
    }

    fn clean(canonical: Option<&str>) -> CleanEntry {
        CleanEntry {
            title: "t".into(),
            url: None,
            canonical_url: canonical.map(str::to_string),
            author: None,
            published: None,
            updated: None,
            excerpt: String::new(),
            content_html: String::new(),
        }
    }

    #[test]
    fn keys_prefer_id_then_url_then_hash() {
        let (s, _) = identify(
            &[
                entry(Some("guid-1"), "A", Some("https://x.example/a")),
                entry(None, "B", Some("https://x.example/b")),
                entry(None, "C", None),
            ],
            vec![
                clean(Some("https://x.example/a")),
                clean(Some("https://x.example/b")),
                clean(None),
            ],
        );
        assert_eq!(s[0].key, "id:guid-1");
        assert_eq!(s[1].key, "url:https://x.example/b");
        assert!(s[2].key.starts_with("hash:"));
    }

    #[test]
    fn content_hash_ignores_dates_but_not_text() {
        let a = entry(Some("1"), "A", None);
        let mut b = a.clone();
        b.updated = Some(chrono::Utc::now());
        assert_eq!(content_hash(&a), content_hash(&b));
        b.title.as_mut().unwrap().text = "A (updated)".into();
        assert_ne!(content_hash(&a), content_hash(&b));
    }

    #[test]
    fn one_id_one_story_the_latest_version_wins() {
        let page = Some("https://x.example/event");
        let mut old = entry(Some("ev-1"), "Event (7 May)", page);
        let mut new = entry(Some("ev-1"), "Event (moved to 14 May)", page);
        let other = entry(Some("ev-2"), "Another event", Some("https://x.example/ev2"));
        let cleaned = || {
            vec![
                clean(page),
                clean(page),
                clean(Some("https://x.example/ev2")),
            ]
        };
        // By position: the later version of the item is the one kept.
        let (s, dropped) = identify(&[old.clone(), new.clone(), other.clone()], cleaned());
        assert_eq!((s.len(), dropped), (2, 1));
        assert_eq!(s[0].key, "id:ev-1");
        assert_eq!(s[0].content_hash, content_hash(&new));
        // By `updated` first: the updated version wins wherever it stands.
        let t = |d: u32| {
            chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, d, 0, 0, 0).unwrap()
        };
        new.updated = Some(t(3));
        old.updated = Some(t(1));
        let (s, dropped) = identify(&[new.clone(), old.clone(), other.clone()], cleaned());
        assert_eq!((s.len(), dropped), (2, 1));
        assert_eq!(s[0].content_hash, content_hash(&new));
        // Without links too.
        let (a, b) = (entry(Some("x"), "A", None), entry(Some("x"), "B", None));
        let (s, dropped) = identify(
            &[a, b.clone(), other],
            vec![clean(None), clean(None), clean(None)],
        );
        assert_eq!((s.len(), dropped), (2, 1));
        assert_eq!(s[0].content_hash, content_hash(&b));
    }

    #[test]
    fn an_id_on_different_pages_or_on_every_entry_identifies_nothing() {
        // One id pasted on every item of a template, each with its own page: three stories.
        let items =
            ["a", "b", "c"].map(|p| entry(Some("dup"), p, Some(&format!("https://x.example/{p}"))));
        let cleaned = || {
            items
                .iter()
                .map(|e| clean(e.link.as_deref()))
                .collect::<Vec<_>>()
        };
        let (s, dropped) = identify(&items, cleaned());
        assert_eq!((s.len(), dropped), (3, 0));
        assert_eq!(s[0].key, "id:dup");
        assert_eq!(s[1].key, "url:https://x.example/b");
        // The same id and no page on every entry (html5sec's hostile feed): each its own story.
        let items = ["a", "b", "c"].map(|t| entry(Some("dup"), t, None));
        let (s, dropped) = identify(&items, vec![clean(None), clean(None), clean(None)]);
        assert_eq!((s.len(), dropped), (3, 0));
    }

    #[test]
    fn entries_that_share_only_a_link_keep_their_next_best_key() {
        let a = entry(None, "A", Some("https://x.example/a"));
        let b = entry(None, "B", Some("https://x.example/a"));
        let (s, dropped) = identify(
            &[a, b],
            vec![
                clean(Some("https://x.example/a")),
                clean(Some("https://x.example/a")),
            ],
        );
        assert_eq!(dropped, 0);
        assert_eq!(s[0].key, "url:https://x.example/a");
        assert!(s[1].key.starts_with("hash:"), "{}", s[1].key);
    }

    #[test]
    fn huge_ids_are_hashed() {
        let long = "x".repeat(10_000);
        let (s, _) = identify(&[entry(Some(&long), "A", None)], vec![clean(None)]);
        assert!(s[0].key.len() < 100);
    }

    #[test]
    fn entries_with_nothing_are_dropped() {
        let (s, dropped) = identify(&[RawEntry::default()], vec![clean(None)]);
        assert!(s.is_empty());
        assert_eq!(dropped, 1);
    }
}
