//! What `gleaner add URL` found: the feeds, numbered for `--choose`, and what was tried.

use std::fmt::Write;

use url::Url;

use crate::model::Discovery;

/// The feeds found for `url`, numbered from 1, then the candidates that were not feeds.
pub fn text(url: &Url, d: &Discovery) -> String {
    let mut out = String::new();
    let n = d.found.len();
    if n == 0 {
        let _ = writeln!(out, "no feed found for {url}");
    } else {
        let _ = writeln!(
            out,
            "found {n} feed{} for {url}:",
            if n == 1 { "" } else { "s" }
        );
    }
    for (i, f) in d.found.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {}. {} <{}> ({}, {} entr{}; {})",
            i + 1,
            f.title
                .as_deref()
                .map(crate::text::clean_control)
                .unwrap_or_else(|| "(untitled)".into()),
            f.url,
            f.format,
            f.entries,
            if f.entries == 1 { "y" } else { "ies" },
            f.how.as_str()
        );
    }
    if !d.rejected.is_empty() {
        let _ = writeln!(out, "tried and not feeds:");
        for (u, why) in &d.rejected {
            let _ = writeln!(out, "  {u}: {why}");
        }
    }
    out.trim_end().to_string()
}
