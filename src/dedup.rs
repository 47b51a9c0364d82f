//! Identity within a feed, and change detection.
//!
//! An entry's key is, in order of preference: the document's own id (`id:`), its canonical
//! link (`url:`), or a hash of title + date (`hash:`). feed-rs's generated ids are never used
//! (see `parse`). Identity *across* feeds is the canonical URL, resolved by the store.
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
    hex(&h.finalize()[..16])
}

/// Lower-case hex, without a `format!` per byte.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// The digest of a whole response body.
pub fn body_digest(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes)[..16])
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
/// an Atom `id`), only the latest version is kept: the one updated last, else the last in the
/// document (calendars and aggregators list an item's old version beside the rescheduled
/// one). Entries that repeat an earlier entry exactly are dropped; entries that reuse a key
/// with other content get their next-best key; entries with nothing to identify them are
/// dropped. Returns the stories and how many were dropped.
pub fn identify(raws: &[RawEntry], cleaned: Vec<CleanEntry>) -> (Vec<Story>, usize) {
    let (stories, dropped) = identify_indexed(raws, cleaned);
    (stories.into_iter().map(|(_, s)| s).collect(), dropped)
}

/// [`identify`], with each story's index among the entries.
pub fn identify_indexed(
    raws: &[RawEntry],
    cleaned: Vec<CleanEntry>,
) -> (Vec<(usize, Story)>, usize) {
    let latest = latest_by_id(raws);
    let mut seen_keys = HashSet::new();
    let mut seen_exact = HashSet::new();
    let mut stories = Vec::with_capacity(raws.len());
    let mut dropped = 0;
    for (i, (raw, entry)) in raws.iter().zip(cleaned).enumerate() {
        if let Some(id) = raw.id.as_deref()
            && latest.get(id).is_some_and(|&winner| winner != i)
        {
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

/// For each id given to more than one entry, the index of the entry that wins: the latest
/// `updated` (else `published`), then the last position. Ids given once are not listed.
fn latest_by_id(raws: &[RawEntry]) -> HashMap<&str, usize> {
    let mut first: HashMap<&str, usize> = HashMap::with_capacity(raws.len());
    let mut latest: HashMap<&str, usize> = HashMap::new();
    let version = |i: usize| (raws[i].updated.or(raws[i].published), i);
    for (i, raw) in raws.iter().enumerate() {
        let Some(id) = raw.id.as_deref() else {
            continue;
        };
        match first.get(id) {
            None => {
                first.insert(id, i);
            }
            Some(&earlier) => {
                let best = latest.entry(id).or_insert(earlier);
                if version(i) >= version(*best) {
                    *best = i;
                }
            }
        }
    }
    latest
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
        let same = entry(Some("dup"), "A", Some("https://x.example/a"));
        let other = entry(Some("dup"), "B", Some("https://x.example/b"));
        // By position: the last version of the item is the one kept.
        let (s, dropped) = identify(
            &[same.clone(), same.clone(), other.clone()],
            vec![
                clean(Some("https://x.example/a")),
                clean(Some("https://x.example/a")),
                clean(Some("https://x.example/b")),
            ],
        );
        assert_eq!(dropped, 2);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].key, "id:dup");
        assert_eq!(
            s[0].entry.canonical_url.as_deref(),
            Some("https://x.example/b")
        );
        // By `updated` first: an older version listed later loses.
        let t = |d: u32| {
            chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, d, 0, 0, 0).unwrap()
        };
        let mut newer = same.clone();
        newer.updated = Some(t(3));
        let mut older = other.clone();
        older.updated = Some(t(1));
        let (s, dropped) = identify(
            &[newer, older],
            vec![
                clean(Some("https://x.example/a")),
                clean(Some("https://x.example/b")),
            ],
        );
        assert_eq!((s.len(), dropped), (1, 1));
        assert_eq!(
            s[0].entry.canonical_url.as_deref(),
            Some("https://x.example/a")
        );
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
