//! The shared public corpora (`$GLEANER_CORPORA`, else `../shared/corpora` beside the checkout)
//! and the XSS vectors in them.

use std::path::{Path, PathBuf};

/// The corpora folder, or None (with a note) when there is none.
pub fn dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GLEANER_CORPORA") {
        let p = PathBuf::from(p);
        assert!(
            p.is_dir(),
            "GLEANER_CORPORA={} is not a directory",
            p.display()
        );
        return Some(p);
    }
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora");
    if beside.is_dir() {
        return Some(beside);
    }
    eprintln!("corpus-based test skipped: set GLEANER_CORPORA to the shared corpora folder");
    None
}

/// One XSS vector: where it comes from and its markup.
#[derive(Debug, Clone)]
pub struct Vector {
    /// `h5sc/12`, `dompurify/40`, `owasp/7` (`owasp/7+spaces`), `feedparser/<file>`,
    /// `ammonia/<test>`, `h5sc-rss/<line>`.
    pub id: String,
    pub input: String,
}

/// Every XSS vector in the corpora, each distinct markup once (the first id that carries it):
/// `derived/xss-vectors-combined.jsonl` (html5sec, DOMPurify, OWASP, feedparser's sanitize
/// cases), ammonia's test fragments and html5sec's RSS vectors, plus the OWASP vectors with
/// their non-breaking spaces made spaces. Also returns how many rows there were before
/// duplicates were dropped.
pub fn xss_vectors(root: &Path) -> (Vec<Vector>, usize) {
    let mut rows = Vec::new();
    let combined =
        std::fs::read_to_string(root.join("derived/xss-vectors-combined.jsonl")).unwrap();
    for line in combined.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        rows.push(Vector {
            id: v["id"].as_str().unwrap().to_string(),
            input: v["input"].as_str().unwrap().to_string(),
        });
    }
    let ammonia: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("ammonia/tests.json")).unwrap())
            .unwrap();
    for t in ammonia.as_array().unwrap() {
        if let Some(f) = t["fragment"].as_str() {
            rows.push(Vector {
                id: format!("ammonia/{}", t["test"].as_str().unwrap_or("?")),
                input: f.to_string(),
            });
        }
    }
    let rss = std::fs::read_to_string(root.join("h5sc/rss-vectors.txt")).unwrap();
    for (n, line) in rss
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        rows.push(Vector {
            id: format!("h5sc-rss/{}", n + 1),
            input: line.to_string(),
        });
    }
    // The OWASP blocks were copied from rendered Markdown, where many spaces became U+00A0,
    // which no HTML parser takes for a space (`<IMG\u{a0}SRC=…>` is one odd tag name). Each
    // such vector is kept, and also given as the cheat sheet means it.
    let spaced: Vec<Vector> = rows
        .iter()
        .filter(|v| v.id.starts_with("owasp/") && v.input.contains('\u{a0}'))
        .map(|v| Vector {
            id: format!("{}+spaces", v.id),
            input: v.input.replace('\u{a0}', " "),
        })
        .collect();
    rows.extend(spaced);
    let read = rows.len();
    let mut seen = std::collections::HashSet::new();
    rows.retain(|v| seen.insert(v.input.clone()));
    (rows, read)
}
