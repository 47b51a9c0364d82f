//! `gleaner inspect`: what gleaner reads from one feed document, before anything is stored.

use super::one_line;
use std::fmt::Write;

use serde::Serialize;

use crate::model::Prepared;

/// One document as `inspect` reports it: its stories, or why it could not be read.
#[derive(Debug, Serialize)]
pub struct Inspected<'a> {
    pub file: &'a str,
    /// The feed's own title, cleaned.
    pub title: Option<&'a str>,
    /// Repairs the document needed before it could be read (`charset`, `structure`, …).
    pub repairs: &'a [&'static str],
    /// Entries read but not kept: a repeated id, an exact repeat of an earlier entry, or an
    /// entry with nothing in it.
    pub duplicates: usize,
    /// Why the document could not be read, or (with stories) what was wrong with it.
    pub error: Option<&'a str>,
    pub entries: Vec<InspectedEntry<'a>>,
}

/// One story, with the fields of `gleaner entries --json` that exist before storing (`key`
/// is its identity within the feed; `id`, `sources` and `first_seen` come from the store).
#[derive(Debug, Serialize)]
pub struct InspectedEntry<'a> {
    pub key: &'a str,
    pub title: &'a str,
    pub url: Option<&'a str>,
    pub canonical_url: Option<&'a str>,
    pub published: Option<chrono::DateTime<chrono::Utc>>,
    pub updated: Option<chrono::DateTime<chrono::Utc>>,
    pub author: Option<&'a str>,
    pub excerpt: &'a str,
    pub content_html: &'a str,
}

impl<'a> Inspected<'a> {
    /// A document that was read: its stories and what reading it took.
    pub fn read(file: &'a str, prepared: &'a Prepared) -> Self {
        Inspected {
            file,
            title: prepared.feed.title.as_deref(),
            repairs: &prepared.repairs,
            duplicates: prepared.dropped,
            error: prepared.truncated.as_deref(),
            entries: prepared
                .stories
                .iter()
                .map(|s| InspectedEntry {
                    key: &s.key,
                    title: &s.entry.title,
                    url: s.entry.url.as_deref(),
                    canonical_url: s.entry.canonical_url.as_deref(),
                    published: s.entry.published,
                    updated: s.entry.updated,
                    author: s.entry.author.as_deref(),
                    excerpt: &s.entry.excerpt,
                    content_html: &s.entry.content_html,
                })
                .collect(),
        }
    }

    /// A document that could not be read.
    pub fn failed(file: &'a str, error: &'a str) -> Self {
        Inspected {
            file,
            title: None,
            repairs: &[],
            duplicates: 0,
            error: Some(error),
            entries: Vec::new(),
        }
    }
}

/// One line of JSON per document (JSON Lines), so many files stream as one output.
pub fn json_line(doc: &Inspected) -> String {
    let mut s = serde_json::to_string(doc).expect("inspected documents serialize");
    s.push('\n');
    s
}

/// A readable report: the document, then each story's fields on their own lines.
pub fn text(doc: &Inspected) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", doc.file);
    if let Some(title) = doc.title {
        let _ = writeln!(out, "  feed: {}", one_line(title));
    }
    if !doc.repairs.is_empty() {
        let _ = writeln!(out, "  repaired: {}", doc.repairs.join(", "));
    }
    if let Some(e) = doc.error {
        let _ = writeln!(out, "  error: {}", one_line(e));
    }
    let n = doc.entries.len();
    let _ = write!(out, "  {n} entr{}", if n == 1 { "y" } else { "ies" });
    if doc.duplicates > 0 {
        let _ = write!(
            out,
            " ({} repeated or empty entr{} dropped)",
            doc.duplicates,
            if doc.duplicates == 1 { "y" } else { "ies" }
        );
    }
    out.push('\n');
    for (i, e) in doc.entries.iter().enumerate() {
        let _ = writeln!(out, "\n  [{}] {}", i + 1, one_line(e.title));
        let _ = writeln!(out, "      key:       {}", one_line(e.key));
        if let Some(u) = e.url {
            let _ = writeln!(out, "      url:       {}", one_line(u));
        }
        if let Some(c) = e.canonical_url.filter(|c| Some(*c) != e.url) {
            let _ = writeln!(out, "      canonical: {}", one_line(c));
        }
        if let Some(p) = e.published {
            let _ = writeln!(out, "      published: {}", p.to_rfc3339());
        }
        if let Some(u) = e.updated {
            let _ = writeln!(out, "      updated:   {}", u.to_rfc3339());
        }
        if let Some(a) = e.author {
            let _ = writeln!(out, "      author:    {}", one_line(a));
        }
        if !e.excerpt.is_empty() {
            let _ = writeln!(out, "      excerpt:   {}", one_line(e.excerpt));
        }
        if !e.content_html.is_empty() {
            let _ = writeln!(out, "      html:      {}", one_line(e.content_html));
        }
    }
    out
}
