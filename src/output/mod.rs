//! Renderers: data in, `String` out. Writing to a terminal or file is the caller's business,
//! so every output can be tested as a string.

pub mod atom;
pub mod candidates;
pub mod check;
pub mod curated_json;
pub mod curated_rss;
pub mod deliveries;
pub mod digest;
pub mod discovery;
pub mod draft;
pub mod entries;
pub mod explain;
pub mod import_issues;
pub mod inspect;
pub mod metrics;
pub mod round;
pub mod status;
mod write;

pub use write::atomic_write;

/// Control characters (and line breaks) in feed text must not reach a terminal.
pub(crate) fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}
